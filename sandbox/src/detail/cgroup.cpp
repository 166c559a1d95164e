#include "detail/cgroup.h"

#include "detail/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <sys/stat.h>
#include <vector>

namespace agentd::sandbox::detail {
namespace {

struct Mount {
    std::string root;       // the hierarchy path mounted there
    std::string mountpoint; // where
    std::string fstype;
    std::string options; // super options
};

std::vector<Mount> cgroup_mounts() {
    std::vector<Mount> out;
    std::string info;
    if (!read_file("/proc/self/mountinfo", info, 1 << 22)) {
        return out;
    }
    std::istringstream in(info);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string id, parent, dev, root, mountpoint, field;
        ls >> id >> parent >> dev >> root >> mountpoint;
        while (ls >> field && field != "-") {
        }
        Mount m;
        ls >> m.fstype >> field >> m.options;
        if (m.fstype != "cgroup" && m.fstype != "cgroup2") {
            continue;
        }
        m.root = root;
        m.mountpoint = mountpoint;
        out.push_back(std::move(m));
    }
    return out;
}

bool has_option(const std::string& options, const std::string& name) {
    std::istringstream in(options);
    std::string opt;
    while (std::getline(in, opt, ',')) {
        if (opt == name) {
            return true;
        }
    }
    return false;
}

// Our path in the hierarchy named `controller` ("" = the v2 line), from /proc/self/cgroup.
bool own_path(const std::string& controller, std::string& out) {
    std::string data;
    if (!read_file("/proc/self/cgroup", data)) {
        return false;
    }
    std::istringstream in(data);
    std::string line;
    while (std::getline(in, line)) {
        const auto a = line.find(':');
        const auto b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) {
            continue;
        }
        const std::string list = line.substr(a + 1, b - a - 1);
        if ((controller.empty() && line.compare(0, a, "0") == 0 && list.empty()) ||
            (!controller.empty() && has_option(list, controller))) {
            out = line.substr(b + 1);
            return true;
        }
    }
    return false;
}

// Directory of our own cgroup in the hierarchy mounted by `m`.
bool own_dir(const Mount& m, const std::string& own, std::string& out) {
    if (m.root == "/") {
        out = m.mountpoint + (own == "/" ? "" : own);
        return true;
    }
    if (own.rfind(m.root, 0) != 0) {
        return false;
    }
    out = m.mountpoint + own.substr(m.root.size());
    return true;
}

std::string join_rel(const std::string& own, const std::string& name) {
    return own == "/" ? "/" + name : own + "/" + name;
}

bool setup_v2(const Mount& m, pid_t owner, CgroupHost& h) {
    std::string own, dir, controllers;
    if (!own_path("", own) || !own_dir(m, own, dir) ||
        !read_file(dir + "/cgroup.controllers", controllers)) {
        return false;
    }
    if (controllers.find("memory") == std::string::npos ||
        controllers.find("pids") == std::string::npos) {
        return false;
    }
    std::string subtree;
    read_file(dir + "/cgroup.subtree_control", subtree);
    if ((subtree.find("memory") == std::string::npos ||
         subtree.find("pids") == std::string::npos) &&
        !write_file(dir + "/cgroup.subtree_control", "+memory +pids")) {
        return false; // our cgroup holds processes: v2 forbids delegating from it
    }
    const std::string name = "agentd-" + std::to_string(owner);
    const std::string parent = dir + "/" + name;
    if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
        return false;
    }
    if (!write_file(parent + "/cgroup.subtree_control", "+memory +pids")) {
        ::rmdir(parent.c_str());
        return false;
    }
    h.kind = CgroupHost::Kind::v2;
    h.memory_parent = parent;
    h.memory_rel = join_rel(own, name);
    return true;
}

bool setup_v1(const std::vector<Mount>& mounts, pid_t owner, CgroupHost& h) {
    std::string mem_dir, pids_dir, mem_own, pids_own;
    for (const auto& m : mounts) {
        if (m.fstype != "cgroup") {
            continue;
        }
        if (has_option(m.options, "memory") && own_path("memory", mem_own)) {
            own_dir(m, mem_own, mem_dir);
        }
        if (has_option(m.options, "pids") && own_path("pids", pids_own)) {
            own_dir(m, pids_own, pids_dir);
        }
    }
    if (mem_dir.empty() || pids_dir.empty()) {
        return false;
    }
    const std::string name = "agentd-" + std::to_string(owner);
    const std::string mem = mem_dir + "/" + name;
    const std::string pids = pids_dir + "/" + name;
    if ((::mkdir(mem.c_str(), 0755) != 0 && errno != EEXIST) ||
        (::mkdir(pids.c_str(), 0755) != 0 && errno != EEXIST)) {
        ::rmdir(mem.c_str());
        return false;
    }
    h.kind = CgroupHost::Kind::v1;
    h.memory_parent = mem;
    h.pids_parent = pids;
    h.memory_rel = join_rel(mem_own, name);
    h.pids_rel = join_rel(pids_own, name);
    return true;
}

