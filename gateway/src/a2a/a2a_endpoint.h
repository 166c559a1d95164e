#pragma once
/// `/a2a` (and `/a2a/{agent}`): A2A's JSON-RPC binding over HTTP for every agent, and the agent
/// cards at `/.well-known/agent-card.json` and `/a2a/{agent}/.well-known/agent-card.json`.
///
/// A POST carries one JSON-RPC request (batches are refused: -32600). The method name and the
/// `A2A-Version` header pick the version (protocols/a2a/rpc.h); results and errors come back in
/// that version's shape, with HTTP 200 (JSON-RPC errors are in the body). Streaming methods
/// answer `text/event-stream`, one JSON-RPC response per `data:` event; errors found before the
/// first event are a plain JSON-RPC error body — except v0.3 `tasks/resubscribe`, whose strict
/// clients expect an event stream even for errors. Host/Origin are checked as for /mcp (403).
///
/// Cards: `A2A-Version: 1.0` gets the v1.0 card, `0.3` the v0.3 card, no header the dual card;
/// each carries Last-Modified (agentd's start) and Cache-Control.
///
/// Ownership: shared by the route handlers. Thread-safety: handlers run concurrently on
/// connection strands and never block.

#include "agentd/protocols/a2a/agent_card.h"
#include "agentd/protocols/a2a/rpc.h"
#include "agentd/protocols/json_rpc.h"

#include "a2a/task_manager.h"
#include "http/handler.h"
#include "http/origin_guard.h"

#include <functional>
#include <memory>
#include <string>

namespace agentd::gateway::a2a {

/// The card of `agent` as served at `base_url` ("http://host:port"); nullopt for an unknown
/// agent.
using CardSource = std::function<std::optional<proto::AgentCard>(const std::string& agent,
                                                                 const std::string& base_url)>;

struct EndpointOptions {
    std::string default_agent;      ///< served at /a2a and /.well-known/agent-card.json
    std::string fallback_authority; ///< "host:port" for cards when Host is not usable
    protocols::jsonrpc::ParseLimits parse_limits;
    std::int64_t started_unix_s = 0; ///< Last-Modified of the cards
};

class A2aEndpoint {
public:
    A2aEndpoint(std::shared_ptr<TaskManager> tasks, CardSource cards,
                const http::OriginPolicy& origin, EndpointOptions options);

    /// POST /a2a, /a2a/{agent}: `agent` empty → the default agent.
    void handle_rpc(http::Request&& request, const http::ResponseWriterPtr& writer,
                    const std::string& agent);
    /// GET the agent card of `agent` (empty → the default agent).
    void handle_card(const http::Request& request, const http::ResponseWriterPtr& writer,
                     const std::string& agent);

private:
    void dispatch(const protocols::a2a::Request& request, const protocols::jsonrpc::RequestId& id,
                  const Caller& caller, const std::string& agent,
                  const http::ResponseWriterPtr& writer, const std::string& base_url);
    [[nodiscard]] std::string base_url_of(const http::Request& request) const;

    std::shared_ptr<TaskManager> tasks_;
    CardSource cards_;
    const http::OriginPolicy& origin_;
    EndpointOptions options_;
};

} // namespace agentd::gateway::a2a
