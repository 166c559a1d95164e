#pragma once
// Grammar expressions: the vocabulary-independent form every front end (JSON Schema, GBNF,
// tool-call formats) builds and the NFA compiler consumes. Rules are named expressions;
// expressions live in an arena and refer to each other by index, so front ends share
// sub-expressions freely.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace agentd::inference::grammar {

using ExprId = std::int32_t;
using RuleId = std::int32_t;

/// A set of Unicode code points as sorted, disjoint, inclusive ranges.
struct CodePointSet {
    std::vector<std::pair<char32_t, char32_t>> ranges;

    static CodePointSet of(std::initializer_list<std::pair<char32_t, char32_t>> r);
    void add(char32_t lo, char32_t hi);
    void normalize();
    [[nodiscard]] CodePointSet complement() const; ///< within U+0000..U+10FFFF minus surrogates
    [[nodiscard]] CodePointSet minus(const CodePointSet& other) const;
    [[nodiscard]] bool contains(char32_t c) const;
    [[nodiscard]] bool empty() const { return ranges.empty(); }
};

enum class ExprKind : std::uint8_t {
    empty,    ///< matches ""
    bytes,    ///< literal byte string (`text`)
    chars,    ///< one code point from `set`, UTF-8 encoded
    byte_set, ///< one byte from `byte_ranges` (raw bytes; for token-level grammars)
    seq,      ///< children in order
    alt,      ///< one of the children
    repeat,   ///< child repeated min..max times (max < 0: unbounded)
    ref,      ///< rule `rule`
    token,    ///< a special token, by its text (`text`); matched by token id, not by bytes
    until,    ///< any UTF-8 text that does not contain `text` (an ASCII terminator)
};

struct Expr {
    ExprKind kind = ExprKind::empty;
    std::string text;
    CodePointSet set;
    std::vector<std::pair<std::uint8_t, std::uint8_t>> byte_ranges;
    std::vector<ExprId> children;
    std::int32_t min = 0;
    std::int32_t max = 0;
    RuleId rule = -1;
};

enum class Inline : std::uint8_t {
    automatic, ///< inlined when not recursive and small or used once
    never,     ///< always a call (shared automaton states, shared token-mask cache)
};

struct Rule {
    std::string name;
    ExprId body = -1;
    Inline inline_hint = Inline::automatic;
};

/// Collects rules and expressions. Not thread-safe; used while building one grammar.
class Builder {
public:
    RuleId add_rule(std::string name, Inline hint = Inline::automatic);
    void define(RuleId rule, ExprId body) { rules_[static_cast<std::size_t>(rule)].body = body; }
    /// The rule named `name`, created (undefined) when absent.
    RuleId rule_named(const std::string& name);
    [[nodiscard]] RuleId find_rule(const std::string& name) const;

    ExprId empty();
    ExprId bytes(std::string text);
    ExprId chars(CodePointSet set);
    ExprId byte_set(std::vector<std::pair<std::uint8_t, std::uint8_t>> ranges);
    ExprId seq(std::vector<ExprId> children);
    ExprId alt(std::vector<ExprId> children);
    ExprId repeat(ExprId child, std::int32_t min, std::int32_t max);
    ExprId optional(ExprId child) { return repeat(child, 0, 1); }
    ExprId star(ExprId child) { return repeat(child, 0, -1); }
    ExprId plus(ExprId child) { return repeat(child, 1, -1); }
    ExprId ref(RuleId rule);
    ExprId token(std::string text);
    /// Text not containing `terminator` (ASCII), e.g. the body of a <think> block.
    ExprId until(std::string terminator);

    [[nodiscard]] const Expr& expr(ExprId id) const { return exprs_[static_cast<std::size_t>(id)]; }
    [[nodiscard]] const std::vector<Rule>& rules() const { return rules_; }
    [[nodiscard]] std::size_t expr_count() const { return exprs_.size(); }
    [[nodiscard]] const Rule& rule(RuleId id) const { return rules_[static_cast<std::size_t>(id)]; }

    RuleId root = -1;

private:
    ExprId add(Expr e);

    std::vector<Expr> exprs_;
    std::vector<Rule> rules_;
};

} // namespace agentd::inference::grammar
