#include "builtin/builtin_config.h"

#include "config/config_json.h"

#include <nlohmann/json.hpp>

namespace agentd::gateway::builtin {

using config::fail;
using config::get_bool;
using config::get_uint;
using config::require_object;

void parse_sandbox_config(SandboxExposeConfig& c, const nlohmann::json& section,
                          const std::string& path) {
    for (const auto& [k, v] : require_object(section, path).items()) {
        const std::string key = path + "." + k;
        const auto u32 = [&](std::uint64_t lo, std::uint64_t hi) {
            return static_cast<std::uint32_t>(get_uint(v, key, lo, hi));
        };
        if (k == "enabled") {
            c.enabled = get_bool(v, key);
        } else if (k == "tools") {
            c.tools = get_bool(v, key);
        } else if (k == "max_concurrent_runs") {
            c.max_concurrent_runs = u32(1, 4096);
        } else if (k == "max_queued_runs") {
            c.max_queued_runs = u32(1, 1'000'000);
        } else if (k == "warm_python") {
            c.warm_python = get_bool(v, key);
        } else if (k == "default_timeout_ms") {
            c.default_timeout_ms = u32(1, 3'600'000);
        } else if (k == "max_timeout_ms") {
            c.max_timeout_ms = u32(1, 3'600'000);
        } else if (k == "default_memory_mb") {
            c.default_memory_mb = u32(16, 1'048'576);
        } else if (k == "max_memory_mb") {
            c.max_memory_mb = u32(16, 1'048'576);
        } else {
            fail(key, "unknown key");
        }
    }
    if (c.default_timeout_ms > c.max_timeout_ms) {
        fail(path + ".default_timeout_ms", "must not exceed max_timeout_ms");
    }
    if (c.default_memory_mb > c.max_memory_mb) {
        fail(path + ".default_memory_mb", "must not exceed max_memory_mb");
    }
}

void parse_memory_config(MemoryExposeConfig& c, const nlohmann::json& section,
                         const std::string& path) {
    for (const auto& [k, v] : require_object(section, path).items()) {
        const std::string key = path + "." + k;
        if (k == "tools") {
            c.tools = get_bool(v, key);
        } else {
            fail(key, "unknown key");
        }
    }
}

} // namespace agentd::gateway::builtin
