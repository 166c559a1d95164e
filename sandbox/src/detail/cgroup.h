#pragma once
// Per-run cgroups for memory and pids limits, on cgroup v2 (when our cgroup can delegate the
// memory and pids controllers) or on the v1 memory and pids hierarchies. All directories are
// created below the zygote's own cgroup ("agentd-<zygote pid>/run-<n>"), never elsewhere, and
// removed when the run (or the zygote) ends. Used by the zygote and the monitor processes
// only (single-threaded).

#include "agentd/sandbox/limits.h"

#include "detail/unique_fd.h"

#include <cstdint>
#include <string>
#include <sys/types.h>

namespace agentd::sandbox::detail {

struct CgroupHost {
    enum class Kind : std::uint8_t { none, v1, v2 };
    Kind kind = Kind::none;
    std::string memory_parent; ///< absolute directory; v2: the unified parent
    std::string pids_parent;   ///< v1 only
    std::string memory_rel;    ///< the parent as /proc/<pid>/cgroup shows it (per hierarchy)
    std::string pids_rel;
    std::string why_none; ///< when kind == none

    /// Finds the hierarchies this process is in and creates its parent directories. Never
    /// throws; on any failure kind is none and why_none says why.
    static CgroupHost setup(pid_t owner);
    /// Removes the parent directories (children must be gone).
    void teardown() const noexcept;
    /// Removes every run directory left under the parents (monitors killed before cleaning up).
    void remove_runs() const noexcept;
    /// Removes "agentd-<pid>" siblings whose process no longer exists (left by a crash).
    void remove_stale() const noexcept;
};

const char* to_string(CgroupHost::Kind k) noexcept;

class RunCgroup {
public:
    RunCgroup() = default;
    /// Creates "<parent>/<name>" in each hierarchy and writes the limits. `procs` is the pids
    /// limit including the sandbox's own helper processes.
    static RunCgroup create(const CgroupHost& host, const std::string& name,
                            std::uint64_t memory_bytes, std::uint32_t procs);

    /// Moves `pid` into the cgroup(s).
    bool add(pid_t pid) const;
    /// v2 directory fd for CLONE_INTO_CGROUP, -1 otherwise.
    [[nodiscard]] int v2_dir_fd() const noexcept { return v2_dir_.get(); }
    /// Write-only cgroup.procs descriptors for a process to move itself ("0"); -1 when absent.
    [[nodiscard]] UniqueFd open_procs(bool memory) const;

    [[nodiscard]] bool memory_limited() const noexcept { return memory_ok_; }
    [[nodiscard]] bool pids_limited() const noexcept { return pids_ok_; }
    /// True when /proc/<pid>/cgroup shows `pid` in this run's cgroup(s) (memory, pids).
    [[nodiscard]] bool contains(pid_t pid, bool memory) const;
    /// OOM kills that happened in the cgroup.
    [[nodiscard]] std::uint64_t oom_kills() const;
    /// Removes the directories, retrying briefly while exiting tasks leave.
    void destroy() noexcept;

private:
    const CgroupHost* host_ = nullptr;
    std::string memory_dir_;
    std::string pids_dir_;
    std::string name_;
    UniqueFd v2_dir_;
    bool memory_ok_ = false;
    bool pids_ok_ = false;
};

} // namespace agentd::sandbox::detail
