#pragma once
/// The faces of the agents: each configured agent is served
///  - over A2A (an AgentExecutor: the task's history is the conversation, each tool call becomes
///    a working status and an artifact, the answer an artifact and the completed status),
///  - over MCP as the tool `agent_<name>` (`{"message": string}`; one progress notification per
///    step; the answer as text, the steps in structuredContent),
///  - over the OpenAI API as the model name `<name>` on /v1/chat/completions (plain or streamed).
///
/// Ownership: the faces share the AgentRuntime. Threads: as their interfaces require (non-blocking
/// entry points; results from any thread). Errors: a turn that fails is a failed task, a tool
/// error (isError) or an OpenAI error response (503 without a model, 500 otherwise).

#include "agentd/tools/tool_registry.h"

#include "a2a/agent_executor.h"
#include "http/handler.h"
#include "runtime/agent_runtime.h"

#include <memory>
#include <string>

namespace agentd::gateway::runtime {

[[nodiscard]] std::shared_ptr<a2a::AgentExecutor>
make_a2a_agent(std::shared_ptr<AgentRuntime> runtime, std::string agent);

/// The MCP/registry tool `agent_<name>`.
[[nodiscard]] base::Result<tools::ToolPtr> make_agent_tool(std::shared_ptr<AgentRuntime> runtime,
                                                           const AgentSpec& spec);

/// /v1/chat/completions for a request whose `model` names an agent: answers it and returns
/// true; false (nothing answered) for any other model. Runs on the blocking pool.
bool handle_agent_chat(const std::shared_ptr<AgentRuntime>& runtime, const http::Request& request,
                       const http::ResponseWriterPtr& writer);

} // namespace agentd::gateway::runtime
