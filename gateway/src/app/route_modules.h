#pragma once
/// The list of route modules the App registers, in order. To add a module (MCP, A2A, OpenAI,
/// tools, memory, ...), define `void register_<name>_routes(app::AppContext&)` next to its
/// adapter and add one line to the table in route_modules.cpp.

#include "app/app_context.h"

#include <span>
#include <string_view>

namespace agentd::gateway::app {

struct RouteModuleEntry {
    std::string_view name;
    RouteModule register_routes;
};

/// Every built-in route module.
[[nodiscard]] std::span<const RouteModuleEntry> route_modules();

// Built-in modules of the gateway foundation.
void register_health_routes(AppContext& context);  ///< /healthz, /readyz
void register_metrics_routes(AppContext& context); ///< /metrics
void register_mcp_routes(AppContext& context);     ///< /mcp (gateway/src/mcp/mcp_routes.cpp)
/// /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models
/// (gateway/src/openai/openai_routes.cpp)
void register_openai_routes(AppContext& context);
void register_a2a_routes(AppContext& context); ///< /a2a, agent cards (gateway/src/a2a/)

} // namespace agentd::gateway::app
