#pragma once
// Sandbox::Impl: agentd's side of the sandbox (the zygote's control socket, the host report,
// the managed workspaces' directory descriptors). Guarded by `mu` where noted.

#include "agentd/sandbox/sandbox.h"

#include "detail/unique_fd.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>

namespace agentd::sandbox {

struct Sandbox::Impl {
    SandboxConfig config;
    HostReport host;
    detail::UniqueFd control; ///< non-blocking; sendmsg() is atomic per message: no lock needed
    pid_t zygote = -1;
    std::string workspace_root;
    bool own_workspace_root = false;
    bool workspace_tmpfs = false;
    uid_t file_owner_uid = 0; ///< chown files written into workspaces to this (root mode)
    gid_t file_owner_gid = 0;
    bool chown_files = false;

    struct Workspace {
        std::shared_ptr<detail::UniqueFd> dir; ///< O_PATH directory descriptor
        std::uint64_t last_used_ms = 0;
    };
    std::mutex mu;
    std::map<std::string, Workspace, std::less<>> workspaces; // guarded by mu

    /// The directory of a workspace and marks it used; errc::not_found when unknown.
    base::Result<std::shared_ptr<detail::UniqueFd>> workspace_dir(std::string_view id);
    base::Result<void> remove_locked(const std::string& id); // requires mu
};

} // namespace agentd::sandbox
