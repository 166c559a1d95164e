#include "template/interpreter.h"

#include "template/pystr.h"
#include "value/utf8.h"

#include <cmath>
#include <limits>

namespace agentd::inference::jinja {

const JVal* Scope::lookup(std::string_view name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent) {
        for (const auto& [k, v] : s->vars) {
            if (k == name) {
                return &v;
            }
        }
    }
    return nullptr;
}

void Scope::set(std::string_view name, JVal value) {
    for (auto& [k, v] : vars) {
        if (k == name) {
            v = std::move(value);
            return;
        }
    }
    vars.emplace_back(std::string(name), std::move(value));
}

namespace {

// A user macro. Free names in its body resolve at call time in the template scope, as in
// Jinja2 (top-level `set` variables are visible, the caller's loop variables are not).
class Macro final : public Callable {
public:
    explicit Macro(const Stmt& def) : def_(def) {}

    JVal call(Interpreter& in, CallArgs& args) override {
        in.enter_call();
        Scope local;
        local.parent = &in.root();
        std::size_t next = 0;
        for (const auto& [pname, def] : def_.params) {
            const JVal* given = nullptr;
            if (next < args.positional.size()) {
                given = &args.positional[next++];
            } else {
                given = kwarg(args, pname);
            }
            if (given != nullptr) {
                local.set(pname, *given);
            } else if (def) {
                local.set(pname, in.eval(*def, local));
            } else {
                local.set(pname, JVal::undefined("parameter '" + pname + "' was not provided"));
            }
        }
        auto varargs = make_list();
        for (; next < args.positional.size(); ++next) {
            varargs->items.push_back(args.positional[next]);
        }
        auto kwargs = make_dict();
        for (auto& [k, v] : args.keyword) {
            bool is_param = false;
            for (const auto& p : def_.params) {
                is_param = is_param || p.first == k;
            }
            if (k == "caller") {
                local.set("caller", v);
            } else if (!is_param) {
                kwargs->set(k, v);
            }
        }
        local.set("varargs", JVal(varargs));
        local.set("kwargs", JVal(kwargs));
        std::string out = in.capture(def_.body, local);
        in.leave_call();
        return JVal(std::move(out));
    }

    [[nodiscard]] std::string name() const override { return def_.text; }

private:
    const Stmt& def_;
};

// `caller()` inside a macro invoked from a call block: renders the block body in the scope
// where the call block appears.
class Caller final : public Callable {
public:
    Caller(const Stmt& block, Scope& scope) : block_(block), scope_(scope) {}

    JVal call(Interpreter& in, CallArgs& args) override {
        in.enter_call();
        Scope local;
        local.parent = &scope_;
        std::size_t next = 0;
        for (const auto& [pname, def] : block_.params) {
            const JVal* given =
                next < args.positional.size() ? &args.positional[next++] : kwarg(args, pname);
            if (given != nullptr) {
                local.set(pname, *given);
            } else if (def) {
                local.set(pname, in.eval(*def, local));
            } else {
                local.set(pname, JVal::undefined("parameter '" + pname + "' was not provided"));
            }
        }
        std::string out = in.capture(block_.body, local);
        in.leave_call();
        return JVal(std::move(out));
    }

    [[nodiscard]] std::string name() const override { return "caller"; }

private:
    const Stmt& block_;
    Scope& scope_;
};

class LoopCycle final : public Callable {
public:
    explicit LoopCycle(const std::size_t& index) : index_(index) {}
    JVal call(Interpreter& in, CallArgs& args) override {
        if (args.positional.empty()) {
            in.fail("loop.cycle() needs at least one argument");
        }
        return args.positional[index_ % args.positional.size()];
    }
    [[nodiscard]] std::string name() const override { return "cycle"; }

private:
    const std::size_t& index_;
};

} // namespace

Interpreter::Interpreter(const Program& program, const Limits& limits,
                         std::chrono::system_clock::time_point now)
    : program_(program), limits_(limits), now_(now) {}

void Interpreter::fail(std::size_t offset, const std::string& message) const {
    throw RenderError{offset, message};
}

void Interpreter::step() {
    if (++steps_ > limits_.max_steps) {
        fail("template exceeded " + std::to_string(limits_.max_steps) + " evaluation steps");
    }
}

