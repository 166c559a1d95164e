#include "routes/tools_config.h"

#include "config/config.h"

#include <nlohmann/json.hpp>

namespace agentd::gateway::routes {
namespace {

using config::ConfigError;
using json = nlohmann::json;

[[noreturn]] void fail(const std::string& key, const std::string& what) {
    throw ConfigError(key + ": " + what);
}

const json& object_at(const json& v, const std::string& key) {
    if (!v.is_object()) {
        fail(key, "must be a JSON object (got " + std::string(v.type_name()) + ")");
    }
    return v;
}

std::uint64_t uint_at(const json& v, const std::string& key, std::uint64_t min, std::uint64_t max) {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
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

bool bool_at(const json& v, const std::string& key) {
    if (!v.is_boolean()) {
        fail(key, "must be true or false (got " + v.dump() + ")");
    }
    return v.get<bool>();
}

void parse_rest(ToolsConfig& c, const json& section, const std::string& path,
                const std::filesystem::path& base_dir) {
    auto& net = c.rest.net;
    for (const auto& [k, v] : object_at(section, path).items()) {
        const std::string key = path + "." + k;
        if (k == "allow_loopback") {
            net.allow_loopback = bool_at(v, key);
        } else if (k == "allow_private") {
            net.allow_private = bool_at(v, key);
        } else if (k == "allow_link_local") {
            net.allow_link_local = bool_at(v, key);
        } else if (k == "allow_metadata") {
            net.allow_metadata = bool_at(v, key);
        } else if (k == "denied_hosts") {
            if (!v.is_array()) {
                fail(key, "must be an array of host names");
            }
            net.denied_hosts.clear();
            for (const auto& h : v) {
                if (!h.is_string() || h.get<std::string>().empty()) {
                    fail(key, "must contain non-empty host names");
                }
                net.denied_hosts.push_back(h.get<std::string>());
            }
        } else if (k == "default_timeout_ms") {
            c.rest.default_timeout = std::chrono::milliseconds(uint_at(v, key, 1, 3'600'000));
        } else if (k == "max_timeout_ms") {
            c.rest.max_timeout = std::chrono::milliseconds(uint_at(v, key, 1, 3'600'000));
        } else if (k == "max_response_bytes") {
            c.rest.max_response_bytes = uint_at(v, key, 1024, 1ULL << 30);
        } else if (k == "max_in_flight") {
            c.http.max_in_flight = uint_at(v, key, 1, 100'000);
        } else if (k == "max_per_host") {
            c.http.max_per_host = uint_at(v, key, 1, 100'000);
        } else if (k == "max_waiting") {
            c.http.max_waiting = uint_at(v, key, 0, 1'000'000);
        } else if (k == "extra_ca_file") {
            if (!v.is_string() || v.get<std::string>().empty()) {
                fail(key, "must be a file name");
            }
            std::filesystem::path file(v.get<std::string>());
            c.http.extra_ca_file = file.is_relative() && !base_dir.empty() ? base_dir / file : file;
        } else {
            fail(key, "unknown key");
        }
    }
    if (c.rest.default_timeout > c.rest.max_timeout) {
        fail(path + ".default_timeout_ms", "must not exceed max_timeout_ms");
    }
}

} // namespace

void parse_tools_config(ToolsConfig& config, const nlohmann::json& section, const std::string& path,
                        const std::filesystem::path& base_dir) {
    for (const auto& [k, v] : object_at(section, path).items()) {
        const std::string key = path + "." + k;
        if (k == "max_tools_per_tenant") {
            config.registry.max_tools_per_tenant = uint_at(v, key, 1, 1'000'000);
        } else if (k == "rest") {
            parse_rest(config, v, key, base_dir);
        } else {
            fail(key, "unknown key");
        }
    }
}

} // namespace agentd::gateway::routes
