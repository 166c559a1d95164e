#pragma once
/// `/mcp`: MCP's Streamable HTTP transport for every revision agentd speaks.
///
/// Era selection per request (2026-07-28 "Versioning", dual-era server):
///  - `initialize` opens a session of a session revision (2025-03-26/06-18/11-25) and mints an
///    unguessable `Mcp-Session-Id`; later requests of that session carry the header (missing:
///    400; unknown, expired, deleted, or another tenant's: 404). GET opens the session's
///    standalone SSE stream or, with `Last-Event-ID`, resumes a broken stream; DELETE ends it.
///  - a request carrying `MCP-Protocol-Version: 2026-07-28` or per-request `_meta` is served
///    statelessly: headers are checked against the body (-32020), versions (-32022), unknown
///    methods answer 404, closing the response stream cancels the request. GET and DELETE with
///    that version answer 405.
/// Always on: Host/Origin validation (403), Accept (406) and Content-Type (415) checks, body
/// size (413, by the server) and JSON-RPC shape (400 with -32700/-32600).
///
/// Ownership: shared by the route handlers; holds the MCP server and the session store.
/// Thread-safety: the handlers run on connection strands concurrently; they never block.

#include "agentd/protocols/json_rpc.h"
#include "agentd/protocols/mcp/server.h"

#include "http/handler.h"
#include "http/origin_guard.h"
#include "mcp/session_store.h"

#include <memory>

namespace agentd::gateway::mcp {

class McpHttpEndpoint {
public:
    McpHttpEndpoint(std::shared_ptr<protocols::mcp::Server> server,
                    std::shared_ptr<SessionStore> sessions, const http::OriginPolicy& origin,
                    protocols::jsonrpc::ParseLimits parse_limits = {});

    void handle_post(http::Request&& request, const http::ResponseWriterPtr& writer);
    void handle_get(http::Request&& request, const http::ResponseWriterPtr& writer);
    void handle_delete(http::Request&& request, const http::ResponseWriterPtr& writer);

    [[nodiscard]] SessionStore& sessions() { return *sessions_; }

private:
    void serve_stateless(const protocols::jsonrpc::Message& message, const http::Request& request,
                         const protocols::mcp::Caller& caller,
                         const http::ResponseWriterPtr& writer);
    void serve_initialize(const protocols::jsonrpc::Message& message,
                          const protocols::mcp::Caller& caller,
                          const http::ResponseWriterPtr& writer);
    void serve_session(const protocols::jsonrpc::ParsedFrame& frame, const http::Request& request,
                       const protocols::mcp::Caller& caller, const http::ResponseWriterPtr& writer);
    /// The session named by the request, or null after answering 400/404.
    std::shared_ptr<McpSession> session_of(const http::Request& request,
                                           const protocols::mcp::Caller& caller,
                                           const http::ResponseWriterPtr& writer);

    std::shared_ptr<protocols::mcp::Server> server_;
    std::shared_ptr<SessionStore> sessions_;
    const http::OriginPolicy& origin_;
    protocols::jsonrpc::ParseLimits parse_limits_;
};

/// A transport-level error: a JSON-RPC error response without an id, with HTTP `status`.
[[nodiscard]] http::Response rpc_error_response(unsigned status, int code,
                                                std::string_view message);

/// The MCP caller of an authenticated HTTP request.
[[nodiscard]] protocols::mcp::Caller caller_of(const http::Principal& principal);

} // namespace agentd::gateway::mcp
