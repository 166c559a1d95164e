// Registration of `/mcp` with the App (route_modules.cpp lists it).

#include "app/app_context.h"
#include "app/route_modules.h"
#include "log/logging.h"
#include "mcp/asio_timers.h"
#include "mcp/http_endpoint.h"
#include "mcp/mcp_service.h"

#include <atomic>
#include <memory>

namespace agentd::gateway::app {

namespace {

/// What the /mcp handlers share, kept alive by the App.
struct McpModule {
    std::shared_ptr<mcp::AsioTimers> timers;
    std::shared_ptr<protocols::mcp::Server> server;
    std::shared_ptr<mcp::McpHttpEndpoint> endpoint;
    std::atomic<bool> stopping{false};
    std::shared_ptr<protocols::mcp::TimerHandle> sweep;
};

void schedule_sweep(const std::shared_ptr<McpModule>& module) {
    // Idle sessions are expired every minute (or sooner for short timeouts).
    const auto idle = module->endpoint->sessions().limits().idle_timeout;
    const auto every = std::min<std::chrono::milliseconds>(std::chrono::minutes(1),
                                                           idle / 2 + std::chrono::milliseconds(1));
    std::weak_ptr<McpModule> weak = module;
    module->sweep = module->timers->schedule(every, [weak] {
        auto m = weak.lock();
        if (!m || m->stopping.load()) {
            return;
        }
        if (const auto n = m->endpoint->sessions().expire_idle(); n > 0) {
            log::log_event(log::Level::debug, "mcp sessions expired", {{"count", n}});
        }
        schedule_sweep(m);
    });
}

} // namespace

void register_mcp_routes(AppContext& context) {
    auto module = std::make_shared<McpModule>();
    module->timers = std::make_shared<mcp::AsioTimers>(context.io());
    module->server = protocols::mcp::Server::create(
        mcp::make_server_options(context.config()),
        mcp::make_providers(context.config(), module->timers), module->timers);
    protocols::jsonrpc::ParseLimits limits;
    limits.max_bytes = context.config().limits.max_body_bytes;
    module->endpoint = std::make_shared<mcp::McpHttpEndpoint>(
        module->server, std::make_shared<mcp::SessionStore>(mcp::SessionLimits{}),
        context.origin_policy(), limits);

    http::RouteOptions options;
    options.metrics_name = "/mcp";
    options.scope = "mcp";
    auto endpoint = module->endpoint;
    context.router().add(
        "POST", "/mcp",
        [endpoint](http::Request&& r, http::ResponseWriterPtr w) {
            endpoint->handle_post(std::move(r), w);
        },
        options);
    context.router().add(
        "GET", "/mcp",
        [endpoint](http::Request&& r, http::ResponseWriterPtr w) {
            endpoint->handle_get(std::move(r), w);
        },
        options);
    context.router().add(
        "DELETE", "/mcp",
        [endpoint](http::Request&& r, http::ResponseWriterPtr w) {
            endpoint->handle_delete(std::move(r), w);
        },
        options);

    schedule_sweep(module);
    std::weak_ptr<McpModule> weak = module;
    context.on_shutdown([weak] {
        if (auto m = weak.lock()) {
            m->stopping = true;
            if (m->sweep) {
                m->sweep->cancel();
            }
            // Subscriptions end with their final result; sessions close their streams, so the
            // server can drain connections within the grace period.
            m->server->shutdown();
            m->endpoint->sessions().close_all();
        }
    });
    context.keep(std::make_unique<std::shared_ptr<McpModule>>(std::move(module)));
}

} // namespace agentd::gateway::app
