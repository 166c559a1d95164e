#pragma once
// Everything the zygote and its monitors know: the configuration, what the host allows, the
// compiled seccomp filters and the host paths to expose. Built in agentd by Sandbox::create,
// inherited by the zygote through fork() and never changed afterwards (except the fields the
// zygote itself owns, marked below).

#include "agentd/sandbox/config.h"
#include "agentd/sandbox/sandbox.h"

#include "detail/cgroup.h"
#include "detail/root_fs.h"
#include "detail/seccomp_policy.h"

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace agentd::sandbox::detail {

/// Uid/gid the program has inside its user namespace.
inline constexpr uid_t kInnerUid = 1000;
inline constexpr gid_t kInnerGid = 1000;

struct HostCaps {
    HostReport::Mode mode = HostReport::Mode::minimal;
    /// Namespaces created by clone() for each run (CLONE_NEW* except user).
    std::uint64_t clone_flags = 0;
    /// Create a user namespace for the program (after the root is built).
    bool userns = false;
    /// Ids (in the monitor's user namespace) the program's ids map to / run as.
    uid_t outer_uid = 0;
    gid_t outer_gid = 0;
    bool mount_proc = true;
    bool seccomp = true;
};

struct Context {
    SandboxConfig config;
    HostCaps host;
    BpfProgram strict;
    BpfProgram template_filter;
    std::vector<HostPath> host_paths;
    /// Directory (in the zygote's mount namespace) under which managed workspaces are mounted.
    std::string workspace_root;
    /// True when workspaces are tmpfs mounts (the zygote has a private mount namespace).
    bool workspace_tmpfs = false;

    // Owned by the zygote (set after fork):
    CgroupHost cgroups;
    int template_sock = -1; ///< zygote's end of the warm interpreter's job socket
    bool template_ready = false;
    std::uint64_t run_counter = 0;
};

} // namespace agentd::sandbox::detail
