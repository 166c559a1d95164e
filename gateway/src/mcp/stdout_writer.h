#pragma once
/// Writes whole lines to a file descriptor (stdout) from one dedicated thread, so producers on
/// any thread never block on a slow reader. The queue is bounded in bytes: a reader that stops
/// reading for that long is treated as gone (broken()).
///
/// Ownership: owns its thread; the destructor flushes what is queued (bounded by the fd's
/// progress) and joins. Thread-safety: write() and broken() are thread-safe.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace agentd::gateway::mcp {

class StdoutWriter {
public:
    /// `on_broken` runs once (on the writer thread) when the fd fails or the bound is hit.
    StdoutWriter(int fd, std::size_t max_queued_bytes, std::function<void()> on_broken);
    ~StdoutWriter();
    StdoutWriter(const StdoutWriter&) = delete;
    StdoutWriter& operator=(const StdoutWriter&) = delete;

    /// Queues `line` plus '\n'; dropped once broken.
    void write(std::string line);
    /// Waits until everything queued so far has been written (or the writer broke).
    void flush();
    [[nodiscard]] bool broken() const;

private:
    void run();
    void fail_locked();

    const int fd_;
    const std::size_t max_bytes_;
    std::function<void()> on_broken_;
    mutable std::mutex mu_;
    std::condition_variable wake_;
    std::condition_variable drained_;
    std::deque<std::string> queue_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool stop_ = false;
    bool broken_ = false;
    bool report_broken_ = false;
    std::thread thread_;
};

} // namespace agentd::gateway::mcp
