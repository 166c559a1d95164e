#pragma once
/// An HTTP/1.1 load generator for `agentd bench gateway`: N keep-alive connections on one
/// io_context, each sending the next request as soon as the previous response arrived (closed
/// loop), until a request count or a duration is reached. Optionally opens an MCP session per
/// connection first (initialize → notifications/initialized, then Mcp-Session-Id and
/// MCP-Protocol-Version on every request).
///
/// Thread affinity: run_load() blocks the calling thread and runs its own I/O threads.
/// Errors: failed requests are counted (and the connection re-established), never thrown;
/// run_load() throws std::runtime_error only for unusable options (bad URL).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace agentd::gateway::bench {

struct Url {
    std::string host;
    std::uint16_t port = 80;
    std::string target = "/";
};

/// Parses "http://host:port/path" (https is not supported by the bench). Throws on bad input.
[[nodiscard]] Url parse_http_url(const std::string& text);

struct LoadOptions {
    Url url;
    std::size_t concurrency = 1;
    std::size_t requests = 10000;          ///< measured requests (when duration is zero)
    std::chrono::milliseconds duration{0}; ///< run for this long instead of a request count
    std::size_t warmup = 0;                ///< unmeasured requests first
    unsigned threads = 1;                  ///< client I/O threads
    bool mcp_session = true;               ///< initialize a session on each connection
    bool plain_get = false; ///< GET without body; success = status 200 (the HTTP layer alone)
    std::string protocol_version = "2025-06-18";
    /// The JSON-RPC request body for request id `id`.
    std::function<std::string(std::uint64_t id)> body;
};

struct LoadResult {
    std::size_t concurrency = 0;
    std::size_t requests = 0; ///< measured, successful or not
    std::size_t errors = 0;
    double seconds = 0.0;
    double requests_per_s = 0.0;
    double p50_ms = 0.0;
    double p90_ms = 0.0;
    double p99_ms = 0.0;
    double max_ms = 0.0;
    std::string first_error;
};

[[nodiscard]] LoadResult run_load(const LoadOptions& options);

} // namespace agentd::gateway::bench
