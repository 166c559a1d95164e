#include "detail/child.h"

#include "detail/channel.h"
#include "detail/sys.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <linux/capability.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

namespace agentd::sandbox::detail {
namespace {

void reset_signals() noexcept {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        ::sigaction(sig, &sa, nullptr); // SIGKILL/SIGSTOP fail harmlessly
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void send_text(int sock, const char* text) noexcept {
    send_msg(sock, std::string_view(text, std::strlen(text)));
}

// Waits for a one-letter reply; returns it, or 0 on EOF/error.
char wait_reply(int sock) noexcept {
    char buf[8];
    const ssize_t n = recv_msg(sock, buf, sizeof(buf));
    return n > 0 ? buf[0] : 0;
}

bool set_limit(int resource, rlim_t value) noexcept {
    // Never above the inherited hard limit (raising it needs privileges): "unlimited" keeps
    // it, and a larger value is clamped (verification then reports the rlimits layer missing).
    rlimit cur{};
    if (::getrlimit(resource, &cur) != 0) {
        return false;
    }
    const rlim_t v = value > cur.rlim_max ? cur.rlim_max : value;
    const rlimit rl{v, v};
    return ::setrlimit(resource, &rl) == 0;
}

bool become_user(const ChildSpec& s, std::string& err) {
    const HostCaps& host = s.ctx->host;
    if (host.mode == HostReport::Mode::root && ::setgroups(0, nullptr) != 0) {
        err = "setgroups";
        return false;
    }
    if (host.userns) {
        if (::unshare(CLONE_NEWUSER) != 0) {
            err = "unshare(CLONE_NEWUSER)";
            return false;
        }
        send_text(s.status_sock, "U");
        if (wait_reply(s.status_sock) != 'M') {
            errno = EPROTO;
            err = "id maps";
            return false;
        }
        if (::setresgid(kInnerGid, kInnerGid, kInnerGid) != 0 ||
            ::setresuid(kInnerUid, kInnerUid, kInnerUid) != 0) {
            err = "setresuid in the user namespace";
            return false;
        }
    } else if (host.mode == HostReport::Mode::root) {
        if (::setresgid(host.outer_gid, host.outer_gid, host.outer_gid) != 0 ||
            ::setresuid(host.outer_uid, host.outer_uid, host.outer_uid) != 0) {
            err = "setresuid";
            return false;
        }
    }
    return true;
}

// Moves `fds` (stdin, stdout, stderr, status, keep) to 0..4 without clobbering one another.
bool arrange_fds(const ChildSpec& s) noexcept {
    const int src[5] = {s.stdin_r, s.stdout_w, s.stderr_w, s.status_sock, s.keep_fd};
    int high[5];
    for (int i = 0; i < 5; ++i) {
        high[i] = src[i] < 0 ? -1 : ::fcntl(src[i], F_DUPFD_CLOEXEC, 100);
        if (src[i] >= 0 && high[i] < 0) {
            return false;
        }
    }
    // fd 3 = status socket (close-on-exec), fd 4 = kept descriptor (the warm interpreter's job
    // socket; it stays open across exec).
    for (int i = 0; i < 5; ++i) {
        if (high[i] < 0) {
            continue;
        }
        const int flags = i == 3 ? O_CLOEXEC : 0;
        if (::dup3(high[i], i, flags) != i) {
            return false;
        }
    }
    return close_range_from(s.keep_fd >= 0 ? 5 : 4) == 0;
}

// What init learned from the job, kept for the program process it forks.
struct Job {
    std::uint32_t nproc = 0;
    Limits limits;
    ProgramLine line;
    std::vector<char*> argv;
    std::vector<char*> envp;
};

[[noreturn]] void program_main(const ChildSpec& s, const Job& job) {
    // Init is not dumpable; the program must be, or a monitor without CAP_SYS_PTRACE over the
    // host (rootless mode) could not inspect it. (exec would make it dumpable anyway.)
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    if (::setsid() < 0 || !arrange_fds(s)) {
        child_fail(s.status_sock, "arranging descriptors", errno);
    }
    const int sock = 3;
    const int pidfd = pidfd_open(::getpid());
    if (pidfd < 0) {
        child_fail(sock, "pidfd_open", errno);
    }
    // From here on nothing allocates: RLIMIT_AS may already be below what this process maps.
    if (!apply_rlimits(job.limits, job.nproc)) {
        child_fail(sock, "setrlimit", errno);
    }
    if (s.filter != nullptr && install_filter(*s.filter) != 0) {
        child_fail(sock, "installing the seccomp filter", errno);
    }
    // "R" hands over the pidfd; "V" (sent once our copy is closed) asks for verification, so
    // the monitor sees exactly the descriptors the program will start with.
    if (!send_msg(sock, "R", &pidfd, 1)) {
        ::_exit(126);
    }
    ::close(pidfd);
    // Our own CPU time so far is set-up, not the program's: the monitor subtracts it.
    rusage self{};
    ::getrusage(RUSAGE_SELF, &self);
    char ready[64];
    std::snprintf(ready, sizeof(ready), "V %lld",
                  static_cast<long long>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1000000LL +
                      self.ru_utime.tv_usec + self.ru_stime.tv_usec);
    if (!send_msg(sock, ready) || wait_reply(sock) != 'G') {
        ::_exit(126);
    }
    ::execve(job.line.interpreter.c_str(), job.argv.data(), job.envp.data());
    child_fail(sock, "exec " + job.line.interpreter, errno);
}

[[noreturn]] void reap_until(pid_t program, int sock) {
    int status = 0;
    for (;;) {
        int st = 0;
        const pid_t w = ::wait4(-1, &st, __WALL, nullptr);
        if (w == program) {
            status = st;
            break;
        }
        if (w < 0 && errno != EINTR) {
            child_fail(sock, "wait for the program", errno);
        }
    }
    rusage ru{};
    ::getrusage(RUSAGE_CHILDREN, &ru);
    const long long cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL +
                             ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    char msg[96];
    std::snprintf(msg, sizeof(msg), "X %d %lld %ld", status, cpu_us, ru.ru_maxrss);
    send_text(sock, msg);
    ::_exit(0);
}

// Closes every descriptor except the ones the spec uses: init is forked from the monitor and
// must not keep the monitor's ends of the pipes (stdin would never see end-of-file).
void close_other_fds(const ChildSpec& s) noexcept {
    int keep[5] = {s.status_sock, s.stdin_r, s.stdout_w, s.stderr_w, s.keep_fd};
    std::sort(std::begin(keep), std::end(keep));
    unsigned next = 0;
    for (int fd : keep) {
        if (fd < 0) {
            continue;
        }
        if (static_cast<unsigned>(fd) > next) {
            ::syscall(SYS_close_range, next, static_cast<unsigned>(fd) - 1, 0U);
        }
        next = static_cast<unsigned>(fd) + 1;
    }
    close_range_from(next);
}

// Waits for the monitor's "J" message and derives everything the rest of init needs from it.
void receive_job(const ChildSpec& s, Job& job, std::string& code, FinishSpec& finish) {
    char buf[8192];
    int fds[kMaxMsgFds];
    int nfds = 0;
    const ssize_t n = recv_msg(s.status_sock, buf, sizeof(buf) - 1, fds, &nfds);
    UniqueFd request(nfds > 0 ? fds[0] : -1);
    UniqueFd tree(nfds > 1 ? fds[1] : -1);
    for (int i = 2; i < nfds; ++i) {
        ::close(fds[i]);
    }
    if (n <= 0) {
        ::_exit(0); // the monitor is gone: an unused pre-started sandbox
    }
    buf[n] = '\0';
    std::istringstream in(std::string(buf, static_cast<std::size_t>(n)));
    std::string tag, nproc, program_path, work_dir;
    std::getline(in, tag);
    std::getline(in, nproc);
    std::getline(in, program_path);
    std::getline(in, work_dir);
    WireRequest req;
    struct stat st {};
    std::string data;
    if (tag != "J" || !request || ::fstat(request.get(), &st) != 0 || st.st_size <= 0) {
        child_fail(s.status_sock, "bad job message", EPROTO);
    }
    data.resize(static_cast<std::size_t>(st.st_size));
    if (!pread_all(request.get(), data.data(), data.size(), 0) || !decode_request(data, req)) {
        child_fail(s.status_sock, "bad job request", EPROTO);
    }
    job.nproc = static_cast<std::uint32_t>(std::strtoul(nproc.c_str(), nullptr, 10));
    job.limits = req.limits;
    job.line = program_line(*s.ctx, req, program_path, work_dir.empty() ? "/workspace" : work_dir);
    for (auto* v : {&job.line.argv, &job.line.env}) {
        auto& ptrs = v == &job.line.argv ? job.argv : job.envp;
        for (auto& str : *v) {
            ptrs.push_back(str.data());
        }
        ptrs.push_back(nullptr);
    }
    code = std::move(req.code);
    finish.tmp_bytes = req.limits.tmp_bytes;
    finish.workspace_tree = tree.release(); // owned until init execs or exits
    finish.workspace_bytes = req.limits.workspace_bytes;
    finish.owner_uid = s.ctx->host.outer_uid;
    finish.owner_gid = s.ctx->host.outer_gid;
    finish.program_name = program_path.substr(program_path.rfind('/') + 1);
    finish.program = &code;
    if (!work_dir.empty() && ::chdir(work_dir.c_str()) != 0) {
        child_fail(s.status_sock, "chdir to the workspace", errno);
    }
}

} // namespace

void child_fail(int status_sock, const std::string& what, int err) {
    char msg[512];
    std::snprintf(msg, sizeof(msg), "E %d %s", err, what.c_str());
    send_text(status_sock, msg);
    ::_exit(125);
}

bool drop_capabilities() noexcept {
    bool ok = true;
    for (int cap = 0; cap <= 63; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
            ok = false;
        }
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        ok = false;
    }
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capset, &hdr, data) != 0) {
        ok = false;
    }
    return ok;
}

