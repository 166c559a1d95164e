#pragma once
/// `agentd mcp --stdio`: MCP over standard streams, newline-delimited JSON-RPC (one message per
/// line on stdin, one per line on stdout, logs on stderr).
///
/// One connection serves both eras: `initialize` opens a session of a session revision for the
/// process; requests carrying 2026-07-28 `_meta` are served statelessly. Requests are dispatched
/// from the reader thread (handlers never block); results and notifications come from any
/// thread and are written in order by one writer thread. Bad lines get -32700/-32600 with a null
/// id and the server keeps reading; lines longer than the body limit are skipped whole.
///
/// Shutdown: end of input stops reading, lets the requests in flight finish (up to the shutdown
/// grace), ends subscriptions and exits 0; SIGTERM/SIGINT or a closed stdout stop at once.
/// Thread affinity: run on the main thread. Errors: start-up failures throw.

#include "config/config.h"

namespace agentd::gateway::mcp {

/// Serves MCP on stdin/stdout until end of input or a signal; returns the exit status.
int run_stdio(const config::Config& config);

} // namespace agentd::gateway::mcp
