#pragma once
/// How a tool runs: the ToolExecutor interface every tool source implements (REST endpoints,
/// sandboxed code, memory tools, upstream MCP servers, A2A peers, builtins).
///
/// Contract for implementations:
/// - invoke() returns quickly and never blocks (network and processes are asynchronous; other
///   blocking work goes to a pool). It does not throw.
/// - `done` is called exactly once, from any thread, possibly before invoke() returns.
/// - Arguments were already validated against the tool's input schema.
/// - The executor honours `deadline` and `cancel`; a cancelled call completes promptly (with an
///   error result that the caller may drop).
/// - Every failure is a ToolResult with is_error = true and a message naming what failed.
///
/// Ownership: executors are shared, immutable and thread-safe (one object per tool or per
/// source); a Tool holds its executor.

#include "agentd/tools/cancellation.h"
#include "agentd/tools/tool.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::tools {

/// Reports progress of a running call (MCP notifications/progress). May be empty.
using ProgressFn =
    std::function<void(double progress, std::optional<double> total, std::string_view message)>;

/// One call of one tool.
struct ToolInvocation {
    std::string tenant;                         ///< the caller's tenant
    std::string request_id;                     ///< for logs ("" when none)
    JsonPtr arguments;                          ///< a JSON object (validated)
    std::shared_ptr<CancellationSignal> cancel; ///< never null once call_tool() runs
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    ProgressFn progress;
};

using ToolCallback = std::function<void(ToolResult)>;

class ToolExecutor {
public:
    virtual ~ToolExecutor() = default;
    virtual void invoke(ToolInvocation invocation, ToolCallback done) const = 0;
};

} // namespace agentd::tools
