#include "http_client/connection_limiter.h"

#include <utility>

namespace agentd::gateway::http_client {

bool ConnectionLimiter::fits(const std::string& host) const {
    if (total_ >= max_total_) {
        return false;
    }
    const auto it = per_host_.find(host);
    return it == per_host_.end() || it->second < max_per_host_;
}

ConnectionLimiter::Outcome ConnectionLimiter::acquire(const std::string& host,
                                                      std::function<void()> on_grant,
                                                      Ticket* ticket) {
    const std::lock_guard lock(mutex_);
    if (waiters_.empty() && fits(host)) {
        ++total_;
        ++per_host_[host];
        return Outcome::granted;
    }
    if (waiters_.size() >= max_waiting_) {
        return Outcome::full;
    }
    *ticket = next_ticket_++;
    waiters_.push_back({*ticket, host, std::move(on_grant)});
    return Outcome::queued;
}

void ConnectionLimiter::release(const std::string& host) {
    std::function<void()> grant;
    {
        const std::lock_guard lock(mutex_);
        --total_;
        if (auto it = per_host_.find(host); it != per_host_.end() && --it->second == 0) {
            per_host_.erase(it);
        }
        for (auto w = waiters_.begin(); w != waiters_.end(); ++w) {
            if (fits(w->host)) {
                ++total_;
                ++per_host_[w->host];
                grant = std::move(w->on_grant);
                waiters_.erase(w);
                break;
            }
        }
    }
    if (grant) {
        grant();
    }
}

bool ConnectionLimiter::abandon(Ticket ticket) {
    const std::lock_guard lock(mutex_);
    for (auto w = waiters_.begin(); w != waiters_.end(); ++w) {
        if (w->ticket == ticket) {
            waiters_.erase(w);
            return true;
        }
    }
    return false;
}

std::size_t ConnectionLimiter::in_flight() const {
    const std::lock_guard lock(mutex_);
    return total_;
}

std::size_t ConnectionLimiter::waiting() const {
    const std::lock_guard lock(mutex_);
    return waiters_.size();
}

} // namespace agentd::gateway::http_client
