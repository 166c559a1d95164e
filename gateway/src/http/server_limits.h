#pragma once
/// Resource limits and timeouts of the HTTP server (docs/CONFIG.md documents each one and its
/// config key). A plain value type; copied into the server at start.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace agentd::gateway::http {

struct ServerLimits {
    std::size_t max_header_bytes = 16 * 1024;         ///< request line + fields; above → 431
    std::uint64_t max_body_bytes = 8 * 1024 * 1024;   ///< request body; above → 413
    std::size_t max_connections = 1024;               ///< open connections; above → 503 + close
    std::size_t max_pipelined_requests = 16;          ///< requests awaiting their response
    std::chrono::milliseconds idle_timeout{60'000};   ///< keep-alive wait for the next request
    std::chrono::milliseconds header_timeout{10'000}; ///< first byte → end of the header
    std::chrono::milliseconds body_timeout{60'000};   ///< end of header → end of the body
    std::chrono::milliseconds write_timeout{30'000};  ///< one write to the client
    std::chrono::milliseconds linger_timeout{2'000};  ///< draining input before an error close
    std::chrono::milliseconds sse_heartbeat{15'000};  ///< idle SSE stream → comment line
    std::size_t sse_max_queued_events = 1024;         ///< per stream, not yet written
    std::size_t sse_max_queued_bytes = 4 * 1024 * 1024;
};

} // namespace agentd::gateway::http
