#include "detail/zygote_setup.h"

#include "detail/root_fs.h"
#include "detail/sys.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <linux/capability.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

namespace agentd::sandbox::detail {
namespace {

constexpr std::uint64_t kRunNamespaces =
    CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

bool has_cap_sys_admin() {
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &hdr, data) != 0) {
        return false;
    }
    return (data[0].effective & (1U << CAP_SYS_ADMIN)) != 0;
}

// Runs `fn` in a child created with `flags`; true when it exits 0.
template <class Fn>
bool in_child(std::uint64_t flags, Fn fn) {
    const pid_t pid = clone3_fork(flags, nullptr, -1);
    if (pid == 0) {
        ::_exit(fn() ? 0 : 1);
    }
    if (pid < 0) {
        return false;
    }
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

std::uint64_t probe_clone_flags() {
    if (in_child(kRunNamespaces, [] { return true; })) {
        return kRunNamespaces;
    }
    std::uint64_t ok = 0;
    for (std::uint64_t bit :
         {CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP}) {
        if (in_child(bit, [] { return true; })) {
            ok |= bit;
        }
    }
    return ok;
}

bool probe_proc(const std::string& staging) {
    return in_child(CLONE_NEWNS | CLONE_NEWPID, [&] {
        return ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
               ::mount("proc", staging.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                       nullptr) == 0;
    });
}

bool enter_rootless_namespace(uid_t uid, gid_t gid) {
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
        return false;
    }
    return write_file("/proc/self/setgroups", "deny") &&
           write_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") &&
           write_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
}

bool seccomp_supported() {
    return ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0;
}

void setup_workspace_root(Context& ctx, bool private_mount_ns) {
    ::mkdir(ctx.workspace_root.c_str(), 0755);
    if (!private_mount_ns) {
        return;
    }
    // Everything we mount stays in this namespace; the workspace root is shared so the warm
    // interpreter's copy (a slave) sees workspaces created after it started.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0 ||
        !mount_tmpfs(ctx.workspace_root, 1024 * 1024, 0755, 0, 0) ||
        ::mount(nullptr, ctx.workspace_root.c_str(), nullptr, MS_SHARED, nullptr) != 0) {
        return;
    }
    ctx.workspace_tmpfs = true;
}

} // namespace

void setup_zygote(Context& ctx) {
    HostCaps& h = ctx.host;
    h.seccomp = seccomp_supported();
    bool private_mount_ns = false;
    if (::geteuid() == 0 && has_cap_sys_admin()) {
        h.mode = HostReport::Mode::root;
        h.outer_uid = ctx.config.sandbox_uid;
        h.outer_gid = ctx.config.sandbox_gid;
        private_mount_ns = ::unshare(CLONE_NEWNS) == 0;
    } else {
        const uid_t uid = ::geteuid();
        const gid_t gid = ::getegid();
        if (enter_rootless_namespace(uid, gid)) {
            h.mode = HostReport::Mode::rootless;
            h.outer_uid = 0; // our own uid, as seen inside the zygote's user namespace
            h.outer_gid = 0;
            private_mount_ns = true;
        } else {
            h.mode = HostReport::Mode::minimal;
            h.outer_uid = uid;
            h.outer_gid = gid;
        }
    }
    if (h.mode != HostReport::Mode::minimal) {
        h.clone_flags = probe_clone_flags();
        h.userns = in_child(0, [] { return ::unshare(CLONE_NEWUSER) == 0; });
        h.mount_proc = (h.clone_flags & CLONE_NEWPID) != 0 && probe_proc(ctx.config.staging_dir);
    }
    setup_workspace_root(ctx, private_mount_ns && (h.clone_flags & CLONE_NEWNS) != 0);
    if (h.mode == HostReport::Mode::root) {
        ctx.cgroups = CgroupHost::setup(::getpid());
        ctx.cgroups.remove_stale();
    }
}

std::string hello_message(const Context& ctx) {
    std::ostringstream out;
    out << "HELLO " << static_cast<int>(ctx.host.mode) << ' ' << ctx.host.clone_flags << ' '
        << (ctx.host.userns ? 1 : 0) << ' ' << to_string(ctx.cgroups.kind) << ' '
        << (ctx.workspace_tmpfs ? 1 : 0) << ' ' << (ctx.host.seccomp ? 1 : 0);
    return out.str();
}

bool parse_hello(std::string_view msg, Hello& out) {
    std::istringstream in{std::string(msg)};
    std::string word;
    int mode = 0, userns = 0, ws = 0, sec = 0;
    if (!(in >> word >> mode >> out.clone_flags >> userns >> out.cgroup >> ws >> sec) ||
        word != "HELLO" || mode < 0 || mode > static_cast<int>(HostReport::Mode::minimal)) {
        return false;
    }
    out.mode = static_cast<HostReport::Mode>(mode);
    out.userns = userns != 0;
    out.workspace_tmpfs = ws != 0;
    out.seccomp = sec != 0;
    return true;
}

} // namespace agentd::sandbox::detail
