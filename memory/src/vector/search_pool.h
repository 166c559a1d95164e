#pragma once
/// Worker threads for splitting one large vector scan into chunks. parallel_for runs fn(i) for
/// i in [0, count) on the workers and on the calling thread, and returns when all are done.
/// Thread-safe: several searches may use the pool at once (their chunks interleave). fn must
/// not throw.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace agentd::memory::vector {

class SearchPool {
public:
    /// `threads` is the total parallelism including the caller (1 → no workers).
    explicit SearchPool(unsigned threads);
    SearchPool(const SearchPool&) = delete;
    SearchPool& operator=(const SearchPool&) = delete;
    ~SearchPool();

    [[nodiscard]] unsigned width() const noexcept { return width_; }
    void parallel_for(std::size_t count, const std::function<void(std::size_t)>& fn);

private:
    struct Job {
        const std::function<void(std::size_t)>* fn = nullptr;
        std::size_t count = 0;
        std::atomic<std::size_t> next{0};
        std::atomic<std::size_t> done{0};
        std::mutex mutex;
        std::condition_variable finished;
    };

    static void work_on(Job& job);
    void worker();

    unsigned width_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

} // namespace agentd::memory::vector
