#pragma once
/// Pieces of `agentd bench serve`: a server child process (agentd serve or llama.cpp's
/// llama-server) and a blocking streaming chat client that times each token event.
///
/// Thread affinity: a ChildServer is used from one thread; stream_chat() may run on many
/// threads at once (one connection each). Errors: start-up failures throw std::runtime_error;
/// a failed request is reported in StreamTiming::error.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace agentd::gateway::bench {

/// A server process on a loopback port, stopped with SIGTERM (SIGKILL after 20 s).
class ChildServer {
public:
    /// Starts `argv` (argv[0] is the program path). Ready when stderr shows "listening on
    /// HOST:PORT" (agentd) or, when `port` is given, when GET /health answers 200.
    ChildServer(std::vector<std::string> argv, std::uint16_t port = 0);
    ~ChildServer();
    ChildServer(const ChildServer&) = delete;
    ChildServer& operator=(const ChildServer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
    void wait_listening();
    void wait_healthy();

    pid_t pid_ = -1;
    int err_fd_ = -1;
    std::uint16_t port_ = 0;
    std::string err_text_;
    std::thread drain_;
};

/// A free loopback port (bound and released; llama-server needs a number up front).
[[nodiscard]] std::uint16_t free_port();

struct StreamTiming {
    double ttft_s = 0.0;            ///< request sent -> first non-empty content event
    std::vector<double> gaps_s;     ///< between consecutive content events
    std::size_t content_events = 0; ///< events that carried text (about one per token)
    double total_s = 0.0;           ///< request sent -> end of the stream
    std::string error;              ///< empty on success
};

/// POSTs `body` to http://127.0.0.1:port/v1/chat/completions and reads the SSE stream to its
/// end, timing every event with content.
[[nodiscard]] StreamTiming stream_chat(std::uint16_t port, const std::string& body,
                                       std::chrono::seconds timeout);

} // namespace agentd::gateway::bench