void remove_stale_in(const std::string& parent_of) {
    DIR* d = ::opendir(parent_of.c_str());
    if (d == nullptr) {
        return;
    }
    while (dirent* e = ::readdir(d)) {
        if (std::strncmp(e->d_name, "agentd-", 7) != 0) {
            continue;
        }
        const long pid = std::strtol(e->d_name + 7, nullptr, 10);
        if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) {
            continue;
        }
        const std::string dir = parent_of + "/" + e->d_name;
        if (DIR* runs = ::opendir(dir.c_str())) {
            while (dirent* r = ::readdir(runs)) {
                if (std::strncmp(r->d_name, "run-", 4) == 0 ||
                    std::strncmp(r->d_name, "warm-", 5) == 0) {
                    ::rmdir((dir + "/" + r->d_name).c_str());
                }
            }
            ::closedir(runs);
        }
        ::rmdir(dir.c_str());
    }
    ::closedir(d);
}

void sleep_ms(long ms) {
    timespec ts{0, ms * 1000000L};
    ::nanosleep(&ts, nullptr);
}

} // namespace

const char* to_string(CgroupHost::Kind k) noexcept {
    switch (k) {
    case CgroupHost::Kind::v1:
        return "v1";
    case CgroupHost::Kind::v2:
        return "v2";
    case CgroupHost::Kind::none:
        break;
    }
    return "none";
}

CgroupHost CgroupHost::setup(pid_t owner) {
    CgroupHost h;
    const auto mounts = cgroup_mounts();
    for (const auto& m : mounts) {
        if (m.fstype == "cgroup2" && setup_v2(m, owner, h)) {
            return h;
        }
    }
    if (setup_v1(mounts, owner, h)) {
        return h;
    }
    h.why_none = mounts.empty()
                     ? "no cgroup file system mounted"
                     : "no writable memory+pids cgroup (v2 delegation or v1 hierarchies)";
    return h;
}

void CgroupHost::teardown() const noexcept {
    if (!memory_parent.empty()) {
        ::rmdir(memory_parent.c_str());
    }
    if (!pids_parent.empty()) {
        ::rmdir(pids_parent.c_str());
    }
}

void CgroupHost::remove_runs() const noexcept {
    for (const auto* parent : {&memory_parent, &pids_parent}) {
        DIR* d = parent->empty() ? nullptr : ::opendir(parent->c_str());
        if (d == nullptr) {
            continue;
        }
        while (dirent* e = ::readdir(d)) {
            if (std::strncmp(e->d_name, "run-", 4) != 0 &&
                std::strncmp(e->d_name, "warm-", 5) != 0) {
                continue;
            }
            const std::string dir = *parent + "/" + e->d_name;
            for (int i = 0; i < 200 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i) {
                sleep_ms(1);
            }
        }
        ::closedir(d);
    }
}

