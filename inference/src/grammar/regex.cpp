// ECMAScript-subset regular expressions (JSON Schema `pattern`, and the string formats) compiled
// to grammar expressions over JSON string content.

#include "agentd/inference/errc.h"

#include "grammar/json_schema.h"
#include "value/utf8.h"

#include <cctype>

namespace agentd::inference::grammar {
namespace {

struct RegexError {
    std::string message;
};

constexpr int kMaxRegexDepth = 50;

const CodePointSet& digits() {
    static const CodePointSet s = CodePointSet::of({{'0', '9'}});
    return s;
}
const CodePointSet& word() {
    static const CodePointSet s =
        CodePointSet::of({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
    return s;
}
const CodePointSet& space() {
    static const CodePointSet s = CodePointSet::of({{'\t', '\r'},
                                                    {' ', ' '},
                                                    {0xA0, 0xA0},
                                                    {0x1680, 0x1680},
                                                    {0x2000, 0x200A},
                                                    {0x2028, 0x2029},
                                                    {0x202F, 0x202F},
                                                    {0x205F, 0x205F},
                                                    {0x3000, 0x3000},
                                                    {0xFEFF, 0xFEFF}});
    return s;
}

class Regex {
public:
    Regex(Builder& b, std::string_view p) : b_(b), p_(p) {}

    ExprId run() {
        bool start_anchor = !p_.empty() && p_[0] == '^';
        if (start_anchor) {
            pos_ = 1;
        }
        std::size_t end = p_.size();
        bool end_anchor = end > pos_ && p_[end - 1] == '$' && (end < 2 || p_[end - 2] != '\\');
        if (end_anchor) {
            p_ = p_.substr(0, end - 1);
        }
        ExprId body = alternation(0);
        if (pos_ != p_.size()) {
            throw RegexError{"unexpected ')' at offset " + std::to_string(pos_)};
        }
        ExprId any = b_.star(json_char(b_, CodePointSet::of({{0, 0x10FFFF}})));
        std::vector<ExprId> parts;
        if (!start_anchor) {
            parts.push_back(any);
        }
        parts.push_back(body);
        if (!end_anchor) {
            parts.push_back(any);
        }
        return b_.seq(std::move(parts));
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        throw RegexError{what + " at offset " + std::to_string(pos_)};
    }
    bool at(char c) const { return pos_ < p_.size() && p_[pos_] == c; }

    ExprId alternation(int depth) {
        if (depth > kMaxRegexDepth) {
            fail("pattern nested too deeply");
        }
        std::vector<ExprId> alts{concat(depth)};
        while (at('|')) {
            ++pos_;
            alts.push_back(concat(depth));
        }
        return b_.alt(std::move(alts));
    }

    ExprId concat(int depth) {
        std::vector<ExprId> items;
        while (pos_ < p_.size() && !at('|') && !at(')')) {
            items.push_back(quantified(depth));
        }
        return b_.seq(std::move(items));
    }

    std::int32_t number() {
        std::int64_t v = 0;
        std::size_t start = pos_;
        while (pos_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[pos_]))) {
            v = v * 10 + (p_[pos_++] - '0');
            if (v > 100000) {
                fail("repetition bound too large");
            }
        }
        return pos_ == start ? -1 : static_cast<std::int32_t>(v);
    }

    ExprId quantified(int depth) {
        ExprId a = atom(depth);
        while (pos_ < p_.size()) {
            char c = p_[pos_];
            std::int32_t lo = 0;
            std::int32_t hi = 0;
            if (c == '*') {
                lo = 0;
                hi = -1;
                ++pos_;
            } else if (c == '+') {
                lo = 1;
                hi = -1;
                ++pos_;
            } else if (c == '?') {
                lo = 0;
                hi = 1;
                ++pos_;
            } else if (c == '{') {
                std::size_t save = pos_;
                ++pos_;
                lo = number();
                if (lo < 0) {
                    pos_ = save; // a literal '{'
                    return a;
                }
                hi = lo;
                if (at(',')) {
                    ++pos_;
                    hi = number();
                }
                if (!at('}')) {
                    fail("expected '}' in a quantifier");
                }
                ++pos_;
                if (hi >= 0 && hi < lo) {
                    fail("quantifier bounds out of order");
                }
            } else {
                return a;
            }
            if (at('?')) {
                ++pos_; // lazy: same language
            }
            a = b_.repeat(a, lo, hi);
        }
        return a;
    }

    char32_t hex(int n) {
        char32_t v = 0;
        for (int i = 0; i < n; ++i) {
            if (pos_ >= p_.size() || !std::isxdigit(static_cast<unsigned char>(p_[pos_]))) {
                fail("invalid hex escape");
            }
            char h = p_[pos_++];
            v = v * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                   ? h - '0'
                                                   : (h | 0x20) - 'a' + 10);
        }
        return v;
    }

