#pragma once
// Assembles a run's private root file system inside its new mount namespace, then pivots into
// it. Runs in the sandbox's init process before any untrusted code (as host root in root mode,
// or with full capabilities of the zygote's user namespace in rootless mode).
//
// Layout: / is a small tmpfs (read-only once built) holding read-only binds of the host paths
// interpreters need (/usr and the /lib*, /bin links, parts of /etc), synthesized /etc/passwd,
// /etc/group, /etc/hosts, /etc/hostname, a fresh /proc (its /proc/sys read-only), a minimal
// /dev (null zero full random urandom binds, fd links, a tmpfs /dev/shm), a tmpfs /tmp, the
// writable /workspace and a read-only /run/agentd holding the program file.

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace agentd::sandbox::detail {

/// One host path made visible in the sandbox at the same place.
struct HostPath {
    std::string path;
    std::string symlink_target; ///< non-empty: recreate as this symlink instead of binding
    bool is_dir = true;
};

/// The host paths to expose, found by lstat() at start-up: the built-in list plus `extra`.
std::vector<HostPath> discover_host_paths(const std::vector<std::string>& extra);

enum class WorkspaceKind : std::uint8_t { tmpfs, bind };

struct RootSpec {
    std::string staging; ///< existing directory used as the new root's mount point
    const std::vector<HostPath>* host_paths = nullptr;
    bool mount_proc = true;
    bool protect_proc_sys = true; ///< read-only /proc/sys (off for the warm template)
    std::uint64_t tmp_bytes = 0;
    WorkspaceKind workspace = WorkspaceKind::tmpfs;
    std::string workspace_source;      ///< for bind: path in the monitor's mount namespace
    std::uint64_t workspace_bytes = 0; ///< for tmpfs
    uid_t owner_uid = 0;               ///< owner of writable tmpfs roots, in the mounter's userns
    gid_t owner_gid = 0;
    std::string program_name; ///< file name under /run/agentd ("main.py")
    const std::string* program = nullptr;
    std::string all_workspaces; ///< non-empty: bind this directory at /.ws (template)
};

/// Builds the root and pivots into it; the working directory becomes /workspace. On failure
/// returns false and describes the step in `error` (errno preserved).
bool build_root(const RootSpec& spec, std::string& error);

/// Mounts a fresh tmpfs at `path` with `size`, `mode`, owner; flags nosuid+nodev (+ `extra`).
bool mount_tmpfs(const std::string& path, std::uint64_t size, unsigned mode, uid_t uid, gid_t gid,
                 unsigned long extra_flags = 0);

/// Makes the mount at `path` (recursively) nosuid and nodev, and read-only when asked.
bool restrict_mount(const std::string& path, bool readonly);

} // namespace agentd::sandbox::detail
