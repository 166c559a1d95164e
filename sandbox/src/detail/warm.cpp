#include "detail/warm.h"

#include "detail/channel.h"
#include "detail/child.h"
#include "detail/monitor.h"
#include "detail/sys.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <sys/mman.h>
#include <sys/wait.h>

namespace agentd::sandbox::detail {
namespace {

constexpr int kHandshakeMs = 2000;
constexpr std::uint64_t kNamespacesPerRun =
    CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

std::string hex(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

std::string spec_json(const Context& ctx, const RunPlan& plan) {
    const Limits& l = plan.request.limits;
    std::string args = "[";
    for (const auto& a : plan.request.args) {
        args += (args.size() > 1 ? ",\"" : "\"") + hex(a) + "\"";
    }
    args += "]";
    // The workspace id was validated ([A-Za-z0-9_.-]) by agentd: safe inside a JSON string.
    return "SPEC {\"flags\":" + std::to_string(ctx.host.clone_flags & kNamespacesPerRun) +
           ",\"ws\":\"" + plan.request.workspace_id + "\",\"tmp\":" + std::to_string(l.tmp_bytes) +
           ",\"ws_bytes\":" + std::to_string(l.workspace_bytes) +
           ",\"cpu_s\":" + std::to_string((l.cpu_ms + 999) / 1000) +
           ",\"mem\":" + std::to_string(l.memory_bytes) +
           ",\"nofile\":" + std::to_string(l.max_open_files) +
           ",\"fsize\":" + std::to_string(l.max_file_bytes) +
           ",\"nproc\":" + std::to_string(plan.nproc()) + ",\"args\":" + args + "}";
}

UniqueFd code_memfd(const std::string& code) {
    UniqueFd fd(::memfd_create("agentd-code", MFD_CLOEXEC));
    if (!fd || !write_all(fd.get(), code.data(), code.size()) ||
        ::lseek(fd.get(), 0, SEEK_SET) != 0) {
        return UniqueFd();
    }
    return fd;
}

// Waits for the interpreter's child to say hello ("I" + its pidfd).
UniqueFd await_hello(int sock) {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, kHandshakeMs) != 1) {
        return UniqueFd();
    }
    char buf[16];
    int fds[kMaxMsgFds];
    int nfds = 0;
    const ssize_t n = recv_msg(sock, buf, sizeof(buf), fds, &nfds);
    for (int i = 1; i < nfds; ++i) {
        ::close(fds[i]);
    }
    UniqueFd pidfd(nfds > 0 ? fds[0] : -1);
    if (n < 1 || buf[0] != 'I') {
        return UniqueFd();
    }
    return pidfd;
}

} // namespace

bool run_warm(Context& ctx, RunPlan& plan, int reply, int stdin_src, SupervisorOutcome& out) {
    if (!plan.request.host_workspace.empty() ||
        (!plan.request.workspace_id.empty() && !ctx.workspace_tmpfs)) {
        return false;
    }
    int job_pair[2];
    int in[2], o[2], e[2];
    if (!seqpacket_pair(job_pair)) {
        return false;
    }
    UniqueFd job(job_pair[0]), job_remote(job_pair[1]);
    if (::pipe2(in, O_CLOEXEC) != 0) {
        return false;
    }
    UniqueFd in_r(in[0]), in_w(in[1]);
    if (::pipe2(o, O_CLOEXEC) != 0) {
        return false;
    }
    UniqueFd out_r(o[0]), out_w(o[1]);
    if (::pipe2(e, O_CLOEXEC) != 0) {
        return false;
    }
    UniqueFd err_r(e[0]), err_w(e[1]);
    UniqueFd code = code_memfd(plan.request.code);
    plan.set_helpers(2); // the interpreter's child and pid 1 share the program's user namespace
    UniqueFd cg_mem = plan.cgroup.open_procs(true);
    UniqueFd cg_pids = plan.cgroup.open_procs(false);
    const int remote = job_remote.get();
    out.start_ms = now_ms();
    if (!code || !send_msg(ctx.template_sock, "JOB", &remote, 1)) {
        return false;
    }
    job_remote.reset();
    UniqueFd pidfd = await_hello(job.get());
    int fds[6] = {in_r.get(), out_w.get(), err_w.get(), code.get()};
    int nfds = 4;
    for (const UniqueFd* cg : {&cg_mem, &cg_pids}) {
        if (cg->valid()) {
            fds[nfds++] = cg->get();
        }
    }
    if (!pidfd || !send_msg(job.get(), spec_json(ctx, plan), fds, nfds)) {
        if (pidfd) {
            pidfd_send_signal(pidfd.get(), SIGKILL);
        }
        plan.set_helpers(1);
        return false;
    }
    in_r.reset();
    out_w.reset();
    err_w.reset();
    code.reset();

    SupervisorIo io;
    io.status = std::move(job);
    io.stdin_w = std::move(in_w);
    io.stdout_r = std::move(out_r);
    io.stderr_r = std::move(err_r);
    io.stdin_src = stdin_src;
    io.stdin_data = &plan.request.stdin_data;
    io.cancel_fd = reply;
    io.init_pidfd = std::move(pidfd);
    SupervisorHooks hooks;
    hooks.expect = plan.expect(true, 3);
    hooks.expect.extra_fd_needs_cloexec = false; // closed by the bootstrap before the code runs
    hooks.required = plan.request.required;
    supervise(io, hooks, out.start_ms + plan.request.limits.wall_ms,
              plan.request.limits.max_output_bytes, out);
    return true;
}

