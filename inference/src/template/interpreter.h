#pragma once
// Tree-walking evaluator for parsed templates, with Jinja2's scoping (a for-loop iteration and
// a macro call each get their own scope; `if` does not) and hard bounds on steps, output size,
// string size and call depth, so a hostile template cannot hang or exhaust memory.

#include "template/ast.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentd::inference::jinja {

struct Limits {
    std::uint64_t max_steps = 20'000'000;
    std::size_t max_output_bytes = 64u << 20; ///< also bounds any single string or list built
    int max_call_depth = 64;
};

/// An error raised while rendering; carries the source offset of the node that failed.
/// Internal to the template engine: render() turns it into a Result.
struct RenderError {
    std::size_t offset;
    std::string message;
};

struct Scope {
    Scope* parent = nullptr;
    std::vector<std::pair<std::string, JVal>> vars;

    [[nodiscard]] const JVal* lookup(std::string_view name) const;
    void set(std::string_view name, JVal value);
};

class Interpreter {
public:
    Interpreter(const Program& program, const Limits& limits,
                std::chrono::system_clock::time_point now);

    /// Renders the program with `context` as the template-level variables.
    std::string render(Scope& globals);

    // Used by builtins.
    [[noreturn]] void fail(std::size_t offset, const std::string& message) const;
    [[noreturn]] void fail(const std::string& message) const { fail(current_pos_, message); }
    void step();
    void check_size(std::size_t bytes) const;
    [[nodiscard]] const Limits& limits() const { return limits_; }
    [[nodiscard]] std::chrono::system_clock::time_point now() const { return now_; }
    [[nodiscard]] Scope& root() { return *root_; }

    JVal eval(const Expr& e, Scope& scope);
    enum class Flow { normal, break_, continue_ };
    Flow exec(const Body& body, Scope& scope);
    /// Renders `body` into a string instead of the current output.
    std::string capture(const Body& body, Scope& scope);
    void enter_call();
    void leave_call() { --call_depth_; }

    /// Calls a callable value (global, bound method, macro) with evaluated arguments.
    JVal call_value(const JVal& fn, CallArgs& args, std::size_t offset);
    /// Jinja's getitem (obj[key]) and getattr (obj.name) semantics, for builtins.
    JVal item(const JVal& obj, const JVal& key) { return eval_getitem(obj, key, current_pos_); }
    JVal attribute(const JVal& obj, const std::string& name) {
        return eval_getattr(obj, name, current_pos_);
    }
    /// Applies a filter by name (the input already evaluated).
    JVal apply_filter(std::string_view name, const JVal& input, CallArgs& args);

private:
    Flow exec_stmt(const Stmt& s, Scope& scope);
    Flow exec_for(const Stmt& s, Scope& scope);
    void exec_set(const Stmt& s, Scope& scope);
    void exec_macro(const Stmt& s, Scope& scope);
    void exec_call_block(const Stmt& s, Scope& scope);
    void emit(std::string_view text);
    void emit_value(const JVal& v);

    JVal eval_getattr(const JVal& obj, const std::string& name, std::size_t pos);
    JVal eval_getitem(const JVal& obj, const JVal& key, std::size_t pos);
    JVal eval_slice(const JVal& obj, const Expr& slice, Scope& scope);
    JVal eval_binary(const Expr& e, Scope& scope);
    JVal eval_compare(const Expr& e, Scope& scope);
    JVal eval_call(const Expr& e, Scope& scope);
    JVal eval_filter(const Expr& e, Scope& scope);
    JVal eval_test(const Expr& e, Scope& scope);
    CallArgs eval_args(const Expr& e, Scope& scope);
    bool contains(const JVal& container, const JVal& item, std::size_t pos);

    const Program& program_;
    Limits limits_;
    std::chrono::system_clock::time_point now_;
    std::uint64_t steps_ = 0;
    int call_depth_ = 0;
    std::size_t current_pos_ = 0;
    std::string* out_ = nullptr;
    Scope* root_ = nullptr;
};

/// Builtins (filters.cpp, tests.cpp, methods.cpp, globals.cpp).
JVal call_filter(Interpreter& in, std::string_view name, const JVal& input, CallArgs& args);
bool call_test(Interpreter& in, std::string_view name, const JVal& input, CallArgs& args);
/// A bound method for `obj.name`, or nullopt when the type has no such method.
std::optional<JVal> find_method(const JVal& obj, std::string_view name);
/// Installs range, dict, namespace, raise_exception, strftime_now, joiner, cycler.
void install_globals(Scope& scope);

/// Helpers shared by builtins.
const JVal* kwarg(CallArgs& args, std::string_view name);
/// Positional argument i or keyword `name`, or nullptr.
const JVal* arg(CallArgs& args, std::size_t i, std::string_view name);
/// Iterates a value as Python would (list items, dict keys, string characters); error otherwise.
std::vector<JVal> iterate(Interpreter& in, const JVal& v);
std::int64_t to_int(Interpreter& in, const JVal& v, std::string_view what);

} // namespace agentd::inference::jinja
