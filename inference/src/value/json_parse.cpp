// Strict, bounded JSON parser producing Value (see value_json.h for the contract).

#include "agentd/inference/errc.h"
#include "agentd/inference/value_json.h"

#include "value/utf8.h"

#include <charconv>
#include <cmath>
#include <string>

namespace agentd::inference {
namespace {

class Parser {
public:
    Parser(std::string_view text, const JsonParseLimits& limits) : s_(text), limits_(limits) {}

    base::Result<Value> parse_value(std::size_t depth) {
        skip_ws();
        if (pos_ >= s_.size()) {
            return error("unexpected end of input");
        }
        char c = s_[pos_];
        switch (c) {
        case '{':
            return parse_object(depth);
        case '[':
            return parse_array(depth);
        case '"': {
            auto str = parse_string();
            if (!str) {
                return str.error();
            }
            return Value(std::move(*str));
        }
        case 't':
            return literal("true", Value(true));
        case 'f':
            return literal("false", Value(false));
        case 'n':
            return literal("null", Value());
        default:
            if (c == '-' || (c >= '0' && c <= '9')) {
                return parse_number();
            }
            return error(std::string("unexpected character '") + printable(c) + "'");
        }
    }

    void skip_ws() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
            ++pos_;
        }
    }

    [[nodiscard]] std::size_t pos() const { return pos_; }