void Interpreter::check_size(std::size_t bytes) const {
    if (bytes > limits_.max_output_bytes) {
        fail("template output or value larger than " + std::to_string(limits_.max_output_bytes) +
             " bytes");
    }
}

void Interpreter::enter_call() {
    if (++call_depth_ > limits_.max_call_depth) {
        fail("macro calls nested deeper than " + std::to_string(limits_.max_call_depth));
    }
}

std::string Interpreter::render(Scope& globals) {
    Scope top;
    top.parent = &globals;
    root_ = &top;
    std::string out;
    out_ = &out;
    Flow f = exec(program_.body, top);
    if (f != Flow::normal) {
        fail("'break' or 'continue' outside of a loop");
    }
    root_ = nullptr;
    return out;
}

void Interpreter::emit(std::string_view text) {
    check_size(out_->size() + text.size());
    out_->append(text);
}

void Interpreter::emit_value(const JVal& v) {
    if (v.is_string()) {
        emit(v.str());
        return;
    }
    std::string s;
    append_str(s, v);
    emit(s);
}

std::string Interpreter::capture(const Body& body, Scope& scope) {
    std::string buffer;
    std::string* saved = out_;
    out_ = &buffer;
    Flow f = exec(body, scope);
    out_ = saved;
    if (f != Flow::normal) {
        fail("'break' or 'continue' outside of a loop");
    }
    return buffer;
}

Interpreter::Flow Interpreter::exec(const Body& body, Scope& scope) {
    for (const auto& s : body) {
        Flow f = exec_stmt(*s, scope);
        if (f != Flow::normal) {
            return f;
        }
    }
    return Flow::normal;
}

