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

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <sstream>
#include <string>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <vector>

namespace agentd::sandbox::detail {
namespace {

constexpr std::uint64_t kTemplateBackoffMs = 1000;
constexpr int kTemplateMaxFailures = 5;

struct PendingRun {
    bool warm = false;
    UniqueFd reply;
    UniqueFd memfd;
    UniqueFd stdin_src;
};

// A monitor process: a pre-started cold slot (preparing, idle or busy) or a warm run.
struct Monitor {
    enum class State : std::uint8_t { preparing, idle, busy };
    State state = State::busy;
    UniqueFd link; ///< slots only: where "IDLE" comes from and the job goes to
};

class Zygote {
public:
    Zygote(Context& ctx, int control) : ctx_(ctx), control_(control) {}

    void init() {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        ::sigprocmask(SIG_BLOCK, &mask, nullptr);
        sigfd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
        ::signal(SIGPIPE, SIG_IGN);
    }

    [[noreturn]] void run() {
        for (;;) {
            maybe_spawn_template();
            top_up_slots();
            std::vector<pollfd> fds{{control_, POLLIN, 0}, {sigfd_.get(), POLLIN, 0}};
            if (template_sock_) {
                fds.push_back({template_sock_.get(), POLLIN, 0});
            }
            std::vector<pid_t> preparing;
            for (const auto& [pid, m] : monitors_) {
                if (m.state == Monitor::State::preparing) {
                    fds.push_back({m.link.get(), POLLIN, 0});
                    preparing.push_back(pid);
                }
            }
            const int n = ::poll(fds.data(), fds.size(), template_wait_ms());
            if (n < 0 && errno != EINTR) {
                shutdown();
            }
            if (fds[1].revents != 0) {
                reap();
            }
            std::size_t next = 2;
            if (template_sock_ && next < fds.size() && fds[next].fd == template_sock_.get()) {
                if (fds[next].revents != 0) {
                    on_template_message();
                }
                ++next;
            }
            for (std::size_t k = 0; next < fds.size(); ++next, ++k) {
                if (fds[next].revents != 0) {
                    on_slot_message(preparing[k]);
                }
            }
            if (fds[0].revents != 0 && !on_control()) {
                shutdown();
            }
            dispatch();
        }
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
        std::vector<UniqueFd> owned;
        for (int i = 0; i < nfds; ++i) {
            owned.emplace_back(fds[i]);
        }
        const std::string msg(buf, static_cast<std::size_t>(n));
        if (owned.empty()) {
            return true;
        }
        if ((msg == "RUN C" || msg == "RUN W") && owned.size() >= 2) {
            if (queue_.size() >= ctx_.config.max_queued_runs) {
                send_msg(owned[0].get(), "BUSY");
                return true;
            }
            queue_.push_back({msg == "RUN W", std::move(owned[0]), std::move(owned[1]),
                              owned.size() > 2 ? std::move(owned[2]) : UniqueFd()});
        } else if (msg.rfind("WSC ", 0) == 0 || msg.rfind("WSR ", 0) == 0) {
            workspaces_.handle(msg, owned[0].get());
        } else if (msg == "WRM") {
            send_msg(owned[0].get(), ctx_.template_ready ? "OK 1" : "OK 0");
        }
        return true;
    }

    std::size_t count(Monitor::State state) const {
        std::size_t n = 0;
        for (const auto& [pid, m] : monitors_) {
            n += m.state == state ? 1 : 0;
        }
        return n;
    }

    // Hands queued runs to idle slots or to new warm monitors, within the concurrency limit.
    void dispatch() {
        while (!queue_.empty() && count(Monitor::State::busy) < ctx_.config.max_concurrent_runs) {
            PendingRun& r = queue_.front();
            if (r.warm && ctx_.template_ready) {
                fork_monitor(false, &r);
            } else {
                auto idle = std::find_if(monitors_.begin(), monitors_.end(), [](const auto& m) {
                    return m.second.state == Monitor::State::idle;
                });
                if (idle == monitors_.end()) {
                    break; // top_up_slots() starts one; it takes the run when ready
                }
                const int fds[3] = {r.reply.get(), r.memfd.get(), r.stdin_src.get()};
                send_msg(idle->second.link.get(), "JOB", fds, r.stdin_src ? 3 : 2);
                idle->second.state = Monitor::State::busy;
                idle->second.link.reset();
            }
            queue_.pop_front();
        }
    }

