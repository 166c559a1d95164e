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
    /// Creates "<parent>/<name>" in each hierarchy and opens their cgroup.procs for writing
    /// (the warm interpreter's slots move themselves in). False without cgroups.
    bool make_child(const std::string& name, UniqueFd& memory_procs, UniqueFd& pids_procs) const;
    /// Removes "<parent>/<name>" (ignoring a busy or missing directory).
    void remove_child(const std::string& name) const noexcept;
    /// Removes "agentd-<pid>" siblings whose process no longer exists (left by a crash).
    void remove_stale() const noexcept;
};

const char* to_string(CgroupHost::Kind k) noexcept;

class RunCgroup {
public:
    RunCgroup() = default;
    RunCgroup(RunCgroup&&) noexcept = default;
    RunCgroup& operator=(RunCgroup&&) noexcept = default;
    ~RunCgroup() { destroy(); }

    /// Creates "<parent>/<name>" in each hierarchy (no limits yet). Without cgroups, or on
    /// failure, the result is empty (every query answers false).
    static RunCgroup create(const CgroupHost& host, const std::string& name);
    /// Takes over a directory created earlier (the warm interpreter's pre-forked slots);
    /// `name` must look like "warm-<digits>".
    static RunCgroup adopt(const CgroupHost& host, const std::string& name);

    /// Writes the memory limit and the pids limit (0: "max") and reads them back.
    void set_limits(std::uint64_t memory_bytes, std::uint32_t procs);
    /// Moves `pid` (0: the caller) into the cgroup(s).
    bool add(pid_t pid) const;
    /// v2 directory fd for CLONE_INTO_CGROUP, -1 otherwise.
    [[nodiscard]] int v2_dir_fd() const noexcept { return v2_dir_.get(); }
    /// Write-only cgroup.procs descriptor of one hierarchy (memory, or pids on v1), for a
    /// process to move itself by writing "0"; invalid when absent.
    [[nodiscard]] UniqueFd open_procs(bool memory) const;

    [[nodiscard]] bool memory_limited() const noexcept { return memory_ok_; }
    [[nodiscard]] bool pids_limited() const noexcept { return pids_ok_; }
    /// True when /proc/<pid>/cgroup shows `pid` in this run's cgroup(s) (memory, pids).
    [[nodiscard]] bool contains(pid_t pid, bool memory) const;
    /// OOM kills that happened in the cgroup.
    [[nodiscard]] std::uint64_t oom_kills() const;
    /// Removes the directories, retrying briefly while exiting tasks leave. A no-op once
    /// mark_monitor_inside() was called: the zygote removes those after reaping the monitor.
    void destroy() noexcept;
    /// The calling monitor joined the cgroup (it cannot remove a cgroup it is in).
    void mark_monitor_inside() noexcept { monitor_inside_ = true; }
    [[nodiscard]] bool monitor_inside() const noexcept { return monitor_inside_; }

private:
    const CgroupHost* host_ = nullptr;
    std::string memory_dir_;
    std::string pids_dir_;
    std::string name_;
    UniqueFd v2_dir_;
    bool memory_ok_ = false;
    bool pids_ok_ = false;
    bool monitor_inside_ = false;
};

} // namespace agentd::sandbox::detail
