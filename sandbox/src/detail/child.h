#pragma once
// The processes inside a run's namespaces, created by the monitor:
//
//   init (pid 1 of the run's PID namespace): builds the private root, enters the user namespace,
//   drops every privilege, forks the program and reaps until it exits, then reports its status
//   and exits, which makes the kernel kill everything left in the namespace.
//
//   program (pid 2): moves its pipes to 0/1/2, closes every other descriptor, sets the rlimits,
//   installs the seccomp filter, tells the monitor it is ready (passing a pidfd so the monitor
//   can verify it from outside), waits for "go" and execs the interpreter.
//
// Messages to the monitor on the status socket (SOCK_SEQPACKET), one per call:
//   "U"                 init is in its new user namespace; the monitor writes the id maps, "M"
//   "R" + pidfd         the program's pidfd, then
//   "V"                 program ready to exec; the monitor verifies it and answers "G" (go) or
//                       "K" (refuse)
//   "I" + pidfd         (warm runs) the pid-1 process of the run, for the monitor to kill
//   "X status cpu_us maxrss_kb"  init: the program's wait status and resource usage
//   "E errno message"   set-up failed

#include "agentd/sandbox/limits.h"

#include "detail/context.h"
#include "detail/root_fs.h"

#include <string>
#include <vector>

namespace agentd::sandbox::detail {

struct ChildSpec {
    const Context* ctx = nullptr;
    RootSpec root;
    int status_sock = -1;
    int stdin_r = -1;
    int stdout_w = -1;
    int stderr_w = -1;
    /// Extra descriptor kept open as fd 3 across exec (the warm template's job socket); -1 none.
    int keep_fd = -1;
    const char* interpreter = nullptr;
    std::vector<char*> argv; ///< null-terminated, pointing into monitor-owned strings
    std::vector<char*> envp;
    Limits limits;
    std::uint32_t nproc = 0; ///< RLIMIT_NPROC (program's processes + the helpers in its userns)
    const BpfProgram* filter = nullptr;
};

/// Entry point of the init process right after clone(). Never returns.
[[noreturn]] void init_main(const ChildSpec& spec);

/// Writes an "E" message and exits (for failures before or inside init_main).
[[noreturn]] void child_fail(int status_sock, const std::string& what, int err);

/// Drops every capability set (bounding, ambient, permitted, effective, inheritable).
/// Returns false when a step failed. Async-signal-safe.
bool drop_capabilities() noexcept;

/// Sets the run's rlimits (CPU, AS, NOFILE, NPROC, FSIZE, CORE 0). Async-signal-safe.
bool apply_rlimits(const Limits& limits, std::uint32_t nproc) noexcept;

} // namespace agentd::sandbox::detail
