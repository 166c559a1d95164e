#include "vector/metadata_filter.h"

#include "agentd/memory/errc.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace agentd::memory::vector {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxFilterDepth = 16;
constexpr std::size_t kMaxFilterNodes = 256;
constexpr std::size_t kMaxInValues = 1024;
constexpr std::size_t kMaxFilterBytes = 64 * 1024;
constexpr std::size_t kMaxMetaDepth = 64;

MetaValue scalar_of(const json& v) {
    MetaValue out;
    switch (v.type()) {
    case json::value_t::boolean:
        out.type = MetaValue::Type::boolean;
        out.number = v.get<bool>() ? 1 : 0;
        break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
        out.type = MetaValue::Type::number;
        out.number = v.get<double>();
        break;
    case json::value_t::string:
        out.type = MetaValue::Type::string;
        out.text = v.get<std::string>();
        break;
    case json::value_t::object:
    case json::value_t::array:
        out.type = MetaValue::Type::container;
        break;
    default:
        break;
    }
    return out;
}

bool equal(const MetaValue& a, const MetaValue& b) {
    if (a.type != b.type || a.type == MetaValue::Type::container) {
        return false;
    }
    return a.type == MetaValue::Type::string ? a.text == b.text : a.number == b.number;
}

/// <0, 0, >0, or 2 when the two are not comparable (different types, or not number/string).
int compare(const MetaValue& a, const MetaValue& b) {
    if (a.type != b.type) {
        return 2;
    }
    if (a.type == MetaValue::Type::number) {
        return a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
    }
    if (a.type == MetaValue::Type::string) {
        const int c = a.text.compare(b.text);
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    return 2;
}

} // namespace

struct FlatMetaBuilder {
    std::vector<MetaField>& out;
    std::size_t max_fields;

    void add(const std::string& path, const json& v, std::size_t depth) {
        if (out.size() >= max_fields || depth > kMaxMetaDepth) {
            return;
        }
        out.push_back({path, scalar_of(v)});
        if (v.is_object()) {
            for (const auto& [key, child] : v.items()) {
                add(path.empty() ? key : path + "." + key, child, depth + 1);
            }
        } else if (v.is_array()) {
            for (const auto& child : v) {
                if (child.is_array()) {
                    continue; // nested arrays have no path of their own
                }
                if (child.is_object()) {
                    for (const auto& [key, grand] : child.items()) {
                        add(path + "." + key, grand, depth + 2);
                    }
                } else {
                    add(path, child, depth + 1);
                }
            }
        }
    }
};

FlatMeta FlatMeta::from_json(std::string_view text, std::size_t max_fields) {
    FlatMeta meta;
    if (text.empty() || text == "{}") {
        return meta;
    }
    // The stores validated nesting depth before the row was written, so recursion is bounded.
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        return meta;
    }
    FlatMetaBuilder b{meta.fields_, max_fields};
    for (const auto& [key, child] : doc.items()) {
        b.add(key, child, 1);
    }
    std::stable_sort(meta.fields_.begin(), meta.fields_.end(),
                     [](const MetaField& a, const MetaField& b2) { return a.path < b2.path; });
    return meta;
}

std::pair<const MetaField*, const MetaField*> FlatMeta::find(std::string_view path) const {
    auto lo = std::lower_bound(fields_.begin(), fields_.end(), path,
                               [](const MetaField& f, std::string_view p) { return f.path < p; });
    auto hi = lo;
    while (hi != fields_.end() && hi->path == path) {
        ++hi;
    }
    const MetaField* base = fields_.data();
    return {base + (lo - fields_.begin()), base + (hi - fields_.begin())};
}

class FilterParser {
public:
    explicit FilterParser(MetadataFilter& f) : f_(f) {}

