#include "detail/warm.h"

#include "detail/channel.h"
#include "detail/cold_slot.h"
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

namespace agentd::sandbox::detail {
namespace {

constexpr int kHandshakeMs = 2000;

std::string hex(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

std::string spec_json(const RunPlan& plan) {
    const Limits& l = plan.request.limits;
    std::string args = "[";
    for (const auto& a : plan.request.args) {
        args += (args.size() > 1 ? ",\"" : "\"") + hex(a) + "\"";
    }
    args += "]";
    // The workspace id was validated ([A-Za-z0-9_.-]) by agentd: safe inside a JSON string.
    return "SPEC {\"ws\":\"" + plan.request.workspace_id +
           "\",\"tmp\":" + std::to_string(l.tmp_bytes) +
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

// Waits for a slot's hello: "I <cgroup name>" + the pidfd of the run's pid 1.
UniqueFd await_hello(int sock, std::string& cgroup_name) {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, kHandshakeMs) != 1) {
        return UniqueFd();
    }
    char buf[64];
    int fds[kMaxMsgFds];
    int nfds = 0;
    const ssize_t n = recv_msg(sock, buf, sizeof(buf) - 1, fds, &nfds);
    for (int i = 1; i < nfds; ++i) {
        ::close(fds[i]);
    }
    UniqueFd pidfd(nfds > 0 ? fds[0] : -1);
    if (n < 1 || buf[0] != 'I') {
        return UniqueFd();
    }
    buf[n] = '\0';
    cgroup_name = n > 2 ? std::string(buf + 2) : std::string();
    return pidfd;
}

struct Pipes {
    UniqueFd in_r, in_w, out_r, out_w, err_r, err_w;
    bool open() {
        int p[3][2];
        for (auto& fds : p) {
            if (::pipe2(fds, O_CLOEXEC) != 0) {
                return false;
            }
        }
        in_r.reset(p[0][0]);
        in_w.reset(p[0][1]);
        out_r.reset(p[1][0]);
        out_w.reset(p[1][1]);
        err_r.reset(p[2][0]);
        err_w.reset(p[2][1]);
        return true;
    }
};

} // namespace

bool run_warm(Context& ctx, RunPlan& plan, int reply, int stdin_src, SupervisorOutcome& out) {
    if (!plan.request.host_workspace.empty() ||
        (!plan.request.workspace_id.empty() && !ctx.workspace_tmpfs) || ctx.template_sock < 0) {
        return false;
    }
    int job_pair[2];
    Pipes pipes;
    if (!seqpacket_pair(job_pair)) {
        return false;
    }
    UniqueFd job(job_pair[0]), job_remote(job_pair[1]);
    UniqueFd code = code_memfd(plan.request.code);
    const int remote = job_remote.get();
    out.start_ms = now_ms();
    if (!pipes.open() || !code || !send_msg(ctx.template_sock, "JOB", &remote, 1)) {
        return false;
    }
    job_remote.reset();
    std::string cgroup_name;
    UniqueFd pidfd = await_hello(job.get(), cgroup_name);
    if (!pidfd) {
        return false; // nothing ran: the caller starts the run cold
    }
    if (!cgroup_name.empty()) {
        plan.cgroup = RunCgroup::adopt(ctx.cgroups, cgroup_name);
    }
    // The slot's first process and pid 1 share the program's user namespace and cgroup.
    plan.set_helpers(2, 2);
    const int fds[4] = {pipes.in_r.get(), pipes.out_w.get(), pipes.err_w.get(), code.get()};
    if (!send_msg(job.get(), spec_json(plan), fds, 4)) {
        pidfd_send_signal(pidfd.get(), SIGKILL);
        out.setup_error = "the warm interpreter dropped the run";
        out.end_ms = now_ms();
        return true;
    }
    pipes.in_r.reset();
    pipes.out_w.reset();
    pipes.err_w.reset();
    code.reset();

    SupervisorIo io;
    io.status = std::move(job);
    io.stdin_w = std::move(pipes.in_w);
    io.stdout_r = std::move(pipes.out_r);
    io.stderr_r = std::move(pipes.err_r);
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
    req.limits.wall_ms = std::numeric_limits<std::uint32_t>::max(); // lives with the zygote
    req.limits.cpu_ms = 0;                                          // unlimited: it only forks
    req.limits.max_procs = 0; // runs are limited per run, in their own user namespaces
    req.limits.workspace_bytes = 1024 * 1024;
    req.limits.max_output_bytes = 4096; // its own output, kept for the exit report
    std::string why;
    ColdSlot slot(ctx);
    UniqueFd memfd(::memfd_create("agentd-warm", MFD_CLOEXEC));
    const std::string data = encode_request(req);
    if (!plan.prepare(why) || !memfd || !write_all(memfd.get(), data.data(), data.size()) ||
        !slot.start(true, job_sock.get())) {
        why = why.empty() ? slot.error() : why;
    } else {
        job_sock.reset();
        SupervisorOutcome out;
        slot.run(plan, memfd.get(), -1, -1, out);
        why = out.setup_error;
        if (!out.out.data.empty()) {
            why += "\n" + out.out.data;
        }
        if (!out.err.data.empty()) {
            why += "\n" + out.err.data;
        }
    }
    // The sandbox module has no logger: a failing interpreter is reported on agentd's stderr
    // (the zygote kept it) so an operator can see why runs fall back to cold starts.
    const std::string report = "agentd sandbox: warm interpreter exited: " + why + "\n";
    write_all(2, report.data(), report.size());
    ::_exit(0);
}

} // namespace agentd::sandbox::detail
