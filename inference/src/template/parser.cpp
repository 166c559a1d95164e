#include "template/parser.h"

#include "agentd/inference/errc.h"

#include "template/lexer.h"

#include <initializer_list>
#include <stdexcept>

namespace agentd::inference::jinja {
namespace {

// Unwinds the recursive descent to parse_template, which turns it into a Result. It never
// escapes this file.
struct ParseError {
    std::size_t offset;
    std::string message;
};

class Parser {
public:
    explicit Parser(LexResult lexed) : lex_(std::move(lexed)) {}

    Body parse_all() {
        Body body = parse_body({});
        if (cur().kind != Tok::eof) {
            fail("unexpected '{% " + peek_tag() + " %}'");
        }
        return body;
    }

    std::string take_source() { return std::move(lex_.source); }

private:
    // ---- token stream -------------------------------------------------------------------
    const Token& cur() const { return lex_.tokens[i_]; }
    const Token& next_tok() const { return lex_.tokens[i_ + 1 < lex_.tokens.size() ? i_ + 1 : i_]; }
    void advance() {
        if (i_ + 1 < lex_.tokens.size()) {
            ++i_;
        }
    }
    [[noreturn]] void fail(const std::string& what) const { throw ParseError{cur().offset, what}; }
    [[noreturn]] void fail_at(std::size_t offset, const std::string& what) const {
        throw ParseError{offset, what};
    }
    bool is_op(std::string_view op) const { return cur().kind == Tok::op && cur().value == op; }
    bool is_name(std::string_view n) const { return cur().kind == Tok::name && cur().value == n; }
    bool skip_op(std::string_view op) {
        if (is_op(op)) {
            advance();
            return true;
        }
        return false;
    }
    bool skip_name(std::string_view n) {
        if (is_name(n)) {
            advance();
            return true;
        }
        return false;
    }
    void expect_op(std::string_view op) {
        if (!skip_op(op)) {
            fail("expected '" + std::string(op) + "', got " + describe(cur()));
        }
    }
    std::string expect_name() {
        if (cur().kind != Tok::name) {
            fail("expected a name, got " + describe(cur()));
        }
        std::string n = cur().value;
        advance();
        return n;
    }
    void expect_block_end() {
        if (cur().kind != Tok::block_end) {
            fail("expected end of statement block, got " + describe(cur()));
        }
        advance();
    }
    static std::string describe(const Token& t) {
        switch (t.kind) {
        case Tok::data:
            return "template data";
        case Tok::var_begin:
            return "'{{'";
        case Tok::var_end:
            return "'}}'";
        case Tok::block_begin:
            return "'{%'";
        case Tok::block_end:
            return "'%}'";
        case Tok::eof:
            return "end of template";
        case Tok::string:
            return "string literal";
        default:
            return "'" + t.value + "'";
        }
    }
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

    static ExprPtr node(ExprKind kind, std::size_t pos) {
        auto e = std::make_unique<Expr>();
        e->kind = kind;
        e->pos = pos;
        return e;
    }

    // ---- statements ---------------------------------------------------------------------
    Body parse_body(std::initializer_list<std::string_view> end_tags) {
        DepthGuard guard(*this);
        Body body;
        while (true) {
            const Token& t = cur();
            if (t.kind == Tok::eof) {
                if (end_tags.size() > 0) {
                    std::string want;
                    for (auto tag : end_tags) {
                        want += want.empty() ? "" : " or ";
                        want += "'{% ";
                        want += tag;
                        want += " %}'";
                    }
                    fail("unexpected end of template, expected " + want);
                }
                return body;
            }
            if (t.kind == Tok::data) {
                auto s = std::make_unique<Stmt>();
                s->kind = StmtKind::data;
                s->pos = t.offset;
                s->text = t.value;
                body.push_back(std::move(s));
                advance();
            } else if (t.kind == Tok::var_begin) {
                auto s = std::make_unique<Stmt>();
                s->kind = StmtKind::output;
                s->pos = t.offset;
                advance();
                s->expr = parse_tuple(true, {}, false);
                if (cur().kind != Tok::var_end) {
                    fail("expected '}}', got " + describe(cur()));
                }
                advance();
                body.push_back(std::move(s));
            } else if (t.kind == Tok::block_begin) {
                if (next_tok().kind == Tok::name) {
                    for (auto end : end_tags) {
                        if (next_tok().value == end) {
                            return body;
                        }
                    }
                }
                advance();
                body.push_back(parse_statement());
            } else {
                fail("unexpected " + describe(t));
            }
        }
    }

