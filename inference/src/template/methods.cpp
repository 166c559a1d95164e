// Python methods of str, list and dict that chat templates call (`content.strip()`,
// `tool.items()`, `messages.append(...)`, ...). A method access yields a bound method value.

#include "template/interpreter.h"
#include "template/pystr.h"
#include "value/utf8.h"

#include <algorithm>
#include <array>

namespace agentd::inference::jinja {
namespace {

std::string str_param(Interpreter& in, CallArgs& args, std::size_t i, const char* what) {
    if (i >= args.positional.size() || !args.positional[i].is_string()) {
        in.fail(std::string(what) + " must be a string");
    }
    return args.positional[i].str();
}

std::optional<std::string> opt_chars(Interpreter& in, CallArgs& args) {
    if (args.positional.empty() || args.positional[0].is_none()) {
        return std::nullopt;
    }
    return str_param(in, args, 0, "strip argument");
}

std::int64_t maxsplit_param(Interpreter& in, CallArgs& args) {
    const JVal* m = arg(args, 1, "maxsplit");
    return m != nullptr ? to_int(in, *m, "maxsplit") : -1;
}

JVal string_list(std::vector<std::string> parts) {
    auto l = make_list();
    l->items.reserve(parts.size());
    for (auto& p : parts) {
        l->items.emplace_back(std::move(p));
    }
    return JVal(l);
}

// startswith/endswith accept a string or a tuple of strings.
bool affix(Interpreter& in, const std::string& s, CallArgs& args, bool prefix) {
    if (args.positional.empty()) {
        in.fail("startswith/endswith need an argument");
    }
    std::vector<JVal> options;
    if (args.positional[0].is_list()) {
        options = args.positional[0].list()->items;
    } else {
        options.push_back(args.positional[0]);
    }
    for (const auto& o : options) {
        if (!o.is_string()) {
            in.fail("startswith/endswith arguments must be strings");
        }
        const std::string& a = o.str();
        if (a.size() <= s.size() && (prefix ? s.compare(0, a.size(), a) == 0
                                            : s.compare(s.size() - a.size(), a.size(), a) == 0)) {
            return true;
        }
    }
    return false;
}

// str.format with {} / {0} / {name} fields (no format specs or attribute access).
JVal str_format(Interpreter& in, const std::string& fmt, CallArgs& args) {
    std::string out;
    std::size_t auto_index = 0;
    for (std::size_t i = 0; i < fmt.size(); ++i) {
        char c = fmt[i];
        if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out.push_back('{');
            ++i;
            continue;
        }
        if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
            out.push_back('}');
            ++i;
            continue;
        }
        if (c != '{') {
            out.push_back(c);
            continue;
        }
        auto close = fmt.find('}', i);
        if (close == std::string::npos) {
            in.fail("single '{' encountered in format string");
        }
        std::string field = fmt.substr(i + 1, close - i - 1);
        i = close;
        if (field.find_first_of(":!.[") != std::string::npos) {
            in.fail("unsupported construct: format field '{" + field + "}'");
        }
        const JVal* v = nullptr;
        if (field.empty()) {
            if (auto_index < args.positional.size()) {
                v = &args.positional[auto_index++];
            }
        } else if (std::all_of(field.begin(), field.end(),
                               [](char d) { return d >= '0' && d <= '9'; })) {
            std::size_t k = std::stoul(field);
            if (k < args.positional.size()) {
                v = &args.positional[k];
            }
        } else {
            v = kwarg(args, field);
        }
        if (v == nullptr) {
            in.fail("format field '{" + field + "}' has no argument");
        }
        append_str(out, *v);
        in.check_size(out.size());
    }
    return JVal(std::move(out));
}

