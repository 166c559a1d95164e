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
#include <cstring>
#include <iterator>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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
    // fd 3 = status socket (close-on-exec), fd 4 = kept descriptor (the template's job socket,
    // becomes fd 3 of the interpreter via its argv; it stays open across exec).
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

[[noreturn]] void program_main(const ChildSpec& s) {
    if (::setsid() < 0 || !arrange_fds(s)) {
        child_fail(s.status_sock, "arranging descriptors", errno);
    }
    const int sock = 3;
    const int pidfd = pidfd_open(::getpid());
    if (pidfd < 0) {
        child_fail(sock, "pidfd_open", errno);
    }
    // From here on nothing allocates: RLIMIT_AS may already be below what this process maps.
    if (!apply_rlimits(s.limits, s.nproc)) {
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
    if (!send_msg(sock, "V") || wait_reply(sock) != 'G') {
        ::_exit(126);
    }
    ::execve(s.interpreter, s.argv.data(), s.envp.data());
    child_fail(sock, std::string("exec ") + s.interpreter, errno);
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

void init_main(const ChildSpec& s) {
    close_other_fds(s);
    reset_signals();
    // If the monitor dies, init dies, and with it the whole PID namespace.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    std::string err;
    if ((s.ctx->host.clone_flags & CLONE_NEWNS) != 0) {
        if (!build_root(s.root, err)) {
            child_fail(s.status_sock, err, errno);
        }
    } else if (::chdir(s.root.workspace_source.c_str()) != 0) {
        child_fail(s.status_sock, "chdir to the workspace", errno);
    }
    if ((s.ctx->host.clone_flags & CLONE_NEWUTS) != 0 && ::sethostname("sandbox", 7) != 0) {
        child_fail(s.status_sock, "sethostname", errno);
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
        program_main(s);
    }
    for (int fd : {s.stdin_r, s.stdout_w, s.stderr_w, s.keep_fd}) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    reap_until(program, s.status_sock);
}

} // namespace agentd::sandbox::detail
