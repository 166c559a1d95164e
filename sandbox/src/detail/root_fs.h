#pragma once
// Assembles a run's private root file system inside its new mount namespace, then pivots into
// it. Runs in the sandbox's init process before any untrusted code (as host root in root mode,
// or with full capabilities of the zygote's user namespace in rootless mode), in two phases so
// that everything independent of the request is done before the request arrives:
//
//   prebuild_root: / is a small tmpfs (at the staging directory) holding read-only binds of
//   the host paths interpreters need (/usr and the /lib*, /bin links, parts of /etc), the
//   synthesized /etc/passwd, /etc/group, /etc/hosts, /etc/hostname, a fresh /proc (its
//   /proc/sys read-only) and a minimal /dev (null zero full random urandom binds, fd links).
//
//   finish_root: a tmpfs /tmp and /dev/shm, the writable /workspace (a tmpfs, or a detached
//   mount handed over by the monitor), a read-only /run/agentd holding the program; then
//   pivot_root, detach the old root, make / read-only and chdir to /workspace.

#include "detail/unique_fd.h"

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

struct PrebuildSpec {
    std::string staging; ///< existing directory used as the new root's mount point
    const std::vector<HostPath>* host_paths = nullptr;
    bool mount_proc = true;
    bool protect_proc_sys = true; ///< read-only /proc/sys (off for the warm interpreter)
    std::string all_workspaces;   ///< non-empty: bind this directory at /.ws (warm interpreter)
};

struct FinishSpec {
    std::uint64_t tmp_bytes = 0;
    /// A detached mount (open_tree) to attach at /workspace; invalid: a tmpfs of
    /// workspace_bytes.
    int workspace_tree = -1;
    std::uint64_t workspace_bytes = 0;
    uid_t owner_uid = 0; ///< owner of the writable tmpfs roots, in the mounter's userns
    gid_t owner_gid = 0;
    std::string program_name; ///< file name under /run/agentd ("main.py")
    const std::string* program = nullptr;
};

/// Phase one (see above). On failure returns false and names the step in `error` (errno
/// preserved).
bool prebuild_root(const PrebuildSpec& spec, std::string& error);

/// Phase two; the working directory becomes /workspace.
bool finish_root(const std::string& staging, const FinishSpec& spec, std::string& error);

/// Mounts a fresh tmpfs at `path` with `size`, `mode`, owner; flags nosuid+nodev (+ `extra`).
bool mount_tmpfs(const std::string& path, std::uint64_t size, unsigned mode, uid_t uid, gid_t gid,
                 unsigned long extra_flags = 0);

/// Makes the mount at `path` (recursively) nosuid and nodev, and read-only when asked.
bool restrict_mount(const std::string& path, bool readonly);

/// A detached copy (open_tree) of the mount tree at `path`, made nosuid and nodev, for handing
/// to a sandbox's init process (which attaches it with move_mount). Invalid on failure.
UniqueFd detached_tree(const std::string& path);

} // namespace agentd::sandbox::detail
