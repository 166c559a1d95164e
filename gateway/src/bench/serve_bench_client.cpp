#include "bench/serve_bench_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>

extern char** environ;

namespace agentd::gateway::bench {

using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0, Clock::time_point t1) {
    return std::chrono::duration<double>(t1 - t0).count();
}

/// A connected loopback socket with send/receive timeouts; -1 on failure.
int connect_loopback(std::uint16_t port, std::chrono::seconds timeout) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    timeval tv{static_cast<time_t>(timeout.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool send_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        off += static_cast<std::size_t>(n);
    }
    return true;
}

/// Whether an SSE data payload carries non-empty text in "content" (delta or text field).
bool has_content(std::string_view data) {
    for (std::string_view key :
         {std::string_view("\"content\":\""), std::string_view("\"text\":\"")}) {
        const auto at = data.find(key);
        if (at != std::string_view::npos && at + key.size() < data.size() &&
            data[at + key.size()] != '"') {
            return true;
        }
    }
    return false;
}

/// Incremental HTTP/1.1 response reader: head, then a chunked or length-delimited body.
class BodyReader {
public:
    /// Feeds raw bytes; appends decoded body bytes to `out`. Returns false on a malformed
    /// response (error set).
    bool feed(std::string_view bytes, std::string& out) {
        raw_.append(bytes);
        if (!have_head_) {
            const auto end = raw_.find("\r\n\r\n");
            if (end == std::string::npos) {
                return true;
            }
            const std::string head = raw_.substr(0, end);
            raw_.erase(0, end + 4);
            have_head_ = true;
            status_ = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
            std::string lower = head;
            for (auto& c : lower) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            chunked_ = lower.find("transfer-encoding: chunked") != std::string::npos;
        }
        if (!chunked_) {
            out.append(raw_);
            raw_.clear();
            return true;
        }
        while (true) {
            if (chunk_left_ == 0) {
                const auto eol = raw_.find("\r\n");
                if (eol == std::string::npos) {
                    return true;
                }
                if (eol == 0) { // the CRLF after a chunk's data
                    raw_.erase(0, 2);
                    continue;
                }
                chunk_left_ = std::strtoull(raw_.c_str(), nullptr, 16);
                raw_.erase(0, eol + 2);
                if (chunk_left_ == 0) {
                    done_ = true;
                    return true;
                }
            }
            const std::size_t take = std::min<std::size_t>(chunk_left_, raw_.size());
            out.append(raw_, 0, take);
            raw_.erase(0, take);
            chunk_left_ -= take;
            if (raw_.empty()) {
                return true;
            }
        }
    }
    [[nodiscard]] bool done() const noexcept { return done_; }
    [[nodiscard]] int status() const noexcept { return status_; }
    [[nodiscard]] bool have_head() const noexcept { return have_head_; }

private:
    std::string raw_;
    bool have_head_ = false;
    bool chunked_ = false;
    bool done_ = false;
    int status_ = 0;
    std::size_t chunk_left_ = 0;
};

} // namespace

