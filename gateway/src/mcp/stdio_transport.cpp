#include "mcp/stdio_transport.h"

#include "agentd/protocols/json_rpc.h"
#include "agentd/protocols/mcp/server.h"

#include "builtin/builtin_tools.h"
#include "log/logging.h"
#include "mcp/asio_timers.h"
#include "mcp/mcp_service.h"
#include "mcp/stdout_writer.h"
#include "routes/tools_runtime.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <stdexcept>
#include <thread>

namespace agentd::gateway::mcp {

namespace net = boost::asio;
namespace jsonrpc = protocols::jsonrpc;
namespace pmcp = protocols::mcp;

namespace {

/// Counts requests that will end on their own (not subscriptions/listen) until they answer.
class InFlight {
public:
    void add() {
        std::lock_guard lock(mu_);
        ++count_;
    }
    void done() {
        std::lock_guard lock(mu_);
        if (--count_ == 0) {
            zero_.notify_all();
        }
    }
    bool wait_zero(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mu_);
        return zero_.wait_for(lock, timeout, [this] { return count_ == 0; });
    }

private:
    std::mutex mu_;
    std::condition_variable zero_;
    long count_ = 0;
};

class StdioChannel final : public pmcp::RequestChannel {
public:
    StdioChannel(StdoutWriter& out, std::shared_ptr<InFlight> in_flight)
        : out_(out), in_flight_(std::move(in_flight)) {
        if (in_flight_) {
            in_flight_->add();
        }
    }
    ~StdioChannel() override { settle(); } // a channel dropped unanswered still settles

    void send_related(std::string message) override { out_.write(std::move(message)); }
    void send_response(std::string message, pmcp::ResponseStatus /*status*/) override {
        out_.write(std::move(message));
        settle();
    }
    void end_without_response() override { settle(); }

private:
    void settle() {
        if (in_flight_ && !settled_.exchange(true)) {
            in_flight_->done();
        }
    }
    StdoutWriter& out_;
    std::shared_ptr<InFlight> in_flight_;
    std::atomic<bool> settled_{false};
};

class StdoutSink final : public pmcp::ConnectionSink {
public:
    explicit StdoutSink(StdoutWriter& out) : out_(out) {}
    void send(std::string message) override { out_.write(std::move(message)); }

private:
    StdoutWriter& out_;
};

/// A self-pipe that wakes the reader's poll() (signals, broken stdout).
class Wakeup {
public:
    Wakeup() {
        if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
    }
    ~Wakeup() {
        ::close(fds_[0]);
        ::close(fds_[1]);
    }
    void wake() {
        const char c = 1;
        [[maybe_unused]] const auto n = ::write(fds_[1], &c, 1);
    }
    [[nodiscard]] int fd() const { return fds_[0]; }

private:
    int fds_[2] = {-1, -1};
};

struct Session {
    std::shared_ptr<pmcp::Connection> connection;
    StdoutWriter& out;
    std::shared_ptr<InFlight> in_flight;
    jsonrpc::ParseLimits limits;

    void handle_line(std::string_view line) {
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.find_first_not_of(" \t") == std::string_view::npos) {
            return; // blank lines carry no message
        }
        auto frame = jsonrpc::parse(line, limits);
        if (!frame.ok) {
            out.write(jsonrpc::make_error(
                jsonrpc::RequestId(), jsonrpc::code_of(frame.error, false), frame.error.what()));
            return;
        }
        if (frame.batch) {
            connection->handle_batch(frame.messages,
                                     std::make_shared<StdioChannel>(out, in_flight));
            return;
        }
        const auto& message = frame.messages.front();
        const bool ends_itself =
            !(message.is_request() && message.method() == "subscriptions/listen");
        connection->handle(message,
                           std::make_shared<StdioChannel>(out, ends_itself ? in_flight : nullptr));
    }
};

enum class Stop { eof, signal, broken };