    base::Result<std::size_t> parse_object(const json& obj, std::size_t depth);

private:
    base::Result<std::size_t> parse_field(const std::string& path, const json& v,
                                          std::size_t depth);
    base::Result<std::size_t> add(MetadataFilter::Node node) {
        if (f_.nodes_.size() >= kMaxFilterNodes) {
            return base::fail(errc::invalid_argument,
                              "filter: more than " + std::to_string(kMaxFilterNodes) + " clauses");
        }
        f_.nodes_.push_back(std::move(node));
        return f_.nodes_.size() - 1;
    }
    static base::Error bad(const std::string& what) {
        return base::Error(errc::invalid_argument, "filter: " + what);
    }

    MetadataFilter& f_;
};

base::Result<std::size_t> FilterParser::parse_object(const json& obj, std::size_t depth) {
    if (depth > kMaxFilterDepth) {
        return bad("nested deeper than " + std::to_string(kMaxFilterDepth));
    }
    if (!obj.is_object()) {
        return bad("expected an object, got " + std::string(obj.type_name()));
    }
    auto root = add({MetadataFilter::Node::Op::and_, {}, {}, true, {}});
    if (!root) {
        return root;
    }
    for (const auto& [key, v] : obj.items()) {
        base::Result<std::size_t> child = std::size_t{0};
        if (key == "$and" || key == "$or") {
            if (!v.is_array() || v.empty()) {
                return bad(key + " needs a non-empty array of filters");
            }
            auto group =
                add({key == "$and" ? MetadataFilter::Node::Op::and_ : MetadataFilter::Node::Op::or_,
                     {},
                     {},
                     true,
                     {}});
            if (!group) {
                return group;
            }
            for (const auto& item : v) {
                auto sub = parse_object(item, depth + 1);
                if (!sub) {
                    return sub;
                }
                f_.nodes_[*group].children.push_back(*sub);
            }
            child = group;
        } else if (key == "$not") {
            auto sub = parse_object(v, depth + 1);
            if (!sub) {
                return sub;
            }
            child = add({MetadataFilter::Node::Op::not_, {}, {}, true, {*sub}});
        } else if (!key.empty() && key[0] == '$') {
            return bad("unknown operator " + key + " (use $and, $or, $not at this level)");
        } else {
            child = parse_field(key, v, depth + 1);
        }
        if (!child) {
            return child;
        }
        f_.nodes_[*root].children.push_back(*child);
    }
    return root;
}

base::Result<std::size_t> FilterParser::parse_field(const std::string& path, const json& v,
                                                    std::size_t depth) {
    using Op = MetadataFilter::Node::Op;
    if (path.size() > 256) {
        return bad("field path longer than 256 bytes");
    }
    if (!v.is_object()) {
        if (v.is_array()) {
            return bad("\"" + path + "\": use {\"$in\": [...]} to match one of several values");
        }
        return add({Op::eq, path, {scalar_of(v)}, true, {}});
    }
    if (v.empty()) {
        return bad("\"" + path + "\": empty operator object");
    }
    auto group = add({Op::and_, {}, {}, true, {}});
    if (!group) {
        return group;
    }
    static const std::pair<const char*, Op> kOps[] = {
        {"$eq", Op::eq},   {"$ne", Op::ne},   {"$gt", Op::gt},
        {"$gte", Op::gte}, {"$lt", Op::lt},   {"$lte", Op::lte},
        {"$in", Op::in},   {"$nin", Op::nin}, {"$exists", Op::exists}};
    for (const auto& [op_name, arg] : v.items()) {
        const auto* it = std::find_if(std::begin(kOps), std::end(kOps),
                                      [&](const auto& p) { return op_name == p.first; });
        if (it == std::end(kOps)) {
            return bad("\"" + path + "\": unknown operator " + op_name +
                       " (nested objects are matched with dotted paths)");
        }
        MetadataFilter::Node node{it->second, path, {}, true, {}};
        if (node.op == Op::exists) {
            if (!arg.is_boolean()) {
                return bad("\"" + path + "\": $exists needs true or false");
            }
            node.exists = arg.get<bool>();
        } else if (node.op == Op::in || node.op == Op::nin) {
            if (!arg.is_array() || arg.size() > kMaxInValues) {
                return bad("\"" + path + "\": " + op_name + " needs an array of at most " +
                           std::to_string(kMaxInValues) + " values");
            }
            for (const auto& x : arg) {
                if (x.is_structured()) {
                    return bad("\"" + path + "\": " + op_name + " values must be scalars");
                }
                node.values.push_back(scalar_of(x));
            }
        } else {
            if (arg.is_structured()) {
                return bad("\"" + path + "\": " + op_name + " needs a scalar");
            }
            const bool ordered =
                node.op == Op::gt || node.op == Op::gte || node.op == Op::lt || node.op == Op::lte;
            if (ordered && !arg.is_number() && !arg.is_string()) {
                return bad("\"" + path + "\": " + op_name + " needs a number or a string");
            }
            node.values.push_back(scalar_of(arg));
        }
        auto id = add(std::move(node));
        if (!id) {
            return id;
        }
        f_.nodes_[*group].children.push_back(*id);
    }
    (void)depth;
    return group;
}

