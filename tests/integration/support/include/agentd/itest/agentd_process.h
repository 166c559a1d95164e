#pragma once
/// Runs the real `agentd` binary for integration tests (STYLE.md 2.9): `agentd serve --listen
/// 127.0.0.1:0 --data <temp dir>`, waits for the `listening on HOST:PORT` line on stderr, and
/// stops it with SIGTERM. stdout and stderr are captured (a reader thread drains them, so the
/// child never blocks on a full pipe) for assertions and for failure messages.
///
/// Every wait is bounded; nothing sleeps to synchronize. Thread affinity: one test thread.
/// Errors: start-up failures throw std::runtime_error carrying the child's stderr.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace agentd::itest {

using namespace std::chrono_literals;

struct ProcessResult {
    int exit_code = -1; ///< exit status, or -1 when killed by a signal / timed out
    int signal = 0;     ///< terminating signal (0 if exited)
    bool timed_out = false;
    std::string out;
    std::string err;
};

class AgentdProcess {
public:
    struct Options {
        std::vector<std::string> args; ///< after "serve" (--listen/--data are added unless given)
        std::string command = "serve";
        bool add_listen = true;                               ///< add --listen 127.0.0.1:0
        bool add_data = true;                                 ///< add --data <fresh temp dir>
        std::vector<std::pair<std::string, std::string>> env; ///< extra environment
        std::chrono::milliseconds start_timeout = 30s;
    };

    /// Starts `agentd <command> ...` and waits for "listening on"; throws on failure.
    static std::unique_ptr<AgentdProcess> start(Options options);
    /// Starts `agentd serve` with `args` and the default options.
    static std::unique_ptr<AgentdProcess> serve(std::vector<std::string> args = {});

    ~AgentdProcess();

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] const std::filesystem::path& data_dir() const { return data_dir_; }
    /// Everything written to stderr so far.
    [[nodiscard]] std::string err() const;
    /// Waits until stderr contains `needle`.
    bool wait_for_err(std::string_view needle, std::chrono::milliseconds timeout = 10s);

    /// Sends `signo` (default SIGTERM) and waits for the exit.
    ProcessResult stop(int signo = 15, std::chrono::milliseconds timeout = 20s);
    void signal(int signo);
    /// Waits for the process to exit on its own.
    ProcessResult wait(std::chrono::milliseconds timeout = 20s);

private:
    AgentdProcess() = default;
    struct Capture;

    pid_t pid_ = -1;
    int pidfd_ = -1;
    std::uint16_t port_ = 0;
    std::filesystem::path data_dir_;
    bool own_data_dir_ = false;
    std::shared_ptr<Capture> capture_;
    std::optional<ProcessResult> result_;
};

/// Runs `agentd args...` to completion (bounded) and returns its status and output.
ProcessResult run_agentd(const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = 30s,
                         const std::vector<std::pair<std::string, std::string>>& env = {});

/// Writes `text` to a fresh file in a temp dir and returns its path (for --config).
std::filesystem::path write_temp_file(const std::string& name, const std::string& text);

} // namespace agentd::itest
