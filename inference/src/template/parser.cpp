#include "agentd/inference/errc.h"

#include "template/parser_impl.h"

namespace agentd::inference::jinja {

Body Parser::parse_all() {
    Body body = parse_body({});
    if (cur().kind != Tok::eof) {
        fail("unexpected '{% " + peek_tag() + " %}'");
    }
    return body;
}

void Parser::advance() {
    if (i_ + 1 < lex_.tokens.size()) {
        ++i_;
    }
}

bool Parser::skip_op(std::string_view op) {
    if (is_op(op)) {
        advance();
        return true;
    }
    return false;
}

bool Parser::skip_name(std::string_view n) {
    if (is_name(n)) {
        advance();
        return true;
    }
    return false;
}

void Parser::expect_op(std::string_view op) {
    if (!skip_op(op)) {
        fail("expected '" + std::string(op) + "', got " + describe(cur()));
    }
}

std::string Parser::expect_name() {
    if (cur().kind != Tok::name) {
        fail("expected a name, got " + describe(cur()));
    }
    std::string n = cur().value;
    advance();
    return n;
}

void Parser::expect_block_end() {
    if (cur().kind != Tok::block_end) {
        fail("expected end of statement block, got " + describe(cur()));
    }
    advance();
}

std::string Parser::describe(const Token& t) {
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

ExprPtr Parser::node(ExprKind kind, std::size_t pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
}

Body Parser::parse_body(std::initializer_list<std::string_view> end_tags) {
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

std::string Parser::take_end_tag() {
    advance(); // {%
    return expect_name();
}

StmtPtr Parser::parse_statement() {
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
        fail_at(at, "unsupported construct '{% " + tag + " %}'" +
                        (tag == "include" || tag == "import" || tag == "from" || tag == "extends"
                             ? " (templates cannot load other templates)"
                             : ""));
    }
    return s;
}

void Parser::parse_if(Stmt& s) {
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

std::vector<std::string> Parser::parse_targets(std::string_view end_name) {
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

void Parser::parse_for(Stmt& s) {
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

void Parser::parse_set(Stmt& s) {
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

void Parser::parse_params(Stmt& s) {
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

void Parser::parse_macro(Stmt& s) {
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

void Parser::parse_call_block(Stmt& s) {
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

void Parser::parse_with(Stmt& s) {
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
