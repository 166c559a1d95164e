#pragma once
/// agentd's A2A client: calls a peer agent, given its card URL, and follows the task to its end.
///
/// A call fetches (once, then cached) the peer's card and picks its JSON-RPC interface — v1.0
/// when offered, else v0.3 — then sends the message with returnImmediately and polls GetTask,
/// reporting every new status message as progress, until the task is terminal or interrupted
/// (input-required, auth-required). A deadline or a cancellation cancels the peer's task
/// (CancelTask, best effort) and ends the call with errc::timeout / errc::cancelled. A peer
/// that answers with a direct Message ends the call at once.
///
/// Ownership: shared; calls in flight keep it alive. Thread-safety: call() from any thread;
/// callbacks run on the HTTP client's or the timers' threads. Errors (tools::errc in the
/// callback): timeout, cancelled, upstream_error (HTTP failures, JSON-RPC errors of the peer,
/// malformed answers), plus the HTTP client's own (dns_failure, connection_refused, ...).

#include "agentd/base/result.h"
#include "agentd/protocols/a2a/agent_card.h"
#include "agentd/protocols/a2a/rpc.h"
#include "agentd/protocols/a2a/types.h"
#include "agentd/protocols/mcp/types.h"
#include "agentd/tools/cancellation.h"
#include "agentd/tools/http_client.h"
#include "agentd/tools/tool_executor.h"

#include "a2a/push_sender.h"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace agentd::gateway::a2a {

struct PeerOptions {
    std::string card_url;
    std::string bearer_token; ///< sent as Authorization: Bearer when set
    tools::NetPolicy policy;
    std::chrono::milliseconds poll_interval{300};
    std::chrono::milliseconds request_timeout{30'000}; ///< one HTTP exchange
    std::size_t max_response_bytes = 8U << 20U;
};

struct PeerCall {
    std::string text;    ///< the message to send
    std::string task_id; ///< continue this task of the peer ("" → a new task)
    std::string context_id;
    std::chrono::steady_clock::time_point deadline;
    std::shared_ptr<tools::CancellationSignal> cancel; ///< may be null
    tools::ProgressFn progress;                        ///< may be empty
};

struct PeerOutcome {
    proto::TaskState state = proto::TaskState::completed; ///< completed for a direct Message
    std::string task_id;                                  ///< "" for a direct Message
    std::string context_id;
    std::string text; ///< the answer for a model: artifacts, then the status message
    proto::Version version = proto::Version::v1_0;
};

class PeerClient : public std::enable_shared_from_this<PeerClient> {
public:
    PeerClient(std::shared_ptr<tools::HttpClient> http,
               std::shared_ptr<protocols::mcp::Timers> timers, PeerOptions options);

    void call(PeerCall call, std::function<void(base::Result<PeerOutcome>)> done);

    /// The peer's card once fetched (nullopt before the first successful call).
    [[nodiscard]] std::optional<proto::AgentCard> card() const;

    struct Endpoint {
        WebhookUrl url;
        proto::Version version = proto::Version::v1_0;
    };
    /// Sends one JSON-RPC request to the peer; the result or the error.
    void rpc(const Endpoint& endpoint, const proto::Request& request,
             std::chrono::steady_clock::time_point deadline,
             std::shared_ptr<tools::CancellationSignal> cancel,
             std::function<void(base::Result<protocols::JsonPtr>)> done);
    /// The peer's endpoint, fetching the card when needed.
    void endpoint(std::chrono::steady_clock::time_point deadline,
                  std::shared_ptr<tools::CancellationSignal> cancel,
                  std::function<void(base::Result<Endpoint>)> done);

    [[nodiscard]] const std::shared_ptr<protocols::mcp::Timers>& timers() const { return timers_; }
    [[nodiscard]] const PeerOptions& options() const { return options_; }

private:
    std::shared_ptr<tools::HttpClient> http_;
    std::shared_ptr<protocols::mcp::Timers> timers_;
    PeerOptions options_;
    mutable std::mutex mu_;
    std::optional<proto::AgentCard> card_;
    std::optional<Endpoint> endpoint_;
    std::uint64_t next_id_ = 1;
};

/// The text a model reads for a peer's task: text parts, data parts as JSON, files described.
[[nodiscard]] std::string render_for_model(const proto::Task& task);
[[nodiscard]] std::string render_for_model(const std::vector<proto::Part>& parts);

} // namespace agentd::gateway::a2a
