#pragma once
// The template parser class, split between parser.cpp (token stream, statements) and
// parser_expr.cpp (expressions). Internal to the template engine.

#include "template/ast.h"
#include "template/lexer.h"
#include "template/parser.h"

#include <initializer_list>
#include <string>
#include <string_view>

namespace agentd::inference::jinja {

// Unwinds the recursive descent to parse_template, which turns it into a Result. It never
// escapes this file.
struct ParseError {
    std::size_t offset;
    std::string message;
};

class Parser {
public:
    explicit Parser(LexResult lexed) : lex_(std::move(lexed)) {}

    Body parse_all();

    std::string take_source() { return std::move(lex_.source); }

private:
    // ---- token stream -------------------------------------------------------------------
    const Token& cur() const { return lex_.tokens[i_]; }
    const Token& next_tok() const { return lex_.tokens[i_ + 1 < lex_.tokens.size() ? i_ + 1 : i_]; }
    void advance();
    [[noreturn]] void fail(const std::string& what) const { throw ParseError{cur().offset, what}; }
    [[noreturn]] void fail_at(std::size_t offset, const std::string& what) const {
        throw ParseError{offset, what};
    }
    bool is_op(std::string_view op) const { return cur().kind == Tok::op && cur().value == op; }
    bool is_name(std::string_view n) const { return cur().kind == Tok::name && cur().value == n; }
    bool skip_op(std::string_view op);
    bool skip_name(std::string_view n);
    void expect_op(std::string_view op);
    std::string expect_name();
    void expect_block_end();
    static std::string describe(const Token& t);
    std::string peek_tag() const { return next_tok().kind == Tok::name ? next_tok().value : "?"; }

    struct DepthGuard {
        explicit DepthGuard(Parser& p) : p_(p) {
            if (++p_.depth_ > kMaxParseDepth) {
                p_.fail("template nested deeper than " + std::to_string(kMaxParseDepth));
            }
        }
        ~DepthGuard() { --p_.depth_; }
        DepthGuard(const DepthGuard&) = delete;
        DepthGuard& operator=(const DepthGuard&) = delete;
        Parser& p_;
    };

    static ExprPtr node(ExprKind kind, std::size_t pos);

    // ---- statements ---------------------------------------------------------------------
    Body parse_body(std::initializer_list<std::string_view> end_tags);

    // Consumes `{% name` when the body ended at one of the tags and returns the name.
    std::string take_end_tag();

    StmtPtr parse_statement();

    void parse_if(Stmt& s);

    std::vector<std::string> parse_targets(std::string_view end_name);

    void parse_for(Stmt& s);

    void parse_set(Stmt& s);

    void parse_params(Stmt& s);

    void parse_macro(Stmt& s);

    void parse_call_block(Stmt& s);

    void parse_with(Stmt& s);

    // ---- expressions --------------------------------------------------------------------
    bool is_tuple_end(std::initializer_list<std::string_view> extra) const;

    ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> extra_end,
                        bool explicit_parens) {
        std::size_t at = cur().offset;
        std::vector<ExprPtr> args;
        bool is_tuple = false;
        while (true) {
            if (!args.empty()) {
                expect_op(",");
            }
            if (is_tuple_end(extra_end)) {
                break;
            }
            args.push_back(parse_expression(with_condexpr));
            if (is_op(",")) {
                is_tuple = true;
            } else {
                break;
            }
        }
        if (!is_tuple) {
            if (!args.empty()) {
                return std::move(args[0]);
            }
            if (!explicit_parens) {
                fail("expected an expression, got " + describe(cur()));
            }
        }
        auto t = node(ExprKind::tuple, at);
        t->items = std::move(args);
        return t;
    }

    ExprPtr parse_expression(bool with_condexpr);

    ExprPtr parse_condexpr();

    ExprPtr parse_or();

    ExprPtr parse_and();

    ExprPtr parse_not();

    ExprPtr parse_compare();

    ExprPtr binary(std::string op, ExprPtr a, ExprPtr b, std::size_t at);

    ExprPtr parse_math1();

    ExprPtr parse_concat();

    ExprPtr parse_math2();

    ExprPtr parse_pow();

    ExprPtr parse_unary(bool with_filter);

    ExprPtr parse_primary();

    ExprPtr parse_postfix(ExprPtr n);

    ExprPtr parse_filter_expr(ExprPtr n);

    ExprPtr parse_subscript(ExprPtr obj);

    ExprPtr parse_subscribed();

    void parse_call_args(Expr& n);

    ExprPtr parse_call(ExprPtr callee);

    std::string dotted_name();

    ExprPtr parse_filter(ExprPtr input, bool start_inline);

    ExprPtr parse_test(ExprPtr input);

    LexResult lex_;
    std::size_t i_ = 0;
    int depth_ = 0;
};

} // namespace agentd::inference::jinja
