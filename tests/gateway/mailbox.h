#pragma once
// A thread-safe queue with bounded waits: handlers running on I/O threads hand objects (writers,
// streams, events) to the test thread without sleeps.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace agentd::gateway::testing {

template <class T>
class Mailbox {
public:
    void put(T value) {
        {
            std::lock_guard lock(mutex_);
            items_.push_back(std::move(value));
        }
        changed_.notify_all();
    }

    /// The next item, or nullopt when none arrives within `timeout`.
    std::optional<T> take(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mutex_);
        if (!changed_.wait_for(lock, timeout, [&] { return !items_.empty(); })) {
            return std::nullopt;
        }
        T value = std::move(items_.front());
        items_.pop_front();
        return value;
    }

    /// Drops every queued item (writers and streams must go before the server's io_context).
    void clear() {
        std::lock_guard lock(mutex_);
        items_.clear();
    }

    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return items_.size();
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<T> items_;
};

} // namespace agentd::gateway::testing
