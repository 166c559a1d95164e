#pragma once
/// The tool registry as an MCP tool catalogue: what the MCP server (protocols/) lists and calls.
///
/// list_tools(caller) serves the caller tenant's registry snapshot (cached per catalogue
/// version, so a listing is one lock and a shared_ptr copy); call_tool() runs call_tool()
/// (argument validation, executor, output validation) and completes the request with the
/// CallToolResult; the request's cancellation and progress reach the executor; watch() turns
/// registry changes into tools_list_changed events (tenant-scoped, "" for shared tools).
///
/// Ownership: shares the registry. Thread-safety: all members are thread-safe and non-blocking.
/// Errors: an unknown tool fails the request with protocols::errc::invalid_params; everything
/// else is a tool result (isError).

#include "agentd/protocols/mcp/providers.h"
#include "agentd/tools/tool_registry.h"

#include <chrono>
#include <memory>

namespace agentd::tools {

struct McpCatalogOptions {
    /// Upper bound on any call made through MCP (the tool's own timeout may be shorter).
    std::chrono::milliseconds max_call_duration{std::chrono::minutes(10)};
};

[[nodiscard]] std::shared_ptr<protocols::mcp::ToolCatalog>
make_mcp_tool_catalog(std::shared_ptr<ToolRegistry> registry, McpCatalogOptions options = {});

} // namespace agentd::tools
