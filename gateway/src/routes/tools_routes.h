#pragma once
/// /v1/tools — REST tool registration over HTTP (CONTRACT.md), tenant-scoped by the caller's
/// principal:
///   POST   /v1/tools          register → 201 + the stored definition (credential-like header
///                             values redacted); 400 with the exact reason; 409 when the name is
///                             taken; 415 when the body is not JSON
///   GET    /v1/tools          list → {"tools": [...], "next_cursor"?} (?limit=1..1000, ?cursor)
///   GET    /v1/tools/{name}   one tool → 200, or 404
///   DELETE /v1/tools/{name}   remove a REST tool → 204, 404, or 409 for non-REST tools
/// Every error body is {"error": {"code", "message"}}.
///
/// Threading: handlers run on the connection strand; listing reads the registry snapshot there,
/// registration and deletion (SQLite) run on the blocking pool and answer from it.
/// Ownership: the handlers borrow `deps` objects, which must outlive the router.

#include "agentd/tools/rest_tool_service.h"
#include "agentd/tools/tool_registry.h"

#include "http/handler.h"

#include <functional>

namespace agentd::gateway::app {
class AppContext;
}

namespace agentd::gateway::routes {

struct ToolsRoutesDeps {
    tools::RestToolService* rest = nullptr;
    tools::ToolRegistry* registry = nullptr;
    /// Runs blocking work off the I/O threads (the gateway's blocking pool).
    std::function<void(std::function<void()>)> run_blocking;
};

/// Adds the four routes to `router` (scope "tools").
void register_tools_routes(http::Router& router, ToolsRoutesDeps deps);

/// The App's route module: builds the tools runtime (tools_runtime.h), shares it with the other
/// modules, loads the stored REST tools and registers the routes.
void register_tools_module(app::AppContext& context);

} // namespace agentd::gateway::routes
