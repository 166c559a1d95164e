#include "detail/monitor.h"

#include "detail/channel.h"
#include "detail/child.h"
#include "detail/run_plan.h"
#include "detail/supervisor.h"
#include "detail/sys.h"
#include "detail/warm.h"
#include "detail/wire.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <sys/wait.h>

namespace agentd::sandbox::detail {
namespace {

constexpr std::uint64_t kMaxRequestBytes = 1ULL << 31;

bool read_request(int memfd, WireRequest& req) {
    struct stat st {};
    if (::fstat(memfd, &st) != 0 || st.st_size <= 0 ||
        static_cast<std::uint64_t>(st.st_size) > kMaxRequestBytes) {
        return false;
    }
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    return pread_all(memfd, data.data(), data.size(), 0) && decode_request(data, req);
}

void deliver(int reply, int memfd, const WireResult& res) {
    const std::string data = encode_result(res);
    if (::ftruncate(memfd, 0) == 0 && pwrite_all(memfd, data.data(), data.size(), 0)) {
        send_msg(reply, "D");
    }
}

[[noreturn]] void finish(int reply, int memfd, const WireResult& res) {
    deliver(reply, memfd, res);
    ::_exit(0);
}

// Cold run: clone the init process into fresh namespaces and supervise it.
void run_cold(Context& ctx, RunPlan& plan, int reply, int stdin_src, SupervisorOutcome& out) {
    int status_pair[2];
    int in[2], o[2], e[2];
    if (!seqpacket_pair(status_pair) || ::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(o, O_CLOEXEC) != 0 ||
        ::pipe2(e, O_CLOEXEC) != 0) {
        out.setup_error = std::string("pipes: ") + std::strerror(errno);
        return;
    }
    SupervisorIo io;
    io.status.reset(status_pair[0]);
    io.stdin_w.reset(in[1]);
    io.stdout_r.reset(o[0]);
    io.stderr_r.reset(e[0]);
    UniqueFd child_status(status_pair[1]), child_in(in[0]), child_out(o[1]), child_err(e[1]);
    ChildSpec spec = plan.child_spec();
    spec.status_sock = child_status.get();
    spec.stdin_r = child_in.get();
    spec.stdout_w = child_out.get();
    spec.stderr_w = child_err.get();

    out.start_ms = now_ms();
    int pidfd = -1;
    pid_t pid = clone3_fork(ctx.host.clone_flags, &pidfd, plan.cgroup.v2_dir_fd());
    if (pid < 0 && plan.cgroup.v2_dir_fd() >= 0) {
        pid = clone3_fork(ctx.host.clone_flags, &pidfd, -1);
    }
    if (pid == 0) {
        char go[8];
        // Wait until the monitor has put us into the run's cgroup.
        if (recv_msg(spec.status_sock, go, sizeof(go)) <= 0) {
            ::_exit(125);
        }
        init_main(spec);
    }
    if (pid < 0) {
        out.setup_error = std::string("clone: ") + std::strerror(errno);
        return;
    }
    io.init_pidfd.reset(pidfd);
    child_status.reset();
    child_in.reset();
    child_out.reset();
    child_err.reset();
    if (plan.cgroup.v2_dir_fd() < 0) {
        plan.cgroup.add(pid);
    }
    send_msg(io.status.get(), "S");

    io.stdin_src = stdin_src;
    io.stdin_data = &plan.request.stdin_data;
    io.cancel_fd = reply;
    SupervisorHooks hooks;
    hooks.expect = plan.expect();
    hooks.required = plan.request.required;
    hooks.write_id_maps = [&ctx, pid] { return write_id_maps(ctx, pid); };
    supervise(io, hooks, out.start_ms + plan.request.limits.wall_ms,
              plan.request.limits.max_output_bytes, out);
    int st = 0;
    while (::waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
    }
}

} // namespace

void monitor_main(Context& ctx, UniqueFd reply, UniqueFd memfd, UniqueFd stdin_src) {
    ::signal(SIGPIPE, SIG_IGN);
    WireResult res;
    RunPlan plan(ctx);
    if (!read_request(memfd.get(), plan.request)) {
        res.error = errc::io_error;
        res.message = "the run request could not be read";
        finish(reply.get(), memfd.get(), res);
    }
    std::string why;
    if (!plan.prepare(why)) {
        res.error = errc::invalid_argument;
        res.message = why;
        finish(reply.get(), memfd.get(), res);
    }
    SupervisorOutcome out;
    const bool warm = plan.request.warm && ctx.template_ready && ctx.template_sock >= 0;
    bool ran_warm = false;
    if (warm) {
        ran_warm = run_warm(ctx, plan, reply.get(), stdin_src.get(), out);
    }
    if (!ran_warm) {
        run_cold(ctx, plan, reply.get(), stdin_src.get(), out);
    }
    res = plan.result(out, ran_warm);
    if (!out.cancelled) {
        deliver(reply.get(), memfd.get(), res);
    }
    // After the answer: removing a cgroup waits for its last tasks to leave.
    reply.reset();
    memfd.reset();
    plan.cleanup();
    ::_exit(0);
}

} // namespace agentd::sandbox::detail
