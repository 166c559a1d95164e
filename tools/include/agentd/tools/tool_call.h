#pragma once
/// Calling a tool the way MCP tools/call expects: validate the arguments against the input
/// schema, run the executor, check structured output against the output schema.
///
/// Thread-safety: call from any thread; never blocks (the executor's work is asynchronous).
/// Errors: none as values; every failure — arguments that do not match (with each problem's
/// JSON pointer), a cancelled or expired call, an executor that throws, output that does not
/// match the output schema — is a ToolResult with is_error = true. `done` runs exactly once,
/// on any thread, possibly before call_tool() returns.

#include "agentd/tools/tool_executor.h"
#include "agentd/tools/tool_registry.h"

namespace agentd::tools {

/// Runs `tool` with `invocation.arguments` (null means {}); fills in `invocation.cancel` when
/// null.
void call_tool(const ToolPtr& tool, ToolInvocation invocation, ToolCallback done);

/// The message call_tool() reports for arguments that do not match the input schema:
/// "invalid arguments for tool \"x\": /age: must be integer, not string; ...".
[[nodiscard]] std::string describe_invalid_arguments(std::string_view tool_name,
                                                     std::span<const SchemaError> errors);

} // namespace agentd::tools
