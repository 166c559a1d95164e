#pragma once
// The monitor's view of one request: where its workspace comes from, where the program file
// goes, the limits to write into the run's cgroup, the expectations for verification, and the
// turning of the supervisor's outcome into a RunResult.

#include "detail/cgroup.h"
#include "detail/context.h"
#include "detail/supervisor.h"
#include "detail/verify.h"
#include "detail/wire.h"

#include <string>

namespace agentd::sandbox::detail {

class RunPlan {
public:
    explicit RunPlan(Context& ctx) : ctx_(ctx) {}
    RunPlan(const RunPlan&) = delete;
    RunPlan& operator=(const RunPlan&) = delete;
    ~RunPlan() { cleanup(); }

    WireRequest request;
    RunCgroup cgroup;

    /// Resolves the workspace and the program's location. `helpers` is the number of sandbox
    /// processes sharing the program's user namespace and cgroup (cold 1 (+1 for the monitor
    /// in the cgroup), warm 2).
    bool prepare(std::string& why);
    void set_helpers(std::uint32_t in_userns, std::uint32_t in_cgroup);

    /// The workspace as a detached mount for init to attach (bind workspaces with a private
    /// root); invalid for a tmpfs workspace or without a mount namespace.
    UniqueFd workspace_tree(std::string& why) const;
    /// The "J" message for init (child.h).
    [[nodiscard]] std::string job_message() const;

    [[nodiscard]] VerifyExpect expect(bool warm = false, int extra_fd = 3) const;
    [[nodiscard]] WireResult result(const SupervisorOutcome& out, bool warm) const;
    [[nodiscard]] std::uint32_t nproc() const noexcept { return nproc_; }
    [[nodiscard]] bool workspace_is_tmpfs() const noexcept { return ws_tmpfs_; }

    void cleanup() noexcept;

private:
    Context& ctx_;
    std::string program_path_;
    std::string work_dir_; ///< minimal mode only (no mount namespace)
    std::string ws_source_;
    bool ws_tmpfs_ = false;
    std::string temp_dir_; ///< minimal mode only: holds the program and the scratch workspace
    std::uint32_t nproc_ = 0;
};

/// Writes setgroups=deny and the uid/gid maps (inner 1000 -> outer ids) of `pid`.
bool write_id_maps(const Context& ctx, pid_t pid);

} // namespace agentd::sandbox::detail
