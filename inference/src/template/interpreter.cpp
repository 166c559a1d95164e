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

bool checked_add(std::int64_t a, std::int64_t b, std::int64_t& r) {
    return !__builtin_add_overflow(a, b, &r);
}

double py_floor_mod(double a, double b) {
    double m = std::fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0))) {
        m += b;
    }
    return m;
}

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

CallArgs Interpreter::eval_args(const Expr& e, Scope& scope) {
    CallArgs args;
    args.positional.reserve(e.items.size());
    for (const auto& a : e.items) {
        args.positional.push_back(eval(*a, scope));
    }
    for (const auto& [k, v] : e.kwargs) {
        args.keyword.emplace_back(k, eval(*v, scope));
    }
    return args;
}

JVal Interpreter::eval(const Expr& e, Scope& scope) {
    step();
    current_pos_ = e.pos;
    switch (e.kind) {
    case ExprKind::literal:
        return e.literal;
    case ExprKind::name: {
        const JVal* v = scope.lookup(e.name);
        return v != nullptr ? *v : JVal::undefined("'" + e.name + "' is undefined");
    }
    case ExprKind::list:
    case ExprKind::tuple: {
        std::vector<JVal> items;
        items.reserve(e.items.size());
        for (const auto& i : e.items) {
            items.push_back(eval(*i, scope));
        }
        return JVal(make_list(std::move(items), e.kind == ExprKind::tuple));
    }
    case ExprKind::dict: {
        auto d = make_dict();
        for (std::size_t i = 0; i + 1 < e.items.size(); i += 2) {
            JVal k = eval(*e.items[i], scope);
            if (!k.is_string()) {
                fail(e.items[i]->pos, "unsupported construct: dict key of type " +
                                          std::string(type_name(k)) + " (only strings)");
            }
            d->set(k.str(), eval(*e.items[i + 1], scope));
        }
        return JVal(d);
    }
    case ExprKind::getattr:
        return eval_getattr(eval(*e.a, scope), e.name, e.pos);
    case ExprKind::getitem:
        if (e.b->kind == ExprKind::slice) {
            return eval_slice(eval(*e.a, scope), *e.b, scope);
        }
        return eval_getitem(eval(*e.a, scope), eval(*e.b, scope), e.pos);
    case ExprKind::slice:
        fail(e.pos, "a slice is only valid inside []");
    case ExprKind::call:
        return eval_call(e, scope);
    case ExprKind::filter:
        return eval_filter(e, scope);
    case ExprKind::test:
        return eval_test(e, scope);
    case ExprKind::not_:
        return JVal(!truthy(eval(*e.a, scope)));
    case ExprKind::neg:
    case ExprKind::pos: {
        JVal v = eval(*e.a, scope);
        if (!v.is_number()) {
            fail(e.pos, std::string("bad operand type for unary ") +
                            (e.kind == ExprKind::neg ? "-" : "+") + ": '" + type_name(v) + "'");
        }
        if (e.kind == ExprKind::pos) {
            return v.is_bool() ? JVal(v.int_value()) : v;
        }
        if (v.is_float()) {
            return JVal(-v.as_float());
        }
        if (v.int_value() == std::numeric_limits<std::int64_t>::min()) {
            fail(e.pos, "integer overflow");
        }
        return JVal(-v.int_value());
    }
    case ExprKind::binary:
        return eval_binary(e, scope);
    case ExprKind::compare:
        return eval_compare(e, scope);
    case ExprKind::and_: {
        JVal a = eval(*e.a, scope);
        return truthy(a) ? eval(*e.b, scope) : a;
    }
    case ExprKind::or_: {
        JVal a = eval(*e.a, scope);
        return truthy(a) ? a : eval(*e.b, scope);
    }
    case ExprKind::concat: {
        std::string out;
        for (const auto& part : e.items) {
            append_str(out, eval(*part, scope));
            check_size(out.size());
        }
        return JVal(std::move(out));
    }
    case ExprKind::condexpr:
        if (truthy(eval(*e.a, scope))) {
            return eval(*e.b, scope);
        }
        return e.c ? eval(*e.c, scope)
                   : JVal::undefined("the inline if-expression had no else branch");
    }
    return JVal();
}

