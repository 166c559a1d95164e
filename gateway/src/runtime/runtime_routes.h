#pragma once
/// Start-up wiring of the agent runtime (runtime_routes.cpp).
///
/// Ownership: the objects built are kept by the App (AppContext::keep) or by the A2A module.
/// Threads: start-up only (main thread). Errors: throw std::runtime_error when a tool cannot be
/// set up.

#include "agentd/protocols/a2a/agent_card.h"

#include "a2a/a2a_module.h"
#include "app/app_context.h"
#include "runtime/agent_runtime.h"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace agentd::gateway::runtime {

namespace proto = protocols::a2a;

/// Route module "agent_tools": the peer agents' tools, as shared tools of the registry (the
/// "sandbox" module provides `run_python`, builtin/sandbox_module.h).
void register_agent_tools(app::AppContext& context);

/// Builds the runtime and every agent's faces; adds their cards to `cards`. Null when no agent
/// is configured.
std::shared_ptr<AgentRuntime>
install_agents(app::AppContext& context, a2a::A2aModule& module,
               std::map<std::string, proto::AgentCard>& cards,
               const std::function<proto::AgentCard(const AgentSpec&)>& card_of);

} // namespace agentd::gateway::runtime
