#include "routes/tools_config.h"

#include "config/config_json.h"

#include <nlohmann/json.hpp>

namespace agentd::gateway::routes {
namespace {

using config::fail;
using config::get_bool;
using config::get_uint;
using config::require_object;
using json = nlohmann::json;

void parse_rest(ToolsConfig& c, const json& section, const std::string& path,
                const std::filesystem::path& base_dir) {
    auto& net = c.rest.net;
    for (const auto& [k, v] : require_object(section, path).items()) {
        const std::string key = path + "." + k;
        if (k == "allow_loopback") {
            net.allow_loopback = get_bool(v, key);
        } else if (k == "allow_private") {
            net.allow_private = get_bool(v, key);
        } else if (k == "allow_link_local") {
            net.allow_link_local = get_bool(v, key);
        } else if (k == "allow_metadata") {
            net.allow_metadata = get_bool(v, key);
        } else if (k == "denied_hosts") {
            net.denied_hosts = config::get_string_array(v, key);
        } else if (k == "default_timeout_ms") {
            c.rest.default_timeout = config::get_ms(v, key, 1, 3'600'000);
        } else if (k == "max_timeout_ms") {
            c.rest.max_timeout = config::get_ms(v, key, 1, 3'600'000);
        } else if (k == "max_response_bytes") {
            c.rest.max_response_bytes = get_uint(v, key, 1024, 1ULL << 30);
        } else if (k == "max_in_flight") {
            c.http.max_in_flight = get_uint(v, key, 1, 100'000);
        } else if (k == "max_per_host") {
            c.http.max_per_host = get_uint(v, key, 1, 100'000);
        } else if (k == "max_waiting") {
            c.http.max_waiting = get_uint(v, key, 0, 1'000'000);
        } else if (k == "extra_ca_file") {
            const std::string file = config::get_string(v, key);
            if (file.empty()) {
                fail(key, "must be a file name");
            }
            c.http.extra_ca_file = config::resolve(base_dir, file);
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
    for (const auto& [k, v] : require_object(section, path).items()) {
        const std::string key = path + "." + k;
        if (k == "max_tools_per_tenant") {
            config.registry.max_tools_per_tenant = get_uint(v, key, 1, 1'000'000);
        } else if (k == "rest") {
            parse_rest(config, v, key, base_dir);
        } else {
            fail(key, "unknown key");
        }
    }
}

} // namespace agentd::gateway::routes
