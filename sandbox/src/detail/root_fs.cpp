#include "detail/root_fs.h"

#include "detail/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

namespace agentd::sandbox::detail {
namespace {

// What interpreters and coreutils need; missing entries are skipped. /etc is never bound whole:
// only these files, so host secrets (/etc/shadow, ssh keys, ...) do not exist inside.
constexpr const char* kBuiltinPaths[] = {
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/alternatives",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
    "/etc/protocols",
};

constexpr const char* kDevNodes[] = {"null", "zero", "full", "random", "urandom"};

constexpr const char* kPasswd = "root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
                                "sandbox:x:1000:1000:sandbox:/workspace:/bin/bash\n"
                                "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr const char* kGroup = "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n";
constexpr const char* kHosts = "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost\n";

// Records the failed step; errno stays as the failing call left it (the caller reports it).
bool fail(std::string& error, const std::string& what) {
    const int saved = errno;
    error = what;
    errno = saved;
    return false;
}

// Opens the source of a bind mount before the staging tmpfs can cover it (a source may live
// under the staging directory, e.g. a workspace in /tmp).
UniqueFd open_source(const std::string& path) {
    return UniqueFd(::open(path.c_str(), O_PATH | O_CLOEXEC));
}

// Bind-mounts (recursively) what `src` refers to onto `dst`.
bool bind_fd(int src, const std::string& dst) {
    UniqueFd tree(
        ::open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
    if (tree) {
        return ::move_mount(tree.get(), "", AT_FDCWD, dst.c_str(), MOVE_MOUNT_F_EMPTY_PATH) == 0;
    }
    const std::string path = "/proc/self/fd/" + std::to_string(src);
    return ::mount(path.c_str(), dst.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0;
}

bool mkdirs(const std::string& path, mode_t mode) {
    for (std::size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos == path.size() || path[pos] == '/') {
            const std::string part = path.substr(0, pos);
            if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
                return false;
            }
        }
    }
    return true;
}

bool create_file(const std::string& path, std::string_view content, mode_t mode) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
    return fd && write_all(fd.get(), content.data(), content.size()) &&
           ::fchmod(fd.get(), mode) == 0;
}

bool bind(int src, const std::string& dst, bool is_dir) {
    const auto parent = dst.substr(0, dst.rfind('/'));
    if (!mkdirs(parent, 0755)) {
        return false;
    }
    if (is_dir) {
        if (::mkdir(dst.c_str(), 0755) != 0 && errno != EEXIST) {
            return false;
        }
    } else if (!create_file(dst, {}, 0644) && errno != EEXIST) {
        return false;
    }
    return bind_fd(src, dst);
}

struct Sources {
    std::vector<UniqueFd> host; // parallel to PrebuildSpec::host_paths (invalid for symlinks)
    UniqueFd dev[std::size(kDevNodes)];
    UniqueFd all_workspaces;
};

bool open_sources(const PrebuildSpec& spec, Sources& s, std::string& error) {
    for (const auto& hp : *spec.host_paths) {
        s.host.push_back(hp.symlink_target.empty() ? open_source(hp.path) : UniqueFd());
        if (hp.symlink_target.empty() && !s.host.back()) {
            return fail(error, "open " + hp.path);
        }
    }
    for (std::size_t i = 0; i < std::size(kDevNodes); ++i) {
        s.dev[i] = open_source(std::string("/dev/") + kDevNodes[i]);
        if (!s.dev[i]) {
            return fail(error, std::string("open /dev/") + kDevNodes[i]);
        }
    }
    if (!spec.all_workspaces.empty() && !(s.all_workspaces = open_source(spec.all_workspaces))) {
        return fail(error, "open " + spec.all_workspaces);
    }
    return true;
}

bool build_etc(const std::string& root, std::string& error) {
    const std::string etc = root + "/etc";
    if (!mkdirs(etc, 0755)) {
        return fail(error, "mkdir /etc");
    }
    if (!create_file(etc + "/passwd", kPasswd, 0644) ||
        !create_file(etc + "/group", kGroup, 0644) || !create_file(etc + "/hosts", kHosts, 0644) ||
        !create_file(etc + "/hostname", "sandbox\n", 0644)) {
        return fail(error, "writing /etc files");
    }
    return true;
}

bool build_dev(const std::string& root, const Sources& sources, std::string& error) {
    const std::string dev = root + "/dev";
    if (!mkdirs(dev, 0755) || !mount_tmpfs(dev, 64 * 1024, 0755, 0, 0, MS_NOEXEC)) {
        return fail(error, "tmpfs /dev");
    }
    for (std::size_t i = 0; i < std::size(kDevNodes); ++i) {
        if (!bind(sources.dev[i].get(), dev + "/" + kDevNodes[i], false)) {
            return fail(error, std::string("bind /dev/") + kDevNodes[i]);
        }
    }
    const std::pair<const char*, const char*> links[] = {{"fd", "/proc/self/fd"},
                                                         {"stdin", "/proc/self/fd/0"},
                                                         {"stdout", "/proc/self/fd/1"},
                                                         {"stderr", "/proc/self/fd/2"}};
    for (const auto& [name, target] : links) {
        if (::symlink(target, (dev + "/" + name).c_str()) != 0) {
            return fail(error, std::string("symlink /dev/") + name);
        }
    }
    if (::mkdir((dev + "/shm").c_str(), 01777) != 0) {
        return fail(error, "mkdir /dev/shm");
    }
    // The tmpfs holding the nodes becomes read-only; the device binds keep working.
    if (::mount(nullptr, dev.c_str(), nullptr,
                MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, nullptr) != 0) {
        return fail(error, "remount /dev read-only");
    }
    return true;
}

bool build_proc(const std::string& root, bool protect_sys, std::string& error) {
    const std::string proc = root + "/proc";
    if (::mkdir(proc.c_str(), 0555) != 0 && errno != EEXIST) {
        return fail(error, "mkdir /proc");
    }
    if (::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        return fail(error, "mount /proc");
    }
    if (protect_sys) {
        const std::string sys = proc + "/sys";
        if (::mount(sys.c_str(), sys.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
            !restrict_mount(sys, true)) {
            return fail(error, "read-only /proc/sys");
        }
    }
    return true;
}

bool build_run_dir(const std::string& root, const FinishSpec& spec, std::string& error) {
    const std::string run = root + "/run/agentd";
    const std::uint64_t size = (spec.program->size() + 64 * 1024 + 4095) & ~4095ULL;
    if (!mount_tmpfs(run, size, 0755, 0, 0, MS_NOEXEC)) {
        return fail(error, "tmpfs /run/agentd");
    }
    if (!create_file(run + "/" + spec.program_name, *spec.program, 0444)) {
        return fail(error, "writing the program file");
    }
    if (::mount(nullptr, run.c_str(), nullptr,
                MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                nullptr) != 0) {
        return fail(error, "remount /run/agentd read-only");
    }
    return true;
}

} // namespace

std::vector<HostPath> discover_host_paths(const std::vector<std::string>& extra) {
    std::vector<std::string> wanted(std::begin(kBuiltinPaths), std::end(kBuiltinPaths));
    // Debian keeps python's sitecustomize in /etc/python3.X.
    if (DIR* d = ::opendir("/etc")) {
        while (dirent* e = ::readdir(d)) {
            if (std::strncmp(e->d_name, "python3", 7) == 0) {
                wanted.push_back(std::string("/etc/") + e->d_name);
            }
        }
        ::closedir(d);
    }
    wanted.insert(wanted.end(), extra.begin(), extra.end());
    std::vector<HostPath> out;
    for (const auto& p : wanted) {
        struct stat st {};
        if (p.empty() || p[0] != '/' || ::lstat(p.c_str(), &st) != 0) {
            continue;
        }
        HostPath hp;
        hp.path = p;
        if (S_ISLNK(st.st_mode)) {
            char buf[4096];
            const ssize_t n = ::readlink(p.c_str(), buf, sizeof(buf) - 1);
            if (n <= 0) {
                continue;
            }
            hp.symlink_target.assign(buf, static_cast<std::size_t>(n));
        } else if (S_ISDIR(st.st_mode)) {
            hp.is_dir = true;
        } else if (S_ISREG(st.st_mode)) {
            hp.is_dir = false;
        } else {
            continue;
        }
        out.push_back(std::move(hp));
    }
    return out;
}

bool mount_tmpfs(const std::string& path, std::uint64_t size, unsigned mode, uid_t uid, gid_t gid,
                 unsigned long extra_flags) {
    char opts[160];
    std::snprintf(opts, sizeof(opts), "size=%llu,mode=%o,uid=%u,gid=%u",
                  static_cast<unsigned long long>(size), mode, uid, gid);
    return ::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | extra_flags, opts) == 0;
}