    // Consumes `{% name` when the body ended at one of the tags and returns the name.
    std::string take_end_tag() {
        advance(); // {%
        return expect_name();
    }

    StmtPtr parse_statement() {
        std::size_t at = cur().offset;
        if (cur().kind != Tok::name) {
            fail("expected a statement name, got " + describe(cur()));
        }
        std::string tag = cur().value;
        advance();
        auto s = std::make_unique<Stmt>();
        s->pos = at;
        if (tag == "if") {
            parse_if(*s);
        } else if (tag == "for") {
            parse_for(*s);
        } else if (tag == "set") {
            parse_set(*s);
        } else if (tag == "macro") {
            parse_macro(*s);
        } else if (tag == "call") {
            parse_call_block(*s);
        } else if (tag == "filter") {
            s->kind = StmtKind::filter_block;
            s->expr = parse_filter(nullptr, true);
            expect_block_end();
            s->body = parse_body({"endfilter"});
            take_end_tag();
            expect_block_end();
        } else if (tag == "break" || tag == "continue") {
            s->kind = tag == "break" ? StmtKind::break_ : StmtKind::continue_;
            expect_block_end();
        } else if (tag == "generation" || tag == "block") {
            s->kind = StmtKind::scope;
            if (tag == "block") {
                expect_name();
                skip_name("scoped");
                skip_name("required");
            }
            expect_block_end();
            s->body = tag == "block" ? parse_body({"endblock"}) : parse_body({"endgeneration"});
            take_end_tag();
            if (tag == "block" && cur().kind == Tok::name) {
                advance();
            }
            expect_block_end();
        } else if (tag == "with") {
            parse_with(*s);
        } else if (tag == "do") {
            s->kind = StmtKind::do_;
            s->expr = parse_tuple(true, {}, false);
            expect_block_end();
        } else {
            fail_at(at,
                    "unsupported construct '{% " + tag + " %}'" +
                        (tag == "include" || tag == "import" || tag == "from" || tag == "extends"
                             ? " (templates cannot load other templates)"
                             : ""));
        }
        return s;
    }

    void parse_if(Stmt& s) {
        s.kind = StmtKind::if_;
        ExprPtr test = parse_tuple(false, {}, false);
        expect_block_end();
        Body body = parse_body({"elif", "else", "endif"});
        s.branches.emplace_back(std::move(test), std::move(body));
        while (true) {
            std::string tag = take_end_tag();
            if (tag == "elif") {
                ExprPtr t = parse_tuple(false, {}, false);
                expect_block_end();
                Body b = parse_body({"elif", "else", "endif"});
                s.branches.emplace_back(std::move(t), std::move(b));
            } else if (tag == "else") {
                expect_block_end();
                s.else_body = parse_body({"endif"});
                take_end_tag();
                expect_block_end();
                return;
            } else {
                expect_block_end();
                return;
            }
        }
    }

    std::vector<std::string> parse_targets(std::string_view end_name) {
        std::vector<std::string> names;
        bool paren = skip_op("(");
        while (true) {
            names.push_back(expect_name());
            if (!skip_op(",")) {
                break;
            }
            if ((paren && is_op(")")) || (!paren && is_name(end_name))) {
                break;
            }
        }
        if (paren) {
            expect_op(")");
        }
        return names;
    }

