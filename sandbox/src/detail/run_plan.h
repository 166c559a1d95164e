#pragma once
// Everything the monitor derives from one request before starting it: the interpreter's argv
// and environment, the root file system layout, the run's cgroup and the expectations for
// verification; and the turning of the supervisor's outcome into a RunResult.

#include "detail/cgroup.h"
#include "detail/child.h"
#include "detail/context.h"
#include "detail/supervisor.h"
#include "detail/verify.h"
#include "detail/wire.h"

#include <string>
#include <vector>

namespace agentd::sandbox::detail {

class RunPlan {
public:
    explicit RunPlan(Context& ctx) : ctx_(ctx) {}
    RunPlan(const RunPlan&) = delete;
    RunPlan& operator=(const RunPlan&) = delete;
    ~RunPlan() { cleanup(); }

    WireRequest request;
    RunCgroup cgroup;

    /// Resolves the workspace, builds argv/env/root and creates the cgroup. `helpers` is the
    /// number of sandbox processes that share the program's user namespace (cold 1, warm 2).
    bool prepare(std::string& why, std::uint32_t helpers = 1);
    /// Re-creates the cgroup limits for a different helper count (warm fallback to cold).
    void set_helpers(std::uint32_t helpers);

    [[nodiscard]] ChildSpec child_spec() const;
    [[nodiscard]] VerifyExpect expect(bool warm = false, int extra_fd = 3) const;
    [[nodiscard]] WireResult result(const SupervisorOutcome& out, bool warm) const;
    [[nodiscard]] const std::string& program_path() const noexcept { return program_path_; }
    [[nodiscard]] const std::string& workspace_source() const noexcept { return ws_source_; }
    [[nodiscard]] bool workspace_is_tmpfs() const noexcept { return ws_tmpfs_; }
    [[nodiscard]] std::uint32_t nproc() const noexcept { return nproc_; }
    [[nodiscard]] const std::vector<std::string>& argv_strings() const noexcept { return argv_s_; }
    [[nodiscard]] const std::vector<std::string>& env_strings() const noexcept { return env_s_; }

    void cleanup() noexcept;

private:
    Context& ctx_;
    std::string interpreter_;
    std::string program_path_;
    std::string program_name_;
    std::vector<std::string> argv_s_;
    std::vector<std::string> env_s_;
    std::vector<char*> argv_;
    std::vector<char*> env_;
    std::string ws_source_;
    bool ws_tmpfs_ = false;
    std::string temp_dir_; ///< minimal mode only: holds the program and the scratch workspace
    std::uint32_t nproc_ = 0;
};

/// Writes setgroups=deny and the uid/gid maps (inner 1000 -> outer ids) of `pid`.
bool write_id_maps(const Context& ctx, pid_t pid);

} // namespace agentd::sandbox::detail
