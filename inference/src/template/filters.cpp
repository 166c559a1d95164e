// Jinja's builtin filters (the ones chat templates use), with Hugging Face's `tojson`.

#include "agentd/inference/value_json.h"

#include "template/interpreter.h"
#include "template/parser.h"
#include "template/pystr.h"
#include "value/utf8.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <unordered_map>

namespace agentd::inference::jinja {
namespace {

using FilterFn = std::function<JVal(Interpreter&, const JVal&, CallArgs&)>;

bool bool_arg(CallArgs& args, std::size_t i, std::string_view name, bool def) {
    const JVal* v = arg(args, i, name);
    return v != nullptr ? truthy(*v) : def;
}

std::string str_arg(Interpreter& in, CallArgs& args, std::size_t i, std::string_view name,
                    std::string def) {
    const JVal* v = arg(args, i, name);
    if (v == nullptr || v->is_none()) {
        return def;
    }
    if (!v->is_string()) {
        in.fail("argument '" + std::string(name) + "' must be a string");
    }
    return v->str();
}

// Jinja's attribute getter: "a.b.0" walks getitem with integer parts as indices.
JVal get_path(Interpreter& in, const JVal& obj, const std::string& path) {
    JVal cur = obj;
    for (const auto& part : py::split(path, ".", -1)) {
        bool digits = !part.empty() && std::all_of(part.begin(), part.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
        cur = digits ? in.item(cur, JVal(static_cast<std::int64_t>(std::stoll(part))))
                     : in.item(cur, JVal(part));
    }
    return cur;
}

JVal sort_key(const JVal& v, bool case_sensitive) {
    if (!case_sensitive && v.is_string()) {
        return JVal(py::lower(v.str()));
    }
    return v;
}

void sort_values(Interpreter& in, std::vector<JVal>& items, std::vector<JVal>& keys, bool reverse) {
    std::vector<std::size_t> order(items.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    bool ok = true;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        bool lt_ok = true;
        bool r = reverse ? less(keys[b], keys[a], lt_ok) : less(keys[a], keys[b], lt_ok);
        ok = ok && lt_ok;
        return r;
    });
    if (!ok) {
        in.fail("cannot sort values of different types");
    }
    std::vector<JVal> sorted;
    sorted.reserve(items.size());
    for (std::size_t i : order) {
        sorted.push_back(items[i]);
    }
    items = std::move(sorted);
}

JVal f_length(Interpreter& in, const JVal& v, CallArgs&) {
    if (v.is_string()) {
        return JVal(static_cast<std::int64_t>(utf8::length(v.str())));
    }
    if (v.is_list()) {
        return JVal(static_cast<std::int64_t>(v.list()->items.size()));
    }
    if (v.is_dict() && !v.dict()->is_namespace) {
        return JVal(static_cast<std::int64_t>(v.dict()->items.size()));
    }
    if (v.is_undefined()) {
        return JVal(0);
    }
    in.fail("object of type '" + std::string(type_name(v)) + "' has no len()");
}

JVal f_default(Interpreter&, const JVal& v, CallArgs& args) {
    const JVal* def = arg(args, 0, "default_value");
    bool boolean = bool_arg(args, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !truthy(v))) {
        return def != nullptr ? *def : JVal("");
    }
    return v;
}

JVal f_tojson(Interpreter& in, const JVal& v, CallArgs& args) {
    Value value;
    if (!from_jval(v, value)) {
        in.fail("Object of type " + std::string(type_name(v)) + " is not JSON serializable");
    }
    JsonWriteOptions o = JsonWriteOptions::python();
    const JVal* indent = arg(args, 0, "indent");
    if (indent != nullptr && !indent->is_none()) {
        o = JsonWriteOptions::python(
            static_cast<int>(std::clamp<std::int64_t>(to_int(in, *indent, "indent"), 0, 64)));
    }
    o.ensure_ascii = bool_arg(args, 1, "ensure_ascii", false);
    std::string item_sep;
    std::string key_sep;
    const JVal* seps = arg(args, 2, "separators");
    if (seps != nullptr && !seps->is_none()) {
        if (!seps->is_list() || seps->list()->items.size() != 2 ||
            !seps->list()->items[0].is_string() || !seps->list()->items[1].is_string()) {
            in.fail("tojson separators must be a pair of strings");
        }
        item_sep = seps->list()->items[0].str();
        key_sep = seps->list()->items[1].str();
        o.item_separator = item_sep;
        o.key_separator = key_sep;
    }
    o.sort_keys = bool_arg(args, 3, "sort_keys", false);
    std::string out = to_json(value, o);
    in.check_size(out.size());
    return JVal(std::move(out));
}

JVal f_join(Interpreter& in, const JVal& v, CallArgs& args) {
    std::string sep = str_arg(in, args, 0, "d", "");
    const JVal* attr = arg(args, 1, "attribute");
    std::string out;
    bool first = true;
    for (const auto& item : iterate(in, v)) {
        if (!first) {
            out += sep;
        }
        first = false;
        append_str(out, attr != nullptr ? get_path(in, item, to_str(*attr)) : item);
        in.check_size(out.size());
    }
    return JVal(std::move(out));
}

JVal f_items(Interpreter& in, const JVal& v, CallArgs&) {
    if (v.is_undefined()) {
        return JVal(make_list());
    }
    if (!v.is_dict()) {
        in.fail("can only get item pairs from a mapping, not " + std::string(type_name(v)));
    }
    auto out = make_list();
    for (const auto& [k, e] : v.dict()->items) {
        out->items.emplace_back(make_list({JVal(k), e}, true));
    }
    return JVal(out);
}

JVal f_dictsort(Interpreter& in, const JVal& v, CallArgs& args) {
    if (!v.is_dict()) {
        in.fail("dictsort needs a mapping, not " + std::string(type_name(v)));
    }
    bool case_sensitive = bool_arg(args, 0, "case_sensitive", false);
    std::string by = str_arg(in, args, 1, "by", "key");
    bool reverse = bool_arg(args, 2, "reverse", false);
    std::vector<JVal> items;
    std::vector<JVal> keys;
    for (const auto& [k, e] : v.dict()->items) {
        items.emplace_back(make_list({JVal(k), e}, true));
        keys.push_back(sort_key(by == "value" ? e : JVal(k), case_sensitive));
    }
    sort_values(in, items, keys, reverse);
    return JVal(make_list(std::move(items)));
}

JVal f_sort(Interpreter& in, const JVal& v, CallArgs& args) {
    bool reverse = bool_arg(args, 0, "reverse", false);
    bool case_sensitive = bool_arg(args, 1, "case_sensitive", false);
    const JVal* attr = arg(args, 2, "attribute");
    std::vector<JVal> items = iterate(in, v);
    std::vector<JVal> keys;
    keys.reserve(items.size());
    for (const auto& item : items) {
        keys.push_back(
            sort_key(attr != nullptr ? get_path(in, item, to_str(*attr)) : item, case_sensitive));
    }
    sort_values(in, items, keys, reverse);
    return JVal(make_list(std::move(items)));
}

JVal f_unique(Interpreter& in, const JVal& v, CallArgs& args) {
    bool case_sensitive = bool_arg(args, 0, "case_sensitive", false);
    const JVal* attr = arg(args, 1, "attribute");
    auto out = make_list();
    std::vector<JVal> seen;
    for (const auto& item : iterate(in, v)) {
        JVal key =
            sort_key(attr != nullptr ? get_path(in, item, to_str(*attr)) : item, case_sensitive);
        bool dup =
            std::any_of(seen.begin(), seen.end(), [&](const JVal& s) { return equals(s, key); });
        if (!dup) {
            seen.push_back(key);
            out->items.push_back(item);
        }
    }
    return JVal(out);
}

JVal f_minmax(Interpreter& in, const JVal& v, CallArgs& args, bool want_max) {
    bool case_sensitive = bool_arg(args, 0, "case_sensitive", false);
    const JVal* attr = arg(args, 1, "attribute");
    std::vector<JVal> items = iterate(in, v);
    if (items.empty()) {
        return JVal::undefined("no aggregated item, sequence was empty");
    }
    std::size_t best = 0;
    JVal best_key =
        sort_key(attr ? get_path(in, items[0], to_str(*attr)) : items[0], case_sensitive);
    for (std::size_t i = 1; i < items.size(); ++i) {
        JVal key =
            sort_key(attr ? get_path(in, items[i], to_str(*attr)) : items[i], case_sensitive);
        bool ok = true;
        bool better = want_max ? less(best_key, key, ok) : less(key, best_key, ok);
        if (!ok) {
            in.fail("cannot compare values of different types");
        }
        if (better) {
            best = i;
            best_key = key;
        }
    }
    return items[best];
}

// select/reject/selectattr/rejectattr share this: keep items whose (attribute) value passes
// the named test (or is truthy when no test is named).
JVal f_select(Interpreter& in, const JVal& v, CallArgs& args, bool with_attr, bool keep) {
    std::size_t next = 0;
    std::string attr;
    if (with_attr) {
        if (args.positional.empty()) {
            in.fail("selectattr/rejectattr need an attribute name");
        }
        attr = to_str(args.positional[next++]);
    }
    std::string test;
    if (next < args.positional.size()) {
        test = to_str(args.positional[next++]);
        if (!has_test(test)) {
            in.fail("unsupported test '" + test + "'");
        }
    }
    CallArgs test_args;
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next),
                                args.positional.end());
    auto out = make_list();
    for (const auto& item : iterate(in, v)) {
        JVal subject = with_attr ? get_path(in, item, attr) : item;
        bool pass = test.empty() ? truthy(subject) : call_test(in, test, subject, test_args);
        if (pass == keep) {
            out->items.push_back(item);
        }
    }
    return JVal(out);
}