    void parse_for(Stmt& s) {
        s.kind = StmtKind::for_;
        s.targets = parse_targets("in");
        if (!skip_name("in")) {
            fail("expected 'in' in for loop, got " + describe(cur()));
        }
        s.expr = parse_tuple(false, {"recursive"}, false);
        if (skip_name("if")) {
            s.cond = parse_expression(true);
        }
        if (is_name("recursive")) {
            fail("unsupported construct 'recursive' loop");
        }
        expect_block_end();
        s.body = parse_body({"endfor", "else"});
        if (take_end_tag() == "else") {
            expect_block_end();
            s.else_body = parse_body({"endfor"});
            take_end_tag();
        }
        expect_block_end();
    }

    void parse_set(Stmt& s) {
        if (cur().kind == Tok::name && next_tok().kind == Tok::op && next_tok().value == ".") {
            s.targets.push_back(expect_name());
            advance(); // .
            s.ns_attr = expect_name();
        } else {
            s.targets = parse_targets("");
        }
        if (skip_op("=")) {
            s.kind = StmtKind::set;
            s.expr = parse_tuple(true, {}, false);
            expect_block_end();
            return;
        }
        if (!s.ns_attr.empty() || s.targets.size() != 1) {
            fail("a block set needs a single name target");
        }
        s.kind = StmtKind::set_block;
        if (is_op("|")) {
            s.expr = parse_filter(nullptr, false);
        }
        expect_block_end();
        s.body = parse_body({"endset"});
        take_end_tag();
        expect_block_end();
    }

    void parse_params(Stmt& s) {
        expect_op("(");
        while (!is_op(")")) {
            if (!s.params.empty()) {
                expect_op(",");
                if (is_op(")")) {
                    break;
                }
            }
            std::string name = expect_name();
            ExprPtr def;
            if (skip_op("=")) {
                def = parse_expression(true);
            } else if (!s.params.empty() && s.params.back().second) {
                fail("non-default argument follows default argument");
            }
            s.params.emplace_back(std::move(name), std::move(def));
        }
        advance();
    }

    void parse_macro(Stmt& s) {
        s.kind = StmtKind::macro;
        s.text = expect_name();
        parse_params(s);
        expect_block_end();
        s.body = parse_body({"endmacro"});
        take_end_tag();
        if (cur().kind == Tok::name) {
            advance(); // {% endmacro name %}
        }
        expect_block_end();
    }

    void parse_call_block(Stmt& s) {
        s.kind = StmtKind::call_block;
        if (is_op("(")) {
            parse_params(s);
        }
        s.expr = parse_expression(true);
        if (s.expr->kind != ExprKind::call) {
            fail("expected a call expression in '{% call %}'");
        }
        expect_block_end();
        s.body = parse_body({"endcall"});
        take_end_tag();
        expect_block_end();
    }

    void parse_with(Stmt& s) {
        s.kind = StmtKind::with;
        while (cur().kind != Tok::block_end) {
            if (!s.targets.empty()) {
                expect_op(",");
            }
            s.targets.push_back(expect_name());
            expect_op("=");
            s.values.push_back(parse_expression(true));
        }
        expect_block_end();
        s.body = parse_body({"endwith"});
        take_end_tag();
        expect_block_end();
    }

    // ---- expressions --------------------------------------------------------------------
    bool is_tuple_end(std::initializer_list<std::string_view> extra) const {
        if (cur().kind == Tok::var_end || cur().kind == Tok::block_end || is_op(")")) {
            return true;
        }
        for (auto n : extra) {
            if (is_name(n)) {
                return true;
            }
        }
        return false;
    }

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

    ExprPtr parse_expression(bool with_condexpr) {
        DepthGuard guard(*this);
        return with_condexpr ? parse_condexpr() : parse_or();
    }

