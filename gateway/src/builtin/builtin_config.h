#pragma once
/// The "sandbox" and "memory" sections of the config file: how the built-in tools and the
/// /v1/sandbox/run and /v1/memory routes are exposed (docs/CONFIG.md):
///
///   "sandbox": {
///     "enabled": false,            // start the sandbox: /v1/sandbox/run, run_python, run_bash
///     "tools": true,               // with it, list run_python and run_bash as MCP tools
///     "max_concurrent_runs": 16,   // runs executing at once; more wait in a queue
///     "max_queued_runs": 1024,     // beyond this a run is refused (503 / tool error "busy")
///     "warm_python": false,        // keep a pre-warmed Python interpreter
///     "default_timeout_ms": 5000, "max_timeout_ms": 60000,
///     "default_memory_mb": 512,   "max_memory_mb": 2048
///   },
///   "memory": { "tools": false }   // list memory_store, memory_search, memory_delete
///
/// The sandbox also starts, whatever `enabled` says, when an agent uses run_python.
/// Plain values. Errors: the parsers throw config::ConfigError naming the key.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace agentd::gateway::builtin {

struct SandboxExposeConfig {
    bool enabled = false;
    bool tools = true;
    std::uint32_t max_concurrent_runs = 16;
    std::uint32_t max_queued_runs = 1024;
    bool warm_python = false;
    std::uint32_t default_timeout_ms = 5000;
    std::uint32_t max_timeout_ms = 60'000;
    std::uint32_t default_memory_mb = 512;
    std::uint32_t max_memory_mb = 2048;
};

struct MemoryExposeConfig {
    bool tools = false;
};

/// Applies the JSON object `section` (the value of "sandbox") at `path`.
void parse_sandbox_config(SandboxExposeConfig& config, const nlohmann::json& section,
                          const std::string& path);

/// Applies the JSON object `section` (the value of "memory") at `path`.
void parse_memory_config(MemoryExposeConfig& config, const nlohmann::json& section,
                         const std::string& path);

} // namespace agentd::gateway::builtin
