#pragma once
// Syntax tree of a parsed template. Nodes are immutable after parsing, so one parsed template
// is rendered concurrently by any number of interpreters.

#include "template/jvalue.h"

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace agentd::inference::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
    literal,  ///< literal
    name,     ///< name
    list,     ///< items
    tuple,    ///< items
    dict,     ///< items = key0, value0, key1, value1, ...
    getattr,  ///< a.name
    getitem,  ///< a[b]
    slice,    ///< a:b:c (each may be null); only as the index of getitem
    call,     ///< a(items..., kwargs...)
    filter,   ///< a | name(items..., kwargs...); a is null inside a filter block
    test,     ///< a is [not] name(items...)
    not_,     ///< not a
    neg,      ///< -a
    pos,      ///< +a
    binary,   ///< a op b, op in + - * / // % **
    compare,  ///< items[0] ops[0] items[1] ops[1] items[2] ...
    and_,     ///< a and b
    or_,      ///< a or b
    concat,   ///< items joined with ~
    condexpr, ///< b if a else c (c may be null)
};

struct Expr {
    ExprKind kind;
    std::size_t pos = 0;
    JVal literal;
    std::string name;
    std::vector<ExprPtr> items;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
    std::vector<std::string> ops;
    ExprPtr a;
    ExprPtr b;
    ExprPtr c;
    bool negated = false;
};

enum class StmtKind {
    data,         ///< text
    output,       ///< {{ expr }}
    if_,          ///< branches (test, body) + else_body
    for_,         ///< targets in expr [if cond] body [else else_body]
    set,          ///< targets (or ns_name.attr) = expr
    set_block,    ///< {% set target %}body{% endset %}, optional filter expr
    macro,        ///< name(params) body
    call_block,   ///< {% call(params) expr %}body{% endcall %}
    filter_block, ///< {% filter expr %}body{% endfilter %}
    break_,
    continue_,
    scope, ///< generation / block: body rendered in place
    with,  ///< {% with targets = values %}body
    do_,   ///< {% do expr %}
};

struct Stmt {
    StmtKind kind;
    std::size_t pos = 0;
    std::string text;
    ExprPtr expr;
    ExprPtr cond;
    std::vector<std::string> targets;
    std::string ns_attr; ///< set ns.attr = ...: targets[0] is the namespace, ns_attr the attribute
    std::vector<std::pair<ExprPtr, Body>> branches;
    Body body;
    Body else_body;
    std::vector<std::pair<std::string, ExprPtr>> params; ///< macro/call parameters, with defaults
    std::vector<ExprPtr> values;                         ///< with-statement values
};

/// A parsed template: its top-level body and the source its positions refer to.
struct Program {
    Body body;
    std::string source;
};

} // namespace agentd::inference::jinja