    ExprPtr parse_condexpr() {
        ExprPtr expr1 = parse_or();
        while (is_name("if")) {
            std::size_t at = cur().offset;
            advance();
            ExprPtr expr2 = parse_or();
            ExprPtr expr3;
            if (skip_name("else")) {
                expr3 = parse_condexpr();
            }
            auto n = node(ExprKind::condexpr, at);
            n->a = std::move(expr2);
            n->b = std::move(expr1);
            n->c = std::move(expr3);
            expr1 = std::move(n);
        }
        return expr1;
    }

    ExprPtr parse_or() {
        ExprPtr left = parse_and();
        while (is_name("or")) {
            std::size_t at = cur().offset;
            advance();
            auto n = node(ExprKind::or_, at);
            n->a = std::move(left);
            n->b = parse_and();
            left = std::move(n);
        }
        return left;
    }

    ExprPtr parse_and() {
        ExprPtr left = parse_not();
        while (is_name("and")) {
            std::size_t at = cur().offset;
            advance();
            auto n = node(ExprKind::and_, at);
            n->a = std::move(left);
            n->b = parse_not();
            left = std::move(n);
        }
        return left;
    }

    ExprPtr parse_not() {
        if (is_name("not")) {
            DepthGuard guard(*this);
            auto n = node(ExprKind::not_, cur().offset);
            advance();
            n->a = parse_not();
            return n;
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        std::size_t at = cur().offset;
        ExprPtr first = parse_math1();
        std::vector<std::string> ops;
        std::vector<ExprPtr> operands;
        while (true) {
            if (cur().kind == Tok::op &&
                (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
                 cur().value == "<=" || cur().value == ">" || cur().value == ">=")) {
                ops.push_back(cur().value);
                advance();
            } else if (is_name("in")) {
                ops.emplace_back("in");
                advance();
            } else if (is_name("not") && next_tok().kind == Tok::name && next_tok().value == "in") {
                ops.emplace_back("notin");
                advance();
                advance();
            } else {
                break;
            }
            operands.push_back(parse_math1());
        }
        if (ops.empty()) {
            return first;
        }
        auto n = node(ExprKind::compare, at);
        n->items.push_back(std::move(first));
        for (auto& o : operands) {
            n->items.push_back(std::move(o));
        }
        n->ops = std::move(ops);
        return n;
    }

    ExprPtr binary(std::string op, ExprPtr a, ExprPtr b, std::size_t at) {
        auto n = node(ExprKind::binary, at);
        n->name = std::move(op);
        n->a = std::move(a);
        n->b = std::move(b);
        return n;
    }

    ExprPtr parse_math1() {
        ExprPtr left = parse_concat();
        while (is_op("+") || is_op("-")) {
            std::string op = cur().value;
            std::size_t at = cur().offset;
            advance();
            left = binary(op, std::move(left), parse_concat(), at);
        }
        return left;
    }

    ExprPtr parse_concat() {
        std::size_t at = cur().offset;
        std::vector<ExprPtr> args;
        args.push_back(parse_math2());
        while (skip_op("~")) {
            args.push_back(parse_math2());
        }
        if (args.size() == 1) {
            return std::move(args[0]);
        }
        auto n = node(ExprKind::concat, at);
        n->items = std::move(args);
        return n;
    }

    ExprPtr parse_math2() {
        ExprPtr left = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            std::string op = cur().value;
            std::size_t at = cur().offset;
            advance();
            left = binary(op, std::move(left), parse_pow(), at);
        }
        return left;
    }

    ExprPtr parse_pow() {
        ExprPtr left = parse_unary(true);
        while (is_op("**")) {
            std::size_t at = cur().offset;
            advance();
            left = binary("**", std::move(left), parse_unary(true), at);
        }
        return left;
    }

    ExprPtr parse_unary(bool with_filter) {
        DepthGuard guard(*this);
        ExprPtr n;
        if (is_op("-") || is_op("+")) {
            n = node(is_op("-") ? ExprKind::neg : ExprKind::pos, cur().offset);
            advance();
            n->a = parse_unary(false);
        } else {
            n = parse_primary();
        }
        n = parse_postfix(std::move(n));
        if (with_filter) {
            n = parse_filter_expr(std::move(n));
        }
        return n;
    }

