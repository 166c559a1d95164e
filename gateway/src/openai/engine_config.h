#pragma once
/// The "engine" section of the config file: how the model given with --model / "model" is
/// served (compute threads, context, KV memory, batching limits, the name clients use).
///
///   "engine": {
///     "threads": 0, "context": 0, "kv_memory_mb": 0, "kv_type": "f32",
///     "max_sequences": 64, "max_waiting": 256, "token_budget": 512,
///     "model_name": "", "default_max_tokens": 0,
///     "prefix_cache": {"enabled": true, "shared_namespace": false,
///                      "max_pinned_blocks": 4096, "pin_ttl_ms": 60000}
///   }
///
/// docs/CONFIG.md documents each key. Plain value. Errors: parse_engine_config throws
/// config::ConfigError naming the key.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace agentd::gateway::openai {

/// The prefix cache (issue 5, docs/PREFIX_CACHE.md).
struct PrefixCacheConfig {
    bool enabled = true; ///< `agentd serve --no-prefix-cache` turns it off
    /// All tenants of a model share one namespace (on purpose: cached-prefix timing then
    /// leaks between tenants). Off: the namespace is the authenticated tenant + model.
    bool shared_namespace = false;
    int max_pinned_blocks = 4096;     ///< blocks agent-turn holds may keep pinned
    std::int64_t pin_ttl_ms = 60'000; ///< an agent-turn hold ends by itself after this long
};

struct EngineConfig {
    int threads = 0;                ///< CPU compute threads (0: one per core)
    std::int32_t context = 0;       ///< positions per sequence (0: the model's, at most 32768)
    std::uint64_t kv_memory_mb = 0; ///< KV cache size (0: one full context, at most 16k tokens)
    std::string kv_type = "f32";    ///< "f32" or "f16"
    int max_sequences = 64;         ///< sequences decoded together
    std::size_t max_waiting = 256;  ///< requests queued beyond those; more get 503
    int token_budget = 512;         ///< tokens per engine step (decodes + prefill chunks)
    std::string model_name;         ///< id in /v1/models and the "model" field ("": file stem)
    std::int32_t default_max_tokens = 0; ///< when a request gives none (0: up to the context)
    PrefixCacheConfig prefix_cache;
};

/// Applies the JSON object `section` (the value of "engine") at `path`.
void parse_engine_config(EngineConfig& config, const nlohmann::json& section,
                         const std::string& path);

} // namespace agentd::gateway::openai
