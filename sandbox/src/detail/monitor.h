#pragma once
// Monitors: one process per run, forked by the zygote. A monitor never runs untrusted code; it
// reads the request from the run's memfd, runs it (in a pre-started cold slot, or handed to the
// warm interpreter), supervises it (supervisor.h), writes the result back into the memfd and
// signals agentd with one byte ("D") on the reply socket, then exits.

#include "detail/context.h"
#include "detail/unique_fd.h"

namespace agentd::sandbox::detail {

/// A pre-started cold sandbox (cold_slot.h): prepares, tells the zygote "IDLE" on `link`, then
/// waits for its job there ("JOB" + [reply, memfd(, stdin)]). Never returns.
[[noreturn]] void slot_monitor_main(Context& ctx, UniqueFd link);

/// A run for the warm interpreter (falls back to a cold start when the interpreter does not
/// take it). Never returns.
[[noreturn]] void warm_monitor_main(Context& ctx, UniqueFd reply, UniqueFd memfd,
                                    UniqueFd stdin_src);

/// Spawns the warm Python interpreter in its own sandbox and supervises it until it exits
/// (`job_sock` is the interpreter's end of its job socket). Never returns.
[[noreturn]] void template_monitor_main(Context& ctx, UniqueFd job_sock);

} // namespace agentd::sandbox::detail
