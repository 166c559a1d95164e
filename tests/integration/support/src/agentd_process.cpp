#include "agentd/itest/agentd_process.h"

#include "agentd/test/env.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>

extern char** environ;

namespace agentd::itest {
namespace {

int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

/// Builds envp: the current environment plus overrides.
std::vector<std::string> make_env(const std::vector<std::pair<std::string, std::string>>& extra) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry(*e);
        bool overridden = false;
        for (const auto& [k, v] : extra) {
            if (entry.substr(0, k.size() + 1) == k + "=") {
                overridden = true;
            }
        }
        if (!overridden) {
            env.emplace_back(entry);
        }
    }
    for (const auto& [k, v] : extra) {
        env.push_back(k + "=" + v);
    }
    return env;
}

struct Spawned {
    pid_t pid;
    int out_fd;
    int err_fd;
};

Spawned spawn(const std::vector<std::string>& args,
              const std::vector<std::pair<std::string, std::string>>& extra_env) {
    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    const std::string binary = agentd::test::agentd_binary().string();
    std::vector<std::string> argv_store;
    argv_store.push_back(binary);
    argv_store.insert(argv_store.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_store) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    auto env_store = make_env(extra_env);
    std::vector<char*> envp;
    for (auto& e : env_store) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error("cannot start " + binary + ": " + std::strerror(rc));
    }
    return {pid, out_pipe[0], err_pipe[0]};
}

/// Waits for `pid` to exit (bounded); SIGKILLs it on timeout.
ProcessResult reap(pid_t pid, int pidfd, std::chrono::milliseconds timeout) {
    ProcessResult r;
    pollfd p{pidfd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) {
        r.timed_out = true;
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r.signal = WTERMSIG(status);
    }
    return r;
}

} // namespace

/// Drains the child's stdout and stderr on a thread.
struct AgentdProcess::Capture {
    std::mutex mutex;
    std::condition_variable changed;
    std::string out;
    std::string err;
    bool eof = false;
    std::thread thread;

    void run(int out_fd, int err_fd) {
        pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
        int open = 2;
        while (open > 0) {
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) {
                    continue;
                }
                break;
            }
            for (int i = 0; i < 2; ++i) {
                if (fds[i].fd < 0 || fds[i].revents == 0) {
                    continue;
                }
                char buf[8192];
                const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
                if (n <= 0) {
                    ::close(fds[i].fd);
                    fds[i].fd = -1;
                    --open;
                    continue;
                }
                std::lock_guard lock(mutex);
                (i == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
                changed.notify_all();
            }
        }
        std::lock_guard lock(mutex);
        eof = true;
        changed.notify_all();
    }
};

std::unique_ptr<AgentdProcess> AgentdProcess::start(Options options) {
    std::unique_ptr<AgentdProcess> p(new AgentdProcess());
    std::vector<std::string> args{options.command};
    if (options.add_listen) {
        args.insert(args.end(), {"--listen", "127.0.0.1:0"});
    }
    if (options.add_data) {
        p->data_dir_ = agentd::test::make_temp_dir("agentd-data");
        p->own_data_dir_ = true;
        args.insert(args.end(), {"--data", p->data_dir_.string()});
    }
    args.insert(args.end(), options.args.begin(), options.args.end());
    const Spawned s = spawn(args, options.env);
    p->pid_ = s.pid;
    p->pidfd_ = pidfd_open(s.pid);
    p->capture_ = std::make_shared<Capture>();
    p->capture_->thread = std::thread([c = p->capture_, s] { c->run(s.out_fd, s.err_fd); });

    std::unique_lock lock(p->capture_->mutex);
    const std::string marker = "listening on ";
    const bool found = p->capture_->changed.wait_for(lock, options.start_timeout, [&] {
        const auto at = p->capture_->err.find(marker);
        return p->capture_->eof ||
               (at != std::string::npos && p->capture_->err.find('\n', at) != std::string::npos);
    });
    const std::string err = p->capture_->err;
    lock.unlock();
    const auto at = err.find(marker);
    if (!found || at == std::string::npos) {
        throw std::runtime_error("agentd did not print \"listening on\"; stderr:\n" + err);
    }
    const auto line_end = err.find('\n', at);
    const std::string address = err.substr(at + marker.size(), line_end - at - marker.size());
    const auto colon = address.rfind(':');
    p->port_ = static_cast<std::uint16_t>(std::stoul(address.substr(colon + 1)));
    return p;
}

std::unique_ptr<AgentdProcess> AgentdProcess::serve(std::vector<std::string> args) {
    Options o;
    o.args = std::move(args);
    return start(std::move(o));
}

AgentdProcess::~AgentdProcess() {
    if (!result_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        (void)reap(pid_, pidfd_, 10s);
    }
    if (capture_ && capture_->thread.joinable()) {
        capture_->thread.join();
    }
    if (pidfd_ >= 0) {
        ::close(pidfd_);
    }
    if (own_data_dir_) {
        std::error_code ec;
        std::filesystem::remove_all(data_dir_, ec);
    }
}

std::string AgentdProcess::err() const {
    std::lock_guard lock(capture_->mutex);
    return capture_->err;
}

bool AgentdProcess::wait_for_err(std::string_view needle, std::chrono::milliseconds timeout) {
    std::unique_lock lock(capture_->mutex);
    return capture_->changed.wait_for(lock, timeout, [&] {
        return capture_->err.find(needle) != std::string::npos || capture_->eof;
    }) && capture_->err.find(needle) != std::string::npos;
}

void AgentdProcess::signal(int signo) {
    if (!result_) {
        ::kill(pid_, signo);
    }
}

ProcessResult AgentdProcess::wait(std::chrono::milliseconds timeout) {
    if (!result_) {
        result_ = reap(pid_, pidfd_, timeout);
        if (capture_->thread.joinable()) {
            capture_->thread.join();
        }
        std::lock_guard lock(capture_->mutex);
        result_->out = capture_->out;
        result_->err = capture_->err;
    }
    return *result_;
}

ProcessResult AgentdProcess::stop(int signo, std::chrono::milliseconds timeout) {
    signal(signo);
    return wait(timeout);
}

ProcessResult run_agentd(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                         const std::vector<std::pair<std::string, std::string>>& env) {
    const Spawned s = spawn(args, env);
    const int pidfd = pidfd_open(s.pid);
    ProcessResult r;
    std::string out;
    std::string err;
    std::thread reader([&] {
        pollfd fds[2] = {{s.out_fd, POLLIN, 0}, {s.err_fd, POLLIN, 0}};
        int open = 2;
        while (open > 0 && ::poll(fds, 2, -1) >= 0) {
            for (int i = 0; i < 2; ++i) {
                if (fds[i].fd < 0 || fds[i].revents == 0) {
                    continue;
                }
                char buf[8192];
                const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
                if (n <= 0) {
                    ::close(fds[i].fd);
                    fds[i].fd = -1;
                    --open;
                } else {
                    (i == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
                }
            }
        }
    });
    r = reap(s.pid, pidfd, timeout);
    reader.join();
    ::close(pidfd);
    r.out = std::move(out);
    r.err = std::move(err);
    return r;
}

std::filesystem::path write_temp_file(const std::string& name, const std::string& text) {
    const auto dir = agentd::test::make_temp_dir("file");
    const auto path = dir / name;
    std::ofstream(path) << text;
    return path;
}

} // namespace agentd::itest