JVal f_map(Interpreter& in, const JVal& v, CallArgs& args) {
    auto out = make_list();
    const JVal* attr = kwarg(args, "attribute");
    if (attr != nullptr) {
        const JVal* def = kwarg(args, "default");
        for (const auto& item : iterate(in, v)) {
            JVal r = get_path(in, item, to_str(*attr));
            out->items.push_back(r.is_undefined() && def != nullptr ? *def : r);
        }
        return JVal(out);
    }
    if (args.positional.empty()) {
        in.fail("map needs a filter name or attribute=");
    }
    std::string name = to_str(args.positional[0]);
    if (!has_filter(name)) {
        in.fail("unsupported filter '" + name + "'");
    }
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.keyword = args.keyword;
    for (const auto& item : iterate(in, v)) {
        CallArgs copy = rest;
        out->items.push_back(call_filter(in, name, item, copy));
    }
    return JVal(out);
}

// Python's printf-style formatting for the `format` filter and `str % args`.
JVal f_format(Interpreter& in, const JVal& v, CallArgs& args) {
    if (!v.is_string()) {
        in.fail("format needs a string");
    }
    const std::string& fmt = v.str();
    std::string out;
    std::size_t next = 0;
    for (std::size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out.push_back(fmt[i]);
            continue;
        }
        std::size_t j = i + 1;
        std::string spec = "%";
        while (j < fmt.size() &&
               std::string_view("-+ #0123456789.").find(fmt[j]) != std::string_view::npos) {
            spec.push_back(fmt[j++]);
        }
        if (j >= fmt.size()) {
            in.fail("incomplete format");
        }
        char conv = fmt[j];
        i = j;
        if (conv == '%') {
            out.push_back('%');
            continue;
        }
        if (next >= args.positional.size()) {
            in.fail("not enough arguments for format string");
        }
        const JVal& a = args.positional[next++];
        char buf[128];
        if (conv == 's' || conv == 'r') {
            std::string s;
            conv == 's' ? append_str(s, a) : append_repr(s, a);
            // Width and '-' flag pad by code points, as Python does.
            bool left = spec.find('-') != std::string::npos;
            std::size_t digits_at = spec.find_first_of("123456789");
            std::size_t width = 0;
            if (digits_at != std::string::npos) {
                width = static_cast<std::size_t>(
                    std::min(4096L, std::strtol(spec.c_str() + digits_at, nullptr, 10)));
            }
            std::size_t len = utf8::length(s);
            std::string pad(width > len ? width - len : 0, ' ');
            out += left ? s + pad : pad + s;
        } else if ((conv == 'd' || conv == 'i' || conv == 'x' || conv == 'X') && a.is_number()) {
            spec += "ll";
            spec.push_back(conv == 'i' ? 'd' : conv);
            auto n = static_cast<long long>(a.is_float() ? std::trunc(a.as_float())
                                                         : static_cast<double>(a.int_value()));
            std::snprintf(buf, sizeof buf, spec.c_str(), n);
            out += buf;
        } else if ((conv == 'f' || conv == 'F' || conv == 'e' || conv == 'g') && a.is_number()) {
            spec.push_back(conv);
            std::snprintf(buf, sizeof buf, spec.c_str(), a.number_value());
            out += buf;
        } else {
            in.fail(std::string("unsupported format conversion '%") + conv + "' for " +
                    type_name(a));
        }
        in.check_size(out.size());
    }
    return JVal(std::move(out));
}