base::Result<MetadataFilter> MetadataFilter::compile(std::string_view text) {
    MetadataFilter f;
    if (text.empty()) {
        return f;
    }
    if (text.size() > kMaxFilterBytes) {
        return base::fail(errc::invalid_argument, "filter: larger than 64 KiB");
    }
    // Depth is checked before parsing: nlohmann's parser recurses once per nesting level.
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > 2 * kMaxFilterDepth + 2) {
                return base::fail(errc::invalid_argument, "filter: nested too deeply");
            }
        } else if (c == '}' || c == ']') {
            depth = depth == 0 ? 0 : depth - 1;
        }
    }
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) {
        return base::fail(errc::invalid_argument, "filter: not valid JSON");
    }
    FilterParser p(f);
    auto root = p.parse_object(doc, 0);
    if (!root) {
        return root.error();
    }
    return f;
}

bool MetadataFilter::matches(const FlatMeta& meta) const {
    return nodes_.empty() || eval(0, meta);
}

bool MetadataFilter::eval(std::size_t index, const FlatMeta& meta) const {
    const Node& n = nodes_[index];
    using Op = Node::Op;
    switch (n.op) {
    case Op::and_:
        return std::all_of(n.children.begin(), n.children.end(),
                           [&](std::size_t c) { return eval(c, meta); });
    case Op::or_:
        return std::any_of(n.children.begin(), n.children.end(),
                           [&](std::size_t c) { return eval(c, meta); });
    case Op::not_:
        return !eval(n.children.front(), meta);
    default:
        break;
    }
    const auto [first, last] = meta.find(n.path);
    auto any = [&](auto&& pred) {
        for (const MetaField* f = first; f != last; ++f) {
            if (pred(f->value)) {
                return true;
            }
        }
        return false;
    };
    auto in_values = [&](const MetaValue& v) {
        return std::any_of(n.values.begin(), n.values.end(),
                           [&](const MetaValue& x) { return equal(v, x); });
    };
    switch (n.op) {
    case Op::eq:
        return any([&](const MetaValue& v) { return equal(v, n.values[0]); });
    case Op::ne:
        return !any([&](const MetaValue& v) { return equal(v, n.values[0]); });
    case Op::gt:
        return any([&](const MetaValue& v) {
            int c = compare(v, n.values[0]);
            return c == 1;
        });
    case Op::gte:
        return any([&](const MetaValue& v) {
            int c = compare(v, n.values[0]);
            return c == 0 || c == 1;
        });
    case Op::lt:
        return any([&](const MetaValue& v) {
            int c = compare(v, n.values[0]);
            return c == -1;
        });
    case Op::lte:
        return any([&](const MetaValue& v) {
            int c = compare(v, n.values[0]);
            return c == -1 || c == 0;
        });
    case Op::in:
        return any(in_values);
    case Op::nin:
        return !any(in_values);
    case Op::exists:
        return (first != last) == n.exists;
    default:
        return false;
    }
}

} // namespace agentd::memory::vector
