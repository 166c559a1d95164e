#pragma once
/// A JSON-like value for the inference module (which links no JSON library, STYLE.md 2.1).
///
/// `Value` is null, bool, 64-bit integer, double, UTF-8 string, array or object. Objects keep
/// their keys in insertion order (chat templates and `tojson` render keys in the order the
/// client sent them, as Python dicts do). Integers and doubles are distinct kinds, so `1` and
/// `1.0` round-trip as written. The gateway converts nlohmann::json to and from Value at the
/// module boundary; templates, grammars (JSON Schema) and tool-call parsing consume it.
///
/// Ownership: plain value semantics (copies are deep). Thread affinity: none; a const Value may
/// be read from any number of threads. Errors: accessors of the wrong kind are bugs and abort
/// (AGENTD_CHECK); use the `is_*` / `find` queries on untrusted data.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace agentd::inference {

class Value;

/// An insertion-ordered string-keyed map. Lookups are linear for small objects and hashed once
/// an object grows past a few keys, so hostile inputs with many keys stay O(n).
class Object {
public:
    using Entry = std::pair<std::string, Value>;

    Object();
    Object(std::initializer_list<Entry> entries);
    Object(const Object& other);
    Object(Object&& other) noexcept;
    Object& operator=(const Object& other);
    Object& operator=(Object&& other) noexcept;
    ~Object();

    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] bool empty() const noexcept;
    [[nodiscard]] const Value* find(std::string_view key) const;
    [[nodiscard]] Value* find(std::string_view key);
    [[nodiscard]] bool contains(std::string_view key) const { return find(key) != nullptr; }
    /// Inserts or replaces; a replaced key keeps its original position (Python dict semantics).
    Value& set(std::string key, Value value);
    /// The value under `key`, inserting null at the end when absent.
    Value& operator[](std::string_view key);
    /// Removes `key`; returns whether it was present. O(n).
    bool erase(std::string_view key);

    using const_iterator = std::vector<Entry>::const_iterator;
    using iterator = std::vector<Entry>::iterator;
    [[nodiscard]] const_iterator begin() const noexcept;
    [[nodiscard]] const_iterator end() const noexcept;
    [[nodiscard]] iterator begin() noexcept;
    [[nodiscard]] iterator end() noexcept;
    [[nodiscard]] const Entry& at(std::size_t i) const;

    friend bool operator==(const Object& a, const Object& b);

private:
    struct Index;
    [[nodiscard]] std::ptrdiff_t index_of(std::string_view key) const;
    void reindex();

    std::vector<Entry> entries_;
    std::unique_ptr<Index> index_; // built once the object has more than a few keys
};

using Array = std::vector<Value>;

class Value {
public:
    enum class Kind : std::uint8_t { null, boolean, integer, number, string, array, object };

    Value() noexcept = default;
    Value(std::nullptr_t) noexcept {}
    Value(bool b) noexcept : data_(b) {}
    Value(int i) noexcept : data_(static_cast<std::int64_t>(i)) {}
    Value(long i) noexcept : data_(static_cast<std::int64_t>(i)) {}
    Value(long long i) noexcept : data_(static_cast<std::int64_t>(i)) {}
    Value(unsigned i) noexcept : data_(static_cast<std::int64_t>(i)) {}
    Value(double d) noexcept : data_(d) {}
    Value(std::string s) noexcept : data_(std::move(s)) {}
    Value(std::string_view s) : data_(std::string(s)) {}
    Value(const char* s) : data_(std::string(s)) {}
    Value(Array a) noexcept : data_(std::move(a)) {}
    Value(Object o) noexcept : data_(std::move(o)) {}

    [[nodiscard]] Kind kind() const noexcept { return static_cast<Kind>(data_.index()); }
    [[nodiscard]] bool is_null() const noexcept { return kind() == Kind::null; }
    [[nodiscard]] bool is_bool() const noexcept { return kind() == Kind::boolean; }
    [[nodiscard]] bool is_int() const noexcept { return kind() == Kind::integer; }
    [[nodiscard]] bool is_double() const noexcept { return kind() == Kind::number; }
    /// Integer or double.
    [[nodiscard]] bool is_number() const noexcept { return is_int() || is_double(); }
    [[nodiscard]] bool is_string() const noexcept { return kind() == Kind::string; }
    [[nodiscard]] bool is_array() const noexcept { return kind() == Kind::array; }
    [[nodiscard]] bool is_object() const noexcept { return kind() == Kind::object; }

    [[nodiscard]] bool as_bool() const;
    [[nodiscard]] std::int64_t as_int() const;
    /// The number as a double (integers convert).
    [[nodiscard]] double as_double() const;
    [[nodiscard]] const std::string& as_string() const;
    [[nodiscard]] std::string& as_string();
    [[nodiscard]] const Array& as_array() const;
    [[nodiscard]] Array& as_array();
    [[nodiscard]] const Object& as_object() const;
    [[nodiscard]] Object& as_object();

    /// Object member lookup; nullptr when this is not an object or the key is absent.
    [[nodiscard]] const Value* find(std::string_view key) const;
    /// Object member access; a null Value becomes an empty object first.
    Value& operator[](std::string_view key);
    /// Array append; a null Value becomes an empty array first.
    void push_back(Value v);
    /// Elements of an array or members of an object; 0 otherwise.
    [[nodiscard]] std::size_t size() const noexcept;

    /// Deep equality; an integer equals a double of the same numeric value.
    friend bool operator==(const Value& a, const Value& b);

private:
    std::variant<std::monostate, bool, std::int64_t, double, std::string, Array, Object> data_;
};

// Object's container accessors need Value complete (libc++/clang instantiate eagerly).
inline std::size_t Object::size() const noexcept {
    return entries_.size();
}
inline bool Object::empty() const noexcept {
    return entries_.empty();
}
inline Object::const_iterator Object::begin() const noexcept {
    return entries_.begin();
}
inline Object::const_iterator Object::end() const noexcept {
    return entries_.end();
}
inline Object::iterator Object::begin() noexcept {
    return entries_.begin();
}
inline Object::iterator Object::end() noexcept {
    return entries_.end();
}
inline const Object::Entry& Object::at(std::size_t i) const {
    return entries_[i];
}

/// The name of a kind ("null", "boolean", "integer", "number", "string", "array", "object").
[[nodiscard]] const char* kind_name(Value::Kind kind) noexcept;

} // namespace agentd::inference