bool apply_rlimits(const Limits& l, std::uint32_t nproc) noexcept {
    // cpu_ms and nproc 0 mean unlimited (the warm interpreter itself).
    const rlim_t cpu_s = (static_cast<rlim_t>(l.cpu_ms) + 999) / 1000;
    // CPU: SIGXCPU at the soft limit, SIGKILL one second later.
    const rlimit cpu =
        l.cpu_ms == 0 ? rlimit{RLIM_INFINITY, RLIM_INFINITY} : rlimit{cpu_s, cpu_s + 1};
    const rlim_t procs = nproc == 0 ? RLIM_INFINITY : nproc;
    return set_limit(RLIMIT_CORE, 0) && set_limit(RLIMIT_NOFILE, l.max_open_files) &&
           set_limit(RLIMIT_FSIZE, l.max_file_bytes) && set_limit(RLIMIT_NPROC, procs) &&
           set_limit(RLIMIT_MEMLOCK, 0) && set_limit(RLIMIT_MSGQUEUE, 0) &&
           (l.cpu_ms == 0 || ::setrlimit(RLIMIT_CPU, &cpu) == 0) &&
           set_limit(RLIMIT_AS, l.memory_bytes);
}

ProgramLine program_line(const Context& ctx, const WireRequest& req,
                         const std::string& program_path, const std::string& home) {
    ProgramLine l;
    const bool python = req.language == Language::python;
    l.interpreter = python ? ctx.config.python_path : ctx.config.bash_path;
    const auto slash = l.interpreter.rfind('/');
    l.argv = {slash == std::string::npos ? l.interpreter : l.interpreter.substr(slash + 1)};
    if (python) {
        l.argv.insert(l.argv.end(), {"-E", "-s"});
    }
    l.argv.push_back(program_path);
    l.argv.insert(l.argv.end(), req.args.begin(), req.args.end());
    l.env = {"PATH=/usr/local/bin:/usr/bin:/bin",
             "HOME=" + home,
             "PWD=" + home,
             "LANG=C.UTF-8",
             "TMPDIR=/tmp",
             "USER=sandbox",
             "LOGNAME=sandbox",
             "SHELL=/bin/bash"};
    return l;
}

