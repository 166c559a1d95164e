#include "template/jvalue.h"

#include "agentd/inference/value_json.h"

#include "value/utf8.h"

#include <algorithm>

namespace agentd::inference::jinja {

const JVal* JDict::find(std::string_view key) const {
    for (const auto& [k, v] : items) {
        if (k == key) {
            return &v;
        }
    }
    return nullptr;
}

JVal* JDict::find(std::string_view key) {
    for (auto& [k, v] : items) {
        if (k == key) {
            return &v;
        }
    }
    return nullptr;
}

void JDict::set(std::string key, JVal value) {
    if (JVal* existing = find(key)) {
        *existing = std::move(value);
        return;
    }
    items.emplace_back(std::move(key), std::move(value));
}

bool JDict::erase(std::string_view key) {
    for (auto it = items.begin(); it != items.end(); ++it) {
        if (it->first == key) {
            items.erase(it);
            return true;
        }
    }
    return false;
}

JVal to_jval(const Value& v) {
    switch (v.kind()) {
    case Value::Kind::null:
        return JVal::none();
    case Value::Kind::boolean:
        return JVal(v.as_bool());
    case Value::Kind::integer:
        return JVal(v.as_int());
    case Value::Kind::number:
        return JVal(v.as_double());
    case Value::Kind::string:
        return JVal(v.as_string());
    case Value::Kind::array: {
        auto l = make_list();
        l->items.reserve(v.as_array().size());
        for (const auto& e : v.as_array()) {
            l->items.push_back(to_jval(e));
        }
        return JVal(std::move(l));
    }
    case Value::Kind::object: {
        auto d = make_dict();
        d->items.reserve(v.as_object().size());
        for (const auto& [k, e] : v.as_object()) {
            d->items.emplace_back(k, to_jval(e)); // keys are unique in a Value object
        }
        return JVal(std::move(d));
    }
    }
    return JVal::none();
}

bool from_jval(const JVal& v, Value& out) {
    if (v.is_none()) {
        out = Value();
    } else if (v.is_bool()) {
        out = Value(v.as_bool());
    } else if (v.is_int()) {
        out = Value(v.as_int());
    } else if (v.is_float()) {
        out = Value(v.as_float());
    } else if (v.is_string()) {
        out = Value(v.str());
    } else if (v.is_list()) {
        Array a;
        a.reserve(v.list()->items.size());
        for (const auto& e : v.list()->items) {
            Value ev;
            if (!from_jval(e, ev)) {
                return false;
            }
            a.push_back(std::move(ev));
        }
        out = Value(std::move(a));
    } else if (v.is_dict()) {
        Object o;
        for (const auto& [k, e] : v.dict()->items) {
            Value ev;
            if (!from_jval(e, ev)) {
                return false;
            }
            o.set(k, std::move(ev));
        }
        out = Value(std::move(o));
    } else {
        return false;
    }
    return true;
}

const char* type_name(const JVal& v) {
    if (v.is_undefined()) {
        return "undefined";
    }
    if (v.is_none()) {
        return "NoneType";
    }
    if (v.is_bool()) {
        return "bool";
    }
    if (v.is_int()) {
        return "int";
    }
    if (v.is_float()) {
        return "float";
    }
    if (v.is_string()) {
        return "str";
    }
    if (v.is_list()) {
        return v.list()->is_tuple ? "tuple" : "list";
    }
    if (v.is_dict()) {
        return v.dict()->is_namespace ? "Namespace" : "dict";
    }
    return "function";
}

bool truthy(const JVal& v) {
    if (v.is_undefined() || v.is_none()) {
        return false;
    }
    if (v.is_bool()) {
        return v.as_bool();
    }
    if (v.is_int()) {
        return v.as_int() != 0;
    }
    if (v.is_float()) {
        return v.as_float() != 0.0;
    }
    if (v.is_string()) {
        return !v.str().empty();
    }
    if (v.is_list()) {
        return !v.list()->items.empty();
    }
    if (v.is_dict()) {
        // A Namespace object is always truthy in Python (it defines no __len__).
        return v.dict()->is_namespace || !v.dict()->items.empty();
    }
    return true;
}

namespace {

// Python's str.isprintable() for one code point: false for control, format, separator (except
// the ASCII space), private-use and non-character code points. The format-character list
// covers the Cf code points in current Unicode.
bool python_printable(char32_t c) {
    if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) {
        return false;
    }
    if (c < 0x0600) {
        return true;
    }
    if ((c >= 0x0600 && c <= 0x0605) || c == 0x061C || c == 0x06DD || c == 0x070F || c == 0x0890 ||
        c == 0x0891 || c == 0x08E2 || c == 0x1680 || c == 0x180E || (c >= 0x2000 && c <= 0x200F) ||
        (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x2064) ||
        (c >= 0x2066 && c <= 0x206F) || c == 0x3000 || (c >= 0xD800 && c <= 0xF8FF) ||
        (c >= 0xFDD0 && c <= 0xFDEF) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) ||
        c == 0x110BD || c == 0x110CD || (c >= 0x13430 && c <= 0x1343F) ||
        (c >= 0x1BCA0 && c <= 0x1BCA3) || (c >= 0x1D173 && c <= 0x1D17A) || c == 0xE0001 ||
        (c >= 0xE0020 && c <= 0xE007F) || c >= 0xF0000) {
        return false;
    }
    return (c & 0xFFFE) != 0xFFFE;
}