    // Keeps `prestarted_runs` slots ready, plus one for each queued cold run that can start.
    void top_up_slots() {
        std::size_t waiting_cold = 0;
        for (const auto& r : queue_) {
            waiting_cold += (!r.warm || !ctx_.template_ready) ? 1 : 0;
        }
        const std::size_t busy = count(Monitor::State::busy);
        const std::size_t room =
            ctx_.config.max_concurrent_runs > busy ? ctx_.config.max_concurrent_runs - busy : 0;
        const std::size_t wanted = std::min<std::size_t>(ctx_.config.prestarted_runs + waiting_cold,
                                                         ctx_.config.prestarted_runs + room);
        while (count(Monitor::State::idle) + count(Monitor::State::preparing) < wanted) {
            if (!fork_monitor(true, nullptr)) {
                break;
            }
        }
    }

    bool fork_monitor(bool slot, PendingRun* run) {
        int pair[2] = {-1, -1};
        if (slot && !seqpacket_pair(pair)) {
            return false;
        }
        UniqueFd mine(pair[0]), theirs(pair[1]);
        ++ctx_.run_counter;
        const pid_t pid = ::fork();
        if (pid == 0) {
            UniqueFd reply, memfd, stdin_src;
            if (run != nullptr) {
                reply = std::move(run->reply);
                memfd = std::move(run->memfd);
                stdin_src = std::move(run->stdin_src);
            }
            in_child();
            mine.reset();
            if (slot) {
                slot_monitor_main(ctx_, std::move(theirs));
            }
            warm_monitor_main(ctx_, std::move(reply), std::move(memfd), std::move(stdin_src));
        }
        if (pid < 0) {
            return false;
        }
        Monitor m;
        m.state = slot ? Monitor::State::preparing : Monitor::State::busy;
        m.link = std::move(mine);
        monitors_.emplace(pid, std::move(m));
        return true;
    }

    void on_slot_message(pid_t pid) {
        auto it = monitors_.find(pid);
        if (it == monitors_.end()) {
            return;
        }
        char buf[16];
        const ssize_t n = recv_msg(it->second.link.get(), buf, sizeof(buf));
        if (n >= 4 && std::strncmp(buf, "IDLE", 4) == 0) {
            it->second.state = Monitor::State::idle;
        } else if (n == 0 || (n < 0 && errno != EAGAIN)) {
            it->second.state = Monitor::State::busy; // dying; reaped soon
            it->second.link.reset();
        }
    }

    // In a freshly forked monitor: forget the zygote's descriptors and signal set-up.
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
        for (auto& [pid, m] : monitors_) {
            m.link.reset();
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
            // A monitor that joined its run's cgroup cannot remove it: done here.
            ctx_.cgroups.remove_child("run-" + std::to_string(pid));
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
        if (n >= 5 && std::strncmp(buf, "READY", 5) == 0) {
            ctx_.template_ready = true;
            template_failures_ = 0;
        } else if (n >= 4 && std::strncmp(buf, "NEED", 4) == 0) {
            provide_warm_cgroup();
        } else if (n == 0 || (n < 0 && errno != EAGAIN)) {
            ctx_.template_ready = false;
            ctx_.template_sock = -1;
            template_sock_.reset();
        }
    }

    // A fresh cgroup for one of the warm interpreter's pre-forked slots ("-": none here).
    void provide_warm_cgroup() {
        const std::string name = "warm-" + std::to_string(++warm_counter_);
        UniqueFd mem, pids;
        if (!ctx_.cgroups.make_child(name, mem, pids)) {
            send_msg(template_sock_.get(), "CG -");
            return;
        }
        warm_cgroups_.push_back(name);
        const int fds[2] = {mem.get(), pids.get()};
        send_msg(template_sock_.get(), "CG " + name, fds, pids ? 2 : 1);
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
        // Cgroups of slots that never ran; those in use by runs are busy and stay.
        for (const auto& name : warm_cgroups_) {
            ctx_.cgroups.remove_child(name);
        }
        warm_cgroups_.clear();
    }

    [[noreturn]] void shutdown() {
        for (const auto& [pid, m] : monitors_) {
            ::kill(pid, SIGKILL);
        }
        if (template_pid_ > 0) {
            ::kill(template_pid_, SIGKILL);
        }
        for (;;) {
            int st = 0;
            const pid_t pid = ::waitpid(-1, &st, 0);
            if (pid < 0 && errno != EINTR) {
                break;
            }
        }
        workspaces_.remove_all();
        ctx_.cgroups.remove_runs();
        ctx_.cgroups.teardown();
        ::_exit(0);
    }

    Context& ctx_;
    int control_;
    UniqueFd sigfd_;
    std::deque<PendingRun> queue_;
    std::map<pid_t, Monitor> monitors_;
    WorkspaceMounts workspaces_{ctx_};
    pid_t template_pid_ = -1;
    UniqueFd template_sock_;
    int template_failures_ = 0;
    std::uint64_t next_template_ms_ = 0;
    std::uint64_t warm_counter_ = 0;
    std::vector<std::string> warm_cgroups_;
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
