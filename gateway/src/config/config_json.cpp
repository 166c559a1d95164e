#include "config/config_json.h"

#include "config/config.h"

namespace agentd::gateway::config {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& key, const std::string& what) {
    throw ConfigError(key + ": " + what);
}

std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::uint64_t get_uint(const json& v, const std::string& key, std::uint64_t min,
                       std::uint64_t max) {
    if (!v.is_number_integer() ||
        (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0)) {
        fail(key, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                      "] (got " + v.dump() + ")");
    }
    const auto n = v.get<std::uint64_t>();
    if (n < min || n > max) {
        fail(key, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                      "] (got " + std::to_string(n) + ")");
    }
    return n;
}

std::chrono::milliseconds get_ms(const json& v, const std::string& key, std::uint64_t min,
                                 std::uint64_t max) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(get_uint(v, key, min, max)));
}

std::string get_string(const json& v, const std::string& key) {
    if (!v.is_string()) {
        fail(key, "must be a string (got " + v.dump() + ")");
    }
    return v.get<std::string>();
}

bool get_bool(const json& v, const std::string& key) {
    if (!v.is_boolean()) {
        fail(key, "must be true or false (got " + v.dump() + ")");
    }
    return v.get<bool>();
}

std::vector<std::string> get_string_array(const json& v, const std::string& key) {
    if (!v.is_array()) {
        fail(key, "must be an array of strings (got " + v.dump() + ")");
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string item_key = key + "[" + std::to_string(i) + "]";
        std::string s = get_string(v[i], item_key);
        if (s.empty()) {
            fail(item_key, "must not be empty");
        }
        out.push_back(std::move(s));
    }
    return out;
}

const json& require_object(const json& v, const std::string& key) {
    if (!v.is_object()) {
        fail(key.empty() ? std::string("config") : key,
             "must be a JSON object (got " + std::string(v.type_name()) + ")");
    }
    return v;
}

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
    std::filesystem::path path(p);
    return path.is_relative() && !base.empty() ? base / path : path;
}

} // namespace agentd::gateway::config