bool restrict_mount(const std::string& path, bool readonly) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (readonly ? MOUNT_ATTR_RDONLY : 0);
    if (::mount_setattr(AT_FDCWD, path.c_str(), AT_RECURSIVE, &attr, sizeof(attr)) == 0) {
        return true;
    }
    // Older kernels: remount the top mount only, keeping the flags a user namespace may not
    // clear (atime, noexec).
    struct statvfs sv {};
    if (::statvfs(path.c_str(), &sv) != 0) {
        return false;
    }
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (readonly ? MS_RDONLY : 0);
    flags |= sv.f_flag & (ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
    return ::mount(nullptr, path.c_str(), nullptr, flags, nullptr) == 0;
}

bool prebuild_root(const PrebuildSpec& spec, std::string& error) {
    // Nothing we mount may propagate back to the host; host mounts may still arrive (slave),
    // which the warm interpreter relies on for new workspaces under /.ws.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
        return fail(error, "make / a slave mount");
    }
    Sources sources;
    if (!open_sources(spec, sources, error)) {
        return false;
    }
    const std::string& root = spec.staging;
    if (!mount_tmpfs(root, 1024 * 1024, 0755, 0, 0)) {
        return fail(error, "tmpfs root at " + root);
    }
    for (std::size_t i = 0; i < spec.host_paths->size(); ++i) {
        const HostPath& hp = (*spec.host_paths)[i];
        const std::string dst = root + hp.path;
        if (!hp.symlink_target.empty()) {
            if (!mkdirs(dst.substr(0, dst.rfind('/')), 0755) ||
                ::symlink(hp.symlink_target.c_str(), dst.c_str()) != 0) {
                return fail(error, "symlink " + hp.path);
            }
            continue;
        }
        if (!bind(sources.host[i].get(), dst, hp.is_dir) || !restrict_mount(dst, true)) {
            return fail(error, "read-only bind " + hp.path);
        }
    }
    if (!build_etc(root, error) || !build_dev(root, sources, error) ||
        (spec.mount_proc && !build_proc(root, spec.protect_proc_sys, error))) {
        return false;
    }
    if (!spec.mount_proc && ::mkdir((root + "/proc").c_str(), 0555) != 0) {
        return fail(error, "mkdir /proc");
    }
    for (const char* dir : {"/tmp", "/workspace", "/run", "/run/agentd"}) {
        if (::mkdir((root + dir).c_str(), 0755) != 0) {
            return fail(error, std::string("mkdir ") + dir);
        }
    }
    if (!spec.all_workspaces.empty()) {
        const std::string ws = root + "/.ws";
        if (::mkdir(ws.c_str(), 0700) != 0 || !bind_fd(sources.all_workspaces.get(), ws)) {
            return fail(error, "bind workspaces at /.ws");
        }
    }
    return true;
}

