#pragma once
// Internal helpers for reading A2A JSON: typed field access that throws `Invalid` (caught at
// each public entry point and turned into errc::invalid_params) with the JSON path of the
// offending field. Fields may be spelled in camelCase or as the proto name (ProtoJSON readers
// accept both); JSON null counts as absent.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::protocols::a2a::detail {

/// Thrown by the readers below; never escapes this module's public functions.
struct Invalid {
    std::string message;
};

/// Bounds on what a reader accepts (the HTTP body limit bounds the total).
inline constexpr std::size_t kMaxIdBytes = 256;
inline constexpr std::size_t kMaxParts = 1024;
inline constexpr std::size_t kMaxListItems = 4096;

[[noreturn]] void invalid(std::string_view path, std::string_view what);

[[nodiscard]] std::string join_path(std::string_view path, std::string_view key);
[[nodiscard]] std::string index_path(std::string_view path, std::size_t index);

/// Throws unless `value` is an object.
const nlohmann::json& require_object(const nlohmann::json& value, std::string_view path);

/// The member named `camel` (or `snake` when given), null when absent or JSON null.
[[nodiscard]] const nlohmann::json* find(const nlohmann::json& object, std::string_view camel,
                                         std::string_view snake = {});

/// A string member; nullopt when absent. `max_bytes` 0 → unbounded.
[[nodiscard]] std::optional<std::string> opt_string(const nlohmann::json& object,
                                                    std::string_view path, std::string_view camel,
                                                    std::string_view snake = {},
                                                    std::size_t max_bytes = 0);
/// A string member that must be present and non-empty (an id by default: ≤ kMaxIdBytes).
[[nodiscard]] std::string req_string(const nlohmann::json& object, std::string_view path,
                                     std::string_view camel, std::string_view snake = {},
                                     std::size_t max_bytes = kMaxIdBytes);
[[nodiscard]] std::optional<bool> opt_bool(const nlohmann::json& object, std::string_view path,
                                           std::string_view camel, std::string_view snake = {});
/// An int32 member (ProtoJSON also allows it as a decimal string).
[[nodiscard]] std::optional<std::int32_t> opt_int32(const nlohmann::json& object,
                                                    std::string_view path, std::string_view camel,
                                                    std::string_view snake = {});
/// An array of strings (each ≤ kMaxIdBytes... unless max_bytes says otherwise).
[[nodiscard]] std::vector<std::string> opt_strings(const nlohmann::json& object,
                                                   std::string_view path, std::string_view camel,
                                                   std::string_view snake = {});
/// An object member (metadata); null when absent.
[[nodiscard]] const nlohmann::json* opt_object(const nlohmann::json& object, std::string_view path,
                                               std::string_view camel, std::string_view snake = {});
/// An array member; null when absent.
[[nodiscard]] const nlohmann::json* opt_array(const nlohmann::json& object, std::string_view path,
                                              std::string_view camel, std::string_view snake = {},
                                              std::size_t max_items = kMaxListItems);

} // namespace agentd::protocols::a2a::detail
