#include "detail/zygote.h"

#include "detail/channel.h"
#include "detail/monitor.h"
#include "detail/sys.h"
#include "detail/workspace_mounts.h"
#include "detail/zygote_setup.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <set>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

namespace agentd::sandbox::detail {
namespace {

constexpr std::uint64_t kTemplateBackoffMs = 1000;
constexpr int kTemplateMaxFailures = 5;

struct PendingRun {
    UniqueFd reply;
    UniqueFd memfd;
    UniqueFd stdin_src;
};

class Zygote {
public:
    Zygote(Context& ctx, int control) : ctx_(ctx), control_(control) {}

    [[noreturn]] void run() {
        for (;;) {
            maybe_spawn_template();
            std::vector<pollfd> fds{{control_, POLLIN, 0}, {sigfd_.get(), POLLIN, 0}};
            if (template_sock_) {
                fds.push_back({template_sock_.get(), POLLIN, 0});
            }
            const int n = ::poll(fds.data(), fds.size(), template_wait_ms());
            if (n < 0 && errno != EINTR) {
                shutdown();
            }
            if (fds[1].revents != 0) {
                reap();
            }
            if (fds.size() > 2 && fds[2].revents != 0) {
                on_template_message();
            }
            if (fds[0].revents != 0 && !on_control()) {
                shutdown();
            }
            start_queued();
        }
    }

    void init() {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        ::sigprocmask(SIG_BLOCK, &mask, nullptr);
        sigfd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
        ::signal(SIGPIPE, SIG_IGN);
    }

private:
    bool on_control() {
        char buf[512];
        int fds[kMaxMsgFds];
        int nfds = 0;
        const ssize_t n = recv_msg(control_, buf, sizeof(buf) - 1, fds, &nfds);
        if (n <= 0) {
            return n < 0 && errno == EAGAIN;
        }
        buf[n] = '\0';
        std::vector<UniqueFd> owned;
        for (int i = 0; i < nfds; ++i) {
            owned.emplace_back(fds[i]);
        }
        const std::string msg(buf, static_cast<std::size_t>(n));
        if (owned.empty()) {
            return true;
        }
        if (msg == "RUN" && owned.size() >= 2) {
            if (queue_.size() >= ctx_.config.max_queued_runs) {
                send_msg(owned[0].get(), "BUSY");
                return true;
            }
            PendingRun r{std::move(owned[0]), std::move(owned[1]),
                         owned.size() > 2 ? std::move(owned[2]) : UniqueFd()};
            queue_.push_back(std::move(r));
        } else if (msg.rfind("WSC ", 0) == 0 || msg.rfind("WSR ", 0) == 0) {
            workspaces_.handle(msg, owned[0].get());
        } else if (msg == "WRM") {
            send_msg(owned[0].get(), ctx_.template_ready ? "OK 1" : "OK 0");
        }
        return true;
    }

    void start_queued() {
        while (!queue_.empty() && monitors_.size() < ctx_.config.max_concurrent_runs) {
            PendingRun r = std::move(queue_.front());
            queue_.pop_front();
            ++ctx_.run_counter;
            const pid_t pid = ::fork();
            if (pid == 0) {
                in_child();
                monitor_main(ctx_, std::move(r.reply), std::move(r.memfd), std::move(r.stdin_src));
            }
            if (pid > 0) {
                monitors_.insert(pid);
            }
        }
    }

    // In a freshly forked monitor: forget the zygote's descriptors and signal setup.
    void in_child() {
        ::close(control_);
        sigfd_.reset();
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        for (auto& q : queue_) {
            q.reply.reset();
            q.memfd.reset();
            q.stdin_src.reset();
        }
    }

    void reap() {
        signalfd_siginfo si;
        while (::read(sigfd_.get(), &si, sizeof(si)) > 0) {
        }
        for (;;) {
            int st = 0;
            const pid_t pid = ::waitpid(-1, &st, WNOHANG);
            if (pid <= 0) {
                break;
            }
            monitors_.erase(pid);
            if (pid == template_pid_) {
                template_died();
            }
        }
    }

    int template_wait_ms() const {
        if (!ctx_.config.warm_python || template_pid_ > 0 ||
            template_failures_ >= kTemplateMaxFailures) {
            return -1;
        }
        const std::uint64_t now = now_ms();
        return next_template_ms_ > now ? static_cast<int>(next_template_ms_ - now) : 0;
    }