JVal call_str_method(Interpreter& in, const std::string& s, const std::string& name,
                     CallArgs& args) {
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        return JVal(py::strip(s, name != "rstrip", name != "lstrip", opt_chars(in, args)));
    }
    if (name == "split" || name == "rsplit") {
        const JVal* sep = arg(args, 0, "sep");
        std::int64_t maxsplit = maxsplit_param(in, args);
        if (sep == nullptr || sep->is_none()) {
            if (name == "rsplit" && maxsplit >= 0) {
                in.fail("unsupported construct: rsplit() with maxsplit and no separator");
            }
            return string_list(py::split_whitespace(s, maxsplit));
        }
        if (!sep->is_string() || sep->str().empty()) {
            in.fail("empty or non-string separator");
        }
        return string_list(name == "split" ? py::split(s, sep->str(), maxsplit)
                                           : py::rsplit(s, sep->str(), maxsplit));
    }
    if (name == "splitlines") {
        std::vector<std::string> lines = py::split(s, "\n", -1);
        if (!lines.empty() && lines.back().empty()) {
            lines.pop_back();
        }
        return string_list(std::move(lines));
    }
    if (name == "startswith" || name == "endswith") {
        return JVal(affix(in, s, args, name == "startswith"));
    }
    if (name == "upper") {
        return JVal(py::upper(s));
    }
    if (name == "lower" || name == "casefold") {
        return JVal(py::lower(s));
    }
    if (name == "title") {
        return JVal(py::title(s));
    }
    if (name == "capitalize") {
        return JVal(py::capitalize(s));
    }
    if (name == "replace") {
        std::int64_t count =
            args.positional.size() > 2 ? to_int(in, args.positional[2], "count") : -1;
        auto r = py::replace(s, str_param(in, args, 0, "old"), str_param(in, args, 1, "new"), count,
                             in.limits().max_output_bytes);
        if (!r) {
            in.fail("replace result too large");
        }
        return JVal(std::move(*r));
    }
    if (name == "find" || name == "rfind" || name == "index" || name == "rindex" ||
        name == "count") {
        std::string sub = str_param(in, args, 0, "substring");
        if (name == "count") {
            std::int64_t n = 0;
            if (sub.empty()) {
                return JVal(static_cast<std::int64_t>(utf8::length(s) + 1));
            }
            for (std::size_t p = s.find(sub); p != std::string::npos;
                 p = s.find(sub, p + sub.size())) {
                ++n;
            }
            return JVal(n);
        }
        std::size_t p = (name == "find" || name == "index") ? s.find(sub) : s.rfind(sub);
        if (p == std::string::npos) {
            if (name == "index" || name == "rindex") {
                in.fail("substring not found");
            }
            return JVal(-1);
        }
        return JVal(static_cast<std::int64_t>(utf8::length(std::string_view(s).substr(0, p))));
    }
    if (name == "join") {
        std::string out;
        bool first = true;
        for (const auto& item :
             iterate(in, args.positional.empty() ? JVal() : args.positional[0])) {
            if (!item.is_string()) {
                in.fail("join() expects strings, found " + std::string(type_name(item)));
            }
            if (!first) {
                out += s;
            }
            first = false;
            out += item.str();
            in.check_size(out.size());
        }
        return JVal(std::move(out));
    }
    if (name == "format") {
        return str_format(in, s, args);
    }
    if (name == "removeprefix" || name == "removesuffix") {
        std::string a = str_param(in, args, 0, "affix");
        bool pre = name == "removeprefix";
        if (a.size() <= s.size() && (pre ? s.compare(0, a.size(), a) == 0
                                         : s.compare(s.size() - a.size(), a.size(), a) == 0)) {
            return JVal(pre ? s.substr(a.size()) : s.substr(0, s.size() - a.size()));
        }
        return JVal(s);
    }
    auto all_chars = [&](auto pred) {
        if (s.empty()) {
            return false;
        }
        std::size_t i = 0;
        while (i < s.size()) {
            if (!pred(utf8::decode(s, i))) {
                return false;
            }
        }
        return true;
    };
    if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") {
        return JVal(all_chars([](char32_t c) { return c >= '0' && c <= '9'; }));
    }
    if (name == "isalpha") {
        return JVal(all_chars([](char32_t c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0xC0;
        }));
    }
    if (name == "isalnum") {
        return JVal(all_chars([](char32_t c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c >= 0xC0;
        }));
    }
    if (name == "isspace") {
        return JVal(all_chars([](char32_t c) { return py::is_space(c); }));
    }
    if (name == "islower") {
        return JVal(py::is_lower(s));
    }
    if (name == "isupper") {
        return JVal(py::is_upper(s));
    }
    in.fail("unsupported string method '" + name + "'");
}

JVal call_list_method(Interpreter& in, JList& l, const std::string& name, CallArgs& args) {
    auto& items = l.items;
    if (name == "append") {
        if (args.positional.size() != 1) {
            in.fail("append() takes exactly one argument");
        }
        in.check_size((items.size() + 1) * sizeof(JVal));
        items.push_back(args.positional[0]);
        return JVal::none();
    }
    if (name == "extend") {
        for (auto& v : iterate(in, args.positional.empty() ? JVal() : args.positional[0])) {
            in.check_size((items.size() + 1) * sizeof(JVal));
            items.push_back(std::move(v));
        }
        return JVal::none();
    }
    if (name == "insert") {
        if (args.positional.size() != 2) {
            in.fail("insert() takes exactly two arguments");
        }
        auto n = static_cast<std::int64_t>(items.size());
        std::int64_t i = to_int(in, args.positional[0], "index");
        i = i < 0 ? std::max<std::int64_t>(0, i + n) : std::min(i, n);
        items.insert(items.begin() + i, args.positional[1]);
        return JVal::none();
    }
    if (name == "pop") {
        auto n = static_cast<std::int64_t>(items.size());
        std::int64_t i = args.positional.empty() ? -1 : to_int(in, args.positional[0], "index");
        if (i < 0) {
            i += n;
        }
        if (i < 0 || i >= n) {
            in.fail("pop index out of range");
        }
        JVal v = items[static_cast<std::size_t>(i)];
        items.erase(items.begin() + i);
        return v;
    }
    if (name == "index" || name == "count") {
        if (args.positional.empty()) {
            in.fail(name + "() needs an argument");
        }
        std::int64_t n = 0;
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (equals(items[i], args.positional[0])) {
                if (name == "index") {
                    return JVal(static_cast<std::int64_t>(i));
                }
                ++n;
            }
        }
        if (name == "index") {
            in.fail("value is not in list");
        }
        return JVal(n);
    }
    if (name == "copy") {
        return JVal(make_list(items, l.is_tuple));
    }
    in.fail("unsupported list method '" + name + "'");
}

