#include "detail/run_plan.h"

#include "detail/root_fs.h"
#include "detail/sys.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sys/stat.h>
#include <sys/wait.h>

namespace agentd::sandbox::detail {
namespace {

bool is_dir(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace

bool write_id_maps(const Context& ctx, pid_t pid) {
    const std::string proc = "/proc/" + std::to_string(pid);
    return write_file(proc + "/setgroups", "deny") &&
           write_file(proc + "/uid_map", std::to_string(kInnerUid) + " " +
                                             std::to_string(ctx.host.outer_uid) + " 1") &&
           write_file(proc + "/gid_map",
                      std::to_string(kInnerGid) + " " + std::to_string(ctx.host.outer_gid) + " 1");
}

bool RunPlan::prepare(std::string& why) {
    const bool python = request.language == Language::python;
    const std::string program_name = python ? "main.py" : "main.sh";
    const bool private_root = (ctx_.host.clone_flags & CLONE_NEWNS) != 0;
    if (!request.workspace_id.empty()) {
        ws_source_ = ctx_.workspace_root + "/" + request.workspace_id;
        ws_tmpfs_ = ctx_.workspace_tmpfs;
        if (!is_dir(ws_source_)) {
            why = "no workspace '" + request.workspace_id + "'";
            return false;
        }
    } else if (!request.host_workspace.empty()) {
        ws_source_ = request.host_workspace;
        if (!is_dir(ws_source_)) {
            why = "workspace directory '" + ws_source_ + "' does not exist";
            return false;
        }
    } else {
        ws_tmpfs_ = private_root;
    }
    if (private_root) {
        program_path_ = "/run/agentd/" + program_name;
        return true;
    }
    // Minimal mode: no private root; the program and a scratch workspace live in a private
    // temporary directory.
    char tmpl[] = "/tmp/agentd-run-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        why = std::string("mkdtemp: ") + std::strerror(errno);
        return false;
    }
    temp_dir_ = tmpl;
    ::chmod(temp_dir_.c_str(), 0755);
    program_path_ = temp_dir_ + "/" + program_name;
    const int fd = ::open(program_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    const bool ok = fd >= 0 && write_all(fd, request.code.data(), request.code.size());
    if (fd >= 0) {
        ::close(fd);
    }
    if (!ok) {
        why = "writing the program file failed";
        return false;
    }
    if (ws_source_.empty()) {
        ws_source_ = temp_dir_ + "/workspace";
        if (::mkdir(ws_source_.c_str(), 0700) != 0 ||
            ::chown(ws_source_.c_str(), ctx_.host.outer_uid, ctx_.host.outer_gid) != 0) {
            why = std::string("scratch workspace: ") + std::strerror(errno);
            return false;
        }
    }
    work_dir_ = ws_source_;
    return true;
}

void RunPlan::set_helpers(std::uint32_t in_userns, std::uint32_t in_cgroup) {
    // max_procs 0 (the warm interpreter itself): no process limit at all.
    const std::uint32_t procs = request.limits.max_procs;
    nproc_ = procs == 0 ? 0 : procs + in_userns;
    cgroup.set_limits(request.limits.memory_bytes, procs == 0 ? 0 : procs + in_cgroup);
}

UniqueFd RunPlan::workspace_tree(std::string& why) const {
    if (ws_source_.empty() || !work_dir_.empty()) {
        return UniqueFd();
    }
    UniqueFd tree = detached_tree(ws_source_);
    if (!tree) {
        why = "workspace " + ws_source_ + ": " + std::strerror(errno);
    }
    return tree;
}

std::string RunPlan::job_message() const {
    return "J\n" + std::to_string(nproc_) + "\n" + program_path_ + "\n" + work_dir_;
}

VerifyExpect RunPlan::expect(bool warm, int extra_fd) const {
    VerifyExpect e;
    e.limits = request.limits;
    e.nproc = nproc_;
    e.outer_uid = ctx_.host.outer_uid;
    e.uid_is_host_nonroot =
        ctx_.host.mode == HostReport::Mode::rootless ||
        (ctx_.host.mode == HostReport::Mode::root && ctx_.host.outer_uid != 0) ||
        (ctx_.host.mode == HostReport::Mode::minimal && ::geteuid() != 0);
    e.cgroup = &cgroup;
    e.workspace_tmpfs = ws_tmpfs_;
    e.workspace_bytes = request.limits.workspace_bytes;
    e.min_seccomp_filters = warm ? 2 : 1;
    e.allowed_extra_fd = extra_fd;
    return e;
}

WireResult RunPlan::result(const SupervisorOutcome& out, bool warm) const {
    WireResult res;
    RunResult& r = res.result;
    if (out.cancelled) {
        res.error = errc::cancelled;
        res.message = "the run was cancelled";
        return res;
    }
    if (out.refused) {
        res.error = errc::unavailable;
        res.message = out.setup_error;
        return res;
    }
    if (!out.verified || (!out.have_status && !out.timed_out)) {
        res.error = errc::spawn_failed;
        res.message = !out.setup_error.empty() ? out.setup_error
                      : out.timed_out          ? "the sandbox set-up did not finish in time"
                                               : "the sandbox stopped before reporting a status";
        return res;
    }
    if (!out.setup_error.empty() && out.have_status && WIFEXITED(out.wait_status) &&
        WEXITSTATUS(out.wait_status) >= 125) {
        res.error = errc::spawn_failed;
        res.message = out.setup_error;
        return res;
    }
    if (out.have_status && WIFEXITED(out.wait_status)) {
        r.exit_code = WEXITSTATUS(out.wait_status);
    } else if (out.have_status && WIFSIGNALED(out.wait_status)) {
        r.signal = WTERMSIG(out.wait_status);
    } else {
        r.signal = SIGKILL; // killed with its namespace before init could report
    }
    r.stdout_data = out.out.data;
    r.stderr_data = out.err.data;
    r.stdout_bytes = out.out.total;
    r.stderr_bytes = out.err.total;
    r.stdout_truncated = out.out.total > out.out.data.size();
    r.stderr_truncated = out.err.total > out.err.data.size();
    r.timed_out = out.timed_out;
    r.wall_ms = out.end_ms - out.start_ms;
    r.cpu_ms = (out.cpu_us > out.setup_cpu_us ? out.cpu_us - out.setup_cpu_us : 0) / 1000;
    r.max_rss_kb = out.maxrss_kb;
    r.isolation = out.layers;
    r.warm = warm;
    const std::uint64_t cpu_limit_ms = (request.limits.cpu_ms + 999ULL) / 1000ULL * 1000ULL;
    if (out.timed_out) {
        r.limit = LimitHit::wall;
    } else if (r.signal == SIGXCPU || (r.signal == SIGKILL && r.cpu_ms + 50 >= cpu_limit_ms)) {
        r.limit = LimitHit::cpu;
    } else if (cgroup.oom_kills() > 0) {
        r.limit = LimitHit::memory;
    } else if (r.signal == SIGXFSZ) {
        r.limit = LimitHit::file_size;
    }
    return res;
}

void RunPlan::cleanup() noexcept {
    cgroup.destroy();
    if (!temp_dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(temp_dir_, ec);
        temp_dir_.clear();
    }
}

} // namespace agentd::sandbox::detail
