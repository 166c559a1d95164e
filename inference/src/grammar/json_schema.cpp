// JSON Schema -> grammar (see docs/CHAT.md for the supported keywords).

#include "grammar/json_schema.h"

#include "agentd/base/check.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/value_json.h"

#include "grammar/program.h"
#include "value/utf8.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <set>

namespace agentd::inference::grammar {
namespace {

constexpr int kMaxSchemaDepth = 64;
constexpr std::int32_t kUnrolledItemsLimit =
    4; // arrays with larger finite bounds call the item rule

std::string pointer_escape(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '~') {
            out += "~0";
        } else if (c == '/') {
            out += "~1";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string json_key_literal(const std::string& key) {
    std::string out;
    append_json_string(out, key, false);
    return out;
}

std::string u64(std::uint64_t v) {
    return std::to_string(v);
}

std::uint64_t pow10(int d) {
    std::uint64_t v = 1;
    for (int i = 0; i < d; ++i) {
        v *= 10;
    }
    return v;
}

int digits_of(std::uint64_t v) {
    return static_cast<int>(u64(v).size());
}

// Decimal strings of equal length a <= b: every string between them.
ExprId same_length(Builder& b, const std::string& lo, const std::string& hi) {
    if (lo.empty()) {
        return b.empty();
    }
    if (lo == hi) {
        return b.bytes(lo);
    }
    const CodePointSet any_digit = CodePointSet::of({{'0', '9'}});
    auto digit_range = [&](char a, char z) {
        return b.chars(CodePointSet::of({{char32_t(a), char32_t(z)}}));
    };
    if (lo.size() == 1) {
        return digit_range(lo[0], hi[0]);
    }
    std::string lo_rest = lo.substr(1);
    std::string hi_rest = hi.substr(1);
    if (lo[0] == hi[0]) {
        return b.seq({b.bytes(std::string(1, lo[0])), same_length(b, lo_rest, hi_rest)});
    }
    const auto n = static_cast<std::int32_t>(lo.size() - 1);
    bool lo_zeros = lo_rest.find_first_not_of('0') == std::string::npos;
    bool hi_nines = hi_rest.find_first_not_of('9') == std::string::npos;
    std::vector<ExprId> alts;
    char mid_lo = lo_zeros ? lo[0] : static_cast<char>(lo[0] + 1);
    char mid_hi = hi_nines ? hi[0] : static_cast<char>(hi[0] - 1);
    if (!lo_zeros) {
        alts.push_back(b.seq({b.bytes(std::string(1, lo[0])),
                              same_length(b, lo_rest, std::string(lo_rest.size(), '9'))}));
    }
    if (mid_lo <= mid_hi) {
        alts.push_back(b.seq({digit_range(mid_lo, mid_hi), b.repeat(b.chars(any_digit), n, n)}));
    }
    if (!hi_nines) {
        alts.push_back(b.seq({b.bytes(std::string(1, hi[0])),
                              same_length(b, std::string(hi_rest.size(), '0'), hi_rest)}));
    }
    return b.alt(std::move(alts));
}

// Decimal integers without leading zeros in [lo, hi] (hi unset: unbounded).
ExprId unsigned_range(Builder& b, std::uint64_t lo, std::optional<std::uint64_t> hi) {
    std::vector<ExprId> alts;
    int d_lo = digits_of(lo);
    int d_hi = hi ? digits_of(*hi) : d_lo;
    for (int d = d_lo; d <= d_hi; ++d) {
        std::uint64_t a = d == d_lo ? lo : pow10(d - 1);
        std::uint64_t z = (hi && d == d_hi) ? *hi : pow10(d) - 1;
        if (a <= z) {
            alts.push_back(same_length(b, u64(a), u64(z)));
        }
    }
    if (!hi && d_lo < 19) {
        // Every number with more digits than lo.
        alts.push_back(b.seq({b.chars(CodePointSet::of({{'1', '9'}})),
                              b.repeat(b.chars(CodePointSet::of({{'0', '9'}})), d_lo, 18)}));
    }
    return b.alt(std::move(alts));
}

} // namespace

JsonSchemaCompiler::JsonSchemaCompiler(Builder& b, const JsonSchemaOptions& options)
    : b_(b), options_(options) {}

void JsonSchemaCompiler::fail(const std::string& path, const std::string& why) const {
    std::string where = path.empty() || path[0] != '#' ? "#" + path : path;
    throw Failure{"JSON schema at '" + where + "': " + why};
}

ExprId JsonSchemaCompiler::ws() {
    if (ws_ < 0) {
        int n = std::clamp(options_.max_whitespace, 0, 64);
        ws_ = n == 0
                  ? b_.empty()
                  : b_.repeat(b_.chars(CodePointSet::of({{'\t', '\n'}, {'\r', '\r'}, {' ', ' '}})),
                              0, n);
    }
    return ws_;
}

ExprId JsonSchemaCompiler::sep() {
    return b_.seq({ws(), b_.bytes(","), ws()});
}

ExprId JsonSchemaCompiler::string() {
    if (string_rule_ < 0) {
        string_rule_ = b_.add_rule("json-string", Inline::never);
        CodePointSet plain = CodePointSet::of({{0x20, 0x10FFFF}})
                                 .minus(CodePointSet::of({{'"', '"'}, {'\\', '\\'}}));
        ExprId hex = b_.chars(CodePointSet::of({{'0', '9'}, {'A', 'F'}, {'a', 'f'}}));
        ExprId escape =
            b_.seq({b_.bytes("\\"), b_.alt({b_.chars(CodePointSet::of({{'"', '"'},
                                                                       {'/', '/'},
                                                                       {'\\', '\\'},
                                                                       {'b', 'b'},
                                                                       {'f', 'f'},
                                                                       {'n', 'n'},
                                                                       {'r', 'r'},
                                                                       {'t', 't'}})),
                                            b_.seq({b_.bytes("u"), b_.repeat(hex, 4, 4)})})});
        b_.define(string_rule_, b_.seq({b_.bytes("\""), b_.star(b_.alt({b_.chars(plain), escape})),
                                        b_.bytes("\"")}));
    }
    return b_.ref(string_rule_);
}

// The generic value, object and array rules are defined together (they are mutually
// recursive) and shared by every schema position that accepts any JSON.
void JsonSchemaCompiler::define_generic() {
    if (value_rule_ >= 0) {
        return;
    }
    value_rule_ = b_.add_rule("json-value", Inline::never);
    object_rule_ = b_.add_rule("json-object", Inline::never);
    RuleId array_rule = b_.add_rule("json-array", Inline::never);
    ExprId value = b_.ref(value_rule_);
    ExprId kv = b_.seq({string(), ws(), b_.bytes(":"), ws(), value});
    b_.define(object_rule_,
              b_.seq({b_.bytes("{"), ws(), b_.optional(b_.seq({kv, b_.star(b_.seq({sep(), kv}))})),
                      ws(), b_.bytes("}")}));
    b_.define(array_rule, b_.seq({b_.bytes("["), ws(),
                                  b_.optional(b_.seq({value, b_.star(b_.seq({sep(), value}))})),
                                  ws(), b_.bytes("]")}));
    b_.define(value_rule_, b_.alt({b_.ref(object_rule_), b_.ref(array_rule), string(),
                                   number(Value(Object{}), ""), b_.bytes("true"), b_.bytes("false"),
                                   b_.bytes("null")}));
}

ExprId JsonSchemaCompiler::any_value() {
    define_generic();
    return b_.ref(value_rule_);
}

ExprId JsonSchemaCompiler::any_object() {
    define_generic();
    return b_.ref(object_rule_);
}

ExprId JsonSchemaCompiler::literal(const Value& v) {
    switch (v.kind()) {
    case Value::Kind::array: {
        std::vector<ExprId> parts{b_.bytes("["), ws()};
        for (std::size_t i = 0; i < v.as_array().size(); ++i) {
            if (i > 0) {
                parts.push_back(sep());
            }
            parts.push_back(literal(v.as_array()[i]));
        }
        parts.push_back(ws());
        parts.push_back(b_.bytes("]"));
        return b_.seq(std::move(parts));
    }
    case Value::Kind::object: {
        std::vector<ExprId> parts{b_.bytes("{"), ws()};
        bool first = true;
        for (const auto& [k, e] : v.as_object()) {
            if (!first) {
                parts.push_back(sep());
            }
            first = false;
            parts.push_back(b_.bytes(json_key_literal(k)));
            parts.push_back(ws());
            parts.push_back(b_.bytes(":"));
            parts.push_back(ws());
            parts.push_back(literal(e));
        }
        parts.push_back(ws());
        parts.push_back(b_.bytes("}"));
        return b_.seq(std::move(parts));
    }
    default:
        return b_.bytes(to_json(v, JsonWriteOptions::compact()));
    }
}

base::Result<ExprId> JsonSchemaCompiler::compile(const Value& s) {
    root_ = &s;
    refs_.clear(); // "#..." pointers are relative to this document
    try {
        return schema(s, "", 0);
    } catch (const Failure& f) {
        return base::Error(errc::invalid_schema, f.message);
    }
}

ExprId JsonSchemaCompiler::ref(const std::string& pointer, const std::string& path) {
    if (pointer.empty() || pointer[0] != '#') {
        fail(path, "only local $ref ('#...') is supported, not '" + pointer + "'");
    }
    auto it = refs_.find(pointer);
    if (it != refs_.end()) {
        return b_.ref(it->second);
    }
    // Resolve the JSON pointer in the root document.
    const Value* target = root_;
    std::string rest = pointer.substr(1);
    if (!rest.empty() && rest[0] != '/') {
        fail(path, "unsupported $ref '" + pointer + "' (anchors are not supported)");
    }
    std::size_t pos = 0;
    while (pos < rest.size()) {
        std::size_t next = rest.find('/', pos + 1);
        std::string token =
            rest.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        std::string key;
        for (std::size_t i = 0; i < token.size(); ++i) {
            if (token[i] == '~' && i + 1 < token.size()) {
                key.push_back(token[i + 1] == '1' ? '/' : '~');
                ++i;
            } else {
                key.push_back(token[i]);
            }
        }
        if (target->is_object() && target->find(key) != nullptr) {
            target = target->find(key);
        } else if (target->is_array() && !key.empty() &&
                   std::all_of(key.begin(), key.end(),
                               [](char c) { return c >= '0' && c <= '9'; }) &&
                   std::stoull(key) < target->as_array().size()) {
            target = &target->as_array()[std::stoull(key)];
        } else {
            fail(path, "$ref '" + pointer + "' does not resolve");
        }
        pos = next == std::string::npos ? rest.size() : next;
    }
    RuleId rule = b_.add_rule("ref:" + pointer, Inline::automatic);
    refs_.emplace(pointer, rule);
    b_.define(rule, schema(*target, pointer, 1));
    return b_.ref(rule);
}

ExprId JsonSchemaCompiler::schema(const Value& s, const std::string& path, int depth) {
    if (depth > kMaxSchemaDepth) {
        fail(path, "schema nested deeper than " + std::to_string(kMaxSchemaDepth));
    }
    if (s.is_bool()) {
        if (!s.as_bool()) {
            fail(path, "the schema 'false' accepts no value");
        }
        return any_value();
    }
    if (!s.is_object()) {
        fail(path, "a schema must be an object or a boolean");
    }
    if (const Value* r = s.find("$ref")) {
        if (!r->is_string()) {
            fail(path, "$ref must be a string");
        }
        return ref(r->as_string(), path + "/$ref");
    }
    if (const Value* c = s.find("const")) {
        return literal(*c);
    }
    if (const Value* e = s.find("enum")) {
        if (!e->is_array() || e->as_array().empty()) {
            fail(path + "/enum", "enum must be a non-empty array");
        }
        std::vector<ExprId> alts;
        for (const auto& v : e->as_array()) {
            alts.push_back(literal(v));
        }
        return b_.alt(std::move(alts));
    }
    for (const char* key : {"anyOf", "oneOf"}) {
        if (const Value* list = s.find(key)) {
            if (!list->is_array() || list->as_array().empty()) {
                fail(path + "/" + key, std::string(key) + " must be a non-empty array");
            }
            std::vector<ExprId> alts;
            for (std::size_t i = 0; i < list->as_array().size(); ++i) {
                alts.push_back(schema(list->as_array()[i],
                                      path + "/" + key + "/" + std::to_string(i), depth + 1));
            }
            return b_.alt(std::move(alts));
        }
    }
    if (const Value* all = s.find("allOf")) {
        if (!all->is_array() || all->as_array().size() != 1) {
            fail(path + "/allOf", "unsupported: allOf with other than exactly one schema");
        }
        return schema(all->as_array()[0], path + "/allOf/0", depth + 1);
    }
    std::vector<std::string> types;
    if (const Value* t = s.find("type")) {
        if (t->is_string()) {
            types.push_back(t->as_string());
        } else if (t->is_array()) {
            for (const auto& x : t->as_array()) {
                if (!x.is_string()) {
                    fail(path + "/type", "type names must be strings");
                }
                types.push_back(x.as_string());
            }
        } else {
            fail(path + "/type", "type must be a string or an array of strings");
        }
    } else if (s.find("properties") || s.find("additionalProperties") || s.find("required")) {
        types.emplace_back("object");
    } else if (s.find("items") || s.find("prefixItems")) {
        types.emplace_back("array");
    } else if (s.find("pattern") || s.find("format") || s.find("minLength") ||
               s.find("maxLength")) {
        types.emplace_back("string");
    } else {
        return any_value();
    }
    if (const Value* n = s.find("nullable"); n != nullptr && n->is_bool() && n->as_bool()) {
        types.emplace_back("null");
    }
    std::vector<ExprId> alts;
    for (const auto& t : types) {
        alts.push_back(typed(s, t, path, depth));
    }
    return b_.alt(std::move(alts));
}

ExprId JsonSchemaCompiler::typed(const Value& s, const std::string& type, const std::string& path,
                                 int depth) {
    if (type == "object") {
        return object(s, path, depth);
    }
    if (type == "array") {
        return array(s, path, depth);
    }
    if (type == "string") {
        return string_schema(s, path);
    }
    if (type == "integer") {
        return integer(s, path);
    }
    if (type == "number") {
        return number(s, path);
    }
    if (type == "boolean") {
        return b_.alt({b_.bytes("true"), b_.bytes("false")});
    }
    if (type == "null") {
        return b_.bytes("null");
    }
    fail(path + "/type", "unknown type '" + type + "'");
}

// A string that is not one of `keys` and uses no escapes (used for additionalProperties keys,
// so an extra key can never repeat a declared one).
ExprId JsonSchemaCompiler::key_not_in(const std::vector<std::string>& keys) {
    CodePointSet allowed =
        CodePointSet::of({{0x20, 0x10FFFF}}).minus(CodePointSet::of({{'"', '"'}, {'\\', '\\'}}));
    ExprId free = b_.star(b_.chars(allowed));
    // Trie over the keys' code points.
    struct Node {
        std::map<char32_t, int> children;
        bool terminal = false;
    };
    std::vector<Node> nodes(1);
    for (const auto& k : keys) {
        int cur = 0;
        std::size_t i = 0;
        while (i < k.size()) {
            char32_t c = utf8::decode(k, i);
            auto it = nodes[static_cast<std::size_t>(cur)].children.find(c);
            if (it == nodes[static_cast<std::size_t>(cur)].children.end()) {
                nodes.emplace_back();
                int id = static_cast<int>(nodes.size() - 1);
                nodes[static_cast<std::size_t>(cur)].children.emplace(c, id);
                cur = id;
            } else {
                cur = it->second;
            }
        }
        nodes[static_cast<std::size_t>(cur)].terminal = true;
    }
    std::function<ExprId(int)> build = [&](int n) -> ExprId {
        const Node& node = nodes[static_cast<std::size_t>(n)];
        std::vector<ExprId> alts;
        CodePointSet others = allowed;
        for (const auto& [c, child] : node.children) {
            std::string lit;
            utf8::append(lit, c);
            alts.push_back(b_.seq({b_.bytes(lit), build(child)}));
            others = others.minus(CodePointSet::of({{c, c}}));
        }
        if (!others.empty()) {
            alts.push_back(b_.seq({b_.chars(others), free}));
        }
        if (!node.terminal) {
            alts.push_back(b_.empty());
        }
        return b_.alt(std::move(alts));
    };
    return b_.seq({b_.bytes("\""), build(0), b_.bytes("\"")});
}

ExprId JsonSchemaCompiler::object(const Value& s, const std::string& path, int depth) {
    std::vector<std::pair<std::string, ExprId>> props;
    std::set<std::string> required;
    if (const Value* r = s.find("required")) {
        if (!r->is_array()) {
            fail(path + "/required", "required must be an array");
        }
        for (const auto& x : r->as_array()) {
            if (!x.is_string()) {
                fail(path + "/required", "required entries must be strings");
            }
            required.insert(x.as_string());
        }
    }
    if (const Value* p = s.find("properties")) {
        if (!p->is_object()) {
            fail(path + "/properties", "properties must be an object");
        }
        for (const auto& [k, sub] : p->as_object()) {
            props.emplace_back(k,
                               schema(sub, path + "/properties/" + pointer_escape(k), depth + 1));
        }
    }
    for (const auto& r : required) {
        bool declared =
            std::any_of(props.begin(), props.end(), [&](const auto& p) { return p.first == r; });
        if (!declared) {
            // A required key without a declared schema: any value.
            props.emplace_back(r, any_value());
        }
    }
    // Additional properties: false, true/absent (any value; absent means false in strict mode),
    // or a schema for their values.
    std::optional<ExprId> extra_value;
    const Value* ap = s.find("additionalProperties");
    if (ap == nullptr) {
        if (!options_.strict || (props.empty() && s.find("properties") == nullptr)) {
            extra_value = any_value();
        }
    } else if (ap->is_bool()) {
        if (ap->as_bool()) {
            extra_value = any_value();
        }
    } else {
        extra_value = schema(*ap, path + "/additionalProperties", depth + 1);
    }
    std::vector<std::string> known;
    for (const auto& p : props) {
        known.push_back(p.first);
    }
    std::optional<ExprId> extra_kv;
    if (extra_value) {
        extra_kv = b_.seq({known.empty() ? string() : key_not_in(known), ws(), b_.bytes(":"), ws(),
                           *extra_value});
    }
    auto kv = [&](std::size_t i) {
        return b_.seq({b_.bytes(json_key_literal(props[i].first)), ws(), b_.bytes(":"), ws(),
                       props[i].second});
    };
    // tail(j): the properties from j on, each preceded by a separator; then extra keys.
    const std::size_t n = props.size();
    std::vector<ExprId> tail(n + 1);
    tail[n] = extra_kv ? b_.star(b_.seq({sep(), *extra_kv})) : b_.empty();
    for (std::size_t j = n; j-- > 0;) {
        ExprId item = b_.seq({sep(), kv(j)});
        if (!required.count(props[j].first)) {
            item = b_.optional(item);
        }
        // Tails are shared by two parents: as rules they are compiled once.
        RuleId r = b_.add_rule("obj-tail", Inline::automatic);
        b_.define(r, b_.seq({item, tail[j + 1]}));
        tail[j] = b_.ref(r);
    }
    std::vector<ExprId> firsts;
    bool all_optional_so_far = true;
    for (std::size_t i = 0; i < n && all_optional_so_far; ++i) {
        firsts.push_back(b_.seq({kv(i), tail[i + 1]}));
        all_optional_so_far = !required.count(props[i].first);
    }
    if (all_optional_so_far) {
        if (extra_kv) {
            firsts.push_back(b_.seq({*extra_kv, b_.star(b_.seq({sep(), *extra_kv}))}));
        }
        firsts.push_back(b_.empty());
    }
    return b_.seq({b_.bytes("{"), ws(), b_.alt(std::move(firsts)), ws(), b_.bytes("}")});
}

ExprId JsonSchemaCompiler::array(const Value& s, const std::string& path, int depth) {
    auto count = [&](const char* key, std::int64_t def) -> std::int64_t {
        const Value* v = s.find(key);
        if (v == nullptr) {
            return def;
        }
        if (!v->is_number() || v->as_double() < 0 || v->as_double() > 1e9) {
            fail(path + "/" + key, std::string(key) + " must be a non-negative integer");
        }
        return static_cast<std::int64_t>(v->as_double());
    };
    std::int64_t min_items = count("minItems", 0);
    std::int64_t max_items = count("maxItems", -1);
    std::vector<ExprId> prefix;
    if (const Value* p = s.find("prefixItems")) {
        if (!p->is_array()) {
            fail(path + "/prefixItems", "prefixItems must be an array");
        }
        for (std::size_t i = 0; i < p->as_array().size(); ++i) {
            prefix.push_back(
                schema(p->as_array()[i], path + "/prefixItems/" + std::to_string(i), depth + 1));
        }
    }
    std::optional<ExprId> item;
    const Value* items = s.find("items");
    if (items == nullptr || (items->is_bool() && items->as_bool())) {
        item = any_value();
    } else if (items->is_bool()) {
        max_items =
            max_items < 0
                ? static_cast<std::int64_t>(prefix.size())
                : std::min<std::int64_t>(max_items, static_cast<std::int64_t>(prefix.size()));
    } else if (items->is_array()) {
        fail(path + "/items", "an array of item schemas is draft-4 tuple syntax; use prefixItems");
    } else {
        item = schema(*items, path + "/items", depth + 1);
    }
    if (max_items >= 0 && min_items > max_items) {
        fail(path, "minItems is larger than maxItems");
    }
    const auto k = static_cast<std::int64_t>(prefix.size());
    if (min_items > k && !item) {
        fail(path, "minItems cannot be met with items: false");
    }
    if (item && (max_items < 0 || max_items - k > kUnrolledItemsLimit)) {
        // Many repetitions of one item schema: one shared rule instead of copies.
        RuleId r = b_.add_rule("array-item", Inline::never);
        b_.define(r, *item);
        item = b_.ref(r);
    }
    const std::int32_t limit = 4096;
    if (max_items > limit || min_items > limit) {
        fail(path, "minItems/maxItems above " + std::to_string(limit) + " are not supported");
    }
    // rest(i): elements after the i-th (i >= 1 emitted so far), each preceded by a separator.
    std::function<ExprId(std::int64_t)> rest = [&](std::int64_t i) -> ExprId {
        if (max_items >= 0 && i >= max_items) {
            return b_.empty();
        }
        if (i >= k) {
            if (!item) {
                return b_.empty();
            }
            auto lo = static_cast<std::int32_t>(std::max<std::int64_t>(0, min_items - i));
            auto hi = max_items < 0 ? -1 : static_cast<std::int32_t>(max_items - i);
            return b_.repeat(b_.seq({sep(), *item}), lo, hi);
        }
        ExprId more = b_.seq({sep(), prefix[static_cast<std::size_t>(i)], rest(i + 1)});
        return i >= min_items ? b_.optional(more) : more;
    };
    ExprId list = b_.empty();
    if (max_items != 0 && (k > 0 || item)) {
        ExprId first = b_.seq({k > 0 ? prefix[0] : *item, rest(1)});
        list = min_items == 0 ? b_.optional(first) : first;
    } else if (min_items > 0) {
        fail(path, "minItems cannot be met");
    }
    return b_.seq({b_.bytes("["), ws(), list, ws(), b_.bytes("]")});
}

ExprId JsonSchemaCompiler::string_schema(const Value& s, const std::string& path) {
    const Value* pattern = s.find("pattern");
    const Value* format = s.find("format");
    const Value* min_len = s.find("minLength");
    const Value* max_len = s.find("maxLength");
    if (pattern == nullptr && format == nullptr && min_len == nullptr && max_len == nullptr) {
        return string();
    }
    std::optional<std::string> regex;
    if (pattern != nullptr) {
        if (!pattern->is_string()) {
            fail(path + "/pattern", "pattern must be a string");
        }
        regex = pattern->as_string();
    } else if (format != nullptr && format->is_string()) {
        static const std::map<std::string, std::string> kFormats = {
            {"date", R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$)"},
            {"time",
             R"(^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$)"},
            {"date-time",
             R"(^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$)"},
            {"uuid",
             R"(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)"},
            {"email",
             R"(^[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(\.[A-Za-z0-9\-]{1,63}){1,8}$)"},
            {"ipv4",
             R"(^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$)"},
            {"hostname",
             R"(^[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?){0,8}$)"},
            {"uri", R"(^[A-Za-z][A-Za-z0-9+.\-]*:[^\s"\\<>]{1,2000}$)"},
        };
        auto it = kFormats.find(format->as_string());
        if (it != kFormats.end()) {
            regex = it->second;
        }
    }
    if (regex) {
        if (min_len != nullptr || max_len != nullptr) {
            fail(path, "unsupported: minLength/maxLength together with pattern or format");
        }
        auto content = regex_to_json_string_content(b_, *regex);
        if (!content) {
            fail(path, content.error().message);
        }
        return b_.seq({b_.bytes("\""), *content, b_.bytes("\"")});
    }
    auto length = [&](const Value* v, const char* key) -> std::int32_t {
        if (v == nullptr) {
            return -1;
        }
        if (!v->is_number() || v->as_double() < 0 || v->as_double() > 4096) {
            fail(path + "/" + key, std::string(key) + " must be an integer in [0, 4096]");
        }
        return static_cast<std::int32_t>(v->as_double());
    };
    std::int32_t lo = std::max(0, length(min_len, "minLength"));
    std::int32_t hi = length(max_len, "maxLength");
    if (hi >= 0 && hi < lo) {
        fail(path, "minLength is larger than maxLength");
    }
    ExprId ch = json_char(b_, CodePointSet::of({{0, 0x10FFFF}}));
    return b_.seq({b_.bytes("\""), b_.repeat(ch, lo, hi), b_.bytes("\"")});
}

ExprId JsonSchemaCompiler::integer(const Value& s, const std::string& path) {
    std::optional<std::int64_t> lo;
    std::optional<std::int64_t> hi;
    constexpr double kLimit = 9.0e18;
    auto bound = [&](const char* key, bool lower, bool exclusive) {
        const Value* v = s.find(key);
        if (v == nullptr || v->is_bool()) {
            return;
        }
        if (!v->is_number() || std::fabs(v->as_double()) > kLimit) {
            fail(path + "/" + key, std::string(key) + " must be a number within +-9e18");
        }
        double d = v->as_double();
        std::int64_t b = lower ? static_cast<std::int64_t>(std::ceil(d))
                               : static_cast<std::int64_t>(std::floor(d));
        if (exclusive && static_cast<double>(b) == d) {
            b += lower ? 1 : -1;
        }
        if (lower) {
            lo = lo ? std::max(*lo, b) : b;
        } else {
            hi = hi ? std::min(*hi, b) : b;
        }
    };
    bound("minimum", true, false);
    bound("exclusiveMinimum", true, true);
    bound("maximum", false, false);
    bound("exclusiveMaximum", false, true);
    if (!lo && !hi) {
        if (integer_rule_ < 0) {
            integer_rule_ = b_.add_rule("json-integer", Inline::never);
            b_.define(integer_rule_,
                      b_.seq({b_.optional(b_.bytes("-")), unsigned_range(b_, 0, std::nullopt)}));
        }
        return b_.ref(integer_rule_);
    }
    if (lo && hi && *lo > *hi) {
        fail(path, "the integer range is empty");
    }
    std::vector<ExprId> alts;
    if (!hi || *hi >= 0) {
        std::uint64_t a = lo && *lo > 0 ? static_cast<std::uint64_t>(*lo) : 0;
        alts.push_back(unsigned_range(
            b_, a,
            hi ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(*hi)) : std::nullopt));
    }
    if (!lo || *lo < 0) {
        std::uint64_t mag_lo = hi && *hi < 0 ? static_cast<std::uint64_t>(-*hi) : 1;
        std::optional<std::uint64_t> mag_hi;
        if (lo) {
            mag_hi = static_cast<std::uint64_t>(-*lo);
        }
        alts.push_back(b_.seq({b_.bytes("-"), unsigned_range(b_, mag_lo, mag_hi)}));
    }
    return b_.alt(std::move(alts));
}