// Jinja's indent filter, including its trailing-newline quirk.
JVal f_indent(Interpreter& in, const JVal& v, CallArgs& args) {
    std::string s = to_str(v);
    const JVal* w = arg(args, 0, "width");
    std::string pad =
        w == nullptr
            ? "    "
            : (w->is_string() ? w->str()
                              : std::string(static_cast<std::size_t>(std::clamp<std::int64_t>(
                                                to_int(in, *w, "width"), 0, 1024)),
                                            ' '));
    bool first = bool_arg(args, 1, "first", false);
    bool blank = bool_arg(args, 2, "blank", false);
    s += "\n";
    // str.splitlines() boundaries
    std::vector<std::string> lines;
    std::string cur;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t start = i;
        char32_t c = utf8::decode(s, i);
        bool br = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D ||
                  c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
        if (br) {
            if (c == '\r' && i < s.size() && s[i] == '\n') {
                ++i;
            }
            lines.push_back(std::move(cur));
            cur.clear();
        } else {
            cur.append(s, start, i - start);
        }
    }
    if (!cur.empty()) {
        lines.push_back(std::move(cur));
    }
    std::string rv;
    if (blank) {
        for (std::size_t k = 0; k < lines.size(); ++k) {
            if (k > 0) {
                rv += "\n" + pad;
            }
            rv += lines[k];
        }
    } else if (!lines.empty()) {
        rv = lines[0];
        for (std::size_t k = 1; k < lines.size(); ++k) {
            rv += "\n";
            if (!lines[k].empty()) {
                rv += pad;
            }
            rv += lines[k];
        }
    }
    if (first) {
        rv = pad + rv;
    }
    in.check_size(rv.size());
    return JVal(std::move(rv));
}

