#include "detail/verify.h"

#include "detail/sys.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <linux/magic.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>

namespace agentd::sandbox::detail {
namespace {

bool ns_differs(const std::string& proc, const char* ns) {
    char mine[64] = {};
    char theirs[64] = {};
    const std::string self = std::string("/proc/self/ns/") + ns;
    const std::string other = proc + "/ns/" + ns;
    const ssize_t a = ::readlink(self.c_str(), mine, sizeof(mine) - 1);
    const ssize_t b = ::readlink(other.c_str(), theirs, sizeof(theirs) - 1);
    return a > 0 && b > 0 && std::strcmp(mine, theirs) != 0;
}

// Value of "Key:\t..." in /proc/<pid>/status.
std::string status_field(const std::string& status, const char* key) {
    const std::string k = std::string("\n") + key + ":";
    const auto pos = status.find(k);
    if (pos == std::string::npos) {
        return {};
    }
    const auto start = pos + k.size();
    const auto end = status.find('\n', start);
    std::string v = status.substr(start, end - start);
    const auto first = v.find_first_not_of(" \t");
    return first == std::string::npos ? std::string() : v.substr(first);
}

bool all_ids_are(const std::string& field, unsigned id) {
    std::istringstream in(field);
    unsigned v = 0;
    int n = 0;
    while (in >> v) {
        if (v != id) {
            return false;
        }
        ++n;
    }
    return n == 4;
}

// Soft limit of the /proc/<pid>/limits row starting with `name`.
bool limit_is(const std::string& limits, const char* name, std::uint64_t want) {
    const auto pos = limits.find(name);
    if (pos == std::string::npos) {
        return false;
    }
    const char* p = limits.c_str() + pos + std::strlen(name);
    while (*p == ' ') {
        ++p;
    }
    if (std::strncmp(p, "unlimited", 9) == 0) {
        return false;
    }
    return std::strtoull(p, nullptr, 10) == want;
}

bool rlimits_hold(const std::string& proc, const VerifyExpect& e) {
    std::string limits;
    if (!read_file(proc + "/limits", limits)) {
        return false;
    }
    const Limits& l = e.limits;
    return limit_is(limits, "Max cpu time", (l.cpu_ms + 999) / 1000) &&
           limit_is(limits, "Max file size", l.max_file_bytes) &&
           limit_is(limits, "Max core file size", 0) &&
           limit_is(limits, "Max processes", e.nproc) &&
           limit_is(limits, "Max open files", l.max_open_files) &&
           limit_is(limits, "Max address space", l.memory_bytes);
}

bool fds_closed(const std::string& proc, int allowed_extra, bool needs_cloexec) {
    DIR* d = ::opendir((proc + "/fd").c_str());
    if (d == nullptr) {
        return false;
    }
    bool ok = true;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') {
            continue;
        }
        const int fd = std::atoi(e->d_name);
        if (fd <= 2) {
            continue;
        }
        std::string info;
        if (fd != allowed_extra || !read_file(proc + "/fdinfo/" + e->d_name, info)) {
            ok = false;
            break;
        }
        // "flags:\t02000002": octal; 02000000 is O_CLOEXEC, closed by the exec.
        const auto pos = info.find("flags:");
        const unsigned long flags =
            pos == std::string::npos ? 0 : std::strtoul(info.c_str() + pos + 6, nullptr, 8);
        if (needs_cloexec && (flags & 02000000UL) == 0) {
            ok = false;
            break;
        }
    }
    ::closedir(d);
    return ok;
}

bool private_root(const std::string& proc) {
    struct stat mine {};
    struct stat theirs {};
    return ::stat("/", &mine) == 0 && ::stat((proc + "/root/").c_str(), &theirs) == 0 &&
           (mine.st_dev != theirs.st_dev || mine.st_ino != theirs.st_ino) &&
           ::access((proc + "/root/etc/shadow").c_str(), F_OK) != 0;
}

bool workspace_capped(const std::string& proc, std::uint64_t bytes) {
    struct statfs fs {};
    if (::statfs((proc + "/root/workspace").c_str(), &fs) != 0 ||
        static_cast<unsigned long>(fs.f_type) != TMPFS_MAGIC) {
        return false;
    }
    const auto total =
        static_cast<std::uint64_t>(fs.f_blocks) * static_cast<std::uint64_t>(fs.f_bsize);
    // tmpfs rounds the size up to whole pages.
    return total >= bytes && total < bytes + 2 * 4096ULL + static_cast<std::uint64_t>(fs.f_bsize);
}

} // namespace

LayerSet verify_process(pid_t pid, const VerifyExpect& e) {
    LayerSet s;
    const std::string proc = "/proc/" + std::to_string(pid);
    const std::pair<const char*, Layer> namespaces[] = {
        {"user", Layer::userns},    {"pid", Layer::pidns}, {"net", Layer::netns},
        {"mnt", Layer::mountns},    {"ipc", Layer::ipcns}, {"uts", Layer::utsns},
        {"cgroup", Layer::cgroupns}};
    for (const auto& [name, layer] : namespaces) {
        if (ns_differs(proc, name)) {
            s.insert(layer);
        }
    }
    std::string status;
    if (read_file(proc + "/status", status)) {
        const bool caps_zero = status_field(status, "CapInh") == "0000000000000000" &&
                               status_field(status, "CapPrm") == "0000000000000000" &&
                               status_field(status, "CapEff") == "0000000000000000" &&
                               status_field(status, "CapBnd") == "0000000000000000" &&
                               status_field(status, "CapAmb") == "0000000000000000";
        if (caps_zero) {
            s.insert(Layer::caps_dropped);
        }
        if (status_field(status, "NoNewPrivs") == "1") {
            s.insert(Layer::no_new_privs);
        }
        if (status_field(status, "Seccomp") == "2" &&
            std::atoi(status_field(status, "Seccomp_filters").c_str()) >= e.min_seccomp_filters) {
            s.insert(Layer::seccomp);
        }
        if (e.uid_is_host_nonroot && all_ids_are(status_field(status, "Uid"), e.outer_uid)) {
            s.insert(Layer::nonroot_uid);
        }
    }
    if (rlimits_hold(proc, e)) {
        s.insert(Layer::rlimits);
    }
    if (e.cgroup != nullptr) {
        if (e.cgroup->memory_limited() && e.cgroup->contains(pid, true)) {
            s.insert(Layer::cgroup_memory);
        }
        if (e.cgroup->pids_limited() && e.cgroup->contains(pid, false)) {
            s.insert(Layer::cgroup_pids);
        }
    }
    if (fds_closed(proc, e.allowed_extra_fd, e.extra_fd_needs_cloexec)) {
        s.insert(Layer::fds_closed);
    }
    if (private_root(proc)) {
        s.insert(Layer::pivot_root);
    }
    if (e.workspace_tmpfs && workspace_capped(proc, e.workspace_bytes)) {
        s.insert(Layer::workspace_quota);
    }
    return s;
}

} // namespace agentd::sandbox::detail
