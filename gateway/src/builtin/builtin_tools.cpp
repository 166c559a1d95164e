#include "builtin/builtin_tools.h"

#include "builtin/memory_tools.h"
#include "builtin/sandbox_tools.h"
#include "log/logging.h"

#include <stdexcept>

namespace agentd::gateway::builtin {
namespace {

void add_tool(tools::ToolRegistry& registry, const tools::ToolPtr& tool) {
    if (auto added = registry.add_shared(tool); !added) {
        throw std::runtime_error("registering tool \"" + tool->name() +
                                 "\": " + added.error().what());
    }
}

void add_tool(tools::ToolRegistry& registry, base::Result<tools::ToolPtr> tool) {
    if (!tool) {
        throw std::runtime_error("building a built-in tool: " + tool.error().what());
    }
    add_tool(registry, *tool);
}

} // namespace

std::shared_ptr<SandboxRunner> start_sandbox(const SandboxExposeConfig& config,
                                             boost::asio::io_context& io,
                                             boost::asio::thread_pool& blocking,
                                             tools::ToolRegistry* registry, bool force_python) {
    auto sb = sandbox::Sandbox::create(make_sandbox_config(config));
    if (!sb) {
        throw std::runtime_error("starting the sandbox: " + sb.error().what());
    }
    std::shared_ptr<sandbox::Sandbox> shared(std::move(*sb));
    auto runner = std::make_shared<SandboxRunner>(shared, config, io, blocking);
    if (registry != nullptr && (config.tools || force_python)) {
        add_tool(*registry, make_run_code_tool(runner, sandbox::Language::python));
    }
    if (registry != nullptr && config.tools && config.enabled) {
        add_tool(*registry, make_run_code_tool(runner, sandbox::Language::bash));
    }
    log::log_event(log::Level::info, "sandbox ready",
                   {{"mode", std::string(sandbox::to_string(shared->host().mode))},
                    {"isolation", std::to_string(shared->host().layers.names().size()) + " layers"},
                    {"max_concurrent_runs", config.max_concurrent_runs}});
    return runner;
}

void add_memory_tools(tools::ToolRegistry& registry,
                      const std::shared_ptr<MemoryService>& service) {
    auto tools = make_memory_tools(service);
    if (!tools) {
        throw std::runtime_error("building the memory tools: " + tools.error().what());
    }
    for (const auto& tool : *tools) {
        add_tool(registry, tool);
    }
}

} // namespace agentd::gateway::builtin
