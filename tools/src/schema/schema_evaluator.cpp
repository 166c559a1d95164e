#include "schema/schema_evaluator.h"

#include "schema/formats.h"
#include "schema/json_util.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace agentd::tools::schema {

// Frames per nested eval() call are small; this bounds the native stack used by long chains of
// in-place subschemas (which are acyclic, checked at compile time, but may be long).
constexpr std::size_t max_eval_depth = 1024;
constexpr std::size_t explained_errors = 3;
constexpr std::size_t explained_alternatives = 4;

namespace {

std::uint32_t instance_types(const nlohmann::json& v) {
    switch (v.type()) {
    case nlohmann::json::value_t::null:
        return type_null;
    case nlohmann::json::value_t::boolean:
        return type_boolean;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
        return json_is_integral(v) ? (type_integer | type_number) : type_number;
    case nlohmann::json::value_t::string:
        return type_string;
    case nlohmann::json::value_t::array:
        return type_array;
    case nlohmann::json::value_t::object:
        return type_object;
    default:
        return 0;
    }
}

bool is_multiple(long double x, long double m) {
    if (std::trunc(x) == x && std::trunc(m) == m) {
        return std::fmod(x, m) == 0; // exact: both are integers held exactly
    }
    const long double q = x / m;
    // Past ~1e18 the quotient has no fractional precision left; refuse rather than guess.
    if (!std::isfinite(q) || std::fabs(q) > 1e18L) {
        return false;
    }
    const long double tolerance = std::max(1e-9L, std::fabs(q) * 8 * DBL_EPSILON);
    return std::fabs(q - std::nearbyint(q)) <= tolerance;
}

std::string enum_list(const nlohmann::json& values) {
    std::string out;
    std::size_t shown = 0;
    for (const auto& v : values) {
        if (shown == 10) {
            out += ", … (" + std::to_string(values.size()) + " values)";
            break;
        }
        out += (shown++ == 0 ? "" : ", ") + json_excerpt(v, 40);
    }
    return out;
}

} // namespace

void Annotations::merge(const Annotations& other) {
    all_items = all_items || other.all_items;
    prefix_items = std::max(prefix_items, other.prefix_items);
    if (items.size() < other.items.size()) {
        items.resize(other.items.size(), 0);
    }
    for (std::size_t i = 0; i < other.items.size(); ++i) {
        items[i] = static_cast<std::uint8_t>(items[i] | other.items[i]);
    }
    properties.insert(other.properties.begin(), other.properties.end());
}

void Annotations::mark_item(std::size_t i) {
    if (items.size() <= i) {
        items.resize(i + 1, 0);
    }
    items[i] = 1;
}

bool Evaluator::run(const nlohmann::json& instance) {
    const std::size_t limit = schema_.limits.max_instance_depth;
    const JsonShape shape = json_shape(instance, limit);
    max_steps_ = schema_.limits.max_steps_base + schema_.limits.max_steps_per_value * shape.values;
    if (shape.depth > limit) {
        if (errors_ != nullptr) {
            errors_->push_back(
                {"", "", "value is nested deeper than " + std::to_string(limit) + " levels"});
        }
        return false;
    }
    std::vector<SchemaError>* top = errors_;
    bool ok = eval(0, instance, nullptr);
    if (aborted_) {
        ok = false;
        if (top != nullptr) {
            top->push_back(abort_error_);
        }
    }
    if (!ok && top != nullptr && top->empty()) {
        top->push_back({"", "", "does not match the schema"});
    }
    return ok;
}

bool Evaluator::eval(NodeId id, const nlohmann::json& v, Annotations* ann) {
    if (aborted_) {
        return false;
    }
    const Node& n = schema_.nodes[static_cast<std::size_t>(id)];
    if (++steps_ > max_steps_) {
        abort(n, "validation stopped after " + std::to_string(max_steps_) +
                     " steps: the schema is too expensive to evaluate for this value");
        return false;
    }
    if (depth_ >= max_eval_depth) {
        abort(n, "validation stopped: subschemas nest deeper than " +
                     std::to_string(max_eval_depth) + " levels");
        return false;
    }
    ++depth_;
    const bool ok = eval_node(n, v, ann);
    --depth_;
    return ok && !aborted_;
}

bool Evaluator::eval_node(const Node& n, const nlohmann::json& v, Annotations* ann) {
    if (n.is_bool) {
        if (!n.bool_value) {
            error(n, "", "no value is allowed here (the schema is false)");
        }
        return n.bool_value;
    }
    Annotations local;
    Annotations* mine = ann != nullptr || n.needs_annotations() ? &local : nullptr;
    bool ok = check_type_and_values(n, v);
    if (!ok && stop()) {
        return false;
    }
    if (v.is_number()) {
        ok = check_number(n, v) && ok;
    } else if (v.is_string()) {
        ok = check_string(n, v) && ok;
    }
    if (!ok && stop()) {
        return false;
    }
    ok = check_in_place(n, v, mine) && ok;
    if (!ok && stop()) {
        return false;
    }
    if (v.is_array()) {
        ok = check_array(n, v, mine) && ok;
    } else if (v.is_object()) {
        ok = check_object(n, v, mine) && ok;
    }
    if (ok && ann != nullptr) {
        ann->merge(local);
    }
    return ok;
}