    // An escape after '\': a class (\d ...) or one code point.
    CodePointSet escape(bool in_class) {
        if (pos_ >= p_.size()) {
            fail("pattern ends with '\\'");
        }
        char e = p_[pos_++];
        switch (e) {
        case 'd':
            return digits();
        case 'D':
            return digits().complement();
        case 'w':
            return word();
        case 'W':
            return word().complement();
        case 's':
            return space();
        case 'S':
            return space().complement();
        case 'n':
            return CodePointSet::of({{'\n', '\n'}});
        case 't':
            return CodePointSet::of({{'\t', '\t'}});
        case 'r':
            return CodePointSet::of({{'\r', '\r'}});
        case 'f':
            return CodePointSet::of({{'\f', '\f'}});
        case 'v':
            return CodePointSet::of({{'\v', '\v'}});
        case '0':
            return CodePointSet::of({{0, 0}});
        case 'x': {
            char32_t c = hex(2);
            return CodePointSet::of({{c, c}});
        }
        case 'u': {
            char32_t c = hex(4);
            return CodePointSet::of({{c, c}});
        }
        case 'b':
            if (in_class) {
                return CodePointSet::of({{'\b', '\b'}});
            }
            fail("unsupported construct '\\b' (word boundary)");
        default:
            if (std::isalnum(static_cast<unsigned char>(e))) {
                fail(std::string("unsupported escape '\\") + e + "'");
            }
            return CodePointSet::of({{static_cast<char32_t>(static_cast<unsigned char>(e)),
                                      static_cast<char32_t>(static_cast<unsigned char>(e))}});
        }
    }

    char32_t literal_char() {
        std::size_t at_pos = pos_;
        char32_t c = utf8::decode(p_, pos_);
        if (c == utf8::kReplacement && !utf8::valid_at(p_, at_pos)) {
            fail("invalid UTF-8 in pattern");
        }
        return c;
    }

    ExprId char_class() {
        ++pos_; // [
        bool negate = at('^');
        if (negate) {
            ++pos_;
        }
        CodePointSet set;
        bool first = true;
        while (pos_ < p_.size() && (!at(']') || first)) {
            first = false;
            CodePointSet lo_set;
            char32_t lo = 0;
            bool single = true;
            if (at('\\')) {
                ++pos_;
                lo_set = escape(true);
                single =
                    lo_set.ranges.size() == 1 && lo_set.ranges[0].first == lo_set.ranges[0].second;
                lo = single ? lo_set.ranges[0].first : 0;
            } else {
                lo = literal_char();
                lo_set = CodePointSet::of({{lo, lo}});
            }
            if (single && at('-') && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
                ++pos_;
                char32_t hi = 0;
                if (at('\\')) {
                    ++pos_;
                    CodePointSet h = escape(true);
                    if (h.ranges.size() != 1 || h.ranges[0].first != h.ranges[0].second) {
                        fail("a class escape cannot end a range");
                    }
                    hi = h.ranges[0].first;
                } else {
                    hi = literal_char();
                }
                if (hi < lo) {
                    fail("character range out of order");
                }
                set.add(lo, hi);
            } else {
                for (auto [a, z] : lo_set.ranges) {
                    set.add(a, z);
                }
            }
        }
        if (!at(']')) {
            fail("unterminated character class");
        }
        ++pos_;
        return json_char(b_, negate ? set.complement() : set);
    }

    ExprId atom(int depth) {
        char c = p_[pos_];
        if (c == '(') {
            ++pos_;
            if (p_.compare(pos_, 2, "?:") == 0) {
                pos_ += 2;
            } else if (at('?')) {
                fail("unsupported construct: lookaround or named group");
            }
            ExprId inner = alternation(depth + 1);
            if (!at(')')) {
                fail("expected ')'");
            }
            ++pos_;
            return inner;
        }
        if (c == '[') {
            return char_class();
        }
        if (c == '.') {
            ++pos_;
            return json_char(
                b_, CodePointSet::of({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}).complement());
        }
        if (c == '\\') {
            ++pos_;
            return json_char(b_, escape(false));
        }
        if (c == '^' || c == '$') {
            fail("unsupported construct: anchor inside the pattern");
        }
        if (c == '*' || c == '+' || c == '?') {
            fail("nothing to repeat");
        }
        char32_t ch = literal_char();
        return json_char(b_, CodePointSet::of({{ch, ch}}));
    }

    Builder& b_;
    std::string_view p_;
    std::size_t pos_ = 0;
};

} // namespace

ExprId json_char(Builder& b, const CodePointSet& set) {
    CodePointSet specials = CodePointSet::of({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}});
    std::vector<ExprId> alts;
    CodePointSet plain = set.minus(specials);
    if (!plain.empty()) {
        alts.push_back(b.chars(plain));
    }
    if (set.contains('"')) {
        alts.push_back(b.bytes("\\\""));
    }
    if (set.contains('\\')) {
        alts.push_back(b.bytes("\\\\"));
    }
    for (char32_t c = 0; c < 0x20; ++c) {
        if (!set.contains(c)) {
            continue;
        }
        const char* s = nullptr;
        switch (c) {
        case '\b':
            s = "\\b";
            break;
        case '\f':
            s = "\\f";
            break;
        case '\n':
            s = "\\n";
            break;
        case '\r':
            s = "\\r";
            break;
        case '\t':
            s = "\\t";
            break;
        default:
            break;
        }
        if (s != nullptr) {
            alts.push_back(b.bytes(s));
        } else {
            static const char* hex = "0123456789abcdef";
            std::string esc = "\\u00";
            esc.push_back(hex[c >> 4]);
            esc.push_back(hex[c & 15]);
            alts.push_back(b.bytes(esc));
        }
    }
    if (alts.empty()) {
        // An empty class matches nothing: an alternation without branches.
        return b.alt({});
    }
    return b.alt(std::move(alts));
}

base::Result<ExprId> regex_to_json_string_content(Builder& b, std::string_view pattern) {
    try {
        return Regex(b, pattern).run();
    } catch (const RegexError& e) {
        return base::Error(errc::invalid_schema,
                           "pattern '" + std::string(pattern) + "': " + e.message);
    }
}

} // namespace agentd::inference::grammar
