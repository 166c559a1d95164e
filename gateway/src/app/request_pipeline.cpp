#include "app/request_pipeline.h"

#include "http/text.h"
#include "log/logging.h"

#include <array>

namespace agentd::gateway::app {
namespace {

/// Method label for metrics: the standard methods by name, anything else "OTHER" (untrusted
/// input must not create unbounded label values).
std::string_view method_label(std::string_view method) {
    static constexpr std::array<std::string_view, 9> kKnown = {
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
    for (auto m : kKnown) {
        if (m == method) {
            return m;
        }
    }
    return "OTHER";
}

void answer_unmatched(const http::RouteTable::Match& match, const http::Request& request,
                      const http::ResponseWriterPtr& writer) {
    using Kind = http::RouteTable::Match::Kind;
    if (match.kind == Kind::options) {
        http::Response r;
        r.status = 204;
        r.content_type.clear();
        r.headers.add("Allow", match.allow);
        writer->respond(std::move(r));
    } else if (match.kind == Kind::method_not_allowed) {
        auto r = http::Response::error(405, "method_not_allowed",
                                       "method " + request.method +
                                           " is not allowed here; allowed: " + match.allow);
        r.headers.add("Allow", match.allow);
        writer->respond(std::move(r));
    } else {
        writer->respond(http::Response::error(404, "not_found", "no route for " + request.path));
    }
}

} // namespace

RequestPipeline::RequestPipeline(const http::RouteTable& routes, const auth::Authenticator& auth,
                                 metrics::Registry& m, bool access_log)
    : routes_(routes), auth_(auth), access_log_(access_log),
      requests_(m.counter_family("agentd_http_requests_total",
                                 "HTTP requests by route, method and status.",
                                 {"route", "method", "status"})),
      latency_(
          m.histogram_family("agentd_http_request_duration_seconds",
                             "Time from a complete request to its response handed to the socket.",
                             {"route"}, metrics::Registry::latency_buckets())),
      open_connections_(m.gauge("agentd_http_open_connections", "Open HTTP connections.")),
      connections_(m.counter("agentd_http_connections_total", "Accepted HTTP connections.")),
      rejected_(m.counter("agentd_http_rejected_connections_total",
                          "Connections refused at the connection limit.")),
      open_streams_(m.gauge("agentd_http_open_sse_streams", "Open SSE response streams.")),
      received_(m.counter("agentd_http_received_bytes_total", "Bytes read from clients.")),
      sent_(m.counter("agentd_http_sent_bytes_total", "Bytes written to clients.")) {}

void RequestPipeline::on_request(http::Request&& request, http::ResponseWriterPtr writer,
                                 std::string& route_label) {
    const auto parts = http::split_request_target(request.target);
    const std::string_view raw_path = parts ? parts->first : std::string_view(request.path);
    auto match = routes_.match(request.method, raw_path);
    if (match.kind != http::RouteTable::Match::Kind::found) {
        route_label = "unmatched";
        answer_unmatched(match, request, writer);
        return;
    }
    route_label = routes_.label(match.route_index);
    if (match.options->public_route) {
        // With keys configured, callers of public routes are anonymous (no tenant, no scopes).
        request.principal =
            auth_.enabled() ? http::Principal{} : auth::Authenticator::local_principal();
    } else if (auto denied = auth_.authorize(request, match.options->scope)) {
        writer->respond(std::move(*denied));
        return;
    }
    request.path_params = std::move(match.params);
    try {
        (*match.handler)(std::move(request), writer);
    } catch (const std::exception& e) {
        log::log_event(log::Level::error, "handler threw",
                       {{"route", route_label}, {"error", e.what()}});
        writer->respond(http::Response::error(500, "internal_error", "internal server error"));
    } catch (...) {
        log::log_event(log::Level::error, "handler threw a non-exception",
                       {{"route", route_label}});
        writer->respond(http::Response::error(500, "internal_error", "internal server error"));
    }
}

void RequestPipeline::on_request_done(const http::RequestRecord& r) noexcept {
    try {
        const std::string_view route = r.route == "-" ? std::string_view("invalid") : r.route;
        const std::string status = std::to_string(r.status);
        requests_.with({route, method_label(r.method), status}).inc();
        const double seconds = std::chrono::duration<double>(r.latency).count();
        latency_.with({route}).observe(seconds);
        if (access_log_ && log::enabled(log::Level::info)) {
            const std::string_view target =
                r.target.size() > 256 ? r.target.substr(0, 256) : r.target;
            log::log_event(log::Level::info, "request",
                           {{"request_id", r.request_id},
                            {"remote", r.remote},
                            {"method", r.method},
                            {"target", target},
                            {"route", route},
                            {"status", r.status},
                            {"duration_ms", seconds * 1000.0},
                            {"bytes_in", r.request_bytes},
                            {"bytes_out", r.response_bytes},
                            {"sse", r.sse},
                            {"client_gone", r.client_gone}});
        }
    } catch (...) {
        // Metrics and logs must never fail a connection (allocation failure while labelling).
    }
}

void RequestPipeline::on_connection_opened() noexcept {
    open_connections_.add(1);
    connections_.inc();
}

void RequestPipeline::on_connection_closed() noexcept {
    open_connections_.sub(1);
}

void RequestPipeline::on_connection_rejected() noexcept {
    rejected_.inc();
}

void RequestPipeline::on_sse_opened() noexcept {
    open_streams_.add(1);
}

void RequestPipeline::on_sse_closed() noexcept {
    open_streams_.sub(1);
}

void RequestPipeline::on_bytes(std::uint64_t received, std::uint64_t sent) noexcept {
    if (received != 0) {
        received_.inc(received);
    }
    if (sent != 0) {
        sent_.inc(sent);
    }
}

} // namespace agentd::gateway::app
