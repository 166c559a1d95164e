#pragma once
/// `agentd bench <name>` benchmarks (CONTRACT.md). Each lives in
/// gateway/src/bench/<name>_bench.cpp, receives the arguments after its name and returns the exit
/// status. With --json the last line of stdout is one JSON object.

#include "cli/commands.h"

namespace agentd::gateway::bench {

int engine_bench(const cli::Args& args);
int serve_bench(const cli::Args& args);
int prefix_bench(const cli::Args& args);
int gateway_bench(const cli::Args& args);
int sandbox_bench(const cli::Args& args);
int vector_bench(const cli::Args& args);
int agents_bench(const cli::Args& args);

} // namespace agentd::gateway::bench
