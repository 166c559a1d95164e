#pragma once
/// Readiness checks behind GET /readyz. Components register a check at start-up ("db", "model");
/// the server is ready when every check passes and it is not shutting down.
///
/// Thread affinity: add() during start-up; evaluate() and set_shutting_down() from any thread.
/// Checks run on the I/O thread that serves /readyz: they must be cheap, non-blocking and
/// thread-safe (read an atomic, not the database). Errors: a failing check is data, not an error.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace agentd::gateway::app {

class Readiness {
public:
    /// `check` returns "" when the component is ready, else a short reason.
    void add(std::string name, std::function<std::string()> check);
    void set_shutting_down() noexcept { shutting_down_.store(true, std::memory_order_release); }

    struct Report {
        bool ready = true;
        bool shutting_down = false;
        std::vector<std::pair<std::string, std::string>> checks; ///< name → "ok" or reason
    };
    [[nodiscard]] Report evaluate() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::pair<std::string, std::function<std::string()>>> checks_;
    std::atomic<bool> shutting_down_{false};
};

} // namespace agentd::gateway::app
