// GBNF text -> grammar (the format llama.cpp uses; see grammar.h for the supported syntax).

#include "agentd/inference/errc.h"
#include "agentd/inference/grammar.h"

#include "grammar/expr.h"
#include "grammar/program.h"
#include "value/utf8.h"

#include <cctype>

namespace agentd::inference {
namespace {

using grammar::Builder;
using grammar::CodePointSet;
using grammar::ExprId;

struct GbnfError {
    std::size_t offset;
    std::string message;
};

constexpr int kMaxNesting = 100;

class GbnfParser {
public:
    GbnfParser(std::string_view text, Builder& b) : s_(text), b_(b) {}

    void parse() {
        skip_space(true);
        while (pos_ < s_.size()) {
            std::string name = parse_name();
            skip_space(false);
            if (s_.compare(pos_, 3, "::=") != 0) {
                fail("expected '::=' after rule name '" + name + "'");
            }
            pos_ += 3;
            skip_space(true);
            auto rule = b_.rule_named(name);
            if (b_.rule(rule).body >= 0) {
                fail("rule '" + name + "' is defined twice");
            }
            b_.define(rule, parse_alternatives(false, 0));
            if (pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r') {
                fail("unexpected '" + std::string(1, s_[pos_]) + "'");
            }
            skip_space(true);
        }
        b_.root = b_.find_rule("root");
        if (b_.root < 0) {
            throw GbnfError{0, "the grammar has no 'root' rule"};
        }
        for (const auto& r : b_.rules()) {
            if (r.body < 0) {
                throw GbnfError{0, "undefined rule '" + r.name + "'"};
            }
        }
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw GbnfError{pos_, what}; }

    static bool name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    }

