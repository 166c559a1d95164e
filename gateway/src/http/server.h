#pragma once
/// The HTTP/1.1 server: one listening socket, one session per connection (each on its own
/// strand), keep-alive, pipelining, size limits, timeouts, SSE, graceful shutdown.
///
/// What the server guarantees (see docs/CONFIG.md for the limits):
///  - every request is size-limited (431 header, 413 body) and time-limited (header/body
///    timeouts → 408 and close; idle keep-alive timeout → close), so slow or hostile clients
///    cost one socket each and never block other connections;
///  - malformed framing (bad syntax, bad Content-Length, unsupported Transfer-Encoding, a
///    missing Host on HTTP/1.1) → 400 and close;
///  - at most `max_connections` open connections (beyond: 503 and close), at most
///    `max_pipelined_requests` requests awaiting a response per connection (reading pauses);
///  - responses leave in request order, exactly one write in flight per connection;
///  - a handler exception or a handler that drops its writer without answering → 500.
///
/// Ownership: the Server owns the listener; sessions are shared-owned by their pending
/// operations and by the writers/streams handed to handlers. The hooks object must outlive the
/// io_context's last handler. Thread affinity: listen()/start() on the main thread before the
/// I/O threads run; shutdown()/force_close()/open_connections() from any thread.
/// Errors: listen() throws std::runtime_error (start-up); nothing else throws.

#include "http/handler.h"
#include "http/server_limits.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace agentd::gateway::http {

/// What the server reports about one finished exchange.
struct RequestRecord {
    std::string_view method;
    std::string_view target;
    std::string_view route; ///< label set by on_request ("-" when none)
    std::string_view request_id;
    std::string_view remote;
    unsigned status = 0; ///< status sent; 499 when the client left before a response head
    /// Request complete → response (SSE: end of stream) handed to the socket.
    std::chrono::nanoseconds latency{0};
    std::uint64_t request_bytes = 0;
    std::uint64_t response_bytes = 0; ///< body bytes (SSE: event bytes)
    bool sse = false;
    bool client_gone = false;
};

/// The application side of the server. All callbacks run on the connection's strand, must be
/// quick, and must not throw (on_request may; the server then answers 500).
class ServerHooks {
public:
    virtual ~ServerHooks() = default;
    /// A complete request. Answer through `writer` (now or later, from any thread). Set
    /// `route_label` to the matched route's label for logs and metrics.
    virtual void on_request(Request&& request, ResponseWriterPtr writer,
                            std::string& route_label) = 0;
    /// Called once per exchange, when its response is complete and about to be written (so a
    /// client that has read a response finds it counted), or when the client left before that.
    virtual void on_request_done(const RequestRecord& /*record*/) noexcept {}
    virtual void on_connection_opened() noexcept {}
    virtual void on_connection_closed() noexcept {}
    virtual void on_connection_rejected() noexcept {}
    virtual void on_sse_opened() noexcept {}
    virtual void on_sse_closed() noexcept {}
    virtual void on_bytes(std::uint64_t /*received*/, std::uint64_t /*sent*/) noexcept {}
};

struct BoundAddress {
    std::string host; ///< numeric address actually bound ("127.0.0.1", "::1", "0.0.0.0")
    std::uint16_t port = 0;
    bool loopback = false;
    [[nodiscard]] std::string to_string() const; ///< "127.0.0.1:8080" / "[::1]:8080"
};

class Server {
public:
    Server(boost::asio::io_context& io, ServerLimits limits, ServerHooks& hooks);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Resolves `host` (numeric or a name; the first address is used), binds and listens.
    /// Throws std::runtime_error naming the address on failure.
    BoundAddress listen(const std::string& host, std::uint16_t port);
    /// Starts accepting connections (the io_context must be run by someone).
    void start();
    /// Graceful stop: closes the listener; idle connections close now; in-flight requests may
    /// finish (their responses carry Connection: close); SSE streams are ended cleanly after
    /// their queued events. `on_drained` runs (on some I/O thread) once every connection has
    /// closed. Call once.
    void shutdown(std::function<void()> on_drained);
    /// Closes every connection at once (after the shutdown grace period).
    void force_close();
    [[nodiscard]] std::size_t open_connections() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace agentd::gateway::http