JVal Interpreter::eval_getattr(const JVal& obj, const std::string& name, std::size_t pos) {
    if (obj.is_undefined()) {
        fail(pos, obj.undefined_hint().empty() ? "undefined value has no attribute '" + name + "'"
                                               : obj.undefined_hint());
    }
    if (obj.is_dict()) {
        if (!obj.dict()->is_namespace) {
            if (auto m = find_method(obj, name)) {
                return *m;
            }
        }
        if (const JVal* v = obj.dict()->find(name)) {
            return *v;
        }
        return JVal::undefined("'" + std::string(type_name(obj)) + " object' has no attribute '" +
                               name + "'");
    }
    if (auto m = find_method(obj, name)) {
        return *m;
    }
    return JVal::undefined("'" + std::string(type_name(obj)) + " object' has no attribute '" +
                           name + "'");
}

JVal Interpreter::eval_getitem(const JVal& obj, const JVal& key, std::size_t pos) {
    if (obj.is_undefined()) {
        fail(pos, obj.undefined_hint().empty() ? "undefined value is not subscriptable"
                                               : obj.undefined_hint());
    }
    auto missing = [&]() {
        std::string k;
        append_repr(k, key);
        return JVal::undefined(cat("'", type_name(obj), " object' has no item ", k));
    };
    if (obj.is_dict()) {
        if (key.is_string()) {
            if (const JVal* v = obj.dict()->find(key.str())) {
                return *v;
            }
            if (auto m = find_method(obj, key.str())) {
                return *m;
            }
        }
        return missing();
    }
    if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
        std::int64_t i = key.int_value();
        if (obj.is_list()) {
            auto n = static_cast<std::int64_t>(obj.list()->items.size());
            if (i < 0) {
                i += n;
            }
            if (i < 0 || i >= n) {
                return missing();
            }
            return obj.list()->items[static_cast<std::size_t>(i)];
        }
        std::string s = py::slice(obj.str(), i, i == -1 ? std::nullopt : std::optional(i + 1), 1);
        if (s.empty()) {
            return missing();
        }
        return JVal(std::move(s));
    }
    if (key.is_string()) {
        if (auto m = find_method(obj, key.str())) {
            return *m;
        }
    }
    return missing();
}

JVal Interpreter::eval_slice(const JVal& obj, const Expr& slice, Scope& scope) {
    auto bound = [&](const ExprPtr& p) -> std::optional<std::int64_t> {
        if (!p) {
            return std::nullopt;
        }
        JVal v = eval(*p, scope);
        if (v.is_none()) {
            return std::nullopt;
        }
        return to_int(*this, v, "slice index");
    };
    auto start = bound(slice.a);
    auto stop = bound(slice.b);
    std::int64_t step_by = slice.c ? bound(slice.c).value_or(1) : 1;
    if (step_by == 0) {
        fail(slice.pos, "slice step cannot be zero");
    }
    if (obj.is_undefined()) {
        fail(slice.pos, obj.undefined_hint().empty() ? "undefined value is not subscriptable"
                                                     : obj.undefined_hint());
    }
    if (obj.is_string()) {
        return JVal(py::slice(obj.str(), start, stop, step_by));
    }
    if (obj.is_list()) {
        auto out = make_list({}, obj.list()->is_tuple);
        const auto& items = obj.list()->items;
        for (std::size_t i : py::slice_indices(items.size(), start, stop, step_by)) {
            out->items.push_back(items[i]);
        }
        return JVal(out);
    }
    return JVal::undefined("'" + std::string(type_name(obj)) + " object' is not subscriptable");
}

