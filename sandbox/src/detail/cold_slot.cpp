#include "detail/cold_slot.h"

#include "detail/channel.h"
#include "detail/child.h"
#include "detail/sys.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sys/wait.h>

namespace agentd::sandbox::detail {
namespace {

constexpr int kPrebuildTimeoutMs = 30000;

// Waits for init's "P" (root prebuilt); anything else is the reason it failed.
bool await_prebuilt(int status, std::string& error) {
    pollfd p{status, POLLIN, 0};
    if (::poll(&p, 1, kPrebuildTimeoutMs) != 1) {
        error = "the sandbox's init did not start in time";
        return false;
    }
    char buf[600];
    const ssize_t n = recv_msg(status, buf, sizeof(buf) - 1);
    if (n <= 0) {
        error = "the sandbox's init exited during set-up";
        return false;
    }
    buf[n] = '\0';
    if (buf[0] == 'P') {
        return true;
    }
    const char* text = buf[0] == 'E' ? std::strchr(buf + 2, ' ') : nullptr;
    const int err = buf[0] == 'E' ? std::atoi(buf + 2) : 0;
    error = std::string(text != nullptr ? text + 1 : "sandbox set-up failed") +
            (err != 0 ? std::string(": ") + std::strerror(err) : "");
    return false;
}

} // namespace

ColdSlot::~ColdSlot() {
    if (pid_ > 0) {
        if (io_.init_pidfd) {
            pidfd_send_signal(io_.init_pidfd.get(), SIGKILL);
        }
        int st = 0;
        while (::waitpid(pid_, &st, __WALL) < 0 && errno == EINTR) {
        }
    }
}

bool ColdSlot::start(bool warm_interpreter, int keep_fd) {
    cgroup_ = RunCgroup::create(ctx_.cgroups, "run-" + std::to_string(::getpid()));
    if (cgroup_.v2_dir_fd() < 0 && ctx_.cgroups.kind != CgroupHost::Kind::none) {
        // The monitor joins the cgroup so init is born inside it. It must never be the one the
        // OOM killer picks there; init resets its own score right after the clone.
        write_file("/proc/self/oom_score_adj", "-1000");
        if (cgroup_.add(0)) {
            cgroup_.mark_monitor_inside();
        }
    }
    int status_pair[2];
    int in[2], o[2], e[2];
    if (!seqpacket_pair(status_pair) || ::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(o, O_CLOEXEC) != 0 ||
        ::pipe2(e, O_CLOEXEC) != 0) {
        error_ = std::string("pipes: ") + std::strerror(errno);
        return false;
    }
    io_.status.reset(status_pair[0]);
    io_.stdin_w.reset(in[1]);
    io_.stdout_r.reset(o[0]);
    io_.stderr_r.reset(e[0]);
    child_status_.reset(status_pair[1]);
    UniqueFd child_in(in[0]), child_out(o[1]), child_err(e[1]);
    ChildSpec spec;
    spec.ctx = &ctx_;
    spec.prebuild.staging = ctx_.config.staging_dir;
    spec.prebuild.host_paths = &ctx_.host_paths;
    spec.prebuild.mount_proc = ctx_.host.mount_proc;
    // The warm interpreter mounts a fresh /proc per run, which needs a fully visible one.
    spec.prebuild.protect_proc_sys = !warm_interpreter;
    if (warm_interpreter && ctx_.workspace_tmpfs) {
        spec.prebuild.all_workspaces = ctx_.workspace_root;
    }
    spec.status_sock = child_status_.get();
    spec.stdin_r = child_in.get();
    spec.stdout_w = child_out.get();
    spec.stderr_w = child_err.get();
    spec.keep_fd = keep_fd;
    if (ctx_.host.seccomp) {
        spec.filter = warm_interpreter ? &ctx_.template_filter : &ctx_.strict;
    }
    int pidfd = -1;
    pid_t pid = clone3_fork(ctx_.host.clone_flags, &pidfd, cgroup_.v2_dir_fd());
    if (pid < 0 && cgroup_.v2_dir_fd() >= 0) {
        pid = clone3_fork(ctx_.host.clone_flags, &pidfd, -1);
    }
    if (pid == 0) {
        init_main(spec);
    }
    if (pid < 0) {
        error_ = std::string("clone: ") + std::strerror(errno);
        return false;
    }
    pid_ = pid;
    io_.init_pidfd.reset(pidfd);
    child_status_.reset();
    return await_prebuilt(io_.status.get(), error_);
}

void ColdSlot::run(RunPlan& plan, int request_memfd, int reply, int stdin_src,
                   SupervisorOutcome& out) {
    const bool monitor_inside = cgroup_.monitor_inside();
    plan.cgroup = std::move(cgroup_);
    plan.set_helpers(1, monitor_inside ? 2 : 1);
    out.start_ms = now_ms();
    std::string why;
    UniqueFd tree = plan.workspace_tree(why);
    const int fds[2] = {request_memfd, tree.get()};
    if (!why.empty() || !send_msg(io_.status.get(), plan.job_message(), fds, tree ? 2 : 1)) {
        out.setup_error = why.empty() ? "the sandbox's init is gone" : why;
        out.end_ms = now_ms();
        return;
    }
    tree.reset();
    io_.stdin_src = stdin_src;
    io_.stdin_data = &plan.request.stdin_data;
    io_.cancel_fd = reply;
    SupervisorHooks hooks;
    hooks.expect = plan.expect();
    hooks.required = plan.request.required;
    const pid_t pid = pid_;
    Context& ctx = ctx_;
    hooks.write_id_maps = [&ctx, pid] { return write_id_maps(ctx, pid); };
    const std::uint64_t wall = plan.request.limits.wall_ms;
    supervise(io_, hooks, out.start_ms + wall, plan.request.limits.max_output_bytes, out);
    int st = 0;
    while (::waitpid(pid_, &st, __WALL) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

} // namespace agentd::sandbox::detail
