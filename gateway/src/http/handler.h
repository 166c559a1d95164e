#pragma once
/// The seam between the HTTP server (gateway/src/http/) and the route handlers (MCP, A2A,
/// OpenAI, REST tools, memory, health, metrics). Handlers never see Beast or Asio types.
///
/// Threading: a handler is called on the connection's strand and must return quickly (≤ ~1 ms,
/// never blocking). It answers through its `ResponseWriter`, either at once or later from any
/// thread (after async work: engine tokens, a database write on the blocking pool, an upstream
/// call). `ResponseWriter` and `SseStream` are thread-safe and shared-owned; the server keeps the
/// connection alive until the response is complete or the stream is closed, and tells the
/// handler when the client goes away (`on_close`). Handlers must not throw; the server catches
/// anything that escapes, logs it and answers 500 with a JSON body.
///
/// Lifetime: a writer or stream refers to its connection, which lives on the App's io_context;
/// like any Asio object it must not outlive the App. Drop them when they end (on_close /
/// on_client_gone), and keep long-lived holders in objects given to AppContext::keep(), which the
/// App destroys before its io_context. A writer dropped without an answer makes the server
/// answer 500; a stream dropped while open is ended cleanly.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentd::gateway::http {

/// A header list that keeps order and duplicates; lookups are case-insensitive.
class Headers {
public:
    void add(std::string name, std::string value) {
        items_.emplace_back(std::move(name), std::move(value));
    }
    /// The first value of `name`, if present.
    [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
    /// Every value of `name`, in order.
    [[nodiscard]] std::vector<std::string_view> get_all(std::string_view name) const;
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& items() const {
        return items_;
    }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

/// Who is calling, as established by the auth layer before any handler runs.
struct Principal {
    std::string tenant;              ///< tenant id; "local" when no keys are configured
    std::vector<std::string> scopes; ///< scopes of the API key; {"*"} for the local tenant
    std::string key_id;              ///< a non-secret name of the key used ("" when none)
    [[nodiscard]] bool has_scope(std::string_view scope) const;
};

/// One HTTP request, fully read (bodies are size-limited by the server before a handler runs).
struct Request {
    std::string method; ///< "GET", "POST", ...
    std::string target; ///< as sent: path plus query
    std::string path;   ///< decoded path without the query
    std::string query;  ///< raw query string without '?'
    Headers headers;
    std::string body;
    std::string remote;     ///< peer "ip:port"
    std::string request_id; ///< unique per request; echoed as X-Request-Id and in logs
    Principal principal;    ///< filled by auth
    std::vector<std::pair<std::string, std::string>> path_params; ///< from "{name}" segments

    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const {
        return headers.get(name);
    }
    [[nodiscard]] std::optional<std::string_view> path_param(std::string_view name) const;
    /// The value of a query parameter (percent-decoded), if present.
    [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
};

/// A complete response.
struct Response {
    unsigned status = 200;
    std::string content_type = "application/json";
    Headers headers; ///< extra headers (Content-Type and Content-Length are set by the server)
    std::string body;

    /// A JSON response with an already-serialized body.
    static Response json(unsigned status, std::string body);
    /// The uniform error body: {"error": {"code": <code>, "message": <message>}}.
    static Response error(unsigned status, std::string_view code, std::string_view message);
};

/// One Server-Sent Event. `data` may contain newlines (split into several data: lines).
struct SseEvent {
    std::string data;
    std::string event; ///< "" → no event: line (the client treats it as "message")
    std::string id;    ///< "" → no id: line
    std::optional<std::chrono::milliseconds> retry;
};

/// An open SSE response. Thread-safe. Writes are queued (bounded); one write is in flight at a
/// time. The server sends a comment heartbeat when the stream has been idle for the configured
/// interval, and disables the read timeout while the stream is open.
class SseStream {
public:
    virtual ~SseStream() = default;
    /// Queues an event. Returns false when the stream is closed or its queue is full (the
    /// caller decides: drop, cancel the work, or close).
    virtual bool send(SseEvent event) = 0;
    /// Ends the response (a chunked stream's final chunk) after the queued events are written.
    virtual void close() = 0;
    /// True once the stream is closed by either side.
    [[nodiscard]] virtual bool closed() const = 0;
    /// Called once, on any thread, when the stream ends for any reason (client gone, close(),
    /// server shutdown). Set it before the first send. Replaces any earlier callback.
    virtual void on_close(std::function<void()> callback) = 0;
};

/// How a handler answers. Thread-safe; exactly one of respond()/start_sse() takes effect, later
/// calls are ignored (and logged in debug builds).
class ResponseWriter {
public:
    virtual ~ResponseWriter() = default;
    virtual void respond(Response response) = 0;
    /// Switches this request to an SSE response (`text/event-stream`, chunked) and returns the
    /// stream. `headers` are sent with the response head (e.g. Mcp-Session-Id).
    virtual std::shared_ptr<SseStream> start_sse(unsigned status = 200, Headers headers = {}) = 0;
    /// True once the client has gone away (the handler may stop working).
    [[nodiscard]] virtual bool client_gone() const = 0;
    /// Called once when the client disconnects before the response is complete.
    virtual void on_client_gone(std::function<void()> callback) = 0;
};

using ResponseWriterPtr = std::shared_ptr<ResponseWriter>;

/// A route handler. Called on the connection's strand; must not block or throw.
using Handler = std::function<void(Request&& request, ResponseWriterPtr writer)>;

/// Route registration. Patterns are literal paths with optional "{name}" segments
/// ("/v1/tools/{name}"); a trailing "/*" matches any rest of the path (available as the path
/// parameter "*"). Method "*" matches all. Segments are matched percent-decoded; a literal
/// segment beats "{name}", which beats "/*". A path that matches a route but not its method gets
/// 405 with an Allow header; no match, 404. HEAD is served by the GET route unless a HEAD route
/// exists (the handler sees method "HEAD"; the server drops the body). OPTIONS without an
/// OPTIONS route answers 204 with Allow. Routes are registered before the server starts; the
/// table is immutable afterwards (adding later is a bug and aborts).
struct RouteOptions {
    bool public_route = false; ///< skips bearer auth (healthz, readyz, agent card)
    std::string metrics_name;  ///< route label in /metrics ("" → the pattern)
    /// Scope the caller's key must hold ("" → any valid key). Keys with scope "*" hold all.
    /// A valid key without it gets 403. Ignored for public routes and without configured keys.
    std::string scope;
};

class Router {
public:
    virtual ~Router() = default;
    virtual void add(std::string method, std::string pattern, Handler handler,
                     RouteOptions options = {}) = 0;
};

} // namespace agentd::gateway::http