void template_monitor_main(Context& ctx, UniqueFd job_sock) {
    ::signal(SIGPIPE, SIG_IGN);
    RunPlan plan(ctx);
    WireRequest& req = plan.request;
    req.language = Language::python;
    req.code = warm_bootstrap_source(ctx);
    req.limits = ctx.config.max_limits;
    req.limits.cpu_ms = 0;    // the interpreter lives as long as the zygote
    req.limits.max_procs = 0; // runs are limited per run, in their own user namespaces
    req.limits.workspace_bytes = 1024 * 1024;
    std::string why;
    if (!plan.prepare(why, 0)) {
        ::_exit(1);
    }
    int status_pair[2];
    int in[2], o[2];
    if (!seqpacket_pair(status_pair) || ::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(o, O_CLOEXEC) != 0) {
        ::_exit(1);
    }
    ChildSpec spec = plan.child_spec();
    spec.root.protect_proc_sys = false; // per-run proc mounts need a fully visible /proc
    if (ctx.workspace_tmpfs) {
        spec.root.all_workspaces = ctx.workspace_root;
    }
    spec.filter = ctx.host.seccomp ? &ctx.template_filter : nullptr;
    spec.status_sock = status_pair[1];
    spec.stdin_r = in[0];
    spec.stdout_w = o[1];
    spec.stderr_w = o[1];
    spec.keep_fd = job_sock.get();
    int pidfd = -1;
    const pid_t pid = clone3_fork(ctx.host.clone_flags, &pidfd, plan.cgroup.v2_dir_fd());
    if (pid == 0) {
        char go[8];
        if (recv_msg(spec.status_sock, go, sizeof(go)) <= 0) {
            ::_exit(125);
        }
        init_main(spec);
    }
    if (pid < 0) {
        ::_exit(1);
    }
    for (int fd : {status_pair[1], in[0], o[1]}) {
        ::close(fd);
    }
    job_sock.reset();
    if (plan.cgroup.v2_dir_fd() < 0) {
        plan.cgroup.add(pid);
    }
    send_msg(status_pair[0], "S");
    SupervisorIo io;
    io.status.reset(status_pair[0]);
    io.stdin_w.reset(in[1]);
    io.stdout_r.reset(o[0]); // the interpreter's own output: kept (4 KiB) for the exit report
    io.init_pidfd.reset(pidfd);
    SupervisorHooks hooks;
    hooks.expect = plan.expect();
    hooks.write_id_maps = [&ctx, pid] { return write_id_maps(ctx, pid); };
    SupervisorOutcome out;
    supervise(io, hooks, std::numeric_limits<std::uint64_t>::max() / 2, 4096, out);
    int st = 0;
    while (::waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
    }
    // The sandbox module has no logger: a failing interpreter is reported on agentd's stderr
    // (the zygote kept it) so an operator can see why runs fall back to cold starts.
    const std::string report = "agentd sandbox: warm interpreter exited" +
                               (out.setup_error.empty() ? std::string() : ": " + out.setup_error) +
                               (out.out.data.empty() ? std::string() : "\n" + out.out.data) + "\n";
    write_all(2, report.data(), report.size());
    plan.cleanup();
    ::_exit(0);
}

} // namespace agentd::sandbox::detail