StreamTiming stream_chat(std::uint16_t port, const std::string& body,
                         std::chrono::seconds timeout) {
    StreamTiming t;
    const int fd = connect_loopback(port, timeout);
    if (fd < 0) {
        t.error = "cannot connect";
        return t;
    }
    const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
                                "Connection: close\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    const auto t0 = Clock::now();
    if (!send_all(fd, request)) {
        ::close(fd);
        t.error = "send failed";
        return t;
    }
    BodyReader reader;
    std::string events; // decoded body not yet split into SSE events
    Clock::time_point last{};
    bool finished = false;
    char buf[16384];
    while (!finished) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        const auto now = Clock::now();
        reader.feed(std::string_view(buf, static_cast<std::size_t>(n)), events);
        std::size_t start = 0;
        for (auto end = events.find("\n\n"); end != std::string::npos;
             end = events.find("\n\n", start)) {
            std::string_view event(events.data() + start, end - start);
            start = end + 2;
            const auto data = event.find("data: ");
            if (data == std::string_view::npos) {
                continue;
            }
            const std::string_view payload = event.substr(data + 6);
            if (payload.starts_with("[DONE]")) {
                finished = true;
                break;
            }
            if (payload.find("\"error\"") != std::string_view::npos && t.error.empty()) {
                t.error = std::string(payload.substr(0, 200));
            }
            if (!has_content(payload)) {
                continue;
            }
            if (t.content_events == 0) {
                t.ttft_s = since(t0, now);
            } else {
                t.gaps_s.push_back(since(last, now));
            }
            last = now;
            ++t.content_events;
        }
        events.erase(0, start);
        finished = finished || reader.done();
    }
    ::close(fd);
    t.total_s = since(t0, Clock::now());
    if (!reader.have_head()) {
        t.error = "no response";
    } else if (reader.status() != 200) {
        t.error = "HTTP " + std::to_string(reader.status()) + ": " + events.substr(0, 200);
    } else if (!finished && t.error.empty()) {
        t.error = "the stream ended without [DONE]";
    }
    return t;
}

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        throw std::runtime_error("no free loopback port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

ChildServer::ChildServer(std::vector<std::string> argv, std::uint16_t port) : port_(port) {
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    std::vector<char*> args;
    for (auto& a : argv) {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(err_pipe[0]);
        pid_ = -1;
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    err_fd_ = err_pipe[0];
    if (port_ == 0) {
        wait_listening();
    } else {
        wait_healthy();
    }
    // Keep draining stderr so the server never blocks on a full pipe.
    drain_ = std::thread([fd = err_fd_] {
        char buf[4096];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
    });
}

ChildServer::~ChildServer() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 200 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
            pollfd none{-1, 0, 0};
            ::poll(&none, 0, 100);
            if (i == 199) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
            }
        }
    }
    if (drain_.joinable()) {
        drain_.join();
    }
    if (err_fd_ >= 0) {
        ::close(err_fd_);
    }
}

void ChildServer::wait_listening() {
    const std::string marker = "listening on ";
    while (true) {
        pollfd p{err_fd_, POLLIN, 0};
        if (::poll(&p, 1, 120'000) <= 0) {
            throw std::runtime_error("the server did not start: " + err_text_);
        }
        char buf[1024];
        const ssize_t n = ::read(err_fd_, buf, sizeof buf);
        if (n <= 0) {
            throw std::runtime_error("the server exited: " + err_text_);
        }
        err_text_.append(buf, static_cast<std::size_t>(n));
        const auto at = err_text_.find(marker);
        const auto eol = at == std::string::npos ? at : err_text_.find('\n', at);
        if (eol != std::string::npos) {
            const std::string address =
                err_text_.substr(at + marker.size(), eol - at - marker.size());
            port_ = static_cast<std::uint16_t>(std::stoul(address.substr(address.rfind(':') + 1)));
            return;
        }
    }
}

void ChildServer::wait_healthy() {
    const auto deadline = Clock::now() + std::chrono::seconds(300);
    while (Clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            char buf[4096];
            const ssize_t n = ::read(err_fd_, buf, sizeof buf);
            throw std::runtime_error("the server exited: " +
                                     std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0));
        }
        const int fd = connect_loopback(port_, std::chrono::seconds(5));
        if (fd >= 0) {
            const std::string req = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                    "Connection: close\r\n\r\n";
            char buf[512];
            ssize_t n = 0;
            if (send_all(fd, req)) {
                n = ::recv(fd, buf, sizeof buf - 1, 0);
            }
            ::close(fd);
            if (n > 12 && std::strncmp(buf + 9, "200", 3) == 0) {
                return;
            }
        }
        // Drain stderr meanwhile (model loading logs) and wait a little before polling again.
        pollfd p{err_fd_, POLLIN, 0};
        if (::poll(&p, 1, 200) > 0) {
            char buf[4096];
            (void)::read(err_fd_, buf, sizeof buf);
        }
    }
    throw std::runtime_error("the server did not become healthy within 300 s");
}

} // namespace agentd::gateway::bench
