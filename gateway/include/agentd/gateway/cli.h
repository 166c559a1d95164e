#pragma once
/// The agentd command line (CONTRACT.md "Commands").

namespace agentd::gateway {

/// Parses argv, runs the chosen subcommand and returns the process exit status. Exceptions from
/// start-up and configuration are caught here, printed as one line on stderr, and turned into a
/// non-zero status.
int run_cli(int argc, char** argv) noexcept;

} // namespace agentd::gateway
