#include "detail/seccomp_policy.h"

#include "agentd/sandbox/errc.h"

#include "detail/unique_fd.h"

#include <seccomp.h>

#include <sched.h>
#include <unistd.h>

#include <asm/ioctls.h>
#include <cerrno>
#include <cstring>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <memory>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

namespace agentd::sandbox::detail {
namespace {

struct CtxDeleter {
    void operator()(void* ctx) const noexcept { seccomp_release(ctx); }
};
using CtxPtr = std::unique_ptr<void, CtxDeleter>;

// Plain allowlist: calls whose arguments cannot reach outside the run's namespaces, rlimits and
// file permissions. Names the running libseccomp does not know are skipped.
constexpr const char* kAllowed[] = {
    // file descriptors and files
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "close",
    "close_range",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "statfs",
    "fstatfs",
    "lseek",
    "access",
    "faccessat",
    "faccessat2",
    "pipe",
    "pipe2",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "truncate",
    "sync",
    "syncfs",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "rename",
    "renameat",
    "renameat2",
    "mkdir",
    "mkdirat",
    "rmdir",
    "link",
    "linkat",
    "unlink",
    "unlinkat",
    "symlink",
    "symlinkat",
    "readlink",
    "readlinkat",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "umask",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "sendfile",
    "copy_file_range",
    "splice",
    "tee",
    "fadvise64",
    "fallocate",
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "memfd_create",
    // memory
    "mmap",
    "mprotect",
    "munmap",
    "mremap",
    "madvise",
    "brk",
    "msync",
    "mincore",
    "membarrier",
    // signals
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "sigaltstack",
    "kill",
    "tkill",
    "tgkill",
    "pidfd_open",
    "pidfd_send_signal",
    "alarm",
    "getitimer",
    "setitimer",
    "pause",
    "restart_syscall",
    // processes and identity (read-only identity; no set*id)
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getgroups",
    "getresuid",
    "getresgid",
    "getpgrp",
    "getpgid",
    "getsid",
    "setsid",
    "setpgid",
    "fork",
    "vfork",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "capget",
    // threads, scheduling, time
    "futex",
    "set_robust_list",
    "get_robust_list",
    "set_tid_address",
    "rseq",
    "arch_prctl",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getattr",
    "sched_rr_get_interval",
    "nanosleep",
    "clock_nanosleep",
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "time",
    "getrusage",
    "times",
    "sysinfo",
    "uname",
    "getrlimit",
    "setrlimit",
    "getpriority",
    "setpriority",
    "getcpu",
    "getrandom",
    // waiting
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "signalfd",
    "signalfd4",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    // sockets (creation is filtered below: AF_UNIX only)
    "bind",
    "listen",
    "accept",
    "accept4",
    "connect",
    "getsockname",
    "getpeername",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    "setsockopt",
    "getsockopt",
    // System V / POSIX IPC: private to the run's IPC namespace
    "shmget",
    "shmat",
    "shmdt",
    "shmctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "mq_open",
    "mq_unlink",
    "mq_timedsend",
    "mq_timedreceive",
    "mq_notify",
    "mq_getsetattr",
};

// Only what the warm interpreter's per-run set-up needs on top (see the header).
constexpr const char* kTemplateExtra[] = {"unshare",     "mount",  "umount2",
                                          "sethostname", "capset", "seccomp"};

constexpr unsigned long kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                                          CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                          CLONE_NEWNET;

constexpr unsigned long kIoctls[] = {TCGETS,   TCSETS,  TCSETSW,  TCSETSF, TIOCGWINSZ, TIOCSWINSZ,
                                     FIONREAD, FIONBIO, FIONCLEX, FIOCLEX, FIOASYNC,   TIOCGPGRP};

constexpr unsigned long kPrctls[] = {PR_SET_NAME,
                                     PR_GET_NAME,
                                     PR_SET_PDEATHSIG,
                                     PR_GET_PDEATHSIG,
                                     PR_GET_DUMPABLE,
                                     PR_GET_KEEPCAPS,
                                     PR_SET_NO_NEW_PRIVS,
                                     PR_GET_NO_NEW_PRIVS,
                                     PR_CAPBSET_READ,
                                     PR_GET_SECCOMP,
                                     PR_GET_TID_ADDRESS,
                                     PR_SET_TIMERSLACK,
                                     PR_GET_TIMERSLACK,
                                     PR_SET_CHILD_SUBREAPER,
                                     PR_GET_CHILD_SUBREAPER,
                                     0x53564d41 /* PR_SET_VMA: glibc names anonymous mappings */};

constexpr unsigned long kTemplatePrctls[] = {PR_CAPBSET_DROP, PR_SET_SECCOMP, PR_SET_DUMPABLE,
                                             PR_CAP_AMBIENT, PR_SET_KEEPCAPS};

base::Error seccomp_error(const char* what, int rc) {
    return base::fail(errc::unavailable,
                      std::string("seccomp: ") + what + ": " + std::strerror(rc < 0 ? -rc : rc));
}

int add(scmp_filter_ctx ctx, const char* name, unsigned n, const scmp_arg_cmp* cmp,
        uint32_t action = SCMP_ACT_ALLOW) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
        return 0; // unknown to this libseccomp / architecture: stays denied
    }
    return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

int add_arg_rules(scmp_filter_ctx ctx, FilterKind kind) {
    int rc = 0;
    auto add1 = [&](const char* name, scmp_arg_cmp c) {
        if (rc == 0) {
            rc = add(ctx, name, 1, &c);
        }
    };
    add1("clone", SCMP_A0(SCMP_CMP_MASKED_EQ, kNamespaceFlags, 0));
    add1("socket", SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    add1("socketpair", SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    add1("prlimit64", SCMP_A0(SCMP_CMP_EQ, 0));
    for (unsigned long cmd : kIoctls) {
        add1("ioctl", SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, cmd));
    }
    for (unsigned long opt : kPrctls) {
        add1("prctl", SCMP_A0(SCMP_CMP_EQ, opt));
    }
    // No set-user/group-ID bits on anything the program creates or chmods (they would be
    // useless inside, but not in a host directory bound as the workspace).
    constexpr unsigned long kSetId = S_ISUID | S_ISGID;
    add1("open", SCMP_A2(SCMP_CMP_MASKED_EQ, kSetId, 0));
    add1("openat", SCMP_A3(SCMP_CMP_MASKED_EQ, kSetId, 0));
    add1("creat", SCMP_A1(SCMP_CMP_MASKED_EQ, kSetId, 0));
    add1("chmod", SCMP_A1(SCMP_CMP_MASKED_EQ, kSetId, 0));
    add1("fchmod", SCMP_A1(SCMP_CMP_MASKED_EQ, kSetId, 0));
    add1("fchmodat", SCMP_A2(SCMP_CMP_MASKED_EQ, kSetId, 0));
    for (unsigned long type :
         {static_cast<unsigned long>(S_IFIFO), static_cast<unsigned long>(S_IFREG)}) {
        add1("mknod", SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT | kSetId, type));
        add1("mknodat", SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT | kSetId, type));
    }
    if (kind == FilterKind::template_) {
        for (unsigned long opt : kTemplatePrctls) {
            add1("prctl", SCMP_A0(SCMP_CMP_EQ, opt));
        }
    }
    // Arguments behind pointers cannot be checked: clone3 and openat2 say "not implemented" so
    // libc and Python fall back to clone and openat, which are checked above.
    if (rc == 0) {
        rc = add(ctx, "clone3", 0, nullptr, SCMP_ACT_ERRNO(ENOSYS));
    }
    if (rc == 0) {
        rc = add(ctx, "openat2", 0, nullptr, SCMP_ACT_ERRNO(ENOSYS));
    }
    return rc;
}

} // namespace

