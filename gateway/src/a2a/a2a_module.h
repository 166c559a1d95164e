#pragma once
/// What the A2A route module keeps alive for the App's lifetime (a2a_routes.cpp): the task
/// manager, the webhook sender, the outbound HTTP client, timers, agent cards and the endpoint.
///
/// Ownership: kept by AppContext; handlers hold the endpoint, callbacks hold weak pointers.
/// Threads: fixed after registration (start-up); the members are thread-safe objects.

#include "agentd/memory/database.h"
#include "agentd/protocols/a2a/agent_card.h"
#include "agentd/protocols/mcp/types.h"
#include "agentd/tools/http_client.h"

#include "a2a/a2a_endpoint.h"
#include "a2a/push_sender.h"
#include "a2a/task_manager.h"
#include "runtime/agent_runtime.h"

#include <map>
#include <memory>
#include <string>

namespace agentd::gateway::a2a {

struct A2aModule {
    std::shared_ptr<memory::Database> database; ///< outlives the task manager (declared first)
    std::shared_ptr<protocols::mcp::Timers> timers;
    std::shared_ptr<tools::HttpClient> http;
    std::shared_ptr<PushSender> push;
    std::shared_ptr<TaskManager> tasks;
    /// Cards by agent name, without interfaces (filled in per request).
    std::shared_ptr<const std::map<std::string, proto::AgentCard>> cards;
    std::shared_ptr<A2aEndpoint> endpoint;
    std::string default_agent;
    bool bearer_auth = false;
    /// The agent runtime (null without configured agents); shares the executors above.
    std::shared_ptr<runtime::AgentRuntime> runtime;
};

} // namespace agentd::gateway::a2a