    ExprPtr parse_primary() {
        const Token& t = cur();
        std::size_t at = t.offset;
        if (t.kind == Tok::name) {
            std::string v = t.value;
            advance();
            auto n = node(ExprKind::literal, at);
            if (v == "true" || v == "True" || v == "false" || v == "False") {
                n->literal = JVal(v == "true" || v == "True");
            } else if (v == "none" || v == "None") {
                n->literal = JVal::none();
            } else {
                n->kind = ExprKind::name;
                n->name = std::move(v);
            }
            return n;
        }
        if (t.kind == Tok::string) {
            std::string s;
            while (cur().kind == Tok::string) {
                s += cur().value;
                advance();
            }
            auto n = node(ExprKind::literal, at);
            n->literal = JVal(std::move(s));
            return n;
        }
        if (t.kind == Tok::integer || t.kind == Tok::floating) {
            auto n = node(ExprKind::literal, at);
            n->literal = t.kind == Tok::integer ? JVal(t.int_value) : JVal(t.float_value);
            advance();
            return n;
        }
        if (is_op("(")) {
            advance();
            ExprPtr e = parse_tuple(true, {}, true);
            expect_op(")");
            return e;
        }
        if (is_op("[")) {
            advance();
            auto n = node(ExprKind::list, at);
            while (!is_op("]")) {
                if (!n->items.empty()) {
                    expect_op(",");
                    if (is_op("]")) {
                        break;
                    }
                }
                n->items.push_back(parse_expression(true));
            }
            advance();
            return n;
        }
        if (is_op("{")) {
            advance();
            auto n = node(ExprKind::dict, at);
            while (!is_op("}")) {
                if (!n->items.empty()) {
                    expect_op(",");
                    if (is_op("}")) {
                        break;
                    }
                }
                n->items.push_back(parse_expression(true));
                expect_op(":");
                n->items.push_back(parse_expression(true));
            }
            advance();
            return n;
        }
        fail("unexpected " + describe(t));
    }

    ExprPtr parse_postfix(ExprPtr n) {
        while (true) {
            if (is_op(".") || is_op("[")) {
                n = parse_subscript(std::move(n));
            } else if (is_op("(")) {
                n = parse_call(std::move(n));
            } else {
                return n;
            }
        }
    }

    ExprPtr parse_filter_expr(ExprPtr n) {
        while (true) {
            if (is_op("|")) {
                n = parse_filter(std::move(n), false);
            } else if (is_name("is")) {
                n = parse_test(std::move(n));
            } else if (is_op("(")) {
                n = parse_call(std::move(n));
            } else {
                return n;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr obj) {
        std::size_t at = cur().offset;
        if (skip_op(".")) {
            if (cur().kind == Tok::name) {
                auto n = node(ExprKind::getattr, at);
                n->a = std::move(obj);
                n->name = cur().value;
                advance();
                return n;
            }
            if (cur().kind != Tok::integer) {
                fail("expected name or number after '.'");
            }
            auto n = node(ExprKind::getitem, at);
            n->a = std::move(obj);
            n->b = node(ExprKind::literal, cur().offset);
            n->b->literal = JVal(cur().int_value);
            advance();
            return n;
        }
        advance(); // [
        std::vector<ExprPtr> args;
        while (!is_op("]")) {
            if (!args.empty()) {
                expect_op(",");
            }
            args.push_back(parse_subscribed());
        }
        advance();
        auto n = node(ExprKind::getitem, at);
        n->a = std::move(obj);
        if (args.size() == 1) {
            n->b = std::move(args[0]);
        } else {
            n->b = node(ExprKind::tuple, at);
            n->b->items = std::move(args);
        }
        return n;
    }

    ExprPtr parse_subscribed() {
        std::size_t at = cur().offset;
        ExprPtr start;
        if (!is_op(":")) {
            start = parse_expression(true);
            if (!is_op(":")) {
                return start;
            }
        }
        advance(); // :
        auto n = node(ExprKind::slice, at);
        n->a = std::move(start);
        if (!is_op(":") && !is_op("]") && !is_op(",")) {
            n->b = parse_expression(true);
        }
        if (skip_op(":")) {
            if (!is_op("]") && !is_op(",")) {
                n->c = parse_expression(true);
            }
        }
        return n;
    }

    void parse_call_args(Expr& n) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) {
                expect_op(",");
                if (is_op(")")) {
                    break;
                }
            }
            first = false;
            if (is_op("*") || is_op("**")) {
                fail("unsupported construct '*args' or '**kwargs' in a call");
            }
            if (cur().kind == Tok::name && next_tok().kind == Tok::op && next_tok().value == "=") {
                std::string key = cur().value;
                advance();
                advance();
                n.kwargs.emplace_back(std::move(key), parse_expression(true));
            } else {
                if (!n.kwargs.empty()) {
                    fail("positional argument after keyword argument");
                }
                n.items.push_back(parse_expression(true));
            }
        }
        advance();
    }