JVal Interpreter::eval_binary(const Expr& e, Scope& scope) {
    JVal a = eval(*e.a, scope);
    JVal b = eval(*e.b, scope);
    const std::string& op = e.name;
    auto type_error = [&]() -> std::string {
        if (a.is_undefined() || b.is_undefined()) {
            const JVal& u = a.is_undefined() ? a : b;
            return u.undefined_hint().empty() ? "undefined value in arithmetic"
                                              : u.undefined_hint();
        }
        return "unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" +
               type_name(b) + "'";
    };
    if (a.is_number() && b.is_number()) {
        bool ints = !a.is_float() && !b.is_float();
        if (ints && op != "/" && op != "**") {
            std::int64_t x = a.int_value();
            std::int64_t y = b.int_value();
            std::int64_t r = 0;
            bool ok = true;
            if (op == "+") {
                ok = checked_add(x, y, r);
            } else if (op == "-") {
                ok = !__builtin_sub_overflow(x, y, &r);
            } else if (op == "*") {
                ok = !__builtin_mul_overflow(x, y, &r);
            } else {
                if (y == 0) {
                    fail(e.pos, "integer division or modulo by zero");
                }
                if (x == std::numeric_limits<std::int64_t>::min() && y == -1) {
                    fail(e.pos, "integer overflow");
                }
                std::int64_t q = x / y;
                std::int64_t m = x % y;
                if (m != 0 && ((m < 0) != (y < 0))) {
                    q -= 1;
                    m += y;
                }
                r = op == "//" ? q : m;
            }
            if (!ok) {
                fail(e.pos, "integer overflow");
            }
            return JVal(r);
        }
        double x = a.number_value();
        double y = b.number_value();
        if (op == "+") {
            return JVal(x + y);
        }
        if (op == "-") {
            return JVal(x - y);
        }
        if (op == "*") {
            return JVal(x * y);
        }
        if (op == "**") {
            if (ints && b.int_value() >= 0) {
                std::int64_t r = 1;
                std::int64_t base = a.int_value();
                for (std::int64_t k = 0; k < b.int_value(); ++k) {
                    if (__builtin_mul_overflow(r, base, &r)) {
                        fail(e.pos, "integer overflow");
                    }
                    if (r == 0 || r == 1) {
                        break;
                    }
                }
                return JVal(r);
            }
            return JVal(std::pow(x, y));
        }
        if (y == 0) {
            fail(e.pos, "division by zero");
        }
        if (op == "/") {
            return JVal(x / y);
        }
        if (op == "//") {
            return JVal(std::floor(x / y));
        }
        return JVal(py_floor_mod(x, y));
    }
    if (op == "+") {
        if (a.is_string() && b.is_string()) {
            check_size(a.str().size() + b.str().size());
            return JVal(a.str() + b.str());
        }
        if (a.is_list() && b.is_list()) {
            check_size((a.list()->items.size() + b.list()->items.size()) * sizeof(JVal));
            auto l = make_list(a.list()->items, a.list()->is_tuple);
            l->items.insert(l->items.end(), b.list()->items.begin(), b.list()->items.end());
            return JVal(l);
        }
        fail(e.pos, type_error());
    }
    if (op == "*" && (a.is_string() || a.is_list() || b.is_string() || b.is_list())) {
        const JVal& seq = (a.is_string() || a.is_list()) ? a : b;
        const JVal& count = (a.is_string() || a.is_list()) ? b : a;
        if (!count.is_int() && !count.is_bool()) {
            fail(e.pos, type_error());
        }
        std::int64_t n = std::max<std::int64_t>(0, count.int_value());
        if (seq.is_string()) {
            check_size(seq.str().size() * static_cast<std::size_t>(n));
            std::string out;
            for (std::int64_t k = 0; k < n; ++k) {
                out += seq.str();
            }
            return JVal(std::move(out));
        }
        check_size(seq.list()->items.size() * static_cast<std::size_t>(n) * sizeof(JVal));
        auto l = make_list({}, seq.list()->is_tuple);
        for (std::int64_t k = 0; k < n; ++k) {
            l->items.insert(l->items.end(), seq.list()->items.begin(), seq.list()->items.end());
        }
        return JVal(l);
    }
    if (op == "%" && a.is_string()) {
        CallArgs args;
        if (b.is_list() && b.list()->is_tuple) {
            args.positional = b.list()->items;
        } else {
            args.positional.push_back(b);
        }
        return call_filter(*this, "format", a, args);
    }
    fail(e.pos, type_error());
}

