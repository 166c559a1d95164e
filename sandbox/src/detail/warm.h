#pragma once
// The warm Python interpreter.
//
// At start-up the zygote spawns /usr/bin/python3 as the program of an ordinary sandbox (own
// user, PID, mount, net, IPC, UTS and cgroup namespaces, private read-only root, no
// capabilities, no_new_privs, seccomp) running a bootstrap (warm_bootstrap.cpp) that imports
// common modules and waits for jobs; it never sees a run's code or data. Per run, the monitor
// sends it a job socket; the interpreter forks, and the child (before any untrusted code):
// moves itself into the run's cgroup, enters a new user namespace and fresh mount, PID, net,
// IPC, UTS and cgroup namespaces, mounts its own /tmp, /dev/shm, /proc, /run/agentd and
// workspace (hiding every other workspace), and forks pid 1 of the new PID namespace, which
// forks the process that drops every capability, sets the run's rlimits, stacks the strict
// seccomp filter and reports ready. The monitor verifies that process from outside exactly as
// for a cold run before it lets it run the code. Every run starts from the same pristine copy
// of the interpreter; nothing a run does reaches the interpreter or another run.

#include "detail/context.h"
#include "detail/run_plan.h"
#include "detail/supervisor.h"

#include <string>

namespace agentd::sandbox::detail {

/// Hands the run to the warm interpreter and supervises it. False when the interpreter did not
/// take the job (then nothing ran and the caller starts the run cold).
bool run_warm(Context& ctx, RunPlan& plan, int reply, int stdin_src, SupervisorOutcome& out);

/// The Python source of the interpreter's bootstrap, with the constants of this platform and
/// the strict seccomp program filled in.
std::string warm_bootstrap_source(const Context& ctx);

} // namespace agentd::sandbox::detail
