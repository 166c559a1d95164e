// Expression parsing (Jinja2 precedence: condexpr < or < and < not < compare < + - < ~ < * / // %
// < ** < unary < postfix/filters/tests).

#include "template/parser_impl.h"

namespace agentd::inference::jinja {

bool Parser::is_tuple_end(std::initializer_list<std::string_view> extra) const {
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

ExprPtr Parser::parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    return with_condexpr ? parse_condexpr() : parse_or();
}

ExprPtr Parser::parse_condexpr() {
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

ExprPtr Parser::parse_or() {
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

ExprPtr Parser::parse_and() {
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

ExprPtr Parser::parse_not() {
    if (is_name("not")) {
        DepthGuard guard(*this);
        auto n = node(ExprKind::not_, cur().offset);
        advance();
        n->a = parse_not();
        return n;
    }
    return parse_compare();
}

ExprPtr Parser::parse_compare() {
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

ExprPtr Parser::binary(std::string op, ExprPtr a, ExprPtr b, std::size_t at) {
    auto n = node(ExprKind::binary, at);
    n->name = std::move(op);
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
}

ExprPtr Parser::parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
        std::string op = cur().value;
        std::size_t at = cur().offset;
        advance();
        left = binary(op, std::move(left), parse_concat(), at);
    }
    return left;
}

ExprPtr Parser::parse_concat() {
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

ExprPtr Parser::parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
        std::string op = cur().value;
        std::size_t at = cur().offset;
        advance();
        left = binary(op, std::move(left), parse_pow(), at);
    }
    return left;
}

ExprPtr Parser::parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
        std::size_t at = cur().offset;
        advance();
        left = binary("**", std::move(left), parse_unary(true), at);
    }
    return left;
}

ExprPtr Parser::parse_unary(bool with_filter) {
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

ExprPtr Parser::parse_primary() {
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

ExprPtr Parser::parse_postfix(ExprPtr n) {
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

ExprPtr Parser::parse_filter_expr(ExprPtr n) {
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

ExprPtr Parser::parse_subscript(ExprPtr obj) {
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

ExprPtr Parser::parse_subscribed() {
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

void Parser::parse_call_args(Expr& n) {
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

ExprPtr Parser::parse_call(ExprPtr callee) {
    auto n = node(ExprKind::call, cur().offset);
    n->a = std::move(callee);
    parse_call_args(*n);
    return n;
}

std::string Parser::dotted_name() {
    std::string name = expect_name();
    while (is_op(".") && next_tok().kind == Tok::name) {
        advance();
        name += '.';
        name += expect_name();
    }
    return name;
}

ExprPtr Parser::parse_filter(ExprPtr input, bool start_inline) {
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

ExprPtr Parser::parse_test(ExprPtr input) {
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

} // namespace agentd::inference::jinja