bool Evaluator::check_type_and_values(const Node& n, const nlohmann::json& v) {
    bool ok = true;
    if (n.types != 0 && (n.types & instance_types(v)) == 0) {
        error(n, "type", "must be " + n.types_text + ", not " + json_type_name(v));
        ok = false;
        if (stop()) {
            return false;
        }
    }
    if (n.const_value && !json_equal(*n.const_value, v)) {
        error(n, "const", "must be " + json_excerpt(*n.const_value));
        ok = false;
        if (stop()) {
            return false;
        }
    }
    if (n.enum_values) {
        const auto& values = *n.enum_values;
        const auto it = std::lower_bound(n.enum_order.begin(), n.enum_order.end(), v,
                                         [&](std::uint32_t i, const nlohmann::json& x) {
                                             return json_compare(values[i], x) < 0;
                                         });
        if (it == n.enum_order.end() || !json_equal(values[*it], v)) {
            error(n, "enum", "must be one of " + enum_list(values));
            ok = false;
        }
    }
    return ok;
}

bool Evaluator::check_number(const Node& n, const nlohmann::json& v) {
    const long double x = json_number(v);
    bool ok = true;
    auto fail = [&](std::string_view keyword, const std::string& relation, const Bound& b) {
        error(n, keyword, "must be " + relation + " " + b.text + ", not " + v.dump());
        ok = false;
        return stop();
    };
    if (n.minimum && x < n.minimum->value && fail("minimum", ">=", *n.minimum)) {
        return false;
    }
    if (n.maximum && x > n.maximum->value && fail("maximum", "<=", *n.maximum)) {
        return false;
    }
    if (n.exclusive_minimum && x <= n.exclusive_minimum->value &&
        fail("exclusiveMinimum", ">", *n.exclusive_minimum)) {
        return false;
    }
    if (n.exclusive_maximum && x >= n.exclusive_maximum->value &&
        fail("exclusiveMaximum", "<", *n.exclusive_maximum)) {
        return false;
    }
    if (n.multiple_of && !is_multiple(x, n.multiple_of->value)) {
        (void)fail("multipleOf", "a multiple of", *n.multiple_of);
    }
    return ok;
}

bool Evaluator::check_string(const Node& n, const nlohmann::json& v) {
    const auto& s = v.get_ref<const std::string&>();
    bool ok = true;
    if (n.min_length || n.max_length) {
        const std::size_t len = utf8_length(s);
        if (n.min_length && len < *n.min_length) {
            error(n, "minLength",
                  "must be at least " + std::to_string(*n.min_length) + " characters long, not " +
                      std::to_string(len));
            ok = false;
        }
        if (n.max_length && len > *n.max_length) {
            error(n, "maxLength",
                  "must be at most " + std::to_string(*n.max_length) + " characters long, not " +
                      std::to_string(len));
            ok = false;
        }
        if (!ok && stop()) {
            return false;
        }
    }
    if (n.pattern != nullptr && !regex_matches(*n.pattern, s, n, "pattern")) {
        if (aborted_) {
            return false;
        }
        error(n, "pattern", "must match the pattern " + n.pattern->source());
        ok = false;
        if (stop()) {
            return false;
        }
    }
    if (schema_.assert_formats && n.format != Format::none) {
        bool valid = true;
        if (n.format == Format::regex) {
            RegexLimits limits;
            limits.max_pattern_length = schema_.limits.max_pattern_length;
            valid = Regex::compile(s, limits).has_value();
        } else {
            valid = check_format(n.format, s);
        }
        if (!valid) {
            error(n, "format", std::string("must be a valid ") + format_noun(n.format));
            ok = false;
        }
    }
    return ok;
}

bool Evaluator::check_in_place(const Node& n, const nlohmann::json& v, Annotations* ann) {
    bool ok = true;
    for (const NodeId ref : n.refs) {
        ok = eval(ref, v, ann) && ok;
        if (!ok && stop()) {
            return false;
        }
    }
    for (const NodeId child : n.all_of) {
        ok = eval(child, v, ann) && ok;
        if (!ok && stop()) {
            return false;
        }
    }
    ok = check_any_of(n, v, ann) && ok;
    if (!ok && stop()) {
        return false;
    }
    ok = check_one_of(n, v, ann) && ok;
    if (!ok && stop()) {
        return false;
    }
    if (n.not_ != no_node) {
        const bool matched = probe(n.not_, v, nullptr, nullptr);
        if (aborted_) {
            return false;
        }
        if (matched) {
            error(n, "not", "must not match the schema in \"not\"");
            ok = false;
            if (stop()) {
                return false;
            }
        }
    }
    return check_conditional(n, v, ann) && ok;
}