    void skip_space(bool newlines) {
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c == '#') {
                while (pos_ < s_.size() && s_[pos_] != '\n') {
                    ++pos_;
                }
            } else if (c == ' ' || c == '\t' || ((c == '\n' || c == '\r') && newlines)) {
                ++pos_;
            } else {
                return;
            }
        }
    }

    std::string parse_name() {
        std::size_t start = pos_;
        while (pos_ < s_.size() && name_char(s_[pos_])) {
            ++pos_;
        }
        if (pos_ == start) {
            fail("expected a rule name");
        }
        return std::string(s_.substr(start, pos_ - start));
    }

    ExprId parse_alternatives(bool nested, int depth) {
        if (depth > kMaxNesting) {
            fail("grammar nested too deeply");
        }
        std::vector<ExprId> alts{parse_sequence(nested, depth)};
        while (pos_ < s_.size() && s_[pos_] == '|') {
            ++pos_;
            skip_space(true);
            alts.push_back(parse_sequence(nested, depth));
        }
        return b_.alt(std::move(alts));
    }

    char32_t parse_char() {
        if (pos_ >= s_.size()) {
            fail("unexpected end of grammar");
        }
        if (s_[pos_] != '\\') {
            std::size_t at = pos_;
            char32_t c = utf8::decode(s_, pos_);
            if (c == utf8::kReplacement && !utf8::valid_at(s_, at)) {
                pos_ = at;
                fail("invalid UTF-8");
            }
            return c;
        }
        if (pos_ + 1 >= s_.size()) {
            fail("unexpected end of grammar after '\\'");
        }
        char e = s_[pos_ + 1];
        pos_ += 2;
        auto hex = [&](int n) {
            char32_t v = 0;
            for (int i = 0; i < n; ++i) {
                if (pos_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[pos_]))) {
                    fail("invalid hex escape");
                }
                char h = s_[pos_++];
                v = v * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                       ? h - '0'
                                                       : (h | 0x20) - 'a' + 10);
            }
            if (v > 0x10FFFF) {
                fail("escape outside the Unicode range");
            }
            return v;
        };
        switch (e) {
        case 'x':
            return hex(2);
        case 'u':
            return hex(4);
        case 'U':
            return hex(8);
        case 't':
            return '\t';
        case 'r':
            return '\r';
        case 'n':
            return '\n';
        case '\\':
        case '"':
        case '[':
        case ']':
        case '-':
        case '^':
            return static_cast<char32_t>(e);
        default:
            fail(std::string("unknown escape '\\") + e + "'");
        }
    }

    ExprId parse_sequence(bool nested, int depth) {
        std::vector<ExprId> items;
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            ExprId item = -1;
            if (c == '"') {
                ++pos_;
                std::string lit;
                while (pos_ < s_.size() && s_[pos_] != '"') {
                    utf8::append(lit, parse_char());
                }
                if (pos_ >= s_.size()) {
                    fail("unterminated literal");
                }
                ++pos_;
                item = b_.bytes(std::move(lit));
            } else if (c == '[') {
                item = parse_class();
            } else if (c == '.') {
                ++pos_;
                item = b_.chars(CodePointSet::of({{0, 0x10FFFF}}));
            } else if (c == '(') {
                ++pos_;
                skip_space(true);
                item = parse_alternatives(true, depth + 1);
                if (pos_ >= s_.size() || s_[pos_] != ')') {
                    fail("expected ')'");
                }
                ++pos_;
            } else if (c == '<') {
                std::size_t end = s_.find('>', pos_);
                if (end == std::string_view::npos) {
                    fail("unterminated special token '<...>'");
                }
                std::string text(s_.substr(pos_, end - pos_ + 1));
                pos_ = end + 1;
                item = b_.alt({b_.token(text), b_.bytes(text)});
            } else if (name_char(c)) {
                std::size_t save = pos_;
                std::string name = parse_name();
                // A name followed by ::= starts the next rule (only possible without nesting).
                std::size_t look = pos_;
                while (look < s_.size() && (s_[look] == ' ' || s_[look] == '\t')) {
                    ++look;
                }
                if (s_.compare(look, 3, "::=") == 0) {
                    pos_ = save;
                    fail("missing newline before rule '" + name + "'");
                }
                item = b_.ref(b_.rule_named(name));
            } else {
                break;
            }
            item = parse_postfix(item);
            items.push_back(item);
            skip_space(nested);
        }
        return b_.seq(std::move(items));
    }

    ExprId parse_class() {
        ++pos_; // [
        bool negate = pos_ < s_.size() && s_[pos_] == '^';
        if (negate) {
            ++pos_;
        }
        CodePointSet set;
        while (pos_ < s_.size() && s_[pos_] != ']') {
            char32_t lo = parse_char();
            char32_t hi = lo;
            if (pos_ + 1 < s_.size() && s_[pos_] == '-' && s_[pos_ + 1] != ']') {
                ++pos_;
                hi = parse_char();
            }
            if (hi < lo) {
                fail("character range out of order");
            }
            set.add(lo, hi);
        }
        if (pos_ >= s_.size()) {
            fail("unterminated character class");
        }
        ++pos_;
        return b_.chars(negate ? set.complement() : set);
    }

    ExprId parse_postfix(ExprId item) {
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c == '*' || c == '+' || c == '?') {
                ++pos_;
                item = c == '*' ? b_.star(item) : (c == '+' ? b_.plus(item) : b_.optional(item));
            } else if (c == '{') {
                ++pos_;
                auto number = [&]() {
                    std::int64_t v = 0;
                    std::size_t start = pos_;
                    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
                        v = v * 10 + (s_[pos_++] - '0');
                        if (v > 1000000) {
                            fail("repetition bound too large");
                        }
                    }
                    return pos_ == start ? -1 : v;
                };
                std::int64_t lo = number();
                std::int64_t hi = lo;
                if (lo < 0) {
                    fail("expected a number in '{m,n}'");
                }
                if (pos_ < s_.size() && s_[pos_] == ',') {
                    ++pos_;
                    hi = number(); // -1: unbounded
                }
                if (pos_ >= s_.size() || s_[pos_] != '}') {
                    fail("expected '}'");
                }
                ++pos_;
                if (hi >= 0 && hi < lo) {
                    fail("repetition bounds out of order");
                }
                item =
                    b_.repeat(item, static_cast<std::int32_t>(lo), static_cast<std::int32_t>(hi));
            } else {
                return item;
            }
        }
        return item;
    }

    std::string_view s_;
    Builder& b_;
    std::size_t pos_ = 0;
};

std::string position(std::string_view s, std::size_t offset) {
    std::size_t line = 1;
    std::size_t col = 1;
    for (std::size_t i = 0; i < offset && i < s.size(); ++i) {
        if (s[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

} // namespace

base::Result<Grammar> Grammar::from_gbnf(std::string_view text) {
    Builder b;
    try {
        GbnfParser(text, b).parse();
    } catch (const GbnfError& e) {
        return base::Error(errc::invalid_schema,
                           "GBNF error at " + position(text, e.offset) + ": " + e.message);
    }
    auto program = grammar::compile(b);
    if (!program) {
        return program.error();
    }
    return Grammar(std::make_shared<const grammar::Program>(std::move(*program)));
}

} // namespace agentd::inference
