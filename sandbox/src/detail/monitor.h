#pragma once
// The per-run monitor: a process the zygote forks for every run. It reads the request from the
// run's memfd, creates the run's cgroup, pipes and namespaces (cold) or hands the run to the
// warm interpreter (warm), supervises it (supervisor.h), and writes the result back into the
// memfd before signalling agentd with one byte ("D") on the reply socket. It never runs
// untrusted code itself and exits when the run is over.

#include "detail/context.h"
#include "detail/unique_fd.h"

namespace agentd::sandbox::detail {

/// Entry point after the zygote's fork(). Never returns.
[[noreturn]] void monitor_main(Context& ctx, UniqueFd reply, UniqueFd memfd, UniqueFd stdin_src);

/// Spawns the warm Python interpreter in its own sandbox and supervises it until it exits
/// (forked by the zygote; `job_sock` is the interpreter's end of its job socket). Never returns.
[[noreturn]] void template_monitor_main(Context& ctx, UniqueFd job_sock);

} // namespace agentd::sandbox::detail
