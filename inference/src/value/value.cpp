#include "agentd/inference/value.h"

#include "agentd/base/check.h"

#include <cmath>
#include <functional>
#include <unordered_map>

namespace agentd::inference {

// Hashed lookup for objects with many keys: hostile JSON with 100k members must not make every
// insertion a linear scan. Keys are owned copies so the index survives reallocation of entries_.
struct Object::Index {
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> map;
};

namespace {
constexpr std::size_t kIndexThreshold = 12;
} // namespace

Object::Object() = default;
Object::~Object() = default;
Object::Object(Object&& other) noexcept = default;
Object& Object::operator=(Object&& other) noexcept = default;

Object::Object(std::initializer_list<Entry> entries) {
    for (const auto& e : entries) {
        set(e.first, e.second);
    }
}

Object::Object(const Object& other) : entries_(other.entries_) {
    if (other.index_) {
        reindex();
    }
}

Object& Object::operator=(const Object& other) {
    if (this != &other) {
        entries_ = other.entries_;
        index_.reset();
        if (entries_.size() > kIndexThreshold) {
            reindex();
        }
    }
    return *this;
}

void Object::reindex() {
    index_ = std::make_unique<Index>();
    index_->map.reserve(entries_.size() * 2);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        index_->map.emplace(entries_[i].first, i);
    }
}

std::ptrdiff_t Object::index_of(std::string_view key) const {
    if (index_) {
        auto it = index_->map.find(key);
        return it == index_->map.end() ? -1 : static_cast<std::ptrdiff_t>(it->second);
    }
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (entries_[i].first == key) {
            return static_cast<std::ptrdiff_t>(i);
        }
    }
    return -1;
}

const Value* Object::find(std::string_view key) const {
    auto i = index_of(key);
    return i < 0 ? nullptr : &entries_[static_cast<std::size_t>(i)].second;
}

Value* Object::find(std::string_view key) {
    auto i = index_of(key);
    return i < 0 ? nullptr : &entries_[static_cast<std::size_t>(i)].second;
}

Value& Object::set(std::string key, Value value) {
    if (Value* existing = find(key)) {
        *existing = std::move(value);
        return *existing;
    }
    entries_.emplace_back(std::move(key), std::move(value));
    if (index_) {
        index_->map.emplace(entries_.back().first, entries_.size() - 1);
    } else if (entries_.size() > kIndexThreshold) {
        reindex();
    }
    return entries_.back().second;
}

Value& Object::operator[](std::string_view key) {
    if (Value* existing = find(key)) {
        return *existing;
    }
    return set(std::string(key), Value());
}

bool Object::erase(std::string_view key) {
    auto i = index_of(key);
    if (i < 0) {
        return false;
    }
    entries_.erase(entries_.begin() + i);
    if (index_) {
        reindex();
    }
    return true;
}

bool operator==(const Object& a, const Object& b) {
    if (a.size() != b.size()) {
        return false;
    }
    // Python dict equality ignores order.
    for (const auto& [k, v] : a.entries_) {
        const Value* other = b.find(k);
        if (other == nullptr || !(*other == v)) {
            return false;
        }
    }
    return true;
}

bool Value::as_bool() const {
    AGENTD_CHECK(is_bool(), "Value::as_bool on a non-boolean (caller must check the kind)");
    return std::get<bool>(data_);
}

std::int64_t Value::as_int() const {
    AGENTD_CHECK(is_int(), "Value::as_int on a non-integer (caller must check the kind)");
    return std::get<std::int64_t>(data_);
}

double Value::as_double() const {
    if (is_int()) {
        return static_cast<double>(std::get<std::int64_t>(data_));
    }
    AGENTD_CHECK(is_double(), "Value::as_double on a non-number (caller must check the kind)");
    return std::get<double>(data_);
}

const std::string& Value::as_string() const {
    AGENTD_CHECK(is_string(), "Value::as_string on a non-string (caller must check the kind)");
    return std::get<std::string>(data_);
}

std::string& Value::as_string() {
    AGENTD_CHECK(is_string(), "Value::as_string on a non-string (caller must check the kind)");
    return std::get<std::string>(data_);
}

const Array& Value::as_array() const {
    AGENTD_CHECK(is_array(), "Value::as_array on a non-array (caller must check the kind)");
    return std::get<Array>(data_);
}

Array& Value::as_array() {
    AGENTD_CHECK(is_array(), "Value::as_array on a non-array (caller must check the kind)");
    return std::get<Array>(data_);
}

const Object& Value::as_object() const {
    AGENTD_CHECK(is_object(), "Value::as_object on a non-object (caller must check the kind)");
    return std::get<Object>(data_);
}

Object& Value::as_object() {
    AGENTD_CHECK(is_object(), "Value::as_object on a non-object (caller must check the kind)");
    return std::get<Object>(data_);
}

const Value* Value::find(std::string_view key) const {
    return is_object() ? std::get<Object>(data_).find(key) : nullptr;
}

Value& Value::operator[](std::string_view key) {
    if (is_null()) {
        data_ = Object();
    }
    return as_object()[key];
}

void Value::push_back(Value v) {
    if (is_null()) {
        data_ = Array();
    }
    as_array().push_back(std::move(v));
}

std::size_t Value::size() const noexcept {
    if (is_array()) {
        return std::get<Array>(data_).size();
    }
    if (is_object()) {
        return std::get<Object>(data_).size();
    }
    return 0;
}

bool operator==(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.is_int() && b.is_int()) {
            return a.as_int() == b.as_int();
        }
        return a.as_double() == b.as_double();
    }
    return a.data_ == b.data_;
}

const char* kind_name(Value::Kind kind) noexcept {
    switch (kind) {
    case Value::Kind::null:
        return "null";
    case Value::Kind::boolean:
        return "boolean";
    case Value::Kind::integer:
        return "integer";
    case Value::Kind::number:
        return "number";
    case Value::Kind::string:
        return "string";
    case Value::Kind::array:
        return "array";
    case Value::Kind::object:
        return "object";
    }
    return "unknown";
}

} // namespace agentd::inference