JVal f_round(Interpreter& in, const JVal& v, CallArgs& args) {
    if (!v.is_number()) {
        in.fail("round needs a number");
    }
    std::int64_t precision = 0;
    if (const JVal* p = arg(args, 0, "precision")) {
        precision = std::clamp<std::int64_t>(to_int(in, *p, "precision"), -20, 20);
    }
    std::string method = str_arg(in, args, 1, "method", "common");
    double x = v.number_value();
    if (method == "common") {
        if (!v.is_float() && precision >= 0) {
            return JVal(v.int_value()); // Python's round() of an int stays an int
        }
        if (precision == 0) {
            return JVal(std::nearbyint(x)); // round-half-even, like Python
        }
        char buf[512];
        std::snprintf(buf, sizeof buf, "%.*f",
                      static_cast<int>(std::max<std::int64_t>(precision, 0)), x);
        return JVal(std::strtod(buf, nullptr));
    }
    double scale = std::pow(10.0, static_cast<double>(precision));
    if (method == "ceil") {
        return JVal(std::ceil(x * scale) / scale);
    }
    if (method == "floor") {
        return JVal(std::floor(x * scale) / scale);
    }
    in.fail("round method must be 'common', 'ceil' or 'floor'");
}

JVal f_int(Interpreter&, const JVal& v, CallArgs& args) {
    const JVal* def = arg(args, 0, "default");
    JVal fallback = def != nullptr ? *def : JVal(0);
    if (v.is_int() || v.is_bool()) {
        return JVal(v.int_value());
    }
    if (v.is_float()) {
        double d = std::trunc(v.as_float());
        return std::isfinite(d) && std::fabs(d) < 9.2e18 ? JVal(static_cast<std::int64_t>(d))
                                                         : fallback;
    }
    if (v.is_string()) {
        std::string s = py::strip(v.str(), true, true);
        char* end = nullptr;
        long long n = std::strtoll(s.c_str(), &end, 10);
        if (!s.empty() && end == s.c_str() + s.size()) {
            return JVal(static_cast<std::int64_t>(n));
        }
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d)) {
            return JVal(static_cast<std::int64_t>(std::trunc(d)));
        }
    }
    return fallback;
}

