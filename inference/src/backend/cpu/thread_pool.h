#pragma once
/// A persistent pool of compute threads for the CPU backend.
///
/// `run(fn)` executes fn on every thread of the pool (the calling thread is thread 0) and
/// returns when all have finished; no thread is created per call. Idle workers spin briefly on
/// the job counter (a forward pass issues its ops back to back) and then block on a futex, so an
/// idle engine costs no CPU. Inside a job, `ctx.barrier()` synchronises all threads (used to
/// quantise activations and then multiply in one dispatch).
///
/// Ownership: the pool owns its threads and joins them in the destructor. Thread affinity: `run`
/// must be called from one thread at a time (the engine thread). Errors: none; jobs are
/// noexcept kernels.

#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

namespace agentd::inference::cpu {

class ThreadPool {
public:
    /// What a job sees: its thread index, the thread count, and a barrier over all of them.
    class Context {
    public:
        [[nodiscard]] int index() const noexcept { return index_; }
        [[nodiscard]] int count() const noexcept { return count_; }
        /// Returns once every thread of the job has reached it.
        void barrier() const noexcept;
        /// The context of a job run inline on the calling thread alone.
        static Context single() noexcept { return Context(nullptr, 0, 1); }

    private:
        friend class ThreadPool;
        Context(ThreadPool* pool, int index, int count)
            : pool_(pool), index_(index), count_(count) {}
        ThreadPool* pool_;
        int index_;
        int count_;
    };

    /// `n_threads` >= 1 threads in total, the caller included.
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    [[nodiscard]] int size() const noexcept { return n_threads_; }

    /// Runs fn(ctx) on all threads; returns when every call has returned.
    template <class Fn>
    void run(Fn&& fn) {
        using F = std::remove_reference_t<Fn>;
        auto thunk = [](void* p, const Context& ctx) { (*static_cast<F*>(p))(ctx); };
        dispatch(thunk, const_cast<void*>(static_cast<const void*>(&fn)));
    }

private:
    using Thunk = void (*)(void*, const Context&);

    void dispatch(Thunk thunk, void* arg);
    void worker(int index);
    void wait_barrier() noexcept;

    int n_threads_;
    std::vector<std::thread> threads_;

    // The current job; published by bumping generation_ (release), read after seeing it (acquire).
    Thunk thunk_ = nullptr;
    void* arg_ = nullptr;
    alignas(64) std::atomic<std::uint32_t> generation_{0};
    alignas(64) std::atomic<int> pending_{0};
    alignas(64) std::atomic<int> sleepers_{0};
    alignas(64) std::atomic<int> barrier_count_{0};
    alignas(64) std::atomic<std::uint32_t> barrier_phase_{0};
    bool stop_ = false;
};

} // namespace agentd::inference::cpu
