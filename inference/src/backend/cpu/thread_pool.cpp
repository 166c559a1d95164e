#include "backend/cpu/thread_pool.h"

#include <immintrin.h>

namespace agentd::inference::cpu {
namespace {

// Spin about 10-50 microseconds before blocking: long enough to bridge the gap between two ops
// of a forward pass, short enough not to burn a core while the engine is idle.
constexpr int kSpinIterations = 4000;

/// Waits until `a` differs from `old`: spin first, then futex wait.
template <class T>
void spin_then_wait(const std::atomic<T>& a, T old, std::atomic<int>* sleepers) {
    for (int i = 0; i < kSpinIterations; ++i) {
        if (a.load(std::memory_order_acquire) != old) {
            return;
        }
        _mm_pause();
    }
    if (sleepers != nullptr) {
        sleepers->fetch_add(1, std::memory_order_seq_cst);
    }
    while (a.load(std::memory_order_seq_cst) == old) {
        a.wait(old, std::memory_order_seq_cst);
    }
    if (sleepers != nullptr) {
        sleepers->fetch_sub(1, std::memory_order_relaxed);
    }
}

} // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    threads_.reserve(static_cast<std::size_t>(n_threads_ - 1));
    for (int i = 1; i < n_threads_; ++i) {
        threads_.emplace_back([this, i] { worker(i); });
    }
}

ThreadPool::~ThreadPool() {
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_seq_cst);
    generation_.notify_all();
    for (auto& t : threads_) {
        t.join();
    }
}

void ThreadPool::dispatch(Thunk thunk, void* arg) {
    if (n_threads_ == 1) {
        thunk(arg, Context(this, 0, 1));
        return;
    }
    thunk_ = thunk;
    arg_ = arg;
    pending_.store(n_threads_ - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
        generation_.notify_all();
    }
    thunk(arg, Context(this, 0, n_threads_));
    // Wait for the workers; they notify when the last one finishes.
    int left = pending_.load(std::memory_order_acquire);
    while (left != 0) {
        spin_then_wait(pending_, left, nullptr);
        left = pending_.load(std::memory_order_acquire);
    }
}

void ThreadPool::worker(int index) {
    std::uint32_t seen = 0;
    for (;;) {
        spin_then_wait(generation_, seen, &sleepers_);
        seen = generation_.load(std::memory_order_acquire);
        if (stop_) {
            return;
        }
        thunk_(arg_, Context(this, index, n_threads_));
        // Only the last finisher wakes the dispatcher; it re-reads the counter after waking.
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
            pending_.notify_one();
        }
    }
}

void ThreadPool::Context::barrier() const noexcept {
    if (count_ > 1) {
        pool_->wait_barrier();
    }
}

void ThreadPool::wait_barrier() noexcept {
    const std::uint32_t phase = barrier_phase_.load(std::memory_order_acquire);
    if (barrier_count_.fetch_add(1, std::memory_order_acq_rel) == n_threads_ - 1) {
        barrier_count_.store(0, std::memory_order_relaxed);
        barrier_phase_.fetch_add(1, std::memory_order_acq_rel);
        barrier_phase_.notify_all();
        return;
    }
    spin_then_wait(barrier_phase_, phase, nullptr);
}

} // namespace agentd::inference::cpu