JVal call_dict_method(Interpreter& in, JDict& d, const std::string& name, CallArgs& args) {
    if (name == "items" || name == "keys" || name == "values") {
        auto out = make_list();
        for (const auto& [k, v] : d.items) {
            if (name == "items") {
                out->items.emplace_back(make_list({JVal(k), v}, true));
            } else {
                out->items.push_back(name == "keys" ? JVal(k) : v);
            }
        }
        return JVal(out);
    }
    if (name == "get" || name == "pop" || name == "setdefault") {
        if (args.positional.empty()) {
            in.fail(name + "() needs a key");
        }
        const JVal& key = args.positional[0];
        const JVal* found = key.is_string() ? d.find(key.str()) : nullptr;
        JVal fallback = args.positional.size() > 1 ? args.positional[1] : JVal::none();
        if (found != nullptr) {
            JVal v = *found;
            if (name == "pop") {
                d.erase(key.str());
            }
            return v;
        }
        if (name == "pop" && args.positional.size() < 2) {
            in.fail("pop(): key not found");
        }
        if (name == "setdefault") {
            if (!key.is_string()) {
                in.fail("unsupported construct: non-string dict key");
            }
            d.set(key.str(), fallback);
        }
        return fallback;
    }
    if (name == "update") {
        for (const auto& p : args.positional) {
            if (!p.is_dict()) {
                in.fail("update() needs a mapping");
            }
            for (const auto& [k, v] : p.dict()->items) {
                d.set(k, v);
            }
        }
        for (const auto& [k, v] : args.keyword) {
            d.set(k, v);
        }
        return JVal::none();
    }
    if (name == "copy") {
        auto c = make_dict();
        c->items = d.items;
        return JVal(c);
    }
    in.fail("unsupported dict method '" + name + "'");
}

class BoundMethod final : public Callable {
public:
    BoundMethod(JVal self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}

    JVal call(Interpreter& in, CallArgs& args) override {
        if (self_.is_string()) {
            return call_str_method(in, self_.str(), name_, args);
        }
        if (self_.is_list()) {
            return call_list_method(in, *self_.list(), name_, args);
        }
        return call_dict_method(in, *self_.dict(), name_, args);
    }
    [[nodiscard]] std::string name() const override { return name_; }

private:
    JVal self_;
    std::string name_;
};

constexpr std::array kStrMethods = {
    "capitalize", "casefold", "count",     "endswith", "find",         "format",       "index",
    "isalnum",    "isalpha",  "isdecimal", "isdigit",  "islower",      "isnumeric",    "isspace",
    "isupper",    "join",     "lower",     "lstrip",   "removeprefix", "removesuffix", "replace",
    "rfind",      "rindex",   "rsplit",    "rstrip",   "split",        "splitlines",   "startswith",
    "strip",      "title",    "upper"};
constexpr std::array kListMethods = {"append", "copy", "count", "extend", "index", "insert", "pop"};
constexpr std::array kDictMethods = {"copy", "get",        "items",  "keys",
                                     "pop",  "setdefault", "update", "values"};

template <std::size_t N>
bool listed(const std::array<const char*, N>& names, std::string_view name) {
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

} // namespace

std::optional<JVal> find_method(const JVal& obj, std::string_view name) {
    bool ok = (obj.is_string() && listed(kStrMethods, name)) ||
              (obj.is_list() && listed(kListMethods, name)) ||
              (obj.is_dict() && !obj.dict()->is_namespace && listed(kDictMethods, name));
    if (!ok) {
        return std::nullopt;
    }
    return JVal(
        std::static_pointer_cast<Callable>(std::make_shared<BoundMethod>(obj, std::string(name))));
}

} // namespace agentd::inference::jinja
