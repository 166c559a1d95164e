#pragma once
// The zygote: a small single-threaded process forked by Sandbox::create. It sets up what every
// run shares (its private mount namespace holding the workspace tmpfs mounts, the cgroup parent,
// the warm interpreter) and forks one monitor per run. Forking this small process instead of
// agentd keeps per-run start-up cheap and independent of agentd's size and threads.
//
// Control protocol (SOCK_SEQPACKET, one message per request, descriptors attached):
//   zygote -> agentd once:  "HELLO <mode> <clone_flags> <userns> <cgroup> <ws_tmpfs> <seccomp>"
//   "RUN" + [reply, memfd(, stdin)]   start a run; the monitor answers on `reply`
//   "WSC <id> <bytes>" + [reply]     create a workspace; "OK" + [O_PATH dir fd] | "ER <errc> <why>"
//   "WSR <id>" + [reply]             remove a workspace; "OK" | "ER <errc> <why>"
//   "WRM" + [reply]                  "OK 1" when the warm interpreter accepts runs, else "OK 0"
// End of file on the control socket (agentd gone or Sandbox destroyed) kills every run and
// ends the zygote; its mount namespace, and with it every workspace, disappears.

#include "detail/context.h"

namespace agentd::sandbox::detail {

/// Entry point after fork(). Never returns.
[[noreturn]] void zygote_main(Context& ctx, int control);

} // namespace agentd::sandbox::detail
