#pragma once
/// The application side of the HTTP server: route lookup (404/405/OPTIONS), bearer auth for
/// non-public routes, the handler call (exceptions → 500), and per-request metrics and access
/// logs.
///
/// Ownership: borrows the route table, authenticator and registry (all owned by the App).
/// Thread affinity: the ServerHooks callbacks run on connection strands, concurrently; the
/// pipeline itself is immutable after construction. Errors: none escape; see ServerHooks.

#include "auth/authenticator.h"
#include "http/route_table.h"
#include "http/server.h"
#include "metrics/registry.h"

namespace agentd::gateway::app {

class RequestPipeline final : public http::ServerHooks {
public:
    RequestPipeline(const http::RouteTable& routes, const auth::Authenticator& auth,
                    metrics::Registry& metrics, bool access_log);

    void on_request(http::Request&& request, http::ResponseWriterPtr writer,
                    std::string& route_label) override;
    void on_request_done(const http::RequestRecord& record) noexcept override;
    void on_connection_opened() noexcept override;
    void on_connection_closed() noexcept override;
    void on_connection_rejected() noexcept override;
    void on_sse_opened() noexcept override;
    void on_sse_closed() noexcept override;
    void on_bytes(std::uint64_t received, std::uint64_t sent) noexcept override;

private:
    const http::RouteTable& routes_;
    const auth::Authenticator& auth_;
    bool access_log_;
    metrics::Family<metrics::Counter>& requests_;
    metrics::Family<metrics::Histogram>& latency_;
    metrics::Gauge& open_connections_;
    metrics::Counter& connections_;
    metrics::Counter& rejected_;
    metrics::Gauge& open_streams_;
    metrics::Counter& received_;
    metrics::Counter& sent_;
};

} // namespace agentd::gateway::app
