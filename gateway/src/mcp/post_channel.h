#pragma once
/// The response of one MCP POST: a protocols::mcp::RequestChannel over the HTTP seam.
///
/// The response shape is chosen lazily: a request whose result is ready before anything else
/// needs to be sent is answered with one `application/json` body (the cheap, common case); the
/// first notification or server-to-client request switches the response to `text/event-stream`,
/// which then carries everything up to and including the response. On the session revisions
/// the SSE stream is a resumable EventStream of the session (event ids, replay, and a priming
/// event from 2025-11-25 on); on 2026-07-28 it is a plain stream (no resumption in that
/// revision).
///
/// Ownership: shared by the server's exchange and the handler. Thread-safety: all members.

#include "agentd/protocols/mcp/server.h"

#include "http/handler.h"
#include "mcp/session_store.h"

#include <memory>
#include <mutex>
#include <string>

namespace agentd::gateway::mcp {

struct PostChannelOptions {
    bool stateless = false;   ///< a 2026-07-28 request (404 for unknown methods)
    bool has_requests = true; ///< false: a batch of notifications only (answered 202)
    bool prime = false;       ///< send a priming event first (sessions at 2025-11-25+)
    bool session_header_on_success = false; ///< initialize: Mcp-Session-Id only on success
    std::shared_ptr<McpSession> session;    ///< the session (session revisions)
};

/// The HTTP status of a response (transport mapping of ResponseStatus).
[[nodiscard]] unsigned http_status_of(protocols::mcp::ResponseStatus status, bool stateless);

class PostChannel final : public protocols::mcp::RequestChannel {
public:
    PostChannel(http::ResponseWriterPtr writer, PostChannelOptions options)
        : writer_(std::move(writer)), options_(std::move(options)) {}

    void send_related(std::string message) override;
    void send_response(std::string message, protocols::mcp::ResponseStatus status) override;
    void end_without_response() override;

private:
    enum class State { pending, streaming, done };
    void open_stream_locked();
    [[nodiscard]] http::Headers session_headers() const;

    http::ResponseWriterPtr writer_;
    const PostChannelOptions options_;
    std::mutex mu_;
    State state_ = State::pending;
    std::shared_ptr<http::SseStream> sse_; ///< stateless streams
    std::shared_ptr<EventStream> stream_;  ///< session streams
};

} // namespace agentd::gateway::mcp