bool finish_root(const std::string& root, const FinishSpec& spec, std::string& error) {
    for (const char* dir : {"/tmp", "/dev/shm"}) {
        if (!mount_tmpfs(root + dir, spec.tmp_bytes, 01777, spec.owner_uid, spec.owner_gid)) {
            return fail(error, std::string("tmpfs ") + dir);
        }
    }
    const std::string ws = root + "/workspace";
    if (spec.workspace_tree >= 0) {
        if (::move_mount(spec.workspace_tree, "", AT_FDCWD, ws.c_str(), MOVE_MOUNT_F_EMPTY_PATH) !=
            0) {
            return fail(error, "attach the workspace");
        }
    } else if (!mount_tmpfs(ws, spec.workspace_bytes, 0755, spec.owner_uid, spec.owner_gid)) {
        return fail(error, "tmpfs /workspace");
    }
    if (!build_run_dir(root, spec, error)) {
        return false;
    }
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only
    // the new tree: nothing of the host's mount tree stays reachable.
    if (::chdir(root.c_str()) != 0 || pivot_root(".", ".") != 0) {
        return fail(error, "pivot_root");
    }
    if (::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0) {
        return fail(error, "detach the old root");
    }
    if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                nullptr) != 0) {
        return fail(error, "remount / read-only");
    }
    if (::chdir("/workspace") != 0) {
        return fail(error, "chdir /workspace");
    }
    return true;
}

UniqueFd detached_tree(const std::string& path) {
    UniqueFd tree(::open_tree(AT_FDCWD, path.c_str(),
                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_NO_AUTOMOUNT |
                                  AT_SYMLINK_NOFOLLOW));
    if (!tree) {
        return tree;
    }
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
        return UniqueFd();
    }
    return tree;
}

} // namespace agentd::sandbox::detail
