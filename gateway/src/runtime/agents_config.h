#pragma once
/// The `agents`, `peers` and `a2a` sections of the config file (docs/CONFIG.md, docs/AGENTS.md):
/// the agents agentd runs, the A2A peer agents they may call, and A2A server settings.
///
/// Values; the App keeps one immutable copy. Errors: the parsers throw config::ConfigError
/// naming the key (`agents[1].max_steps: must be an integer in [1, 64] (got 0)`).

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace agentd::gateway::runtime {

struct SkillSpec {
    std::string id;
    std::string name;
    std::string description;
    std::vector<std::string> tags;
    std::vector<std::string> examples;
};

struct SamplingSpec {
    float temperature = 0.0F; ///< 0 → greedy
    float top_p = 1.0F;
    std::int32_t top_k = 0;
    std::uint64_t seed = 0;
    std::int32_t max_tokens = 512; ///< per model call
};

/// How much of a session the prompt carries (memory's context builder).
struct ContextPolicy {
    std::int32_t max_context_tokens = 0; ///< 0 → the model's context length
    std::int32_t recent_messages = 32;   ///< verbatim recent turns kept at most
    bool summarize = false;              ///< fold older turns into a rolling summary
    bool retrieve_memories = false;      ///< add the tenant's relevant memories
};

struct AgentSpec {
    std::string name; ///< [A-Za-z0-9_-]{1,64}: /a2a/{name}, MCP tool agent_{name}, model name
    std::string description;
    std::string version = "1.0.0";
    std::vector<SkillSpec> skills;
    std::string system_prompt;
    SamplingSpec sampling;
    std::vector<std::string> tools; ///< allowed tool names (built-in, REST, peers, ...)
    /// The first step's tool choice: "auto", "required", "none" or a tool name (forced).
    std::string tool_choice = "auto";
    /// Later steps' tool choice (after tool results).
    std::string followup_tool_choice = "auto";
    /// Narrower argument schemas for the grammar, by tool name (JSON text); the tool's own
    /// schema still validates the call.
    std::map<std::string, std::string> tool_schemas;
    std::int32_t max_steps = 8; ///< model calls per turn
    std::chrono::milliseconds time_budget{120'000};
    std::int32_t token_budget = 8192; ///< generated tokens per turn
    ContextPolicy context;
};

/// A peer agent reachable over A2A; it becomes the tool `peer_<name>`.
struct PeerSpec {
    std::string name;
    std::string card_url; ///< http(s) URL of the agent card
    std::string description;
    std::chrono::milliseconds timeout{120'000};
    std::string bearer_token; ///< sent as Authorization: Bearer (from `token_env`)
};

struct A2aSettings {
    std::string default_agent; ///< served at /a2a; "" → the first agent
    /// Webhook destinations. Unset: loopback and private networks are allowed only when no API
    /// keys are configured (a single local user).
    std::optional<bool> push_allow_loopback;
    std::optional<bool> push_allow_private;
    std::chrono::milliseconds push_timeout{10'000};
    std::uint32_t push_max_attempts = 4;
    std::uint32_t max_live_tasks = 10'000;
};

struct AgentsConfig {
    std::vector<AgentSpec> agents;
    std::vector<PeerSpec> peers;
    A2aSettings a2a;
    /// `tracing.otlp_endpoint`: OTLP/HTTP base URL spans are exported to ("" → logs only).
    std::string otlp_endpoint;
};

/// Parsers for the three sections (`key` is the section's name, for messages).
void parse_agents(AgentsConfig& out, const nlohmann::json& value, const std::string& key);
void parse_peers(AgentsConfig& out, const nlohmann::json& value, const std::string& key);
void parse_a2a(AgentsConfig& out, const nlohmann::json& value, const std::string& key);
void parse_tracing(AgentsConfig& out, const nlohmann::json& value, const std::string& key);

/// MCP's tool-name-compatible agent/peer name rule: [A-Za-z0-9_-]{1,64}.
[[nodiscard]] bool is_valid_agent_name(std::string_view name);

} // namespace agentd::gateway::runtime