bool CgroupHost::make_child(const std::string& name, UniqueFd& memory_procs,
                            UniqueFd& pids_procs) const {
    if (kind == Kind::none) {
        return false;
    }
    const std::string mem = memory_parent + "/" + name;
    if (::mkdir(mem.c_str(), 0755) != 0) {
        return false;
    }
    memory_procs.reset(::open((mem + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
    if (kind == Kind::v1) {
        const std::string pids = pids_parent + "/" + name;
        if (::mkdir(pids.c_str(), 0755) == 0) {
            pids_procs.reset(::open((pids + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
        }
    }
    return memory_procs.valid();
}

void CgroupHost::remove_child(const std::string& name) const noexcept {
    for (const auto* parent : {&memory_parent, &pids_parent}) {
        if (!parent->empty()) {
            ::rmdir((*parent + "/" + name).c_str());
        }
    }
}

void CgroupHost::remove_stale() const noexcept {
    for (const auto* parent : {&memory_parent, &pids_parent}) {
        if (!parent->empty()) {
            remove_stale_in(parent->substr(0, parent->rfind('/')));
        }
    }
}

RunCgroup RunCgroup::create(const CgroupHost& host, const std::string& name) {
    RunCgroup cg;
    cg.host_ = &host;
    cg.name_ = name;
    if (host.kind == CgroupHost::Kind::none) {
        return cg;
    }
    const std::string mem = host.memory_parent + "/" + name;
    if (::mkdir(mem.c_str(), 0755) != 0) {
        return cg;
    }
    cg.memory_dir_ = mem;
    if (host.kind == CgroupHost::Kind::v2) {
        cg.pids_dir_ = mem;
        cg.v2_dir_.reset(::open(mem.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        return cg;
    }
    const std::string pids = host.pids_parent + "/" + name;
    if (::mkdir(pids.c_str(), 0755) == 0) {
        cg.pids_dir_ = pids;
    }
    return cg;
}

RunCgroup RunCgroup::adopt(const CgroupHost& host, const std::string& name) {
    RunCgroup cg;
    cg.host_ = &host;
    bool ok = name.size() > 5 && name.size() < 32 && name.rfind("warm-", 0) == 0;
    for (std::size_t i = 5; ok && i < name.size(); ++i) {
        ok = name[i] >= '0' && name[i] <= '9';
    }
    if (!ok || host.kind == CgroupHost::Kind::none) {
        return cg;
    }
    cg.name_ = name;
    struct stat st {};
    const std::string mem = host.memory_parent + "/" + name;
    if (::stat(mem.c_str(), &st) == 0) {
        cg.memory_dir_ = mem;
    }
    const std::string pids =
        host.kind == CgroupHost::Kind::v2 ? mem : host.pids_parent + "/" + name;
    if (::stat(pids.c_str(), &st) == 0) {
        cg.pids_dir_ = pids;
    }
    return cg;
}

void RunCgroup::set_limits(std::uint64_t memory_bytes, std::uint32_t procs) {
    const bool v2 = host_ != nullptr && host_->kind == CgroupHost::Kind::v2;
    const std::string procs_value = procs == 0 ? "max" : std::to_string(procs);
    if (!memory_dir_.empty()) {
        const std::string file = memory_dir_ + (v2 ? "/memory.max" : "/memory.limit_in_bytes");
        std::string back;
        // The kernel rounds the limit down to whole pages: read it back and accept that.
        memory_ok_ = write_file(file, std::to_string(memory_bytes)) && read_file(file, back) &&
                     std::strtoull(back.c_str(), nullptr, 10) + 4096 > memory_bytes &&
                     std::strtoull(back.c_str(), nullptr, 10) <= memory_bytes;
        // Swap past the limit is forbidden too where swap is accounted (files absent otherwise).
        write_file(memory_dir_ + (v2 ? "/memory.swap.max" : "/memory.memsw.limit_in_bytes"),
                   v2 ? "0" : std::to_string(memory_bytes));
    }
    if (!pids_dir_.empty()) {
        std::string back;
        pids_ok_ = write_file(pids_dir_ + "/pids.max", procs_value) &&
                   read_file(pids_dir_ + "/pids.max", back) && back == procs_value + "\n";
    }
}

bool RunCgroup::add(pid_t pid) const {
    const std::string p = pid == 0 ? "0" : std::to_string(pid);
    bool ok = true;
    if (!memory_dir_.empty()) {
        ok = write_file(memory_dir_ + "/cgroup.procs", p) && ok;
    }
    if (!pids_dir_.empty() && pids_dir_ != memory_dir_) {
        ok = write_file(pids_dir_ + "/cgroup.procs", p) && ok;
    }
    return ok;
}

UniqueFd RunCgroup::open_procs(bool memory) const {
    const std::string& dir = memory ? memory_dir_ : pids_dir_;
    if (dir.empty() || (!memory && pids_dir_ == memory_dir_)) {
        return UniqueFd();
    }
    return UniqueFd(::open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
}

bool RunCgroup::contains(pid_t pid, bool memory) const {
    if (host_ == nullptr || host_->kind == CgroupHost::Kind::none) {
        return false;
    }
    std::string data;
    if (!read_file("/proc/" + std::to_string(pid) + "/cgroup", data)) {
        return false;
    }
    std::istringstream in(data);
    std::string line;
    while (std::getline(in, line)) {
        const auto a = line.find(':');
        const auto b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) {
            continue;
        }
        const std::string list = line.substr(a + 1, b - a - 1);
        const std::string path = line.substr(b + 1);
        if (host_->kind == CgroupHost::Kind::v2) {
            if (list.empty() && path == host_->memory_rel + "/" + name_) {
                return true;
            }
        } else if (has_option(list, memory ? "memory" : "pids")) {
            return path == (memory ? host_->memory_rel : host_->pids_rel) + "/" + name_;
        }
    }
    return false;
}

std::uint64_t RunCgroup::oom_kills() const {
    if (memory_dir_.empty()) {
        return 0;
    }
    std::string data;
    const bool v2 = host_->kind == CgroupHost::Kind::v2;
    if (!read_file(memory_dir_ + (v2 ? "/memory.events" : "/memory.oom_control"), data)) {
        return 0;
    }
    const auto pos = data.find("oom_kill ");
    return pos == std::string::npos ? 0 : std::strtoull(data.c_str() + pos + 9, nullptr, 10);
}

void RunCgroup::destroy() noexcept {
    v2_dir_.reset();
    if (monitor_inside_) {
        return;
    }
    for (std::string* dir : {&memory_dir_, &pids_dir_}) {
        if (dir->empty()) {
            continue;
        }
        // Tasks leave a cgroup slightly after they are reaped; give them up to ~200 ms.
        for (int i = 0; i < 200 && ::rmdir(dir->c_str()) != 0 && errno == EBUSY; ++i) {
            sleep_ms(1);
        }
        if (pids_dir_ == memory_dir_) {
            break;
        }
    }
    memory_dir_.clear();
    pids_dir_.clear();
}

} // namespace agentd::sandbox::detail
