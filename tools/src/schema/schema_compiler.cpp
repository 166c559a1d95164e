#include "schema/schema_compiler.h"

#include "agentd/tools/errc.h"

#include "schema/formats.h"
#include "schema/json_util.h"
#include "schema/schema_cycles.h"
#include "schema/schema_resources.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace agentd::tools::schema {
namespace {

constexpr std::size_t max_problems = 16;

class Compiler {
public:
    Compiler(const nlohmann::json& document, const SchemaOptions& options)
        : doc_(document), options_(options) {}

    base::Result<std::unique_ptr<CompiledSchema>> run();

private:
    struct Pending {
        NodeId id;
        std::string pointer;
        const nlohmann::json* value;
    };

    NodeId node_at(const std::string& pointer, const nlohmann::json& value);
    void fill(NodeId id, const std::string& pointer, const nlohmann::json& s);
    void parse_types(Node& n, const nlohmann::json& s, const std::string& at);
    void parse_numbers(Node& n, const nlohmann::json& s, const std::string& at);
    void parse_strings(Node& n, const nlohmann::json& s, const std::string& at);
    void parse_arrays(Node& n, const nlohmann::json& s, const std::string& at);
    void parse_objects(Node& n, const nlohmann::json& s, const std::string& at);
    void parse_dependencies(Node& n, const nlohmann::json& s, const std::string& at);
    void parse_applicators(Node& n, const nlohmann::json& s, const std::string& at);
    void parse_refs(Node& n, const nlohmann::json& s, const std::string& at);

    std::optional<std::size_t> count_keyword(const nlohmann::json& s, const std::string& at,
                                             std::string_view keyword);
    std::optional<Bound> number_keyword(const nlohmann::json& s, const std::string& at,
                                        std::string_view keyword);
    NodeId schema_keyword(const nlohmann::json& s, const std::string& at, std::string_view keyword);
    std::vector<NodeId> schema_array_keyword(const nlohmann::json& s, const std::string& at,
                                             std::string_view keyword);
    std::vector<std::pair<std::string, NodeId>>
    schema_map_keyword(const nlohmann::json& s, const std::string& at, std::string_view keyword);
    std::optional<std::vector<std::string>> string_set(const nlohmann::json& v,
                                                       const std::string& where);
    const Regex* regex(const std::string& where, const std::string& pattern);
    void check_cycles();

    void problem(const std::string& where, std::string message) {
        if (problems_.size() < max_problems) {
            problems_.push_back((where.empty() ? std::string("(root)") : where) + ": " +
                                std::move(message));
        }
    }
    static std::string at_keyword(const std::string& at, std::string_view keyword) {
        std::string p = at;
        pointer_append(p, keyword);
        return p;
    }