void append_hex(std::string& out, const char* prefix, unsigned long v, int digits) {
    static const char* hex = "0123456789abcdef";
    out += prefix;
    for (int i = digits - 1; i >= 0; --i) {
        out.push_back(hex[(v >> (4 * i)) & 15]);
    }
}

void append_string_repr(std::string& out, const std::string& s) {
    bool has_single = s.find('\'') != std::string::npos;
    bool has_double = s.find('"') != std::string::npos;
    char quote = (has_single && !has_double) ? '"' : '\'';
    out.push_back(quote);
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t start = i;
        char32_t c = utf8::decode(s, i);
        if (c == static_cast<char32_t>(quote) || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (python_printable(c)) {
            out.append(s, start, i - start);
        } else if (c <= 0xFF) {
            append_hex(out, "\\x", c, 2);
        } else if (c <= 0xFFFF) {
            append_hex(out, "\\u", c, 4);
        } else {
            append_hex(out, "\\U", c, 8);
        }
    }
    out.push_back(quote);
}

void append_scalar_str(std::string& out, const JVal& v) {
    if (v.is_none()) {
        out += "None";
    } else if (v.is_bool()) {
        out += v.as_bool() ? "True" : "False";
    } else if (v.is_int()) {
        out += std::to_string(v.as_int());
    } else if (v.is_float()) {
        out += python_float_repr(v.as_float());
    }
}

void append_container_repr(std::string& out, const JVal& v) {
    if (v.is_list()) {
        const JList& l = *v.list();
        out.push_back(l.is_tuple ? '(' : '[');
        for (std::size_t i = 0; i < l.items.size(); ++i) {
            if (i > 0) {
                out += ", ";
            }
            append_repr(out, l.items[i]);
        }
        if (l.is_tuple && l.items.size() == 1) {
            out.push_back(',');
        }
        out.push_back(l.is_tuple ? ')' : ']');
        return;
    }
    const JDict& d = *v.dict();
    if (d.is_namespace) {
        out += "<Namespace ";
    }
    out.push_back('{');
    bool first = true;
    for (const auto& [k, e] : d.items) {
        if (!first) {
            out += ", ";
        }
        first = false;
        append_string_repr(out, k);
        out += ": ";
        append_repr(out, e);
    }
    out.push_back('}');
    if (d.is_namespace) {
        out.push_back('>');
    }
}

} // namespace

void append_str(std::string& out, const JVal& v) {
    if (v.is_undefined()) {
        return;
    }
    if (v.is_string()) {
        out += v.str();
    } else if (v.is_list() || v.is_dict()) {
        append_container_repr(out, v);
    } else if (v.is_callable()) {
        out += "<function " + v.callable()->name() + ">";
    } else {
        append_scalar_str(out, v);
    }
}

std::string to_str(const JVal& v) {
    std::string out;
    append_str(out, v);
    return out;
}

void append_repr(std::string& out, const JVal& v) {
    if (v.is_string()) {
        append_string_repr(out, v.str());
    } else if (v.is_undefined()) {
        out += "Undefined";
    } else {
        append_str(out, v);
    }
}

bool equals(const JVal& a, const JVal& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) {
            return a.number_value() == b.number_value();
        }
        return a.int_value() == b.int_value();
    }
    if (a.is_undefined() || b.is_undefined()) {
        return a.is_undefined() && b.is_undefined();
    }
    if (a.is_none() || b.is_none()) {
        return a.is_none() && b.is_none();
    }
    if (a.is_string() && b.is_string()) {
        return a.str() == b.str();
    }
    if (a.is_list() && b.is_list()) {
        const auto& x = a.list()->items;
        const auto& y = b.list()->items;
        if (a.list()->is_tuple != b.list()->is_tuple || x.size() != y.size()) {
            return false;
        }
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (!equals(x[i], y[i])) {
                return false;
            }
        }
        return true;
    }
    if (a.is_dict() && b.is_dict()) {
        if (a.dict() == b.dict()) {
            return true;
        }
        if (a.dict()->is_namespace || b.dict()->is_namespace) {
            return false; // identity comparison for Namespace objects
        }
        const auto& x = a.dict()->items;
        if (x.size() != b.dict()->items.size()) {
            return false;
        }
        for (const auto& [k, v] : x) {
            const JVal* other = b.dict()->find(k);
            if (other == nullptr || !equals(v, *other)) {
                return false;
            }
        }
        return true;
    }
    if (a.is_callable() && b.is_callable()) {
        return a.callable() == b.callable();
    }
    return false;
}

bool less(const JVal& a, const JVal& b, bool& ok) {
    ok = true;
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) {
            return a.number_value() < b.number_value();
        }
        return a.int_value() < b.int_value();
    }
    if (a.is_string() && b.is_string()) {
        return a.str() < b.str(); // UTF-8 byte order is code point order
    }
    if (a.is_list() && b.is_list()) {
        const auto& x = a.list()->items;
        const auto& y = b.list()->items;
        for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (equals(x[i], y[i])) {
                continue;
            }
            return less(x[i], y[i], ok);
        }
        return x.size() < y.size();
    }
    ok = false;
    return false;
}

} // namespace agentd::inference::jinja
