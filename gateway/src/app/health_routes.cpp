// GET /healthz (liveness) and GET /readyz (readiness); both public (no API key).
#include "app/route_modules.h"
#include "http/text.h"

namespace agentd::gateway::app {

void register_health_routes(AppContext& context) {
    http::RouteOptions public_route;
    public_route.public_route = true;

    context.router().add(
        "GET", "/healthz",
        [](http::Request&&, http::ResponseWriterPtr writer) {
            writer->respond(http::Response::json(200, R"({"status":"ok"})"));
        },
        public_route);

    Readiness& readiness = context.readiness();
    context.router().add(
        "GET", "/readyz",
        [&readiness](http::Request&&, http::ResponseWriterPtr writer) {
            const auto report = readiness.evaluate();
            std::string body = R"({"status":)";
            body.append(report.ready           ? R"("ready")"
                        : report.shutting_down ? R"("shutting_down")"
                                               : R"("not_ready")");
            body.append(R"(,"checks":{)");
            bool first = true;
            for (const auto& [name, state] : report.checks) {
                if (!first) {
                    body.push_back(',');
                }
                first = false;
                http::append_json_string(body, name);
                body.push_back(':');
                http::append_json_string(body, state);
            }
            body.append("}}");
            writer->respond(http::Response::json(report.ready ? 200 : 503, std::move(body)));
        },
        public_route);
}

} // namespace agentd::gateway::app