JVal f_float(Interpreter&, const JVal& v, CallArgs& args) {
    const JVal* def = arg(args, 0, "default");
    JVal fallback = def != nullptr ? *def : JVal(0.0);
    if (v.is_number()) {
        return JVal(v.number_value());
    }
    if (v.is_string()) {
        std::string s = py::strip(v.str(), true, true);
        char* end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end == s.c_str() + s.size()) {
            return JVal(d);
        }
    }
    return fallback;
}

JVal f_first_last(Interpreter& in, const JVal& v, bool first) {
    if (v.is_string()) {
        auto offs = py::code_point_offsets(v.str());
        if (offs.size() < 2) {
            return JVal::undefined("first/last of an empty string");
        }
        std::size_t k = first ? 0 : offs.size() - 2;
        return JVal(v.str().substr(offs[k], offs[k + 1] - offs[k]));
    }
    std::vector<JVal> items = iterate(in, v);
    if (items.empty()) {
        return JVal::undefined("first/last of an empty sequence");
    }
    return first ? items.front() : items.back();
}

JVal f_escape(Interpreter&, const JVal& v, CallArgs&) {
    std::string out;
    for (char c : to_str(v)) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&#34;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out.push_back(c);
        }
    }
    return JVal(std::move(out));
}

JVal f_sum(Interpreter& in, const JVal& v, CallArgs& args) {
    const JVal* attr = arg(args, 0, "attribute");
    const JVal* start = arg(args, 1, "start");
    JVal total = start != nullptr ? *start : JVal(0);
    for (const auto& item : iterate(in, v)) {
        JVal x = attr != nullptr ? get_path(in, item, to_str(*attr)) : item;
        if (!x.is_number() || !total.is_number()) {
            in.fail("sum needs numbers");
        }
        if (x.is_float() || total.is_float()) {
            total = JVal(total.number_value() + x.number_value());
        } else {
            std::int64_t r = 0;
            if (__builtin_add_overflow(total.int_value(), x.int_value(), &r)) {
                in.fail("integer overflow");
            }
            total = JVal(r);
        }
    }
    return total;
}

