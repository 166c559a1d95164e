#include "mcp/event_stream.h"

#include <charconv>
#include <vector>

namespace agentd::gateway::mcp {

http::SseEvent EventStream::make_event(std::uint64_t seq, const std::string& data) const {
    http::SseEvent event;
    event.data = data;
    event.event = data.empty() ? "" : "message";
    event.id = std::to_string(id_) + "_" + std::to_string(seq);
    return event;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>>
EventStream::parse_event_id(std::string_view text) {
    const auto sep = text.find('_');
    if (sep == std::string_view::npos || sep == 0 || sep + 1 >= text.size()) {
        return std::nullopt;
    }
    std::uint64_t stream = 0;
    std::uint64_t seq = 0;
    const char* begin = text.data();
    const char* mid = begin + sep;
    const char* end = begin + text.size();
    auto a = std::from_chars(begin, mid, stream);
    auto b = std::from_chars(mid + 1, end, seq);
    if (a.ec != std::errc() || a.ptr != mid || b.ec != std::errc() || b.ptr != end) {
        return std::nullopt;
    }
    return std::make_pair(stream, seq);
}

std::shared_ptr<http::SseStream> EventStream::push_locked(std::string data, bool final) {
    const std::uint64_t seq = next_seq_++;
    std::shared_ptr<http::SseStream> to_close;
    if (sink_ && !sink_->send(make_event(seq, data))) {
        // Closed, or a client too slow to drain its queue: drop the connection; the client can
        // resume from its last event id.
        to_close = std::move(sink_);
    }
    buffered_bytes_ += data.size();
    buffer_.push_back({seq, std::move(data)});
    while (buffer_.size() > limits_.max_events ||
           (buffered_bytes_ > limits_.max_bytes && buffer_.size() > 1)) {
        buffered_bytes_ -= buffer_.front().data.size();
        first_dropped_ = buffer_.front().seq;
        buffer_.pop_front();
    }
    if (final) {
        finished_ = true;
        if (sink_) {
            to_close = std::move(sink_);
        }
    }
    return to_close;
}

void EventStream::prime() {
    std::shared_ptr<http::SseStream> to_close;
    {
        std::lock_guard lock(mu_);
        if (finished_ || closed_) {
            return;
        }
        to_close = push_locked({}, false);
    }
    if (to_close) {
        to_close->close();
    }
}

void EventStream::send(std::string data, bool final) {
    std::shared_ptr<http::SseStream> to_close;
    {
        std::lock_guard lock(mu_);
        if (finished_ || closed_) {
            return;
        }
        to_close = push_locked(std::move(data), final);
    }
    if (to_close) {
        to_close->close();
    }
}

void EventStream::attach(std::shared_ptr<http::SseStream> sink,
                         std::optional<std::uint64_t> after) {
    std::weak_ptr<EventStream> weak = weak_from_this();
    const http::SseStream* raw = sink.get();
    sink->on_close([weak, raw] {
        if (auto self = weak.lock()) {
            self->detach(raw);
        }
    });
    std::shared_ptr<http::SseStream> previous;
    bool close_new = false;
    {
        std::lock_guard lock(mu_);
        claimed_ = false;
        if (after) {
            for (const auto& event : buffer_) {
                if (event.seq > *after && !sink->send(make_event(event.seq, event.data))) {
                    close_new = true;
                    break;
                }
            }
        }
        if (finished_ || closed_ || close_new) {
            close_new = true;
        } else {
            previous = std::move(sink_);
            sink_ = sink;
        }
    }
    if (previous) {
        previous->close();
    }
    if (close_new) {
        sink->close();
    }
}

void EventStream::abandon() {
    std::lock_guard lock(mu_);
    finished_ = true;
}

void EventStream::close() {
    std::shared_ptr<http::SseStream> sink;
    {
        std::lock_guard lock(mu_);
        closed_ = true;
        finished_ = true;
        sink = std::move(sink_);
    }
    if (sink) {
        sink->close();
    }
}

void EventStream::detach(const http::SseStream* sink) {
    std::lock_guard lock(mu_);
    if (sink_.get() == sink) {
        sink_.reset();
    }
}

bool EventStream::finished() const {
    std::lock_guard lock(mu_);
    return finished_;
}

bool EventStream::attached() const {
    std::lock_guard lock(mu_);
    return sink_ != nullptr || claimed_;
}

bool EventStream::claim() {
    std::lock_guard lock(mu_);
    if (sink_ != nullptr || claimed_) {
        return false;
    }
    claimed_ = true;
    return true;
}

bool EventStream::replayable(std::uint64_t after) const {
    std::lock_guard lock(mu_);
    // Every event after `after` must still be in the buffer.
    return after >= first_dropped_ && after < next_seq_;
}

} // namespace agentd::gateway::mcp
