#pragma once
/// The built-in tools `run_python` and `run_bash`: run a program in the sandbox (no network, a
/// private file system, bounded time, memory, processes and output) through the shared
/// SandboxRunner. Arguments {code, stdin?, timeout_ms?, memory_mb?, session?}; `session` keeps a
/// persistent workspace (per tenant) at /workspace across calls.
///
/// The result's text is what the program printed (stdout, then stderr when it wrote any); its
/// structuredContent is the `agentd sandbox run` object (stdout, stderr, exit_code, signal,
/// timed_out, limit, *_truncated, wall_ms, cpu_ms, max_rss_kb, isolation, warm), declared by
/// the tool's outputSchema. A program that fails (non-zero exit, signal, limit) gives isError
/// with the same structured content; a sandbox that cannot run it (busy, bad session) gives
/// isError with a message. Cancelling the call kills the run.
///
/// Ownership: the tools share the runner. Threads: invoke() never blocks.

#include "agentd/base/result.h"
#include "agentd/tools/tool_registry.h"

#include "builtin/sandbox_runner.h"

#include <memory>

namespace agentd::gateway::builtin {

[[nodiscard]] base::Result<tools::ToolPtr> make_run_code_tool(std::shared_ptr<SandboxRunner> runner,
                                                              sandbox::Language language);

/// The CallToolResult of a finished run (shared with tests and the agent runtime's traces).
[[nodiscard]] tools::ToolResult to_tool_result(const sandbox::RunResult& result);
/// The same, with the files read back as a text block and in `files` of structuredContent.
[[nodiscard]] tools::ToolResult to_tool_result(const RunOutcome& outcome);

} // namespace agentd::gateway::builtin