const std::unordered_map<std::string_view, FilterFn>& filters() {
    static const std::unordered_map<std::string_view, FilterFn> table = {
        {"abs",
         [](Interpreter& in, const JVal& v, CallArgs&) -> JVal {
             if (v.is_float()) {
                 return JVal(std::fabs(v.as_float()));
             }
             if (v.is_int() || v.is_bool()) {
                 std::int64_t i = v.int_value();
                 return JVal(i < 0 ? -i : i);
             }
             in.fail("abs needs a number");
         }},
        {"attr", [](Interpreter& in, const JVal& v,
                    CallArgs& a) { return in.attribute(v, str_arg(in, a, 0, "name", "")); }},
        {"capitalize",
         [](Interpreter&, const JVal& v, CallArgs&) { return JVal(py::capitalize(to_str(v))); }},
        {"center",
         [](Interpreter& in, const JVal& v, CallArgs& a) {
             std::string s = to_str(v);
             const JVal* w = arg(a, 0, "width");
             auto width = static_cast<std::size_t>(
                 std::clamp<std::int64_t>(w ? to_int(in, *w, "width") : 80, 0, 4096));
             std::size_t len = utf8::length(s);
             if (len >= width) {
                 return JVal(s);
             }
             std::size_t total = width - len;
             std::size_t left = total / 2 + (total & width & 1);
             return JVal(std::string(left, ' ') + s + std::string(total - left, ' '));
         }},
        {"count", f_length},
        {"d", f_default},
        {"default", f_default},
        {"dictsort", f_dictsort},
        {"e", f_escape},
        {"escape", f_escape},
        {"first",
         [](Interpreter& in, const JVal& v, CallArgs&) { return f_first_last(in, v, true); }},
        {"float", f_float},
        {"forceescape", f_escape},
        {"format", f_format},
        {"indent", f_indent},
        {"int", f_int},
        {"items", f_items},
        {"join", f_join},
        {"last",
         [](Interpreter& in, const JVal& v, CallArgs&) { return f_first_last(in, v, false); }},
        {"length", f_length},
        {"list",
         [](Interpreter& in, const JVal& v, CallArgs&) { return JVal(make_list(iterate(in, v))); }},
        {"lower",
         [](Interpreter&, const JVal& v, CallArgs&) { return JVal(py::lower(to_str(v))); }},
        {"map", f_map},
        {"max",
         [](Interpreter& in, const JVal& v, CallArgs& a) { return f_minmax(in, v, a, true); }},
        {"min",
         [](Interpreter& in, const JVal& v, CallArgs& a) { return f_minmax(in, v, a, false); }},
        {"reject", [](Interpreter& in, const JVal& v,
                      CallArgs& a) { return f_select(in, v, a, false, false); }},
        {"rejectattr", [](Interpreter& in, const JVal& v,
                          CallArgs& a) { return f_select(in, v, a, true, false); }},
        {"replace",
         [](Interpreter& in, const JVal& v, CallArgs& a) {
             const JVal* count = arg(a, 2, "count");
             auto r =
                 py::replace(to_str(v), str_arg(in, a, 0, "old", ""), str_arg(in, a, 1, "new", ""),
                             count && !count->is_none() ? to_int(in, *count, "count") : -1,
                             in.limits().max_output_bytes);
             if (!r) {
                 in.fail("replace result too large");
             }
             return JVal(std::move(*r));
         }},
        {"reverse",
         [](Interpreter& in, const JVal& v, CallArgs&) {
             if (v.is_string()) {
                 return JVal(py::slice(v.str(), std::nullopt, std::nullopt, -1));
             }
             std::vector<JVal> items = iterate(in, v);
             std::reverse(items.begin(), items.end());
             return JVal(make_list(std::move(items)));
         }},
        {"round", f_round},
        {"safe", [](Interpreter&, const JVal& v, CallArgs&) { return JVal(to_str(v)); }},
        {"select", [](Interpreter& in, const JVal& v,
                      CallArgs& a) { return f_select(in, v, a, false, true); }},
        {"selectattr", [](Interpreter& in, const JVal& v,
                          CallArgs& a) { return f_select(in, v, a, true, true); }},
        {"sort", f_sort},
        {"string", [](Interpreter&, const JVal& v, CallArgs&) { return JVal(to_str(v)); }},
        {"sum", f_sum},
        {"title",
         [](Interpreter&, const JVal& v, CallArgs&) { return JVal(py::title(to_str(v))); }},
        {"tojson", f_tojson},
        {"trim",
         [](Interpreter& in, const JVal& v, CallArgs& a) {
             const JVal* chars = arg(a, 0, "chars");
             if (chars != nullptr && !chars->is_none()) {
                 return JVal(py::strip(to_str(v), true, true, str_arg(in, a, 0, "chars", "")));
             }
             return JVal(py::strip(to_str(v), true, true));
         }},
        {"unique", f_unique},
        {"upper",
         [](Interpreter&, const JVal& v, CallArgs&) { return JVal(py::upper(to_str(v))); }},
        {"wordcount",
         [](Interpreter&, const JVal& v, CallArgs&) {
             return JVal(static_cast<std::int64_t>(py::split_whitespace(to_str(v), -1).size()));
         }},
    };
    return table;
}

} // namespace

bool has_filter(std::string_view name) {
    return filters().count(name) > 0;
}

JVal call_filter(Interpreter& in, std::string_view name, const JVal& input, CallArgs& args) {
    auto it = filters().find(name);
    if (it == filters().end()) {
        in.fail("unsupported filter '" + std::string(name) + "'");
    }
    return it->second(in, input, args);
}

} // namespace agentd::inference::jinja
