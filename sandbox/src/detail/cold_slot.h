#pragma once
// A pre-started cold sandbox: the run's cgroup (joined by the monitor itself, so everything it
// forks is born inside — moving a task between cgroups costs an RCU grace period on cgroup v1,
// milliseconds that a pre-started slot pays before the request exists), the pipes, and the
// init process already in its fresh namespaces with the request-independent part of its root
// built. The monitor owns one slot and uses it for exactly one run.

#include "detail/context.h"
#include "detail/run_plan.h"
#include "detail/supervisor.h"
#include "detail/unique_fd.h"

#include <string>
#include <sys/types.h>

namespace agentd::sandbox::detail {

class ColdSlot {
public:
    explicit ColdSlot(Context& ctx) : ctx_(ctx) {}
    ColdSlot(const ColdSlot&) = delete;
    ColdSlot& operator=(const ColdSlot&) = delete;
    ~ColdSlot();

    /// Creates the cgroup, pipes and init process and waits until init prebuilt the root.
    /// `warm_interpreter` spawns the warm interpreter's sandbox instead (its own seccomp filter,
    /// every workspace at /.ws, `keep_fd` passed on as fd 4). False (see error()) on failure.
    bool start(bool warm_interpreter = false, int keep_fd = -1);
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

    /// Runs `plan` (its request also in `request_memfd`) in the slot and supervises it until it
    /// ends. The slot's cgroup moves into the plan.
    void run(RunPlan& plan, int request_memfd, int reply, int stdin_src, SupervisorOutcome& out);

private:
    Context& ctx_;
    std::string error_;
    RunCgroup cgroup_;
    SupervisorIo io_;
    UniqueFd child_status_;
    pid_t pid_ = -1;
};

} // namespace agentd::sandbox::detail
