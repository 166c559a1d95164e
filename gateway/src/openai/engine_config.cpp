#include "openai/engine_config.h"

#include "config/config.h"
#include "config/config_json.h"

#include <nlohmann/json.hpp>

namespace agentd::gateway::openai {

using config::fail;
using config::get_bool;
using config::get_string;
using config::get_uint;
using config::require_object;
using json = nlohmann::json;

namespace {

void parse_prefix_cache(PrefixCacheConfig& c, const json& section, const std::string& path) {
    require_object(section, path);
    for (const auto& [k, v] : section.items()) {
        const std::string key = path + "." + k;
        if (k == "enabled") {
            c.enabled = get_bool(v, key);
        } else if (k == "shared_namespace") {
            c.shared_namespace = get_bool(v, key);
        } else if (k == "max_pinned_blocks") {
            c.max_pinned_blocks = static_cast<int>(get_uint(v, key, 0, 1 << 24));
        } else if (k == "pin_ttl_ms") {
            c.pin_ttl_ms = static_cast<std::int64_t>(get_uint(v, key, 0, 86'400'000));
        } else {
            fail(key, "unknown key");
        }
    }
}

} // namespace

void parse_engine_config(EngineConfig& c, const json& section, const std::string& path) {
    require_object(section, path);
    for (const auto& [k, v] : section.items()) {
        const std::string key = path + "." + k;
        if (k == "threads") {
            c.threads = static_cast<int>(get_uint(v, key, 0, 1024));
        } else if (k == "context") {
            c.context = static_cast<std::int32_t>(get_uint(v, key, 0, 1 << 20));
        } else if (k == "kv_memory_mb") {
            c.kv_memory_mb = get_uint(v, key, 0, 1 << 20);
        } else if (k == "kv_type") {
            c.kv_type = get_string(v, key);
            if (c.kv_type != "f32" && c.kv_type != "f16") {
                fail(key, "must be \"f32\" or \"f16\"");
            }
        } else if (k == "max_sequences") {
            c.max_sequences = static_cast<int>(get_uint(v, key, 1, 4096));
        } else if (k == "max_waiting") {
            c.max_waiting = get_uint(v, key, 1, 1'000'000);
        } else if (k == "token_budget") {
            c.token_budget = static_cast<int>(get_uint(v, key, 1, 65536));
        } else if (k == "model_name") {
            c.model_name = get_string(v, key);
            if (c.model_name.size() > 256) {
                fail(key, "must be at most 256 characters");
            }
        } else if (k == "prefix_cache") {
            parse_prefix_cache(c.prefix_cache, v, key);
        } else if (k == "default_max_tokens") {
            c.default_max_tokens = static_cast<std::int32_t>(get_uint(v, key, 0, 1 << 20));
        } else {
            fail(key, "unknown key");
        }
    }
    if (c.token_budget < c.max_sequences) {
        fail(path + ".token_budget",
             "must be at least max_sequences (" + std::to_string(c.max_sequences) + ")");
    }
}

} // namespace agentd::gateway::openai
