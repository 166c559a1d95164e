#pragma once
// Small JSON helpers the schema compiler and validator share: JSON Schema equality and a total
// order over values, type names, Unicode length, JSON pointer escaping.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::tools::schema {

/// Total order consistent with JSON Schema equality (1 == 1.0; objects compare by key set and
/// values; arrays element-wise). Recursion depth is that of the shallower operand.
[[nodiscard]] int json_compare(const nlohmann::json& a, const nlohmann::json& b);
[[nodiscard]] inline bool json_equal(const nlohmann::json& a, const nlohmann::json& b) {
    return json_compare(a, b) == 0;
}

/// The JSON Schema type name of a value ("integer" for numbers with no fractional part).
[[nodiscard]] const char* json_type_name(const nlohmann::json& v);

/// True for numbers with no fractional part (1, 1.0, -0.0, 1e3).
[[nodiscard]] bool json_is_integral(const nlohmann::json& v);

/// The value of a number as long double (exact for every int64/uint64/double).
[[nodiscard]] long double json_number(const nlohmann::json& v);

/// A non-negative integer keyword value (2 or 2.0), if it is one.
[[nodiscard]] std::optional<std::size_t> json_non_negative_integer(const nlohmann::json& v);

/// Number of Unicode code points in UTF-8 text (bytes that are not continuation bytes).
[[nodiscard]] std::size_t utf8_length(std::string_view s);

/// Appends "/" + the escaped token (~ → ~0, / → ~1) to a JSON pointer.
void pointer_append(std::string& pointer, std::string_view token);
void pointer_append(std::string& pointer, std::size_t index);

/// Splits a JSON pointer into unescaped tokens; nullopt when malformed.
[[nodiscard]] std::optional<std::vector<std::string>> pointer_split(std::string_view pointer);

/// Decodes %XX escapes (URI fragments); nullopt when an escape is malformed.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view s);

/// A compact rendering of a value for messages, cut at `max` bytes with "…".
[[nodiscard]] std::string json_excerpt(const nlohmann::json& v, std::size_t max = 80);

/// Depth of the deepest nesting in `v` (scalars 0) and the number of values in it, computed
/// without recursion. Stops when the depth exceeds `limit` (depth is then limit + 1).
struct JsonShape {
    std::size_t depth = 0;
    std::size_t values = 0;
};
[[nodiscard]] JsonShape json_shape(const nlohmann::json& v, std::size_t limit);
[[nodiscard]] inline std::size_t json_depth(const nlohmann::json& v, std::size_t limit) {
    return json_shape(v, limit).depth;
}

} // namespace agentd::tools::schema