bool Evaluator::check_any_of(const Node& n, const nlohmann::json& v, Annotations* ann) {
    if (n.any_of.empty()) {
        return true;
    }
    bool any = false;
    for (const NodeId child : n.any_of) {
        Annotations branch;
        if (probe(child, v, ann != nullptr ? &branch : nullptr, nullptr)) {
            any = true;
            if (ann == nullptr) {
                break;
            }
            ann->merge(branch);
        }
        if (aborted_) {
            return false;
        }
    }
    if (any) {
        return true;
    }
    if (collecting()) {
        std::string details;
        for (std::size_t i = 0; i < n.any_of.size() && i < explained_alternatives; ++i) {
            std::string why;
            (void)probe(n.any_of[i], v, nullptr, &why);
            details += (i == 0 ? "" : "; ") + ("[" + std::to_string(i) + "] " + why);
        }
        error(n, "anyOf",
              "must match at least one of the " + std::to_string(n.any_of.size()) +
                  " schemas in anyOf: " + details);
    }
    return false;
}

bool Evaluator::check_one_of(const Node& n, const nlohmann::json& v, Annotations* ann) {
    if (n.one_of.empty()) {
        return true;
    }
    std::vector<std::size_t> matches;
    Annotations chosen;
    for (std::size_t i = 0; i < n.one_of.size(); ++i) {
        Annotations branch;
        if (probe(n.one_of[i], v, ann != nullptr ? &branch : nullptr, nullptr)) {
            matches.push_back(i);
            if (matches.size() == 1) {
                chosen = std::move(branch);
            } else {
                break;
            }
        }
        if (aborted_) {
            return false;
        }
    }
    if (matches.size() == 1) {
        if (ann != nullptr) {
            ann->merge(chosen);
        }
        return true;
    }
    if (!collecting()) {
        return false;
    }
    if (matches.empty()) {
        std::string details;
        for (std::size_t i = 0; i < n.one_of.size() && i < explained_alternatives; ++i) {
            std::string why;
            (void)probe(n.one_of[i], v, nullptr, &why);
            details += (i == 0 ? "" : "; ") + ("[" + std::to_string(i) + "] " + why);
        }
        error(n, "oneOf",
              "must match exactly one of the " + std::to_string(n.one_of.size()) +
                  " schemas in oneOf, but matches none: " + details);
    } else {
        error(n, "oneOf",
              "must match exactly one schema in oneOf, but matches more than one (at least [" +
                  std::to_string(matches[0]) + "] and [" + std::to_string(matches[1]) + "])");
    }
    return false;
}

bool Evaluator::check_conditional(const Node& n, const nlohmann::json& v, Annotations* ann) {
    if (n.if_ == no_node) {
        return true;
    }
    Annotations condition;
    const bool holds = probe(n.if_, v, ann != nullptr ? &condition : nullptr, nullptr);
    if (aborted_) {
        return false;
    }
    if (holds) {
        if (ann != nullptr) {
            ann->merge(condition);
        }
        return n.then_ == no_node || eval(n.then_, v, ann);
    }
    return n.else_ == no_node || eval(n.else_, v, ann);
}

bool Evaluator::probe(NodeId id, const nlohmann::json& v, Annotations* ann, std::string* why) {
    if (why == nullptr) {
        const Silence quiet(errors_);
        return eval(id, v, ann);
    }
    // Explain a failure: evaluate again, collecting errors into a scratch list.
    std::vector<SchemaError> scratch;
    std::vector<SchemaError>* saved = errors_;
    errors_ = &scratch;
    const bool ok = eval(id, v, ann);
    errors_ = saved;
    for (std::size_t i = 0; i < scratch.size() && i < explained_errors; ++i) {
        const auto& e = scratch[i];
        std::string where = e.instance_path.size() > path_.size() &&
                                    e.instance_path.compare(0, path_.size(), path_) == 0
                                ? e.instance_path.substr(path_.size())
                                : std::string();
        *why += (i == 0 ? "" : ", ") + (where.empty() ? e.message : where + ": " + e.message);
    }
    if (scratch.size() > explained_errors) {
        *why += ", …";
    }
    return ok;
}

bool Evaluator::regex_matches(const Regex& r, std::string_view subject, const Node& n,
                              std::string_view keyword) {
    switch (r.search(subject)) {
    case Regex::Match::yes:
        return true;
    case Regex::Match::no:
        return false;
    case Regex::Match::bad_subject:
        abort(n, "value is not valid UTF-8");
        return false;
    case Regex::Match::limit_exceeded:
        abort(n, std::string(keyword) + " " + r.source() +
                     " is too expensive to evaluate on this value (backtracking limit reached)");
        return false;
    }
    return false;
}

void Evaluator::error(const Node& n, std::string_view keyword, std::string message) {
    if (!collecting()) {
        return;
    }
    std::string schema_path = n.path;
    if (!keyword.empty()) {
        pointer_append(schema_path, keyword);
    }
    errors_->push_back({path_, std::move(schema_path), std::move(message)});
}

void Evaluator::abort(const Node& n, std::string message) {
    if (!aborted_) {
        aborted_ = true;
        abort_error_ = {path_, n.path, std::move(message)};
    }
}

} // namespace agentd::tools::schema
