#include "detail/supervisor.h"

#include "detail/channel.h"
#include "detail/sys.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace agentd::sandbox::detail {
namespace {

constexpr std::uint64_t kDrainGraceMs = 2000;
constexpr std::size_t kChunk = 64 * 1024;

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) {
        ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    }
}

class Loop {
public:
    Loop(SupervisorIo& io, const SupervisorHooks& hooks, std::uint64_t cap, SupervisorOutcome& out)
        : io_(io), hooks_(hooks), cap_(cap), out_(out) {}

    void run(std::uint64_t deadline) {
        for (int fd : {io_.stdin_w.get(), io_.stdout_r.get(), io_.stderr_r.get()}) {
            if (fd >= 0) {
                set_nonblocking(fd);
            }
        }
        if (io_.stdin_src < 0 && (io_.stdin_data == nullptr || io_.stdin_data->empty())) {
            io_.stdin_w.reset();
        }
        std::uint64_t drain_deadline = 0;
        for (;;) {
            const std::uint64_t now = now_ms();
            if (!exited_ && now >= deadline && !killed_) {
                out_.timed_out = true;
                kill_run();
            }
            if (exited_ && (out_.out.eof || !io_.stdout_r) && (out_.err.eof || !io_.stderr_r)) {
                break;
            }
            if (exited_ && drain_deadline == 0) {
                drain_deadline = now + kDrainGraceMs;
            }
            if (exited_ && now >= drain_deadline) {
                break; // a descriptor leaked to something outside the run: stop waiting
            }
            const std::uint64_t until =
                exited_ ? drain_deadline : (killed_ ? now + 1000 : deadline);
            poll_once(until > now ? until - now : 0);
        }
        out_.end_ms = now_ms();
    }

private:
    void kill_run() {
        killed_ = true;
        if (io_.init_pidfd) {
            pidfd_send_signal(io_.init_pidfd.get(), SIGKILL);
        }
    }

    void poll_once(std::uint64_t timeout_ms) {
        std::vector<pollfd> fds;
        auto add = [&](int fd, short events) {
            if (fd >= 0) {
                fds.push_back({fd, events, 0});
            }
            return fd;
        };
        const int status = add(io_.status.get(), POLLIN);
        const int out = out_.out.eof ? -1 : add(io_.stdout_r.get(), POLLIN);
        const int err = out_.err.eof ? -1 : add(io_.stderr_r.get(), POLLIN);
        const int in = add(io_.stdin_w.get(), POLLOUT);
        const int src = (io_.stdin_w && io_.stdin_src >= 0 && pending_.empty() && !src_eof_)
                            ? add(io_.stdin_src, POLLIN)
                            : -1;
        const int cancel = out_.cancelled ? -1 : add(io_.cancel_fd, POLLIN);
        const int pidfd = exited_ ? -1 : add(io_.init_pidfd.get(), POLLIN);
        const int timeout = static_cast<int>(std::min<std::uint64_t>(timeout_ms, 60000));
        if (::poll(fds.data(), fds.size(), timeout) <= 0) {
            return;
        }
        for (const auto& p : fds) {
            if (p.revents == 0) {
                continue;
            }
            if (p.fd == status) {
                on_status();
            } else if (p.fd == out) {
                on_output(io_.stdout_r, out_.out);
            } else if (p.fd == err) {
                on_output(io_.stderr_r, out_.err);
            } else if (p.fd == in) {
                on_stdin_writable();
            } else if (p.fd == src) {
                on_stdin_source();
            } else if (p.fd == cancel) {
                out_.cancelled = true;
                kill_run();
            } else if (p.fd == pidfd) {
                exited_ = true;
            }
        }
    }