    ExprPtr parse_call(ExprPtr callee) {
        auto n = node(ExprKind::call, cur().offset);
        n->a = std::move(callee);
        parse_call_args(*n);
        return n;
    }

    std::string dotted_name() {
        std::string name = expect_name();
        while (is_op(".") && next_tok().kind == Tok::name) {
            advance();
            name += '.';
            name += expect_name();
        }
        return name;
    }

    ExprPtr parse_filter(ExprPtr input, bool start_inline) {
        while (is_op("|") || start_inline) {
            if (!start_inline) {
                advance();
            }
            start_inline = false;
            std::size_t at = cur().offset;
            auto n = node(ExprKind::filter, at);
            n->name = dotted_name();
            if (!has_filter(n->name)) {
                fail_at(at, "unsupported filter '" + n->name + "'");
            }
            if (is_op("(")) {
                parse_call_args(*n);
            }
            n->a = std::move(input);
            input = std::move(n);
        }
        return input;
    }

    ExprPtr parse_test(ExprPtr input) {
        advance(); // is
        bool negated = skip_name("not");
        std::size_t at = cur().offset;
        auto n = node(ExprKind::test, at);
        n->name = dotted_name();
        if (!has_test(n->name)) {
            fail_at(at, "unsupported test '" + n->name + "'");
        }
        if (is_op("(")) {
            parse_call_args(*n);
        } else if ((cur().kind == Tok::name || cur().kind == Tok::string ||
                    cur().kind == Tok::integer || cur().kind == Tok::floating || is_op("(") ||
                    is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
            if (is_name("is")) {
                fail("cannot chain multiple tests with 'is'");
            }
            n->items.push_back(parse_postfix(parse_primary()));
        }
        n->a = std::move(input);
        if (!negated) {
            return n;
        }
        auto neg = node(ExprKind::not_, at);
        neg->a = std::move(n);
        return neg;
    }

    LexResult lex_;
    std::size_t i_ = 0;
    int depth_ = 0;
};

} // namespace

base::Result<std::shared_ptr<const Program>> parse_template(std::string_view source) {
    auto lexed = lex(source);
    if (!lexed) {
        return lexed.error();
    }
    std::string normalised = lexed->source;
    Parser p(std::move(*lexed));
    try {
        auto program = std::make_shared<Program>();
        program->body = p.parse_all();
        program->source = p.take_source();
        return std::shared_ptr<const Program>(std::move(program));
    } catch (const ParseError& e) {
        return base::Error(errc::template_error, "template syntax error at " +
                                                     describe_position(normalised, e.offset) +
                                                     ": " + e.message);
    }
}

} // namespace agentd::inference::jinja
