#pragma once
// Runtime values of the Jinja interpreter. They follow Python's semantics where chat templates
// can observe them: lists and dicts are shared by reference (a namespace attribute set inside a
// loop is visible after it), `str()` of a list or dict is Python's repr, 1 == 1.0, and so on.

#include "agentd/inference/value.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace agentd::inference::jinja {

struct JList;
struct JDict;
class Callable;
class Interpreter;

/// Jinja's Undefined: prints as "", iterates as empty, is falsy; most other uses are errors.
/// `hint` names what was missing, for the error message.
struct Undefined {
    std::string hint;
};
struct None {};

class JVal {
public:
    using Data =
        std::variant<Undefined, None, bool, std::int64_t, double, std::string,
                     std::shared_ptr<JList>, std::shared_ptr<JDict>, std::shared_ptr<Callable>>;

    JVal() : data_(Undefined{}) {}
    static JVal undefined(std::string hint) { return JVal(Data(Undefined{std::move(hint)})); }
    static JVal none() { return JVal(Data(None{})); }
    JVal(bool b) : data_(b) {}
    JVal(std::int64_t i) : data_(i) {}
    JVal(int i) : data_(static_cast<std::int64_t>(i)) {}
    JVal(double d) : data_(d) {}
    JVal(std::string s) : data_(std::move(s)) {}
    JVal(const char* s) : data_(std::string(s)) {}
    JVal(std::shared_ptr<JList> l) : data_(std::move(l)) {}
    JVal(std::shared_ptr<JDict> d) : data_(std::move(d)) {}
    JVal(std::shared_ptr<Callable> c) : data_(std::move(c)) {}

    [[nodiscard]] bool is_undefined() const { return data_.index() == 0; }
    [[nodiscard]] bool is_none() const { return data_.index() == 1; }
    [[nodiscard]] bool is_bool() const { return data_.index() == 2; }
    [[nodiscard]] bool is_int() const { return data_.index() == 3; }
    [[nodiscard]] bool is_float() const { return data_.index() == 4; }
    /// int, float or bool (bool is an int in Python).
    [[nodiscard]] bool is_number() const { return is_int() || is_float() || is_bool(); }
    [[nodiscard]] bool is_string() const { return data_.index() == 5; }
    [[nodiscard]] bool is_list() const { return data_.index() == 6; }
    [[nodiscard]] bool is_dict() const { return data_.index() == 7; }
    [[nodiscard]] bool is_callable() const { return data_.index() == 8; }

    [[nodiscard]] bool as_bool() const { return std::get<bool>(data_); }
    [[nodiscard]] std::int64_t as_int() const { return std::get<std::int64_t>(data_); }
    [[nodiscard]] double as_float() const { return std::get<double>(data_); }
    /// int or bool as an integer.
    [[nodiscard]] std::int64_t int_value() const { return is_bool() ? as_bool() : as_int(); }
    /// Any number as a double.
    [[nodiscard]] double number_value() const {
        return is_float() ? as_float() : static_cast<double>(int_value());
    }
    [[nodiscard]] const std::string& str() const { return std::get<std::string>(data_); }
    [[nodiscard]] const std::shared_ptr<JList>& list() const {
        return std::get<std::shared_ptr<JList>>(data_);
    }
    [[nodiscard]] const std::shared_ptr<JDict>& dict() const {
        return std::get<std::shared_ptr<JDict>>(data_);
    }
    [[nodiscard]] const std::shared_ptr<Callable>& callable() const {
        return std::get<std::shared_ptr<Callable>>(data_);
    }
    [[nodiscard]] const std::string& undefined_hint() const {
        return std::get<Undefined>(data_).hint;
    }

private:
    explicit JVal(Data d) : data_(std::move(d)) {}
    Data data_;
};

struct JList {
    std::vector<JVal> items;
    bool is_tuple = false; // repr uses parentheses
};

/// Insertion-ordered string-keyed dict (Jinja dict literals, JSON objects, namespaces).
struct JDict {
    std::vector<std::pair<std::string, JVal>> items;
    bool is_namespace = false;

    [[nodiscard]] const JVal* find(std::string_view key) const;
    [[nodiscard]] JVal* find(std::string_view key);
    void set(std::string key, JVal value);
    bool erase(std::string_view key);
};

/// Arguments of a call: positional, then keyword arguments in source order.
struct CallArgs {
    std::vector<JVal> positional;
    std::vector<std::pair<std::string, JVal>> keyword;
};

/// Something a template can call: a global function, a bound method, a macro, `caller`.
class Callable {
public:
    virtual ~Callable() = default;
    virtual JVal call(Interpreter& interp, CallArgs& args) = 0;
    [[nodiscard]] virtual std::string name() const = 0;
};

inline std::shared_ptr<JList> make_list(std::vector<JVal> items = {}, bool tuple = false) {
    auto l = std::make_shared<JList>();
    l->items = std::move(items);
    l->is_tuple = tuple;
    return l;
}

inline std::shared_ptr<JDict> make_dict() {
    return std::make_shared<JDict>();
}

/// Concatenates string pieces (avoids GCC 12's -Wrestrict false positives on `"x" + str`).
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string out;
    ((out += parts), ...);
    return out;
}

/// Converts a Value (deeply) into runtime values, and back. from_jval fails (returns false) on
/// values JSON cannot hold (undefined, callables).
JVal to_jval(const Value& v);
bool from_jval(const JVal& v, Value& out);

/// Python type name as Jinja's error messages use it ("str", "int", "dict", "undefined", ...).
const char* type_name(const JVal& v);

/// Python truthiness.
bool truthy(const JVal& v);

/// Python str() (what `{{ x }}` prints; Undefined prints ""), and repr().
void append_str(std::string& out, const JVal& v);
std::string to_str(const JVal& v);
void append_repr(std::string& out, const JVal& v);

/// Python ==.
bool equals(const JVal& a, const JVal& b);

/// Python <; returns false and sets `ok` false when the types do not order.
bool less(const JVal& a, const JVal& b, bool& ok);

} // namespace agentd::inference::jinja