    base::Error error(const std::string& why) const {
        return base::Error(errc::invalid_json,
                           "invalid JSON at byte " + std::to_string(pos_) + ": " + why);
    }

private:
    static std::string printable(char c) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F) {
            return std::string(1, c);
        }
        static const char* hex = "0123456789abcdef";
        return std::string("\\x") + hex[u >> 4] + hex[u & 15];
    }

    base::Result<Value> literal(std::string_view word, Value v) {
        if (s_.substr(pos_, word.size()) != word) {
            return error("invalid literal");
        }
        pos_ += word.size();
        return v;
    }

    bool count_element() { return ++elements_ <= limits_.max_elements; }

    base::Result<Value> parse_array(std::size_t depth) {
        if (depth >= limits_.max_depth) {
            return error("nesting deeper than " + std::to_string(limits_.max_depth));
        }
        ++pos_; // '['
        Array out;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            return Value(std::move(out));
        }
        while (true) {
            if (!count_element()) {
                return error("more than " + std::to_string(limits_.max_elements) + " elements");
            }
            auto v = parse_value(depth + 1);
            if (!v) {
                return v.error();
            }
            out.push_back(std::move(*v));
            skip_ws();
            if (pos_ >= s_.size()) {
                return error("unterminated array");
            }
            if (s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (s_[pos_] == ']') {
                ++pos_;
                return Value(std::move(out));
            }
            return error("expected ',' or ']' in array");
        }
    }

    base::Result<Value> parse_object(std::size_t depth) {
        if (depth >= limits_.max_depth) {
            return error("nesting deeper than " + std::to_string(limits_.max_depth));
        }
        ++pos_; // '{'
        Object out;
        skip_ws();
        if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            return Value(std::move(out));
        }
        while (true) {
            if (!count_element()) {
                return error("more than " + std::to_string(limits_.max_elements) + " elements");
            }
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != '"') {
                return error("expected a string key in object");
            }
            auto key = parse_string();
            if (!key) {
                return key.error();
            }
            skip_ws();
            if (pos_ >= s_.size() || s_[pos_] != ':') {
                return error("expected ':' after object key");
            }
            ++pos_;
            auto v = parse_value(depth + 1);
            if (!v) {
                return v.error();
            }
            out.set(std::move(*key), std::move(*v));
            skip_ws();
            if (pos_ >= s_.size()) {
                return error("unterminated object");
            }
            if (s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (s_[pos_] == '}') {
                ++pos_;
                return Value(std::move(out));
            }
            return error("expected ',' or '}' in object");
        }
    }

    base::Result<unsigned> hex4() {
        if (pos_ + 4 > s_.size()) {
            return error("truncated \\u escape");
        }
        unsigned v = 0;
        for (int k = 0; k < 4; ++k) {
            char c = s_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') {
                v |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                v |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                return error("invalid hex digit in \\u escape");
            }
        }
        return v;
    }

    base::Result<char32_t> unicode_escape() {
        auto hi = hex4();
        if (!hi) {
            return hi.error();
        }
        if (*hi >= 0xD800 && *hi <= 0xDBFF) {
            if (pos_ + 6 <= s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
                std::size_t save = pos_;
                pos_ += 2;
                auto lo = hex4();
                if (!lo) {
                    return lo.error();
                }
                if (*lo >= 0xDC00 && *lo <= 0xDFFF) {
                    return static_cast<char32_t>(0x10000 + ((*hi - 0xD800) << 10) + (*lo - 0xDC00));
                }
                pos_ = save; // not a pair: the high surrogate stands alone
            }
            return utf8::kReplacement;
        }
        if (*hi >= 0xDC00 && *hi <= 0xDFFF) {
            return utf8::kReplacement;
        }
        return static_cast<char32_t>(*hi);
    }

    base::Result<std::string> parse_string() {
        ++pos_; // opening quote
        std::string out;
        while (true) {
            std::size_t run = pos_;
            while (pos_ < s_.size()) {
                auto c = static_cast<unsigned char>(s_[pos_]);
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
                    break;
                }
                ++pos_;
            }
            out.append(s_.substr(run, pos_ - run));
            if (out.size() > limits_.max_string_bytes) {
                return error("string longer than " + std::to_string(limits_.max_string_bytes));
            }
            if (pos_ >= s_.size()) {
                return error("unterminated string");
            }
            auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (c < 0x20) {
                return error("control character in string");
            }
            if (c >= 0x80) {
                if (!utf8::valid_at(s_, pos_)) {
                    return error("invalid UTF-8 in string");
                }
                std::size_t start = pos_;
                utf8::decode(s_, pos_);
                out.append(s_.substr(start, pos_ - start));
                continue;
            }
            // backslash
            if (pos_ + 1 >= s_.size()) {
                return error("truncated escape");
            }
            char e = s_[pos_ + 1];
            pos_ += 2;
            switch (e) {
            case '"':
                out.push_back('"');
                break;
            case '\\':
                out.push_back('\\');
                break;
            case '/':
                out.push_back('/');
                break;
            case 'b':
                out.push_back('\b');
                break;
            case 'f':
                out.push_back('\f');
                break;
            case 'n':
                out.push_back('\n');
                break;
            case 'r':
                out.push_back('\r');
                break;
            case 't':
                out.push_back('\t');
                break;
            case 'u': {
                auto cp = unicode_escape();
                if (!cp) {
                    return cp.error();
                }
                utf8::append(out, *cp);
                break;
            }
            default:
                pos_ -= 1;
                return error("invalid escape");
            }
        }
    }

    base::Result<Value> parse_number() {
        std::size_t start = pos_;
        if (s_[pos_] == '-') {
            ++pos_;
        }
        if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
            return error("invalid number");
        }
        if (s_[pos_] == '0') {
            ++pos_;
        } else {
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
                ++pos_;
            }
        }
        bool is_float = false;
        if (pos_ < s_.size() && s_[pos_] == '.') {
            is_float = true;
            ++pos_;
            if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
                return error("digit expected after '.'");
            }
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
                ++pos_;
            }
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            is_float = true;
            ++pos_;
            if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
                ++pos_;
            }
            if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
                return error("digit expected in exponent");
            }
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
                ++pos_;
            }
        }
        std::string_view text = s_.substr(start, pos_ - start);
        if (!is_float) {
            std::int64_t v = 0;
            auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec == std::errc() && ptr == text.data() + text.size()) {
                return Value(v);
            }
            // Out of int64 range: fall through to a double.
        }
        double d = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
        if (ec == std::errc::result_out_of_range) {
            // Underflow rounds to zero as in Python; overflow is an error (JSON has no inf).
            if (text.find("e-") != std::string_view::npos ||
                text.find("E-") != std::string_view::npos) {
                return Value(text[0] == '-' ? -0.0 : 0.0);
            }
            return error("number out of range");
        }
        if (ec != std::errc() || ptr != text.data() + text.size()) {
            return error("invalid number");
        }
        return Value(d);
    }

    std::string_view s_;
    const JsonParseLimits& limits_;
    std::size_t pos_ = 0;
    std::size_t elements_ = 0;
};

} // namespace

base::Result<Value> parse_json(std::string_view text, const JsonParseLimits& limits) {
    auto prefix = parse_json_prefix(text, limits);
    if (!prefix) {
        return prefix.error();
    }
    std::size_t i = prefix->consumed;
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
        ++i;
    }
    if (i != text.size()) {
        return base::Error(errc::invalid_json, "invalid JSON at byte " + std::to_string(i) +
                                                   ": unexpected text after the value");
    }
    return std::move(prefix->value);
}

base::Result<JsonPrefix> parse_json_prefix(std::string_view text, const JsonParseLimits& limits) {
    if (text.size() > limits.max_bytes) {
        return base::Error(errc::invalid_json,
                           "JSON text larger than " + std::to_string(limits.max_bytes) + " bytes");
    }
    Parser p(text, limits);
    try {
        auto v = p.parse_value(0);
        if (!v) {
            return v.error();
        }
        return JsonPrefix{std::move(*v), p.pos()};
    } catch (const std::bad_alloc&) {
        return base::Error(errc::invalid_json, "JSON value too large for memory");
    }
}

} // namespace agentd::inference
