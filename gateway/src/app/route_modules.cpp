#include "app/route_modules.h"

namespace agentd::gateway::app {

// One line per module; the declaration can sit in the module's own header or right here.
constexpr RouteModuleEntry kRouteModules[] = {
    {"health", &register_health_routes},
    {"metrics", &register_metrics_routes},
    {"mcp", &register_mcp_routes},
};

std::span<const RouteModuleEntry> route_modules() {
    return kRouteModules;
}

} // namespace agentd::gateway::app