JVal Interpreter::eval_compare(const Expr& e, Scope& scope) {
    JVal left = eval(*e.items[0], scope);
    for (std::size_t i = 0; i < e.ops.size(); ++i) {
        JVal right = eval(*e.items[i + 1], scope);
        const std::string& op = e.ops[i];
        bool r = false;
        if (op == "==") {
            r = equals(left, right);
        } else if (op == "!=") {
            r = !equals(left, right);
        } else if (op == "in") {
            r = contains(right, left, e.pos);
        } else if (op == "notin") {
            r = !contains(right, left, e.pos);
        } else {
            bool ok = true;
            if (op == "<") {
                r = less(left, right, ok);
            } else if (op == ">") {
                r = less(right, left, ok);
            } else if (op == "<=") {
                r = !less(right, left, ok);
            } else {
                r = !less(left, right, ok);
            }
            if (!ok) {
                fail(e.pos, "'" + op + "' not supported between instances of '" + type_name(left) +
                                "' and '" + type_name(right) + "'");
            }
        }
        if (!r) {
            return JVal(false);
        }
        left = std::move(right);
    }
    return JVal(true);
}

bool Interpreter::contains(const JVal& container, const JVal& item, std::size_t pos) {
    if (container.is_string()) {
        if (!item.is_string()) {
            fail(pos, "'in <string>' requires string as left operand, not " +
                          std::string(type_name(item)));
        }
        return container.str().find(item.str()) != std::string::npos;
    }
    if (container.is_list()) {
        for (const auto& x : container.list()->items) {
            if (equals(x, item)) {
                return true;
            }
        }
        return false;
    }
    if (container.is_dict()) {
        return item.is_string() && container.dict()->find(item.str()) != nullptr;
    }
    if (container.is_undefined()) {
        return false; // Undefined iterates as empty
    }
    fail(pos, "argument of type '" + std::string(type_name(container)) + "' is not iterable");
}

JVal Interpreter::eval_call(const Expr& e, Scope& scope) {
    JVal fn = eval(*e.a, scope);
    CallArgs args = eval_args(e, scope);
    return call_value(fn, args, e.pos);
}

JVal Interpreter::call_value(const JVal& fn, CallArgs& args, std::size_t offset) {
    if (fn.is_callable()) {
        current_pos_ = offset;
        return fn.callable()->call(*this, args);
    }
    if (fn.is_undefined()) {
        fail(offset,
             fn.undefined_hint().empty() ? "call of an undefined value" : fn.undefined_hint());
    }
    fail(offset, "'" + std::string(type_name(fn)) + "' object is not callable");
}

JVal Interpreter::apply_filter(std::string_view name, const JVal& input, CallArgs& args) {
    return call_filter(*this, name, input, args);
}

JVal Interpreter::eval_filter(const Expr& e, Scope& scope) {
    JVal input = e.a ? eval(*e.a, scope) : JVal();
    CallArgs args = eval_args(e, scope);
    current_pos_ = e.pos;
    return call_filter(*this, e.name, input, args);
}

JVal Interpreter::eval_test(const Expr& e, Scope& scope) {
    JVal input = eval(*e.a, scope);
    CallArgs args = eval_args(e, scope);
    current_pos_ = e.pos;
    return JVal(call_test(*this, e.name, input, args));
}

} // namespace agentd::inference::jinja