    const nlohmann::json& doc_;
    const SchemaOptions& options_;
    std::unique_ptr<CompiledSchema> out_ = std::make_unique<CompiledSchema>();
    SchemaResources resources_;
    std::unordered_map<std::string, NodeId> by_pointer_;
    std::vector<Pending> pending_;
    std::unordered_map<std::string, const Regex*> regex_by_source_;
    std::vector<std::string> problems_;
    bool too_many_nodes_ = false;
};

base::Result<std::unique_ptr<CompiledSchema>> Compiler::run() {
    if (!doc_.is_object() && !doc_.is_boolean()) {
        return base::fail(errc::invalid_schema, std::string("a schema must be an object or a "
                                                            "boolean, not ") +
                                                    json_type_name(doc_));
    }
    const std::size_t limit = options_.limits.max_json_depth;
    if (json_depth(doc_, limit) > limit) {
        return base::fail(errc::invalid_schema,
                          "schema is nested deeper than " + std::to_string(limit) + " levels");
    }
    out_->assert_formats = options_.assert_formats;
    out_->limits = options_.limits;
    resources_.scan(doc_, problems_);
    node_at("", doc_);
    for (std::size_t i = 0; i < pending_.size() && !too_many_nodes_; ++i) {
        const Pending p = pending_[i];
        fill(p.id, p.pointer, *p.value);
    }
    if (too_many_nodes_) {
        problems_.push_back("schema has more than " + std::to_string(options_.limits.max_nodes) +
                            " subschemas");
    }
    if (problems_.empty()) {
        check_cycles();
    }
    if (!problems_.empty()) {
        std::string message;
        for (const auto& p : problems_) {
            message += (message.empty() ? "" : "; ") + p;
        }
        return base::fail(errc::invalid_schema, std::move(message));
    }
    return std::move(out_);
}

NodeId Compiler::node_at(const std::string& pointer, const nlohmann::json& value) {
    if (const auto it = by_pointer_.find(pointer); it != by_pointer_.end()) {
        return it->second;
    }
    if (out_->nodes.size() >= options_.limits.max_nodes) {
        too_many_nodes_ = true;
        return 0;
    }
    const auto id = static_cast<NodeId>(out_->nodes.size());
    out_->nodes.emplace_back();
    by_pointer_.emplace(pointer, id);
    pending_.push_back({id, pointer, &value});
    return id;
}

void Compiler::fill(NodeId id, const std::string& pointer, const nlohmann::json& s) {
    Node n;
    n.path = pointer;
    if (s.is_boolean()) {
        n.is_bool = true;
        n.bool_value = s.get<bool>();
    } else if (!s.is_object()) {
        problem(pointer,
                std::string("a schema must be an object or a boolean, not ") + json_type_name(s));
    } else {
        if (const auto it = s.find("$schema"); it != s.end() && !it->is_string()) {
            problem(at_keyword(pointer, "$schema"), "must be a string (a dialect URI)");
        }
        parse_types(n, s, pointer);
        parse_numbers(n, s, pointer);
        parse_strings(n, s, pointer);
        parse_arrays(n, s, pointer);
        parse_objects(n, s, pointer);
        parse_dependencies(n, s, pointer);
        parse_applicators(n, s, pointer);
        parse_refs(n, s, pointer);
    }
    out_->nodes[static_cast<std::size_t>(id)] = std::move(n);
}

void Compiler::parse_types(Node& n, const nlohmann::json& s, const std::string& at) {
    if (const auto it = s.find("type"); it != s.end()) {
        const std::string where = at_keyword(at, "type");
        auto bit_of = [](const std::string& name) -> std::uint32_t {
            static const std::unordered_map<std::string, std::uint32_t> bits{
                {"null", type_null},     {"boolean", type_boolean}, {"integer", type_integer},
                {"number", type_number}, {"string", type_string},   {"array", type_array},
                {"object", type_object}};
            const auto b = bits.find(name);
            return b == bits.end() ? 0 : b->second;
        };
        std::vector<std::string> names;
        if (it->is_string()) {
            names.push_back(it->get<std::string>());
        } else if (it->is_array() && !it->empty()) {
            for (const auto& v : *it) {
                names.push_back(v.is_string() ? v.get<std::string>() : std::string());
            }
        } else {
            problem(where, "must be a type name or a non-empty array of type names");
        }
        for (const auto& name : names) {
            const std::uint32_t bit = bit_of(name);
            if (bit == 0) {
                problem(where, "unknown type \"" + name +
                                   "\" (expected null, boolean, integer, number, string, "
                                   "array or object)");
            } else if ((n.types & bit) != 0) {
                problem(where, "type \"" + name + "\" is listed twice");
            }
            n.types |= bit;
        }
        for (const auto& name : names) {
            n.types_text += (n.types_text.empty() ? "" : " or ") + name;
        }
    }
    if (const auto it = s.find("const"); it != s.end()) {
        n.const_value = *it;
    }
    if (const auto it = s.find("enum"); it != s.end()) {
        if (!it->is_array()) {
            problem(at_keyword(at, "enum"), "must be an array");
            return;
        }
        n.enum_values = *it;
        n.enum_order.resize(it->size());
        for (std::uint32_t i = 0; i < n.enum_order.size(); ++i) {
            n.enum_order[i] = i;
        }
        const auto& values = *n.enum_values;
        std::sort(n.enum_order.begin(), n.enum_order.end(), [&](std::uint32_t a, std::uint32_t b) {
            return json_compare(values[a], values[b]) < 0;
        });
    }
}

std::optional<std::size_t> Compiler::count_keyword(const nlohmann::json& s, const std::string& at,
                                                   std::string_view keyword) {
    const auto it = s.find(keyword);
    if (it == s.end()) {
        return std::nullopt;
    }
    auto value = json_non_negative_integer(*it);
    if (!value) {
        problem(at_keyword(at, keyword),
                "must be a non-negative integer, not " + json_excerpt(*it, 40));
    }
    return value;
}

std::optional<Bound> Compiler::number_keyword(const nlohmann::json& s, const std::string& at,
                                              std::string_view keyword) {
    const auto it = s.find(keyword);
    if (it == s.end() || it->is_boolean()) { // booleans: draft-04 exclusive*, handled below
        return std::nullopt;
    }
    if (!it->is_number()) {
        problem(at_keyword(at, keyword), "must be a number, not " + json_excerpt(*it, 40));
        return std::nullopt;
    }
    return Bound{json_number(*it), it->dump()};
}

void Compiler::parse_numbers(Node& n, const nlohmann::json& s, const std::string& at) {
    n.minimum = number_keyword(s, at, "minimum");
    n.maximum = number_keyword(s, at, "maximum");
    n.exclusive_minimum = number_keyword(s, at, "exclusiveMinimum");
    n.exclusive_maximum = number_keyword(s, at, "exclusiveMaximum");
    n.multiple_of = number_keyword(s, at, "multipleOf");
    if (n.multiple_of && !(n.multiple_of->value > 0)) {
        problem(at_keyword(at, "multipleOf"), "must be greater than 0");
    }
    // draft-04: "exclusiveMinimum": true turns "minimum" exclusive.
    for (const auto& [keyword, inclusive, exclusive] :
         {std::tuple{"exclusiveMinimum", &n.minimum, &n.exclusive_minimum},
          std::tuple{"exclusiveMaximum", &n.maximum, &n.exclusive_maximum}}) {
        const auto it = s.find(keyword);
        if (it != s.end() && it->is_boolean() && it->get<bool>() && inclusive->has_value()) {
            *exclusive = std::move(*inclusive);
            inclusive->reset();
        }
    }
}

void Compiler::parse_strings(Node& n, const nlohmann::json& s, const std::string& at) {
    n.min_length = count_keyword(s, at, "minLength");
    n.max_length = count_keyword(s, at, "maxLength");
    if (const auto it = s.find("pattern"); it != s.end()) {
        if (!it->is_string()) {
            problem(at_keyword(at, "pattern"), "must be a string");
        } else {
            n.pattern = regex(at_keyword(at, "pattern"), it->get<std::string>());
        }
    }
    if (const auto it = s.find("format"); it != s.end()) {
        if (!it->is_string()) {
            problem(at_keyword(at, "format"), "must be a string");
        } else {
            n.format_name = it->get<std::string>();
            n.format = parse_format(n.format_name);
        }
    }
}

void Compiler::parse_arrays(Node& n, const nlohmann::json& s, const std::string& at) {
    n.min_items = count_keyword(s, at, "minItems");
    n.max_items = count_keyword(s, at, "maxItems");
    n.min_contains = count_keyword(s, at, "minContains");
    n.max_contains = count_keyword(s, at, "maxContains");
    if (const auto it = s.find("uniqueItems"); it != s.end()) {
        if (!it->is_boolean()) {
            problem(at_keyword(at, "uniqueItems"), "must be a boolean");
        } else {
            n.unique_items = it->get<bool>();
        }
    }
    n.prefix_items = schema_array_keyword(s, at, "prefixItems");
    n.contains = schema_keyword(s, at, "contains");
    n.unevaluated_items = schema_keyword(s, at, "unevaluatedItems");
    const auto items = s.find("items");
    if (items != s.end() && items->is_array()) {
        // draft-07 tuple form: items[] + additionalItems.
        if (s.contains("prefixItems")) {
            problem(at_keyword(at, "items"), "must be a schema when prefixItems is present");
            return;
        }
        n.prefix_items = schema_array_keyword(s, at, "items");
        n.items = schema_keyword(s, at, "additionalItems");
        return;
    }
    n.items = schema_keyword(s, at, "items");
    if (const auto it = s.find("additionalItems");
        it != s.end() && !it->is_object() && !it->is_boolean()) {
        problem(at_keyword(at, "additionalItems"), "must be a schema (object or boolean)");
    }
}

void Compiler::parse_objects(Node& n, const nlohmann::json& s, const std::string& at) {
    n.min_properties = count_keyword(s, at, "minProperties");
    n.max_properties = count_keyword(s, at, "maxProperties");
    n.properties = schema_map_keyword(s, at, "properties");
    std::sort(n.properties.begin(), n.properties.end());
    for (auto& [pattern, child] : schema_map_keyword(s, at, "patternProperties")) {
        std::string where = at_keyword(at, "patternProperties");
        pointer_append(where, pattern);
        if (const Regex* r = regex(where, pattern)) {
            n.pattern_properties.emplace_back(r, child);
        }
    }
    n.additional_properties = schema_keyword(s, at, "additionalProperties");
    n.property_names = schema_keyword(s, at, "propertyNames");
    n.unevaluated_properties = schema_keyword(s, at, "unevaluatedProperties");
    if (const auto it = s.find("required"); it != s.end()) {
        if (auto names = string_set(*it, at_keyword(at, "required"))) {
            n.required = std::move(*names);
        }
    }
    if (const auto it = s.find("dependentRequired"); it != s.end()) {
        if (!it->is_object()) {
            problem(at_keyword(at, "dependentRequired"), "must be an object");
            return;
        }
        for (auto dep = it->begin(); dep != it->end(); ++dep) {
            std::string where = at_keyword(at, "dependentRequired");
            pointer_append(where, dep.key());
            if (auto names = string_set(*dep, where)) {
                n.dependent_required.emplace_back(dep.key(), std::move(*names));
            }
        }
    }
    for (auto& entry : schema_map_keyword(s, at, "dependentSchemas")) {
        n.dependent_schemas.push_back(std::move(entry));
    }
}

void Compiler::parse_dependencies(Node& n, const nlohmann::json& s, const std::string& at) {
    // draft-07 "dependencies": arrays are dependentRequired, schemas dependentSchemas.
    const auto it = s.find("dependencies");
    if (it == s.end()) {
        return;
    }
    const std::string base = at_keyword(at, "dependencies");
    if (!it->is_object()) {
        problem(base, "must be an object");
        return;
    }
    for (auto dep = it->begin(); dep != it->end(); ++dep) {
        std::string where = base;
        pointer_append(where, dep.key());
        if (dep->is_array()) {
            if (auto names = string_set(*dep, where)) {
                n.dependent_required.emplace_back(dep.key(), std::move(*names));
            }
        } else if (dep->is_object() || dep->is_boolean()) {
            n.dependent_schemas.emplace_back(dep.key(), node_at(where, *dep));
        } else {
            problem(where, "must be an array of property names or a schema");
        }
    }
}

void Compiler::parse_applicators(Node& n, const nlohmann::json& s, const std::string& at) {
    n.all_of = schema_array_keyword(s, at, "allOf");
    n.any_of = schema_array_keyword(s, at, "anyOf");
    n.one_of = schema_array_keyword(s, at, "oneOf");
    n.not_ = schema_keyword(s, at, "not");
    n.if_ = schema_keyword(s, at, "if");
    n.then_ = schema_keyword(s, at, "then");
    n.else_ = schema_keyword(s, at, "else");
    // Keep $defs / definitions compiled even when unused, so their problems surface at
    // registration rather than never.
    (void)schema_map_keyword(s, at, "$defs");
    (void)schema_map_keyword(s, at, "definitions");
}

void Compiler::parse_refs(Node& n, const nlohmann::json& s, const std::string& at) {
    for (const char* keyword : {"$ref", "$dynamicRef", "$recursiveRef"}) {
        const auto it = s.find(keyword);
        if (it == s.end()) {
            continue;
        }
        const std::string where = at_keyword(at, keyword);
        if (!it->is_string()) {
            problem(where, "must be a string");
            continue;
        }
        const auto target = resources_.resolve(resources_.base_at(at), it->get<std::string>());
        if (!target.error.empty()) {
            problem(where, "\"" + it->get<std::string>() + "\" " + target.error);
            continue;
        }
        const nlohmann::json* value = navigate(doc_, target.pointer);
        if (value == nullptr) {
            problem(where, "\"" + it->get<std::string>() + "\" points to nothing");
            continue;
        }
        if (!value->is_object() && !value->is_boolean()) {
            problem(where, "\"" + it->get<std::string>() + "\" points to a " +
                               json_type_name(*value) + ", not a schema");
            continue;
        }
        n.refs.push_back(node_at(target.pointer, *value));
    }
}

NodeId Compiler::schema_keyword(const nlohmann::json& s, const std::string& at,
                                std::string_view keyword) {
    const auto it = s.find(keyword);
    if (it == s.end()) {
        return no_node;
    }
    const std::string where = at_keyword(at, keyword);
    if (!it->is_object() && !it->is_boolean()) {
        problem(where,
                "must be a schema (object or boolean), not " + std::string(json_type_name(*it)));
        return no_node;
    }
    return node_at(where, *it);
}

std::vector<NodeId> Compiler::schema_array_keyword(const nlohmann::json& s, const std::string& at,
                                                   std::string_view keyword) {
    std::vector<NodeId> ids;
    const auto it = s.find(keyword);
    if (it == s.end()) {
        return ids;
    }
    const std::string where = at_keyword(at, keyword);
    if (!it->is_array() || it->empty()) {
        problem(where, "must be a non-empty array of schemas");
        return ids;
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
        std::string child = where;
        pointer_append(child, i);
        const auto& v = (*it)[i];
        if (!v.is_object() && !v.is_boolean()) {
            problem(child,
                    "must be a schema (object or boolean), not " + std::string(json_type_name(v)));
            continue;
        }
        ids.push_back(node_at(child, v));
    }
    return ids;
}

std::vector<std::pair<std::string, NodeId>> Compiler::schema_map_keyword(const nlohmann::json& s,
                                                                         const std::string& at,
                                                                         std::string_view keyword) {
    std::vector<std::pair<std::string, NodeId>> out;
    const auto it = s.find(keyword);
    if (it == s.end()) {
        return out;
    }
    const std::string where = at_keyword(at, keyword);
    if (!it->is_object()) {
        problem(where, "must be an object whose values are schemas");
        return out;
    }
    for (auto child = it->begin(); child != it->end(); ++child) {
        std::string p = where;
        pointer_append(p, child.key());
        if (!child->is_object() && !child->is_boolean()) {
            problem(p, "must be a schema (object or boolean), not " +
                           std::string(json_type_name(*child)));
            continue;
        }
        out.emplace_back(child.key(), node_at(p, *child));
    }
    return out;
}

std::optional<std::vector<std::string>> Compiler::string_set(const nlohmann::json& v,
                                                             const std::string& where) {
    if (!v.is_array()) {
        problem(where, "must be an array of strings");
        return std::nullopt;
    }
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const auto& item : v) {
        if (!item.is_string()) {
            problem(where, "must contain only strings, not " + json_excerpt(item, 40));
            return std::nullopt;
        }
        if (!seen.insert(item.get<std::string>()).second) {
            problem(where, "lists \"" + item.get<std::string>() + "\" twice");
            return std::nullopt;
        }
        out.push_back(item.get<std::string>());
    }
    return out;
}

