#pragma once
/// The MCP server: protocol logic for every revision agentd speaks, independent of transport.
///
/// Transports (Streamable HTTP and stdio in the gateway) parse frames with jsonrpc::parse() and
/// hand messages to the server together with a RequestChannel, the request's own response
/// stream. Two entry points:
/// - `Connection` — a client connection that may hold a session: one per stdio process, one per
///   HTTP `Mcp-Session-Id`. It serves `initialize` and the session revisions
///   (2025-03-26/06-18/11-25): ping, logging/setLevel, resource subscriptions, server-to-client
///   requests with response correlation and timeouts, `notifications/cancelled`. On stdio it
///   also serves 2026-07-28 requests (recognised by their `_meta`) statelessly.
/// - `Server::handle_stateless()` — one 2026-07-28 request over HTTP (no session), validated
///   against the mirrored HTTP headers.
///
/// Ownership: create() returns a shared server; connections and in-flight requests keep what
/// they need alive. Thread-safety: everything is thread-safe; nothing blocks; calls return
/// before the work is done and results arrive on the channel from any thread.
/// Errors: bad input is answered on the channel with the spec's JSON-RPC error; nothing throws.

#include "agentd/protocols/json_rpc.h"
#include "agentd/protocols/mcp/providers.h"
#include "agentd/protocols/mcp/types.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agentd::protocols::mcp {

struct ServerOptions {
    std::string name = "agentd";
    std::string version = "0.0.0";
    std::string title;
    std::string instructions;                     ///< "" → omitted
    std::size_t page_size = 100;                  ///< items per page of every list
    std::size_t max_in_flight = 128;              ///< concurrent requests per connection
    std::size_t max_listens = 1024;               ///< concurrent subscriptions/listen streams
    std::size_t max_resource_subscriptions = 256; ///< per session (resources/subscribe)
    std::size_t max_listen_uris = 256;            ///< resourceSubscriptions per listen request
    int max_input_rounds = 8;                     ///< input_required rounds served per request
    std::chrono::milliseconds client_request_timeout{60'000}; ///< server-to-client requests
    std::chrono::milliseconds list_ttl{0}; ///< ttlMs of list results (2026-07-28)
    std::chrono::milliseconds read_ttl{0}; ///< ttlMs of resources/read results
    std::chrono::milliseconds discover_ttl{60'000};
    std::string request_state_key; ///< HMAC key for requestState; "" → random per process
    std::chrono::seconds request_state_ttl{900};
};

/// How a response should be reported by transports that have status codes (HTTP).
enum class ResponseStatus {
    ok,               ///< a result, or an error from the method itself
    rejected,         ///< the request was refused before it ran (malformed, version, headers)
    method_not_found, ///< -32601 (2026-07-28 over HTTP: 404)
    busy,             ///< a bound on concurrent work was hit (HTTP 429)
};

/// The response stream of one client request, implemented by the transport. Thread-safe.
class RequestChannel {
public:
    virtual ~RequestChannel() = default;
    /// A notification or server-to-client request that belongs to this request (progress, log
    /// messages, sampling/elicitation requests, subscription notifications). Serialized.
    virtual void send_related(std::string message) = 0;
    /// The final response (serialized); called at most once. Nothing is sent after it.
    virtual void send_response(std::string message, ResponseStatus status) = 0;
    /// The request ended without a response (the client cancelled it); nothing more will come.
    virtual void end_without_response() = 0;
};

/// Where a session's messages that belong to no request go (the HTTP GET stream, stdout):
/// list-changed and resource-updated notifications. Thread-safe.
class ConnectionSink {
public:
    virtual ~ConnectionSink() = default;
    virtual void send(std::string message) = 0;
};

/// HTTP headers that mirror body fields (2026-07-28 Streamable HTTP), checked against the body.
struct MirroredHeaders {
    std::optional<std::string> protocol_version; ///< MCP-Protocol-Version
    std::optional<std::string> method;           ///< Mcp-Method
    std::optional<std::string> name;             ///< Mcp-Name
    /// Mcp-Param-{Name} headers: {Name lower-cased, raw value}.
    std::vector<std::pair<std::string, std::string>> params;
};

/// A client connection (stdio process or HTTP session). Thread-safe.
class Connection {
public:
    virtual ~Connection() = default;
    /// Handles one message. Requests are answered on `channel` (required for requests, ignored
    /// otherwise); notifications and responses (answers to server-to-client requests) are
    /// consumed silently.
    virtual void handle(const jsonrpc::Message& message,
                        std::shared_ptr<RequestChannel> channel) = 0;
    /// Handles a batch. Allowed when the session negotiated 2025-03-26; otherwise `channel` gets
    /// one -32600 error. Responses are combined into one array; a batch of notifications only
    /// gets no response (`channel` is ended without one).
    virtual void handle_batch(const std::vector<jsonrpc::Message>& messages,
                              std::shared_ptr<RequestChannel> channel) = 0;
    /// The revision negotiated by initialize, once initialized.
    [[nodiscard]] virtual std::optional<Version> session_version() const = 0;
    /// Requests currently being served.
    [[nodiscard]] virtual std::size_t in_flight() const = 0;
    /// Ends the connection: cancels in-flight requests, ends subscriptions, fails pending
    /// server-to-client requests. Idempotent.
    virtual void close() = 0;
};

/// True when a request carries 2026-07-28 per-request metadata (`_meta` keys under
/// `io.modelcontextprotocol/`), i.e. it belongs to the stateless era.
[[nodiscard]] bool is_stateless_request(const jsonrpc::Message& message);

/// The protocol version a 2026-07-28 request declares in `_meta` (nullopt when absent).
[[nodiscard]] std::optional<std::string> declared_version(const jsonrpc::Message& message);

class Server {
public:
    virtual ~Server() = default;

    /// Creates a server. `timers` is required (timeouts, fixtures).
    [[nodiscard]] static std::shared_ptr<Server> create(ServerOptions options, Providers providers,
                                                        std::shared_ptr<Timers> timers);

    /// Opens a connection for `caller`. `stdio` connections also serve 2026-07-28 requests.
    [[nodiscard]] virtual std::shared_ptr<Connection>
    connect(Caller caller, std::shared_ptr<ConnectionSink> sink, bool stdio) = 0;

    /// Serves one 2026-07-28 request received without a session (HTTP). Returns a function that
    /// cancels it (call it when the client closes the response stream). Notifications (which
    /// 2026-07-28 HTTP does not define) are ignored: the returned function is a no-op.
    [[nodiscard]] virtual std::function<void()>
    handle_stateless(const jsonrpc::Message& message, Caller caller, const MirroredHeaders& headers,
                     std::shared_ptr<RequestChannel> channel) = 0;

    /// Graceful stop: ends every subscriptions/listen stream with its final result, cancels
    /// in-flight requests of every connection. Idempotent.
    virtual void shutdown() = 0;

    [[nodiscard]] virtual const ServerOptions& options() const = 0;
};

} // namespace agentd::protocols::mcp