base::Result<BpfProgram> build_filter(FilterKind kind) {
    CtxPtr ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)));
    if (!ctx) {
        return base::fail(errc::unavailable, "seccomp: seccomp_init failed");
    }
    int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0) {
        rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
    }
    if (rc != 0) {
        return seccomp_error("attributes", rc);
    }
    for (const char* name : kAllowed) {
        if ((rc = add(ctx.get(), name, 0, nullptr)) != 0) {
            return seccomp_error(name, rc);
        }
    }
    if (kind == FilterKind::template_) {
        for (const char* name : kTemplateExtra) {
            if ((rc = add(ctx.get(), name, 0, nullptr)) != 0) {
                return seccomp_error(name, rc);
            }
        }
    }
    if ((rc = add_arg_rules(ctx.get(), kind)) != 0) {
        return seccomp_error("argument rules", rc);
    }
    UniqueFd mem(::memfd_create("agentd-seccomp", MFD_CLOEXEC));
    if (!mem) {
        return base::fail(errc::unavailable, "seccomp: memfd_create failed");
    }
    if ((rc = seccomp_export_bpf(ctx.get(), mem.get())) != 0) {
        return seccomp_error("export", rc);
    }
    const off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0 ||
        size > static_cast<off_t>(BPF_MAXINSNS * sizeof(sock_filter))) {
        return base::fail(errc::unavailable, "seccomp: exported filter has a bad size");
    }
    BpfProgram prog(static_cast<std::size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), prog.data(), static_cast<std::size_t>(size), 0) != size) {
        return base::fail(errc::unavailable, "seccomp: reading the exported filter failed");
    }
    return prog;
}

int install_filter(const BpfProgram& prog) noexcept {
    sock_fprog fprog{};
    fprog.len = static_cast<unsigned short>(prog.size());
    fprog.filter = const_cast<sock_filter*>(prog.data());
    return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog));
}

std::string bpf_bytes(const BpfProgram& prog) {
    return {reinterpret_cast<const char*>(prog.data()), prog.size() * sizeof(sock_filter)};
}

} // namespace agentd::sandbox::detail
