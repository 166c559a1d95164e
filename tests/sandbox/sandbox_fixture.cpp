#include "sandbox_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <sys/wait.h>

extern char** environ;

namespace agentd::sandbox::testing {
namespace {

std::unique_ptr<Sandbox> make(bool warm) {
    SandboxConfig config;
    config.warm_python = warm;
    config.workspace_idle_ttl_s = 3600;
    auto sb = Sandbox::create(config);
    if (!sb) {
        ADD_FAILURE() << "Sandbox::create: " << sb.error().what();
        std::abort();
    }
    if (warm && !(*sb)->wait_warm_ready(std::chrono::seconds(30))) {
        ADD_FAILURE() << "the warm interpreter did not become ready";
    }
    return std::move(*sb);
}

} // namespace

Sandbox& sandbox(bool warm) {
    static std::mutex mu;
    static std::unique_ptr<Sandbox> cold_sb;
    static std::unique_ptr<Sandbox> warm_sb;
    std::lock_guard lock(mu);
    auto& slot = warm ? warm_sb : cold_sb;
    if (!slot) {
        slot = make(warm);
    }
    return *slot;
}

Limits test_limits(std::uint32_t wall_ms) {
    Limits l;
    l.wall_ms = wall_ms;
    return l;
}

RunRequest python(std::string code, bool warm) {
    RunRequest r;
    r.language = Language::python;
    r.code = std::move(code);
    r.prefer_warm = warm;
    r.limits = test_limits();
    return r;
}

RunRequest bash(std::string code) {
    RunRequest r;
    r.language = Language::bash;
    r.code = std::move(code);
    r.limits = test_limits();
    return r;
}

RunResult run(Sandbox& sb, const RunRequest& req) {
    auto r = sb.run(req);
    if (!r) {
        ADD_FAILURE() << "sandbox run failed: " << r.error().what();
        return {};
    }
    return std::move(*r);
}

std::string unsandboxed_python(const std::string& code) {
    int out[2];
    if (::pipe(out) != 0) {
        return {};
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    const char* argv[] = {"/usr/bin/python3", "-c", code.c_str(), nullptr};
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    std::string text;
    char buf[4096];
    ssize_t n;
    while (rc == 0 && (n = ::read(out[0], buf, sizeof(buf))) > 0) {
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    if (rc == 0) {
        int st = 0;
        ::waitpid(pid, &st, 0);
    }
    return text;
}

LayerSet host_layers() {
    return sandbox(false).host().layers;
}

bool running_as_root() {
    return ::geteuid() == 0;
}

std::vector<int> host_processes_with(const std::string& marker) {
    std::vector<int> pids;
    DIR* d = ::opendir("/proc");
    if (d == nullptr) {
        return pids;
    }
    while (dirent* e = ::readdir(d)) {
        const int pid = std::atoi(e->d_name);
        if (pid <= 0) {
            continue;
        }
        std::ifstream in(std::string("/proc/") + e->d_name + "/cmdline", std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string cmd = ss.str();
        for (char& c : cmd) {
            c = c == '\0' ? ' ' : c;
        }
        if (cmd.find(marker) != std::string::npos) {
            pids.push_back(pid);
        }
    }
    ::closedir(d);
    return pids;
}

} // namespace agentd::sandbox::testing
