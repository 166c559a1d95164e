#include "vector/search_pool.h"

namespace agentd::memory::vector {

SearchPool::SearchPool(unsigned threads) : width_(threads == 0 ? 1 : threads) {
    for (unsigned i = 1; i < width_; ++i) {
        threads_.emplace_back([this] { worker(); });
    }
}

SearchPool::~SearchPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) {
        t.join();
    }
}

void SearchPool::work_on(Job& job) {
    for (;;) {
        const std::size_t i = job.next.fetch_add(1, std::memory_order_relaxed);
        if (i >= job.count) {
            return;
        }
        (*job.fn)(i);
        if (job.done.fetch_add(1, std::memory_order_acq_rel) + 1 == job.count) {
            std::lock_guard lock(job.mutex);
            job.finished.notify_all();
        }
    }
}

void SearchPool::worker() {
    for (;;) {
        std::shared_ptr<Job> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
            if (stopping_) {
                return;
            }
            job = jobs_.front();
            if (job->next.load(std::memory_order_relaxed) >= job->count) {
                jobs_.pop_front(); // every chunk is taken; look at the next job
                continue;
            }
        }
        work_on(*job);
    }
}

void SearchPool::parallel_for(std::size_t count, const std::function<void(std::size_t)>& fn) {
    if (count == 0) {
        return;
    }
    if (count == 1 || threads_.empty()) {
        for (std::size_t i = 0; i < count; ++i) {
            fn(i);
        }
        return;
    }
    auto job = std::make_shared<Job>();
    job->fn = &fn;
    job->count = count;
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(job);
    }
    wake_.notify_all();
    work_on(*job);
    {
        std::unique_lock lock(job->mutex);
        job->finished.wait(lock,
                           [&] { return job->done.load(std::memory_order_acquire) == count; });
    }
    std::lock_guard lock(mutex_);
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
        if (*it == job) {
            jobs_.erase(it);
            break;
        }
    }
}

} // namespace agentd::memory::vector