    void maybe_spawn_template() {
        if (!ctx_.config.warm_python || template_pid_ > 0 ||
            ctx_.host.mode == HostReport::Mode::minimal ||
            template_failures_ >= kTemplateMaxFailures || now_ms() < next_template_ms_) {
            return;
        }
        int pair[2];
        if (!seqpacket_pair(pair)) {
            return;
        }
        UniqueFd mine(pair[0]), theirs(pair[1]);
        const pid_t pid = ::fork();
        if (pid == 0) {
            in_child();
            mine.reset();
            template_monitor_main(ctx_, std::move(theirs));
        }
        if (pid < 0) {
            return;
        }
        template_pid_ = pid;
        template_sock_ = std::move(mine);
        ctx_.template_sock = template_sock_.get();
        ctx_.template_ready = false;
    }

    void on_template_message() {
        char buf[64];
        const ssize_t n = recv_msg(template_sock_.get(), buf, sizeof(buf));
        if (n > 0 && std::strncmp(buf, "READY", 5) == 0) {
            ctx_.template_ready = true;
            template_failures_ = 0;
        } else if (n == 0 || (n < 0 && errno != EAGAIN)) {
            ctx_.template_ready = false;
            ctx_.template_sock = -1;
            template_sock_.reset();
        }
    }

    void template_died() {
        template_pid_ = -1;
        if (!ctx_.template_ready) {
            ++template_failures_;
        }
        ctx_.template_ready = false;
        ctx_.template_sock = -1;
        template_sock_.reset();
        next_template_ms_ = now_ms() + kTemplateBackoffMs;
    }

    [[noreturn]] void shutdown() {
        for (pid_t pid : monitors_) {
            ::kill(pid, SIGKILL);
        }
        while (!monitors_.empty()) {
            int st = 0;
            const pid_t pid = ::waitpid(-1, &st, 0);
            if (pid < 0 && errno != EINTR) {
                break;
            }
            monitors_.erase(pid);
        }
        workspaces_.remove_all();
        ctx_.cgroups.remove_stale();
        ctx_.cgroups.remove_runs();
        ctx_.cgroups.teardown();
        ::_exit(0);
    }

    Context& ctx_;
    int control_;
    UniqueFd sigfd_;
    std::deque<PendingRun> queue_;
    std::set<pid_t> monitors_;
    WorkspaceMounts workspaces_{ctx_};
    pid_t template_pid_ = -1;
    UniqueFd template_sock_;
    int template_failures_ = 0;
    std::uint64_t next_template_ms_ = 0;
};

} // namespace

namespace {

// The zygote starts as a copy of agentd: its argv and environment strings (command line, config
// paths, secrets passed in the environment) sit in its memory and show in
// /proc/<pid>/cmdline of every process forked from it, including each run's init. Wipe them.
void wipe_inherited_strings() {
    std::string stat;
    if (!read_file("/proc/self/stat", stat, 4096)) {
        return;
    }
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) {
        return;
    }
    // Fields after the command: state is field 3; arg_start..env_end are fields 48..51.
    std::istringstream in(stat.substr(paren + 2));
    std::string field;
    unsigned long v[52] = {};
    for (int i = 3; i <= 51 && in >> field; ++i) {
        v[i] = std::strtoul(field.c_str(), nullptr, 10);
    }
    for (const auto& [start, end] : {std::pair{v[48], v[49]}, std::pair{v[50], v[51]}}) {
        if (start != 0 && end > start && end - start < (64UL << 20)) {
            std::memset(reinterpret_cast<void*>(start), 0, end - start);
        }
    }
    if (v[48] != 0 && v[49] > v[48] + 16) {
        std::memcpy(reinterpret_cast<void*>(v[48]), "agentd-sandbox", 15);
    }
    ::prctl(PR_SET_NAME, "agentd-sandbox", 0, 0, 0);
}

} // namespace

void zygote_main(Context& ctx, int control) {
    // Only the control socket survives; the environment is agentd's and never reaches a run
    // (programs get an explicit environment at exec).
    if (control != 3) {
        if (::dup3(control, 3, O_CLOEXEC) != 3) {
            ::_exit(1);
        }
        control = 3;
    }
    close_range_from(4);
    ::clearenv();
    wipe_inherited_strings();
    Zygote z(ctx, control);
    z.init();
    setup_zygote(ctx);
    const std::string hello = hello_message(ctx);
    if (!send_msg(control, hello)) {
        ::_exit(1);
    }
    z.run();
}

} // namespace agentd::sandbox::detail
