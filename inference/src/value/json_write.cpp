// JSON writer reproducing Python's json.dumps formatting (see value_json.h).

#include "agentd/inference/value_json.h"

#include "value/utf8.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace agentd::inference {
namespace {

const char kHex[] = "0123456789abcdef";

void append_u_escape(std::string& out, unsigned v) {
    out += "\\u";
    out.push_back(kHex[(v >> 12) & 15]);
    out.push_back(kHex[(v >> 8) & 15]);
    out.push_back(kHex[(v >> 4) & 15]);
    out.push_back(kHex[v & 15]);
}

void newline_indent(std::string& out, const JsonWriteOptions& o, int level) {
    out.push_back('\n');
    out.append(static_cast<std::size_t>(o.indent) * static_cast<std::size_t>(level), ' ');
}

void write(std::string& out, const Value& v, const JsonWriteOptions& o, int level) {
    switch (v.kind()) {
    case Value::Kind::null:
        out += "null";
        return;
    case Value::Kind::boolean:
        out += v.as_bool() ? "true" : "false";
        return;
    case Value::Kind::integer: {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, v.as_int());
        out.append(buf, r.ptr);
        return;
    }
    case Value::Kind::number: {
        double d = v.as_double();
        if (!std::isfinite(d) && !o.allow_nan) {
            out += "null";
        } else {
            out += python_float_repr(d, true);
        }
        return;
    }
    case Value::Kind::string:
        append_json_string(out, v.as_string(), o.ensure_ascii);
        return;
    case Value::Kind::array: {
        const Array& a = v.as_array();
        if (a.empty()) {
            out += "[]";
            return;
        }
        out.push_back('[');
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (i > 0) {
                out += o.item_separator;
            }
            if (o.indent >= 0) {
                newline_indent(out, o, level + 1);
            }
            write(out, a[i], o, level + 1);
        }
        if (o.indent >= 0) {
            newline_indent(out, o, level);
        }
        out.push_back(']');
        return;
    }
    case Value::Kind::object: {
        const Object& obj = v.as_object();
        if (obj.empty()) {
            out += "{}";
            return;
        }
        std::vector<const Object::Entry*> entries;
        entries.reserve(obj.size());
        for (const auto& e : obj) {
            entries.push_back(&e);
        }
        if (o.sort_keys) {
            std::stable_sort(entries.begin(), entries.end(),
                             [](const auto* a, const auto* b) { return a->first < b->first; });
        }
        out.push_back('{');
        for (std::size_t i = 0; i < entries.size(); ++i) {
            if (i > 0) {
                out += o.item_separator;
            }
            if (o.indent >= 0) {
                newline_indent(out, o, level + 1);
            }
            append_json_string(out, entries[i]->first, o.ensure_ascii);
            out += o.key_separator;
            write(out, entries[i]->second, o, level + 1);
        }
        if (o.indent >= 0) {
            newline_indent(out, o, level);
        }
        out.push_back('}');
        return;
    }
    }
}

} // namespace

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
    out.push_back('"');
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            std::size_t run = i;
            while (i < s.size()) {
                auto d = static_cast<unsigned char>(s[i]);
                if (d < 0x20 || d >= 0x7F || d == '"' || d == '\\') {
                    break;
                }
                ++i;
            }
            out.append(s.substr(run, i - run));
            continue;
        }
        switch (c) {
        case '"':
            out += "\\\"";
            ++i;
            continue;
        case '\\':
            out += "\\\\";
            ++i;
            continue;
        case '\n':
            out += "\\n";
            ++i;
            continue;
        case '\r':
            out += "\\r";
            ++i;
            continue;
        case '\t':
            out += "\\t";
            ++i;
            continue;
        case '\b':
            out += "\\b";
            ++i;
            continue;
        case '\f':
            out += "\\f";
            ++i;
            continue;
        default:
            break;
        }
        if (c < 0x20) {
            append_u_escape(out, c);
            ++i;
            continue;
        }
        if (c == 0x7F) {
            if (ensure_ascii) {
                append_u_escape(out, c);
            } else {
                out.push_back(static_cast<char>(c));
            }
            ++i;
            continue;
        }
        // Non-ASCII: copy valid sequences (or escape them); replace invalid bytes.
        std::size_t start = i;
        bool valid = utf8::valid_at(s, i);
        char32_t cp = utf8::decode(s, i);
        if (ensure_ascii) {
            if (cp >= 0x10000) {
                char32_t v = cp - 0x10000;
                append_u_escape(out, 0xD800 + static_cast<unsigned>(v >> 10));
                append_u_escape(out, 0xDC00 + static_cast<unsigned>(v & 0x3FF));
            } else {
                append_u_escape(out, static_cast<unsigned>(cp));
            }
        } else if (valid) {
            out.append(s.substr(start, i - start));
        } else {
            utf8::append(out, utf8::kReplacement);
        }
    }
    out.push_back('"');
}

std::string python_float_repr(double d, bool as_json) {
    if (std::isnan(d)) {
        return as_json ? "NaN" : "nan";
    }
    if (std::isinf(d)) {
        if (as_json) {
            return d < 0 ? "-Infinity" : "Infinity";
        }
        return d < 0 ? "-inf" : "inf";
    }
    // Shortest round-trip digits in scientific form: [-]d[.ddd]e[+-]x
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
    bool neg = !sci.empty() && sci[0] == '-';
    if (neg) {
        sci.remove_prefix(1);
    }
    auto epos = sci.find('e');
    std::string_view mant = sci.substr(0, epos);
    int exp = 0;
    std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                    exp);
    std::string digits;
    for (char c : mant) {
        if (c != '.') {
            digits.push_back(c);
        }
    }
    std::string out = neg ? "-" : "";
    int ndigits = static_cast<int>(digits.size());
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out += "0.";
            out.append(static_cast<std::size_t>(-exp - 1), '0');
            out += digits;
        } else if (exp + 1 >= ndigits) {
            out += digits;
            out.append(static_cast<std::size_t>(exp + 1 - ndigits), '0');
            out += ".0";
        } else {
            out += digits.substr(0, static_cast<std::size_t>(exp + 1));
            out += '.';
            out += digits.substr(static_cast<std::size_t>(exp + 1));
        }
        return out;
    }
    out += digits[0];
    if (ndigits > 1) {
        out += '.';
        out += digits.substr(1);
    }
    out += 'e';
    out += exp < 0 ? '-' : '+';
    int aexp = exp < 0 ? -exp : exp;
    if (aexp < 10) {
        out += '0';
    }
    out += std::to_string(aexp);
    return out;
}

std::string to_json(const Value& v, const JsonWriteOptions& options) {
    std::string out;
    append_json(out, v, options);
    return out;
}

void append_json(std::string& out, const Value& v, const JsonWriteOptions& options) {
    write(out, v, options, 0);
}

} // namespace agentd::inference