    void on_output(UniqueFd& fd, Capture& cap) {
        char buf[kChunk];
        for (int i = 0; i < 16; ++i) {
            const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                cap.eof = true;
                fd.reset();
                return;
            }
            if (n < 0) {
                return;
            }
            cap.total += static_cast<std::uint64_t>(n);
            if (cap.data.size() < cap_) {
                const auto room = static_cast<std::size_t>(cap_ - cap.data.size());
                cap.data.append(buf, std::min(room, static_cast<std::size_t>(n)));
            }
        }
    }

    void on_stdin_source() {
        char buf[kChunk];
        const ssize_t n = ::read(io_.stdin_src, buf, sizeof(buf));
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                src_eof_ = true;
                io_.stdin_w.reset();
            }
            return;
        }
        pending_.assign(buf, static_cast<std::size_t>(n));
        pending_off_ = 0;
    }

    void on_stdin_writable() {
        const std::string& data = io_.stdin_src >= 0 ? pending_ : *io_.stdin_data;
        std::size_t& off = io_.stdin_src >= 0 ? pending_off_ : data_off_;
        if (off < data.size()) {
            const ssize_t n = ::write(io_.stdin_w.get(), data.data() + off, data.size() - off);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                io_.stdin_w.reset(); // the program closed its stdin
                return;
            }
            off += n > 0 ? static_cast<std::size_t>(n) : 0;
        }
        if (off >= data.size()) {
            if (io_.stdin_src >= 0) {
                pending_.clear();
                pending_off_ = 0;
                if (src_eof_) {
                    io_.stdin_w.reset();
                }
            } else {
                io_.stdin_w.reset();
            }
        }
    }

    void on_status() {
        char buf[600];
        int fds[kMaxMsgFds];
        int nfds = 0;
        const ssize_t n = recv_msg(io_.status.get(), buf, sizeof(buf) - 1, fds, &nfds);
        if (n <= 0) {
            if (n == 0 || errno != EAGAIN) {
                io_.status.reset(); // every holder is gone (exec'd or exited)
            }
            return;
        }
        buf[n] = '\0';
        UniqueFd fd0(nfds > 0 ? fds[0] : -1);
        for (int i = 1; i < nfds; ++i) {
            ::close(fds[i]);
        }
        switch (buf[0]) {
        case 'U':
            if (hooks_.write_id_maps && hooks_.write_id_maps()) {
                send_msg(io_.status.get(), "M");
            } else {
                out_.setup_error = "writing the user namespace id maps failed";
                kill_run();
            }
            break;
        case 'I':
            if (fd0) {
                io_.init_pidfd = std::move(fd0);
            }
            break;
        case 'R':
            ready_pidfd_ = std::move(fd0);
            break;
        case 'V':
            out_.setup_cpu_us = std::strtoull(buf + 1, nullptr, 10);
            on_ready(std::move(ready_pidfd_));
            break;
        case 'X': {
            long long status = 0, cpu = 0, rss = 0;
            if (std::sscanf(buf + 1, "%lld %lld %lld", &status, &cpu, &rss) == 3) {
                out_.have_status = true;
                out_.wait_status = static_cast<int>(status);
                out_.cpu_us = static_cast<std::uint64_t>(cpu);
                out_.maxrss_kb = static_cast<std::uint64_t>(rss);
            }
            break;
        }
        case 'E':
            if (out_.setup_error.empty()) {
                const char* text = std::strchr(buf + 2, ' ');
                const int err = std::atoi(buf + 2);
                out_.setup_error = std::string(text != nullptr ? text + 1 : "set-up") +
                                   (err != 0 ? std::string(": ") + std::strerror(err) : "");
            }
            break;
        default:
            break;
        }
    }

    void on_ready(UniqueFd pidfd) {
        const pid_t pid = pidfd ? pidfd_to_pid(pidfd.get()) : -1;
        out_.layers = pid > 0 ? verify_process(pid, hooks_.expect) : LayerSet();
        out_.verified = pid > 0;
        const LayerSet missing = hooks_.required.minus(out_.layers);
        if (!missing.empty() || pid <= 0) {
            out_.refused = true;
            std::string names;
            for (const auto& n : missing.names()) {
                names += (names.empty() ? "" : ",") + n;
            }
            out_.setup_error = "required isolation layers not verified: " + names;
            send_msg(io_.status.get(), "K");
            kill_run();
            return;
        }
        send_msg(io_.status.get(), "G");
    }

    SupervisorIo& io_;
    const SupervisorHooks& hooks_;
    std::uint64_t cap_;
    SupervisorOutcome& out_;
    bool exited_ = false;
    bool killed_ = false;
    bool src_eof_ = false;
    std::string pending_;
    std::size_t pending_off_ = 0;
    UniqueFd ready_pidfd_;
    std::size_t data_off_ = 0;
};

} // namespace

void supervise(SupervisorIo& io, const SupervisorHooks& hooks, std::uint64_t deadline_ms,
               std::uint64_t output_cap, SupervisorOutcome& out) {
    Loop loop(io, hooks, output_cap, out);
    loop.run(deadline_ms);
}

} // namespace agentd::sandbox::detail
