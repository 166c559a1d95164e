#pragma once
/// Typed readers for config-file JSON values, shared by every section's parser (config.cpp and
/// the modules' own sections, e.g. routes/tools_config.cpp). Each names the key in its error:
/// `server.max_connections: must be an integer in [1, 1000000] (got 0)`.
///
/// Pure functions. Errors: throw config::ConfigError.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::gateway::config {

[[noreturn]] void fail(const std::string& key, const std::string& what);
/// "path.key", or "key" at the top level.
[[nodiscard]] std::string join(const std::string& path, std::string_view key);

[[nodiscard]] std::uint64_t get_uint(const nlohmann::json& v, const std::string& key,
                                     std::uint64_t min, std::uint64_t max);
[[nodiscard]] std::chrono::milliseconds get_ms(const nlohmann::json& v, const std::string& key,
                                               std::uint64_t min, std::uint64_t max);
[[nodiscard]] std::string get_string(const nlohmann::json& v, const std::string& key);
[[nodiscard]] bool get_bool(const nlohmann::json& v, const std::string& key);
/// An array of non-empty strings.
[[nodiscard]] std::vector<std::string> get_string_array(const nlohmann::json& v,
                                                        const std::string& key);
const nlohmann::json& require_object(const nlohmann::json& v, const std::string& key);
/// `p` relative to the config file's directory `base` (when relative and base is known).
[[nodiscard]] std::filesystem::path resolve(const std::filesystem::path& base,
                                            const std::string& p);

} // namespace agentd::gateway::config
