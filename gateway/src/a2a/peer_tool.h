#pragma once
/// Peer A2A agents as tools a model can call: `peer_<name>` with arguments
/// `{"message": string, "task_id"?: string}`. The call follows the peer's task to its end
/// (PeerClient), reports the peer's status messages as progress, and returns the peer's answer
/// as text (structuredContent: state, task_id, context_id). Failed, rejected, canceled and
/// auth-required tasks, HTTP and protocol failures, timeouts and cancellations are tool errors
/// (isError) naming the peer; input-required is a normal result that says how to continue.
///
/// Ownership: the tool owns its executor, which shares the PeerClient. Thread-safety: as
/// tools::ToolExecutor (non-blocking, done exactly once, from any thread).

#include "agentd/tools/tool_registry.h"

#include "a2a/peer_client.h"

#include <memory>
#include <string>

namespace agentd::gateway::a2a {

struct PeerToolSpec {
    std::string name;        ///< the peer's name; the tool is `peer_<name>`
    std::string description; ///< "" → derived from the card URL
    std::chrono::milliseconds timeout{120'000};
};

/// Builds the tool (errors only for an invalid name or schema: a configuration bug).
[[nodiscard]] base::Result<tools::ToolPtr> make_peer_tool(const PeerToolSpec& spec,
                                                          std::shared_ptr<PeerClient> client);

} // namespace agentd::gateway::a2a
