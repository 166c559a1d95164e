// GET /metrics: the registry in the Prometheus text format 0.0.4 (needs scope "metrics" when API
// keys are configured).
#include "app/route_modules.h"

namespace agentd::gateway::app {

void register_metrics_routes(AppContext& context) {
    http::RouteOptions options;
    options.scope = "metrics";
    metrics::Registry& registry = context.metrics();
    context.router().add(
        "GET", "/metrics",
        [&registry](http::Request&&, http::ResponseWriterPtr writer) {
            http::Response r;
            r.content_type = "text/plain; version=0.0.4; charset=utf-8";
            r.body = registry.render();
            writer->respond(std::move(r));
        },
        options);
}

} // namespace agentd::gateway::app
