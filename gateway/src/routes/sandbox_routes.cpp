#include "routes/sandbox_routes.h"

#include "agentd/tools/tool_registry.h"

#include "app/app_context.h"
#include "builtin/builtin_tools.h"
#include "routes/json_body.h"

#include <algorithm>

namespace agentd::gateway::routes {
namespace {

using builtin::SandboxRunner;

bool any_agent_uses(const config::Config& config, std::string_view tool) {
    return std::any_of(config.agents.agents.begin(), config.agents.agents.end(),
                       [tool](const runtime::AgentSpec& a) {
                           return std::find(a.tools.begin(), a.tools.end(), tool) != a.tools.end();
                       });
}

http::Response run_error(const base::Error& e) {
    using sandbox::errc;
    if (e.code == errc::invalid_argument) {
        return http::Response::error(400, "invalid_request", e.what());
    }
    if (e.code == errc::limit_exceeded) {
        return http::Response::error(409, "workspace_limit", e.what());
    }
    if (e.code == errc::busy) {
        auto r = http::Response::error(503, "busy", e.what());
        r.headers.add("Retry-After", "1");
        return r;
    }
    if (e.code == errc::unavailable) {
        return http::Response::error(503, "sandbox_unavailable", e.what());
    }
    return http::Response::error(500, "sandbox_failed", e.what());
}

void handle_run(const std::shared_ptr<SandboxRunner>& runner, http::Request&& request,
                const http::ResponseWriterPtr& writer) {
    if (!runner) {
        writer->respond(http::Response::error(
            503, "sandbox_disabled",
            "the sandbox is not enabled on this server (config: sandbox.enabled)"));
        return;
    }
    auto body = read_json_body(request, *writer);
    if (!body) {
        return;
    }
    auto parsed = runner->parse_request(*body, request.principal.tenant, std::nullopt);
    if (!parsed) {
        writer->respond(http::Response::error(400, "invalid_request", parsed.error().what()));
        return;
    }
    auto kill = runner->run(std::move(*parsed), [writer](base::Result<builtin::RunOutcome> r) {
        writer->respond(r ? json_response(200, builtin::result_json(*r)) : run_error(r.error()));
    });
    writer->on_client_gone(std::move(kill));
}

} // namespace

void register_sandbox_module(app::AppContext& context) {
    const auto& config = context.config();
    const bool agents_need_it = any_agent_uses(config, "run_python");
    std::shared_ptr<SandboxRunner> runner;
    if (config.sandbox.enabled || agents_need_it) {
        runner = builtin::start_sandbox(config.sandbox, context.io(), context.blocking(),
                                        context.find_service<tools::ToolRegistry>().get(),
                                        agents_need_it);
        context.provide(runner);
        context.keep(std::make_unique<std::shared_ptr<SandboxRunner>>(runner));
    }
    http::RouteOptions options;
    options.scope = "sandbox";
    options.metrics_name = "/v1/sandbox/run";
    context.router().add(
        "POST", "/v1/sandbox/run",
        [runner](http::Request&& r, http::ResponseWriterPtr w) {
            handle_run(runner, std::move(r), w);
        },
        options);
}

} // namespace agentd::gateway::routes
