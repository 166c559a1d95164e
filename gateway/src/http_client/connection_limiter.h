#pragma once
// Bounds the outbound HTTP client: at most `max_total` exchanges in flight, at most
// `max_per_host` per host:port, and at most `max_waiting` waiting for a slot (FIFO among those
// whose host has room). Thread-safe; grants run the waiter's callback on the releasing thread
// (the callback must only post).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace agentd::gateway::http_client {

class ConnectionLimiter {
public:
    ConnectionLimiter(std::size_t max_total, std::size_t max_per_host, std::size_t max_waiting)
        : max_total_(max_total), max_per_host_(max_per_host), max_waiting_(max_waiting) {}

    enum class Outcome { granted, queued, full };
    using Ticket = std::uint64_t;

    /// Takes a slot for `host` now, or queues `on_grant` (then *ticket identifies the wait).
    Outcome acquire(const std::string& host, std::function<void()> on_grant, Ticket* ticket);
    /// Returns a slot and grants it to the first waiter that fits.
    void release(const std::string& host);
    /// Stops waiting. False when the wait already ended in a grant (the slot must be released).
    bool abandon(Ticket ticket);

    [[nodiscard]] std::size_t in_flight() const;
    [[nodiscard]] std::size_t waiting() const;

private:
    struct Waiter {
        Ticket ticket;
        std::string host;
        std::function<void()> on_grant;
    };
    bool fits(const std::string& host) const; // mutex held

    const std::size_t max_total_;
    const std::size_t max_per_host_;
    const std::size_t max_waiting_;
    mutable std::mutex mutex_;
    std::size_t total_ = 0;
    std::unordered_map<std::string, std::size_t> per_host_;
    std::list<Waiter> waiters_;
    Ticket next_ticket_ = 1;
};

} // namespace agentd::gateway::http_client
