#pragma once
/// Subcommands of the agentd binary (CONTRACT.md "Commands"). Each lives in its own file,
/// gateway/src/cli/<name>_command.cpp, receives the arguments after its name, and returns the
/// process exit status. They may throw on start-up/configuration errors: run_cli catches, prints
/// one line and exits 1.

#include <string>
#include <vector>

namespace agentd::gateway::cli {

using Args = std::vector<std::string>;

int serve_command(const Args& args);    // agentd serve
int mcp_command(const Args& args);      // agentd mcp --stdio
int sandbox_command(const Args& args);  // agentd sandbox run
int generate_command(const Args& args); // agentd generate
int tokenize_command(const Args& args); // agentd tokenize
int bench_command(const Args& args);    // agentd bench <name>
int a2a_command(const Args& args);      // agentd a2a call

} // namespace agentd::gateway::cli
