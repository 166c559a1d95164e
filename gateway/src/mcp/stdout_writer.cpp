#include "mcp/stdout_writer.h"

#include <unistd.h>

#include <cerrno>

namespace agentd::gateway::mcp {

StdoutWriter::StdoutWriter(int fd, std::size_t max_queued_bytes, std::function<void()> on_broken)
    : fd_(fd), max_bytes_(max_queued_bytes), on_broken_(std::move(on_broken)),
      thread_([this] { run(); }) {}

StdoutWriter::~StdoutWriter() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void StdoutWriter::fail_locked() {
    if (!broken_) {
        broken_ = true;
        report_broken_ = true;
        queue_.clear();
        queued_bytes_ = 0;
    }
}

void StdoutWriter::write(std::string line) {
    line.push_back('\n');
    {
        std::lock_guard lock(mu_);
        if (broken_) {
            return;
        }
        if (queued_bytes_ + line.size() > max_bytes_) {
            fail_locked(); // the client stopped reading its output
        } else {
            queued_bytes_ += line.size();
            queue_.push_back(std::move(line));
        }
    }
    wake_.notify_one();
}

void StdoutWriter::flush() {
    std::unique_lock lock(mu_);
    drained_.wait(lock, [this] { return broken_ || (queue_.empty() && !writing_); });
}

bool StdoutWriter::broken() const {
    std::lock_guard lock(mu_);
    return broken_;
}

void StdoutWriter::run() {
    std::unique_lock lock(mu_);
    while (true) {
        wake_.wait(lock, [this] { return stop_ || !queue_.empty() || report_broken_; });
        if (report_broken_) {
            report_broken_ = false;
            lock.unlock();
            if (on_broken_) {
                on_broken_();
            }
            lock.lock();
            drained_.notify_all();
            continue;
        }
        if (queue_.empty()) {
            if (stop_) {
                return;
            }
            continue;
        }
        std::string line = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
        lock.unlock();
        std::size_t done = 0;
        bool failed = false;
        while (done < line.size()) {
            const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                failed = true;
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        lock.lock();
        writing_ = false;
        queued_bytes_ = queued_bytes_ >= line.size() ? queued_bytes_ - line.size() : 0;
        if (failed) {
            fail_locked();
        }
        if (queue_.empty()) {
            drained_.notify_all();
        }
    }
}

} // namespace agentd::gateway::mcp
