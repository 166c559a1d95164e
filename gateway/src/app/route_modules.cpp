#include "app/route_modules.h"

#include "routes/memory_routes.h"
#include "routes/sandbox_routes.h"
#include "routes/tools_routes.h"
#include "runtime/runtime_routes.h"

namespace agentd::gateway::app {

// One line per module; the declaration can sit in the module's own header or right here.
constexpr RouteModuleEntry kRouteModules[] = {
    {"health", &register_health_routes},
    {"metrics", &register_metrics_routes},
    {"tools", &routes::register_tools_module},       // before mcp: provides the tool registry
    {"sandbox", &routes::register_sandbox_module},   // before the model loads (small zygote)
    {"agent_tools", &runtime::register_agent_tools}, // peers
    {"mcp", &register_mcp_routes},
    {"openai", &register_openai_routes},
    {"memory", &routes::register_memory_module}, // after openai: embeds with its model
    {"a2a", &register_a2a_routes}, // after tools and openai: uses the database and the model
};

std::span<const RouteModuleEntry> route_modules() {
    return kRouteModules;
}

} // namespace agentd::gateway::app
