#pragma once
// Verification of a sandboxed process from the monitor's side, just before it execs (or, for
// warm runs, before it runs the code): every layer is read back from the kernel's view of the
// process (/proc/<pid>/{ns,status,limits,cgroup,fd,root}), compared with the monitor's own, and
// reported only when it holds.

#include "agentd/sandbox/layer.h"
#include "agentd/sandbox/limits.h"

#include "detail/cgroup.h"

#include <cstdint>
#include <sys/types.h>

namespace agentd::sandbox::detail {

struct VerifyExpect {
    Limits limits;
    std::uint32_t nproc = 0;
    uid_t outer_uid = 0;              ///< uid the process must have as the monitor sees it
    bool uid_is_host_nonroot = false; ///< outer_uid is known to be non-root on the host
    const RunCgroup* cgroup = nullptr;
    bool workspace_tmpfs = false;
    std::uint64_t workspace_bytes = 0;
    int min_seccomp_filters = 1;
    int allowed_extra_fd = 3;           ///< a descriptor allowed besides 0..2 (the status socket)
    bool extra_fd_needs_cloexec = true; ///< it must be close-on-exec (gone once the exec happens)
};

/// The layers verified for `pid` (a process in the monitor's PID namespace view).
LayerSet verify_process(pid_t pid, const VerifyExpect& expect);

} // namespace agentd::sandbox::detail