// Reads stdin line by line until end of input or a wakeup; lines over the limit are skipped.
Stop read_loop(Session& session, Wakeup& wakeup, const std::atomic<int>& stop_reason) {
    std::string buffer;
    bool skipping = false;
    char chunk[64 * 1024];
    while (true) {
        pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wakeup.fd(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Stop::eof;
        }
        if (fds[1].revents != 0) {
            return static_cast<Stop>(stop_reason.load());
        }
        const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0) {
            if (!skipping && !buffer.empty()) {
                session.handle_line(buffer); // a last line without its newline
            }
            return Stop::eof;
        }
        std::string_view data(chunk, static_cast<std::size_t>(n));
        while (!data.empty()) {
            const auto nl = data.find('\n');
            const std::string_view piece = data.substr(0, nl);
            if (!skipping) {
                buffer.append(piece);
            }
            if (buffer.size() > session.limits.max_bytes) {
                buffer.clear();
                if (!skipping) {
                    skipping = true;
                    session.out.write(jsonrpc::make_error(
                        jsonrpc::RequestId(), protocols::rpc_code::parse_error,
                        "message larger than " + std::to_string(session.limits.max_bytes) +
                            " bytes"));
                }
            }
            if (nl == std::string_view::npos) {
                break;
            }
            if (!skipping) {
                session.handle_line(buffer);
            }
            buffer.clear();
            skipping = false;
            data.remove_prefix(nl + 1);
        }
    }
}

} // namespace

int run_stdio(const config::Config& config) {
    std::signal(SIGPIPE, SIG_IGN); // a closed stdout must be an error, not a kill
    net::io_context io;
    // The local tenant's stored REST tools (before any thread starts: this may throw); declared
    // before the server so it outlives it.
    constexpr const char* tenant = "local";
    const auto tools = routes::make_tools_runtime(config, io, {tenant});
    // The built-in tools the config asks for (sandbox first: its zygote forks before threads).
    net::thread_pool blocking(2);
    std::shared_ptr<builtin::SandboxRunner> sandbox_runner;
    if (config.sandbox.enabled) {
        sandbox_runner =
            builtin::start_sandbox(config.sandbox, io, blocking, tools->registry.get(), false);
    }
    if (config.memory.tools) {
        builtin::add_memory_tools(*tools->registry, std::make_shared<builtin::MemoryService>(
                                                        tools->database, nullptr, blocking));
    }
    auto work = net::make_work_guard(io);
    Wakeup wakeup;
    std::atomic<int> stop_reason{static_cast<int>(Stop::eof)};
    StdoutWriter out(STDOUT_FILENO, 64u << 20, [&] {
        stop_reason = static_cast<int>(Stop::broken);
        wakeup.wake();
    });
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) {
            stop_reason = static_cast<int>(Stop::signal);
            wakeup.wake();
        }
    });
    std::thread io_thread([&io] { io.run(); });

    auto timers = std::make_shared<AsioTimers>(io);
    auto server = pmcp::Server::create(make_server_options(config),
                                       make_providers(config, timers, tools->registry), timers);
    pmcp::Caller caller;
    caller.tenant = tenant;
    caller.scopes = {"*"};
    Session session{server->connect(caller, std::make_shared<StdoutSink>(out), /*stdio=*/true),
                    out,
                    std::make_shared<InFlight>(),
                    {}};
    session.limits.max_bytes = config.limits.max_body_bytes;
    log::log_event(log::Level::info, "mcp stdio ready",
                   {{"conformance_fixtures", config.conformance_fixtures}});

    const Stop why = read_loop(session, wakeup, stop_reason);
    if (why == Stop::eof) {
        // End of input: the client sent everything; let what is running answer.
        if (!session.in_flight->wait_zero(config.shutdown_grace)) {
            log::log_event(log::Level::warn, "mcp stdio: requests still running at shutdown", {});
        }
    }
    server->shutdown();
    session.connection->close();
    out.flush();
    signals.cancel();
    work.reset();
    io.stop();
    io_thread.join();
    blocking.join();
    log::log_event(
        log::Level::info, "mcp stdio stopped",
        {{"reason",
          why == Stop::eof ? "end of input" : (why == Stop::signal ? "signal" : "stdout closed")}});
    return why == Stop::broken ? 1 : 0;
}

} // namespace agentd::gateway::mcp