const Regex* Compiler::regex(const std::string& where, const std::string& pattern) {
    if (const auto it = regex_by_source_.find(pattern); it != regex_by_source_.end()) {
        return it->second;
    }
    if (out_->regexes.size() >= options_.limits.max_patterns) {
        problem(where, "too many distinct patterns (limit " +
                           std::to_string(options_.limits.max_patterns) + ")");
        return nullptr;
    }
    RegexLimits limits;
    limits.max_pattern_length = options_.limits.max_pattern_length;
    limits.match_limit = options_.limits.regex_match_limit;
    limits.depth_limit = options_.limits.regex_depth_limit;
    auto compiled = Regex::compile(pattern, limits);
    if (!compiled) {
        problem(where, compiled.error().message);
        return nullptr;
    }
    const Regex* r = compiled->get();
    out_->regexes.push_back(std::move(*compiled));
    regex_by_source_.emplace(pattern, r);
    return r;
}

void Compiler::check_cycles() {
    if (auto cycle = find_in_place_cycle(out_->nodes)) {
        problems_.push_back("subschemas refer to each other without descending into the "
                            "instance, so validation would never end: " +
                            std::move(*cycle));
    }
}

} // namespace

base::Result<std::unique_ptr<CompiledSchema>> compile_schema(const nlohmann::json& document,
                                                             const SchemaOptions& options) {
    return Compiler(document, options).run();
}

} // namespace agentd::tools::schema