ExprId JsonSchemaCompiler::number(const Value& s, const std::string& path) {
    (void)path;
    // Numeric bounds on non-integers are enforced for the sign only (documented). Digits are
    // bounded (20 integer, 20 fraction, 2 exponent) so every number stays a finite double.
    bool non_negative = false;
    bool negative = false;
    for (const char* key : {"minimum", "exclusiveMinimum"}) {
        if (const Value* v = s.find(key); v != nullptr && v->is_number() && v->as_double() >= 0) {
            non_negative = true;
        }
    }
    for (const char* key : {"maximum", "exclusiveMaximum"}) {
        if (const Value* v = s.find(key); v != nullptr && v->is_number() && v->as_double() < 0) {
            negative = true;
        }
    }
    ExprId digit = b_.chars(CodePointSet::of({{'0', '9'}}));
    auto body = [&]() {
        ExprId int_part = unsigned_range(b_, 0, std::nullopt);
        ExprId frac = b_.optional(b_.seq({b_.bytes("."), b_.repeat(digit, 1, 20)}));
        ExprId exp =
            b_.optional(b_.seq({b_.chars(CodePointSet::of({{'E', 'E'}, {'e', 'e'}})),
                                b_.optional(b_.chars(CodePointSet::of({{'+', '+'}, {'-', '-'}}))),
                                b_.repeat(digit, 1, 2)}));
        return b_.seq({int_part, frac, exp});
    };
    if (non_negative) {
        return body();
    }
    if (negative) {
        return b_.seq({b_.bytes("-"), body()});
    }
    if (number_rule_ < 0) {
        number_rule_ = b_.add_rule("json-number", Inline::never);
        b_.define(number_rule_, b_.seq({b_.optional(b_.bytes("-")), body()}));
    }
    return b_.ref(number_rule_);
}

} // namespace agentd::inference::grammar

