#pragma once
// Shared helpers for the sandbox tests: one sandbox per test process (cold, and one with the
// warm interpreter), request builders, and unsandboxed control runs that show an attack would
// work without the sandbox (so no attack test is vacuous).

#include "agentd/sandbox/sandbox.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace agentd::sandbox::testing {

/// A process-wide sandbox (created on first use). `warm` selects the one with the warm Python
/// interpreter (waits until it is ready).
Sandbox& sandbox(bool warm = false);

RunRequest python(std::string code, bool warm = false);
RunRequest bash(std::string code);

/// Limits for tests: CONTRACT.md's defaults with a shorter wall clock.
Limits test_limits(std::uint32_t wall_ms = 5000);

/// Runs and returns the result; records a test failure (and returns an empty result) when the
/// sandbox itself failed.
RunResult run(Sandbox& sb, const RunRequest& req);

/// Runs `/usr/bin/python3 -c code` on the host, unsandboxed, as the calling user, and returns
/// its stdout (for control runs of harmless probes only).
std::string unsandboxed_python(const std::string& code);

/// Every layer this host verified on the sandbox's self-test.
LayerSet host_layers();

bool running_as_root();

/// Processes on the host whose command line contains `marker`.
std::vector<int> host_processes_with(const std::string& marker);

} // namespace agentd::sandbox::testing