Interpreter::Flow Interpreter::exec_stmt(const Stmt& s, Scope& scope) {
    step();
    current_pos_ = s.pos;
    switch (s.kind) {
    case StmtKind::data:
        emit(s.text);
        return Flow::normal;
    case StmtKind::output:
        emit_value(eval(*s.expr, scope));
        return Flow::normal;
    case StmtKind::if_:
        for (const auto& [test, body] : s.branches) {
            if (truthy(eval(*test, scope))) {
                return exec(body, scope);
            }
        }
        return exec(s.else_body, scope);
    case StmtKind::for_:
        return exec_for(s, scope);
    case StmtKind::set:
        exec_set(s, scope);
        return Flow::normal;
    case StmtKind::set_block: {
        Scope inner;
        inner.parent = &scope;
        JVal value(capture(s.body, inner));
        if (s.expr) {
            // The filter chain's innermost input is the captured text.
            const Expr* chain = s.expr.get();
            std::vector<const Expr*> filters;
            for (; chain != nullptr; chain = chain->a.get()) {
                filters.push_back(chain);
            }
            for (auto it = filters.rbegin(); it != filters.rend(); ++it) {
                CallArgs args = eval_args(**it, scope);
                value = apply_filter((*it)->name, value, args);
            }
        }
        scope.set(s.targets[0], std::move(value));
        return Flow::normal;
    }
    case StmtKind::filter_block: {
        Scope inner;
        inner.parent = &scope;
        JVal value(capture(s.body, inner));
        std::vector<const Expr*> filters;
        for (const Expr* chain = s.expr.get(); chain != nullptr; chain = chain->a.get()) {
            filters.push_back(chain);
        }
        for (auto it = filters.rbegin(); it != filters.rend(); ++it) {
            CallArgs args = eval_args(**it, scope);
            value = apply_filter((*it)->name, value, args);
        }
        emit_value(value);
        return Flow::normal;
    }
    case StmtKind::macro:
        exec_macro(s, scope);
        return Flow::normal;
    case StmtKind::call_block:
        exec_call_block(s, scope);
        return Flow::normal;
    case StmtKind::break_:
        return Flow::break_;
    case StmtKind::continue_:
        return Flow::continue_;
    case StmtKind::scope: {
        // {% generation %} is a call block in transformers and {% block %} a block: both
        // render their body in a scope of its own.
        Scope inner;
        inner.parent = &scope;
        return exec(s.body, inner);
    }
    case StmtKind::with: {
        Scope inner;
        inner.parent = &scope;
        for (std::size_t i = 0; i < s.targets.size(); ++i) {
            inner.set(s.targets[i], eval(*s.values[i], scope));
        }
        return exec(s.body, inner);
    }
    case StmtKind::do_:
        eval(*s.expr, scope);
        return Flow::normal;
    }
    return Flow::normal;
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s, Scope& scope) {
    JVal iterable = eval(*s.expr, scope);
    std::vector<JVal> items = iterate(*this, iterable);
    auto bind = [&](Scope& target, const JVal& item) {
        if (s.targets.size() == 1) {
            target.set(s.targets[0], item);
            return;
        }
        if (!item.is_list() || item.list()->items.size() != s.targets.size()) {
            fail(s.pos, "cannot unpack " + std::string(type_name(item)) + " into " +
                            std::to_string(s.targets.size()) + " loop variables");
        }
        for (std::size_t i = 0; i < s.targets.size(); ++i) {
            target.set(s.targets[i], item.list()->items[i]);
        }
    };
    if (s.cond) {
        std::vector<JVal> kept;
        for (auto& item : items) {
            Scope probe;
            probe.parent = &scope;
            bind(probe, item);
            if (truthy(eval(*s.cond, probe))) {
                kept.push_back(std::move(item));
            }
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        Scope inner;
        inner.parent = &scope;
        exec(s.else_body, inner);
        return Flow::normal;
    }
    std::size_t index = 0;
    auto cycle = std::make_shared<LoopCycle>(index);
    const std::size_t n = items.size();
    for (index = 0; index < n; ++index) {
        step();
        Scope iter;
        iter.parent = &scope;
        bind(iter, items[index]);
        auto loop = make_dict();
        auto i = static_cast<std::int64_t>(index);
        auto len = static_cast<std::int64_t>(n);
        loop->items = {{"index", JVal(i + 1)},
                       {"index0", JVal(i)},
                       {"revindex", JVal(len - i)},
                       {"revindex0", JVal(len - i - 1)},
                       {"first", JVal(index == 0)},
                       {"last", JVal(index + 1 == n)},
                       {"length", JVal(len)},
                       {"depth", JVal(1)},
                       {"depth0", JVal(0)},
                       {"cycle", JVal(std::static_pointer_cast<Callable>(cycle))}};
        if (index > 0) {
            loop->items.emplace_back("previtem", items[index - 1]);
        }
        if (index + 1 < n) {
            loop->items.emplace_back("nextitem", items[index + 1]);
        }
        iter.set("loop", JVal(loop));
        Flow f = exec(s.body, iter);
        if (f == Flow::break_) {
            break;
        }
    }
    return Flow::normal;
}

void Interpreter::exec_set(const Stmt& s, Scope& scope) {
    JVal value = eval(*s.expr, scope);
    if (!s.ns_attr.empty()) {
        const JVal* ns = scope.lookup(s.targets[0]);
        if (ns == nullptr || !ns->is_dict() || !ns->dict()->is_namespace) {
            fail(s.pos, "cannot assign attribute '" + s.ns_attr + "' on '" + s.targets[0] +
                            "', which is not a namespace()");
        }
        ns->dict()->set(s.ns_attr, std::move(value));
        return;
    }
    if (s.targets.size() == 1) {
        scope.set(s.targets[0], std::move(value));
        return;
    }
    if (!value.is_list() || value.list()->items.size() != s.targets.size()) {
        fail(s.pos, "cannot unpack " + std::string(type_name(value)) + " into " +
                        std::to_string(s.targets.size()) + " names");
    }
    for (std::size_t i = 0; i < s.targets.size(); ++i) {
        scope.set(s.targets[i], value.list()->items[i]);
    }
}

void Interpreter::exec_macro(const Stmt& s, Scope& scope) {
    scope.set(s.text, JVal(std::static_pointer_cast<Callable>(std::make_shared<Macro>(s))));
}

void Interpreter::exec_call_block(const Stmt& s, Scope& scope) {
    const Expr& call = *s.expr;
    JVal fn = eval(*call.a, scope);
    CallArgs args = eval_args(call, scope);
    args.keyword.emplace_back(
        "caller", JVal(std::static_pointer_cast<Callable>(std::make_shared<Caller>(s, scope))));
    emit_value(call_value(fn, args, call.pos));
}

} // namespace agentd::inference::jinja