namespace agentd::inference {

base::Result<Grammar> Grammar::from_json_schema(const Value& schema,
                                                const JsonSchemaOptions& options) {
    grammar::Builder b;
    grammar::JsonSchemaCompiler compiler(b, options);
    auto body = compiler.compile(schema);
    if (!body) {
        return body.error();
    }
    b.root = b.add_rule("root", grammar::Inline::never);
    b.define(b.root, b.seq({compiler.ws(), *body, compiler.ws()}));
    auto program = grammar::compile(b);
    if (!program) {
        return program.error();
    }
    return Grammar(std::make_shared<const grammar::Program>(std::move(*program)));
}

Grammar Grammar::any_json(bool object_only, const JsonSchemaOptions& options) {
    grammar::Builder b;
    grammar::JsonSchemaCompiler compiler(b, options);
    grammar::ExprId body = object_only ? compiler.any_object() : compiler.any_value();
    b.root = b.add_rule("root", grammar::Inline::never);
    b.define(b.root, b.seq({compiler.ws(), body, compiler.ws()}));
    auto program = grammar::compile(b);
    AGENTD_CHECK(program.has_value(), "the generic JSON grammar is a constant and must compile");
    return Grammar(std::make_shared<const grammar::Program>(std::move(*program)));
}

} // namespace agentd::inference
