#include "template/lexer.h"

#include "agentd/inference/errc.h"

#include "template/pystr.h"
#include "value/utf8.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace agentd::inference::jinja {
namespace {

// Python `\s` at byte `i` (ASCII and Unicode whitespace); returns the byte length matched or 0.
std::size_t space_len(std::string_view s, std::size_t i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
        return py::is_space(b) ? 1 : 0;
    }
    std::size_t j = i;
    char32_t c = utf8::decode(s, j);
    return py::is_space(c) ? j - i : 0;
}

std::size_t skip_spaces(std::string_view s, std::size_t i) {
    while (i < s.size()) {
        std::size_t n = space_len(s, i);
        if (n == 0) {
            break;
        }
        i += n;
    }
    return i;
}

bool is_name_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

bool is_name_char(unsigned char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

class Lexer {
public:
    explicit Lexer(std::string src) { out_.source = std::move(src); }

    base::Result<LexResult> run() {
        const std::string& s = out_.source;
        while (pos_ < s.size()) {
            auto r = root_step();
            if (!r) {
                return r.error();
            }
        }
        out_.tokens.push_back(Token{Tok::eof, "", s.size()});
        return std::move(out_);
    }

private:
    base::Error fail(std::size_t at, const std::string& what) const {
        return base::Error(errc::template_error, "template syntax error at " +
                                                     describe_position(out_.source, at) + ": " +
                                                     what);
    }

    void emit(Tok kind, std::string value, std::size_t at) {
        out_.tokens.push_back(Token{kind, std::move(value), at});
    }

    // Data before a tag, with Jinja's -, + and lstrip_blocks handling.
    void emit_data(std::string_view text, std::size_t at, char sign, bool is_variable) {
        std::string data(text);
        if (sign == '-') {
            data = py::strip(data, false, true);
        } else if (sign != '+' && !is_variable) {
            auto nl = data.rfind('\n');
            std::size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
            if (l_pos > 0 || line_starting_) {
                std::string_view tail(data);
                tail.remove_prefix(l_pos);
                if (!tail.empty() && skip_spaces(tail, 0) == tail.size()) {
                    data.resize(l_pos);
                }
            }
        }
        if (!data.empty()) {
            emit(Tok::data, std::move(data), at);
        }
    }

    base::Result<bool> root_step() {
        const std::string& s = out_.source;
        std::size_t k = pos_;
        while (true) {
            k = s.find('{', k);
            if (k == std::string::npos || k + 1 >= s.size()) {
                emit(Tok::data, s.substr(pos_), pos_);
                pos_ = s.size();
                return true;
            }
            char c = s[k + 1];
            if (c == '{' || c == '%' || c == '#') {
                break;
            }
            ++k;
        }
        char kind = s[k + 1];
        char sign = (k + 2 < s.size() && (s[k + 2] == '-' || s[k + 2] == '+')) ? s[k + 2] : 0;
        std::size_t inner = k + 2 + (sign != 0 ? 1 : 0);
        std::string_view text(s.data() + pos_, k - pos_);
        if (kind == '%') {
            std::size_t raw_end = match_raw_begin(inner);
            if (raw_end != 0) {
                emit_data(text, pos_, sign, false);
                line_starting_ = s[raw_end - 1] == '\n';
                return raw_body(raw_end);
            }
        }
        emit_data(text, pos_, sign, kind == '{');
        line_starting_ = false; // the opener never ends with a newline
        pos_ = inner;
        if (kind == '#') {
            return comment(k);
        }
        emit(kind == '{' ? Tok::var_begin : Tok::block_begin, "", k);
        return tag_body(kind == '{', k);
    }

    // `{% raw %}` opener: returns the end of the opener or 0.
    std::size_t match_raw_begin(std::size_t i) const {
        const std::string& s = out_.source;
        i = skip_spaces(s, i);
        if (s.compare(i, 3, "raw") != 0) {
            return 0;
        }
        i = skip_spaces(s, i + 3);
        if (s.compare(i, 3, "-%}") == 0) {
            return skip_spaces(s, i + 3);
        }
        if (s.compare(i, 2, "%}") == 0) {
            return i + 2;
        }
        return 0;
    }

    base::Result<bool> raw_body(std::size_t start) {
        const std::string& s = out_.source;
        std::size_t k = start;
        while ((k = s.find("{%", k)) != std::string::npos) {
            std::size_t i = k + 2;
            char sign = (i < s.size() && (s[i] == '-' || s[i] == '+')) ? s[i] : 0;
            if (sign != 0) {
                ++i;
            }
            i = skip_spaces(s, i);
            if (s.compare(i, 6, "endraw") == 0) {
                i = skip_spaces(s, i + 6);
                std::size_t end = end_of_block_close(i);
                if (end != 0) {
                    emit_data(std::string_view(s).substr(start, k - start), start, sign, false);
                    line_starting_ = s[end - 1] == '\n';
                    pos_ = end;
                    return true;
                }
            }
            k += 2;
        }
        return fail(start, "missing end of raw directive");
    }

    // Matches `+%}`, `-%}\s*` or `%}\n?` at i; returns the end or 0.
    std::size_t end_of_block_close(std::size_t i) const {
        const std::string& s = out_.source;
        if (s.compare(i, 3, "+%}") == 0) {
            return i + 3;
        }
        if (s.compare(i, 3, "-%}") == 0) {
            return skip_spaces(s, i + 3);
        }
        if (s.compare(i, 2, "%}") == 0) {
            return (i + 2 < s.size() && s[i + 2] == '\n') ? i + 3 : i + 2;
        }
        return 0;
    }

    base::Result<bool> comment(std::size_t open) {
        const std::string& s = out_.source;
        for (std::size_t j = pos_; j < s.size(); ++j) {
            if (s.compare(j, 3, "+#}") == 0) {
                pos_ = j + 3;
            } else if (s.compare(j, 3, "-#}") == 0) {
                pos_ = skip_spaces(s, j + 3);
            } else if (s.compare(j, 2, "#}") == 0) {
                pos_ = (j + 2 < s.size() && s[j + 2] == '\n') ? j + 3 : j + 2;
            } else {
                continue;
            }
            line_starting_ = s[pos_ - 1] == '\n';
            return true;
        }
        return fail(open, "missing end of comment tag");
    }

    base::Result<bool> tag_body(bool variable, std::size_t open) {
        const std::string& s = out_.source;
        std::vector<char> balance;
        while (true) {
            if (pos_ >= s.size()) {
                return fail(open, variable ? "unclosed '{{'" : "unclosed '{%'");
            }
            if (balance.empty()) {
                std::size_t end = variable ? end_of_var_close(pos_) : end_of_block_close(pos_);
                if (end != 0) {
                    emit(variable ? Tok::var_end : Tok::block_end, "", pos_);
                    line_starting_ = s[end - 1] == '\n';
                    pos_ = end;
                    return true;
                }
            }
            std::size_t n = space_len(s, pos_);
            if (n > 0) {
                pos_ += n;
                continue;
            }
            auto r = expression_token(balance);
            if (!r) {
                return r.error();
            }
        }
    }

    std::size_t end_of_var_close(std::size_t i) const {
        const std::string& s = out_.source;
        if (s.compare(i, 3, "-}}") == 0) {
            return skip_spaces(s, i + 3);
        }
        if (s.compare(i, 2, "}}") == 0) {
            return i + 2;
        }
        return 0;
    }

    base::Result<bool> expression_token(std::vector<char>& balance) {
        const std::string& s = out_.source;
        std::size_t start = pos_;
        auto c = static_cast<unsigned char>(s[pos_]);
        if (is_digit(static_cast<char>(c))) {
            return number();
        }
        if (is_name_start(c)) {
            while (pos_ < s.size() && is_name_char(static_cast<unsigned char>(s[pos_]))) {
                ++pos_;
            }
            emit(Tok::name, s.substr(start, pos_ - start), start);
            return true;
        }
        if (c == '\'' || c == '"') {
            return string_literal();
        }
        static const char* two[] = {"//", "**", "==", "!=", ">=", "<="};
        for (const char* op : two) {
            if (s.compare(pos_, 2, op) == 0) {
                emit(Tok::op, op, start);
                pos_ += 2;
                return true;
            }
        }
        static const std::string_view one = "+-/*%~[](){}><=.:|,;";
        if (one.find(static_cast<char>(c)) == std::string_view::npos) {
            return fail(start,
                        "unexpected character '" + std::string(1, static_cast<char>(c)) + "'");
        }
        if (c == '(' || c == '[' || c == '{') {
            balance.push_back(c == '(' ? ')' : (c == '[' ? ']' : '}'));
        } else if (c == ')' || c == ']' || c == '}') {
            if (balance.empty()) {
                return fail(start, std::string("unexpected '") + static_cast<char>(c) + "'");
            }
            if (balance.back() != static_cast<char>(c)) {
                return fail(start, std::string("unexpected '") + static_cast<char>(c) +
                                       "', expected '" + balance.back() + "'");
            }
            balance.pop_back();
        }
        emit(Tok::op, std::string(1, static_cast<char>(c)), start);
        ++pos_;
        return true;
    }

    // Digits with optional single underscores between them.
    std::size_t digits(std::size_t i) const {
        const std::string& s = out_.source;
        if (i >= s.size() || !is_digit(s[i])) {
            return i;
        }
        while (i < s.size()) {
            if (is_digit(s[i])) {
                ++i;
            } else if (s[i] == '_' && i + 1 < s.size() && is_digit(s[i + 1])) {
                ++i;
            } else {
                break;
            }
        }
        return i;
    }

    base::Result<bool> number() {
        const std::string& s = out_.source;
        std::size_t start = pos_;
        // Float: digits ( (. digits)? e[+-]digits | . digits ); not right after a '.'.
        bool after_dot = start > 0 && s[start - 1] == '.';
        std::size_t i = digits(start);
        std::size_t float_end = 0;
        if (!after_dot) {
            std::size_t j = i;
            bool frac = false;
            if (j < s.size() && s[j] == '.' && j + 1 < s.size() && is_digit(s[j + 1])) {
                j = digits(j + 1);
                frac = true;
            }
            if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
                std::size_t e = j + 1;
                if (e < s.size() && (s[e] == '+' || s[e] == '-')) {
                    ++e;
                }
                std::size_t ee = digits(e);
                if (ee > e) {
                    float_end = ee;
                }
            }
            if (float_end == 0 && frac) {
                float_end = j;
            }
        }
        if (float_end != 0) {
            std::string text;
            for (std::size_t k = start; k < float_end; ++k) {
                if (s[k] != '_') {
                    text.push_back(s[k]);
                }
            }
            double d = 0;
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
            if (ec == std::errc::result_out_of_range) {
                d = text.find("e-") != std::string::npos || text.find("E-") != std::string::npos
                        ? 0.0
                        : HUGE_VAL;
            } else if (ec != std::errc()) {
                return fail(start, "invalid float literal");
            }
            Token t{Tok::floating, text, start};
            t.float_value = d;
            out_.tokens.push_back(std::move(t));
            pos_ = float_end;
            return true;
        }
        return integer(start);
    }

    base::Result<bool> integer(std::size_t start) {
        const std::string& s = out_.source;
        int base = 10;
        std::size_t i = start;
        if (s[i] == '0' && i + 1 < s.size()) {
            char p = static_cast<char>(s[i + 1] | 0x20);
            base = p == 'b' ? 2 : (p == 'o' ? 8 : (p == 'x' ? 16 : 10));
        }
        std::string text;
        if (base != 10) {
            i += 2;
            auto ok = [&](char c) {
                if (base == 16) {
                    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                }
                return c >= '0' && c < static_cast<char>('0' + base);
            };
            while (i < s.size() &&
                   (ok(s[i]) || (s[i] == '_' && i + 1 < s.size() && ok(s[i + 1])))) {
                if (s[i] != '_') {
                    text.push_back(s[i]);
                }
                ++i;
            }
            if (text.empty()) {
                return fail(start, "invalid integer literal");
            }
        } else {
            i = digits(start);
            for (std::size_t k = start; k < i; ++k) {
                if (s[k] != '_') {
                    text.push_back(s[k]);
                }
            }
        }
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
        if (ec != std::errc()) {
            return fail(start, "integer literal out of range");
        }
        Token t{Tok::integer, s.substr(start, i - start), start};
        t.int_value = v;
        out_.tokens.push_back(std::move(t));
        pos_ = i;
        return true;
    }

    // Python "unicode-escape" decoding of a quoted literal (what Jinja applies).
    base::Result<bool> string_literal() {
        const std::string& s = out_.source;
        std::size_t start = pos_;
        char quote = s[pos_++];
        std::string value;
        while (true) {
            if (pos_ >= s.size()) {
                return fail(start, "unterminated string literal");
            }
            char c = s[pos_];
            if (c == quote) {
                ++pos_;
                break;
            }
            if (c != '\\') {
                value.push_back(c);
                ++pos_;
                continue;
            }
            if (pos_ + 1 >= s.size()) {
                return fail(start, "unterminated string literal");
            }
            auto r = escape(value, start);
            if (!r) {
                return r.error();
            }
        }
        emit(Tok::string, std::move(value), start);
        return true;
    }

    base::Result<bool> escape(std::string& value, std::size_t start) {
        const std::string& s = out_.source;
        char e = s[pos_ + 1];
        pos_ += 2;
        auto hex = [&](int n) -> base::Result<char32_t> {
            if (pos_ + static_cast<std::size_t>(n) > s.size()) {
                return fail(start, "truncated \\x, \\u or \\U escape");
            }
            unsigned long v = 0;
            for (int k = 0; k < n; ++k) {
                char h = s[pos_++];
                if (!std::isxdigit(static_cast<unsigned char>(h))) {
                    return fail(start, "invalid \\x, \\u or \\U escape");
                }
                v = v * 16 + static_cast<unsigned long>(std::isdigit(static_cast<unsigned char>(h))
                                                            ? h - '0'
                                                            : (h | 0x20) - 'a' + 10);
            }
            if (v > 0x10FFFF) {
                return fail(start, "escape outside the Unicode range");
            }
            return static_cast<char32_t>(v);
        };
        char32_t cp = 0;
        switch (e) {
        case '\n':
            return true; // line continuation
        case '\\':
        case '\'':
        case '"':
            value.push_back(e);
            return true;
        case 'a':
            value.push_back('\a');
            return true;
        case 'b':
            value.push_back('\b');
            return true;
        case 'f':
            value.push_back('\f');
            return true;
        case 'n':
            value.push_back('\n');
            return true;
        case 'r':
            value.push_back('\r');
            return true;
        case 't':
            value.push_back('\t');
            return true;
        case 'v':
            value.push_back('\v');
            return true;
        case 'x':
        case 'u':
        case 'U': {
            auto r = hex(e == 'x' ? 2 : (e == 'u' ? 4 : 8));
            if (!r) {
                return r.error();
            }
            cp = *r;
            break;
        }
        case 'N':
            return fail(start, "\\N{...} escapes are not supported");
        default:
            if (e >= '0' && e <= '7') {
                cp = static_cast<char32_t>(e - '0');
                for (int k = 0; k < 2 && pos_ < s.size() && s[pos_] >= '0' && s[pos_] <= '7'; ++k) {
                    cp = cp * 8 + static_cast<char32_t>(s[pos_++] - '0');
                }
                break;
            }
            // Unknown escapes keep their backslash, as Python does.
            value.push_back('\\');
            pos_ -= 1;
            return true;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = utf8::kReplacement; // a lone surrogate has no UTF-8 form
        }
        utf8::append(value, cp);
        return true;
    }

    LexResult out_;
    std::size_t pos_ = 0;
    bool line_starting_ = true;
};

std::string normalise_newlines(std::string_view src) {
    std::string out;
    out.reserve(src.size());
    for (std::size_t i = 0; i < src.size(); ++i) {
        if (src[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < src.size() && src[i + 1] == '\n') {
                ++i;
            }
        } else {
            out.push_back(src[i]);
        }
    }
    // keep_trailing_newline=False: one final newline is dropped.
    if (!out.empty() && out.back() == '\n') {
        out.pop_back();
    }
    return out;
}

} // namespace

std::string describe_position(const std::string& source, std::size_t offset) {
    std::size_t line = 1;
    std::size_t col = 1;
    for (std::size_t i = 0; i < offset && i < source.size(); ++i) {
        if (source[i] == '\n') {
            ++line;
            col = 1;
        } else if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
            ++col;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

base::Result<LexResult> lex(std::string_view source) {
    Lexer lexer(normalise_newlines(source));
    return lexer.run();
}

} // namespace agentd::inference::jinja
