#include "http/exchange.h"

namespace agentd::gateway::http {

void Exchange::set_on_gone(std::function<void()> callback) {
    {
        std::lock_guard lock(mutex_);
        if (!gone_fired_) {
            on_gone_ = std::move(callback);
            return;
        }
    }
    if (callback) {
        callback();
    }
}

void Exchange::fire_gone() {
    std::function<void()> callback;
    {
        std::lock_guard lock(mutex_);
        if (gone_fired_) {
            return;
        }
        gone_fired_ = true;
        gone_.store(true, std::memory_order_release);
        callback = std::move(on_gone_);
        on_gone_ = nullptr;
    }
    if (callback) {
        callback();
    }
}

bool Exchange::sse_push(std::string event, std::size_t max_events, std::size_t max_bytes,
                        bool* post) {
    std::lock_guard lock(mutex_);
    *post = false;
    if (stream_ended_ || close_requested_ || events_.size() >= max_events ||
        queued_bytes_ + event.size() > max_bytes) {
        return false;
    }
    queued_bytes_ += event.size();
    events_.push_back(std::move(event));
    if (!posted_) {
        posted_ = true;
        *post = true;
    }
    return true;
}

void Exchange::sse_request_close(bool* post) {
    std::lock_guard lock(mutex_);
    *post = false;
    if (stream_ended_ || close_requested_) {
        return;
    }
    close_requested_ = true;
    if (!posted_) {
        posted_ = true;
        *post = true;
    }
}

void Exchange::sse_clear_posted() {
    std::lock_guard lock(mutex_);
    posted_ = false;
}

bool Exchange::sse_take(std::string& out) {
    std::lock_guard lock(mutex_);
    out.reserve(out.size() + queued_bytes_);
    for (auto& e : events_) {
        out.append(e);
    }
    events_.clear();
    queued_bytes_ = 0;
    return close_requested_;
}

bool Exchange::sse_closed() const {
    std::lock_guard lock(mutex_);
    return stream_ended_ || close_requested_;
}

void Exchange::set_on_close(std::function<void()> callback) {
    {
        std::lock_guard lock(mutex_);
        if (!stream_ended_) {
            on_close_ = std::move(callback);
            return;
        }
    }
    if (callback) {
        callback();
    }
}

void Exchange::fire_close() {
    std::function<void()> callback;
    {
        std::lock_guard lock(mutex_);
        if (stream_ended_) {
            return;
        }
        stream_ended_ = true;
        events_.clear();
        queued_bytes_ = 0;
        callback = std::move(on_close_);
        on_close_ = nullptr;
    }
    if (callback) {
        callback();
    }
}

} // namespace agentd::gateway::http
