#include "log/batched_sink.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace agentd::gateway::log {

BatchedFdSink::BatchedFdSink(int fd, std::size_t max_buffered)
    : fd_(fd), max_buffered_(max_buffered) {}

BatchedFdSink::~BatchedFdSink() {
    {
        std::lock_guard lock(q_mu_);
        stop_ = true;
    }
    has_data_.notify_all();
    if (writer_.joinable()) {
        writer_.join(); // the writer drains pending_ before it stops
    }
}

std::uint64_t BatchedFdSink::writes() const {
    std::lock_guard lock(q_mu_);
    return writes_;
}

void BatchedFdSink::sink_it_(const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    std::unique_lock lock(q_mu_);
    if (!writer_.joinable()) {
        writer_ = std::thread([this] { writer_loop(); });
    }
    // Back-pressure: a writer that cannot keep up holds the callers, bounded by the buffer.
    progressed_.wait(lock, [this] { return pending_.size() < max_buffered_; });
    const bool was_empty = pending_.empty();
    pending_.append(line.data(), line.size());
    appended_bytes_ += line.size();
    if (was_empty) {
        lock.unlock();
        has_data_.notify_one(); // one wake-up per batch, not per line
    }
}

void BatchedFdSink::flush_() {
    std::unique_lock lock(q_mu_);
    const std::uint64_t target = appended_bytes_;
    progressed_.wait(lock, [&] { return written_bytes_ >= target; });
}

void BatchedFdSink::writer_loop() {
    std::string batch;
    std::unique_lock lock(q_mu_);
    for (;;) {
        has_data_.wait(lock, [this] { return !pending_.empty() || stop_; });
        if (pending_.empty()) {
            return; // stopping, and everything is written
        }
        batch.clear();
        batch.swap(pending_);
        lock.unlock();
        (void)write_all(batch); // a failing descriptor drops the batch: never stall the server
        lock.lock();
        written_bytes_ += batch.size();
        ++writes_;
        progressed_.notify_all();
    }
}

bool BatchedFdSink::write_all(const std::string& data) const {
    std::size_t done = 0;
    int stalls = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            stalls = 0;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && stalls < 30) {
            // A non-blocking descriptor whose reader is slow: wait for room, at most ~30 s.
            pollfd p{fd_, POLLOUT, 0};
            (void)::poll(&p, 1, 1000);
            ++stalls;
            continue;
        }
        return false;
    }
    return true;
}

} // namespace agentd::gateway::log
