#pragma once
// The processes inside a cold run's namespaces, created by the monitor:
//
//   init (pid 1 of the run's PID namespace): prebuilds the private root while no request is
//   known yet (root_fs.h), reports "P" and waits for the job; then finishes the root, enters
//   the user namespace, drops every privilege, forks the program and reaps until it exits,
//   reports its status and exits, which makes the kernel kill everything left in the namespace.
//
//   program (pid 2): moves its pipes to 0/1/2, closes every other descriptor, sets the rlimits,
//   installs the seccomp filter, tells the monitor it is ready (passing a pidfd so the monitor
//   can verify it from outside), waits for "go" and execs the interpreter.
//
// Messages on the status socket (SOCK_SEQPACKET), one per call. To the monitor:
//   "P"                 init prebuilt the root and waits for the job
//   "U"                 init is in its new user namespace; the monitor writes the id maps, "M"
//   "R" + pidfd         the program's pidfd, then
//   "V <cpu_us>"        program ready to exec (having used cpu_us for set-up); the monitor
//                       verifies it and answers "G" (go) or "K" (refuse)
//   "I" + pidfd         (warm runs) the pid-1 process of the run, for the monitor to kill
//   "X status cpu_us maxrss_kb"  init: the program's wait status and resource usage
//   "E errno message"   set-up failed
// From the monitor: "J\n<nproc>\n<program path>\n<work dir>" + [request memfd, workspace tree]
// (the job; work dir only without a mount namespace), "M", "G", "K".

#include "agentd/sandbox/limits.h"

#include "detail/context.h"
#include "detail/root_fs.h"
#include "detail/wire.h"

#include <string>
#include <vector>

namespace agentd::sandbox::detail {

struct ChildSpec {
    const Context* ctx = nullptr;
    PrebuildSpec prebuild;
    int status_sock = -1;
    int stdin_r = -1;
    int stdout_w = -1;
    int stderr_w = -1;
    /// Extra descriptor kept open as fd 4 across exec (the warm interpreter's job socket).
    int keep_fd = -1;
    const BpfProgram* filter = nullptr;
};

/// The program's command line and environment for a request.
struct ProgramLine {
    std::string interpreter;
    std::vector<std::string> argv;
    std::vector<std::string> env;
};
ProgramLine program_line(const Context& ctx, const WireRequest& req,
                         const std::string& program_path, const std::string& home);

/// Entry point of the init process right after clone(). Never returns.
[[noreturn]] void init_main(const ChildSpec& spec);

/// Writes an "E" message and exits (for failures before or inside init_main).
[[noreturn]] void child_fail(int status_sock, const std::string& what, int err);

/// Drops every capability set (bounding, ambient, permitted, effective, inheritable).
/// Returns false when a step failed. Async-signal-safe.
bool drop_capabilities() noexcept;

/// Sets the run's rlimits (CPU, AS, NOFILE, NPROC, FSIZE, CORE 0, MEMLOCK 0, MSGQUEUE 0), never
/// above the inherited hard limits. cpu_ms 0 and nproc 0 mean "keep the inherited limit".
bool apply_rlimits(const Limits& limits, std::uint32_t nproc) noexcept;

} // namespace agentd::sandbox::detail