void init_main(const ChildSpec& s) {
    close_other_fds(s);
    reset_signals();
    // The monitor protects itself from the OOM killer; the sandbox must not inherit that.
    write_file("/proc/self/oom_score_adj", "0");
    // If the monitor dies, init dies, and with it the whole PID namespace.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    ::prctl(PR_SET_NAME, "sandbox-init", 0, 0, 0);
    const HostCaps& host = s.ctx->host;
    const bool mount_ns = (host.clone_flags & CLONE_NEWNS) != 0;
    std::string err;
    if (mount_ns && !prebuild_root(s.prebuild, err)) {
        child_fail(s.status_sock, err, errno);
    }
    if ((host.clone_flags & CLONE_NEWUTS) != 0 && ::sethostname("sandbox", 7) != 0) {
        child_fail(s.status_sock, "sethostname", errno);
    }
    send_text(s.status_sock, "P");
    Job job;
    std::string code;
    FinishSpec finish;
    receive_job(s, job, code, finish);
    if (mount_ns && !finish_root(s.prebuild.staging, finish, err)) {
        child_fail(s.status_sock, err, errno);
    }
    if (finish.workspace_tree >= 0) {
        ::close(finish.workspace_tree);
    }
    if (!become_user(s, err)) {
        child_fail(s.status_sock, err, errno);
    }
    // Failures here leave capabilities that verification then reports as missing.
    drop_capabilities();
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        child_fail(s.status_sock, "prctl", errno);
    }
    const pid_t program = ::fork();
    if (program < 0) {
        child_fail(s.status_sock, "fork", errno);
    }
    if (program == 0) {
        program_main(s, job);
    }
    for (int fd : {s.stdin_r, s.stdout_w, s.stderr_w, s.keep_fd}) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    reap_until(program, s.status_sock);
}

} // namespace agentd::sandbox::detail
