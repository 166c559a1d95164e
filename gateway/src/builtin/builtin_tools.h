#pragma once
/// Start-up of the built-in tools, shared by `agentd serve` (the "sandbox" and "memory" route
/// modules) and `agentd mcp --stdio`:
///   - start_sandbox: creates the sandbox from the config (call it early: the zygote forks) and
///     adds run_python (sandbox.tools, or `force_python` for agents) and run_bash (sandbox.tools)
///     to the registry as shared tools;
///   - add_memory_tools: adds memory_store, memory_search and memory_delete.
///
/// Threads: start-up only. Errors: throw std::runtime_error (the sandbox cannot start, a tool
/// cannot be registered).

#include "agentd/tools/tool_registry.h"

#include "builtin/memory_service.h"
#include "builtin/sandbox_runner.h"

#include <memory>

namespace agentd::gateway::builtin {

[[nodiscard]] std::shared_ptr<SandboxRunner>
start_sandbox(const SandboxExposeConfig& config, boost::asio::io_context& io,
              boost::asio::thread_pool& blocking, tools::ToolRegistry* registry, bool force_python);

void add_memory_tools(tools::ToolRegistry& registry, const std::shared_ptr<MemoryService>& service);

} // namespace agentd::gateway::builtin
