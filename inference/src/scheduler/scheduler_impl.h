#pragma once
/// Scheduler internals: the per-request state, the submission queue shared with other threads,
/// and the engine thread's loop (scheduler.cpp: lifecycle and queue; scheduler_plan.cpp:
/// admission, preemption and the batch; scheduler_step.cpp: running a step and delivering
/// results).
///
/// Thread affinity: `Queue` is guarded by its mutex; everything else in Impl belongs to the
/// engine thread, except the atomics read by stats().

#include "agentd/inference/scheduler.h"

#include "kv/kv_cache.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace agentd::inference {

namespace sched {

using Clock = std::chrono::steady_clock;

enum class Kind : std::uint8_t { generate, embed };

/// One request on the engine thread. `tokens` holds the prompt followed by every generated
/// token; positions [0, computed) have KV in the engine while the sequence runs. A preempted
/// sequence keeps `tokens` and its decoder and recomputes the KV when it runs again.
struct Sequence {
    RequestId id = 0;
    Kind kind = Kind::generate;
    int priority = 0;
    std::uint64_t order = 0; ///< submission order (FIFO within a priority)
    std::vector<TokenId> tokens;
    std::int32_t n_prompt = 0;
    std::int32_t computed = 0;
    bool running = false;
    std::optional<SequenceDecoder> decoder;
    std::optional<StreamDecoder> text;
    bool ignore_eos = false;
    std::string cache_namespace;
    std::string cache_hold;
    std::uint64_t cache_pin = 0;
    FinishReason finish = FinishReason::none;
    GenerationSink sink;
    Clock::time_point submitted;
    Clock::time_point last_token;
    bool produced = false;
    RequestUsage usage;

    [[nodiscard]] std::int32_t size() const noexcept {
        return static_cast<std::int32_t>(tokens.size());
    }
    [[nodiscard]] std::int32_t pending() const noexcept { return size() - computed; }
};

using SequencePtr = std::unique_ptr<Sequence>;

/// Runs first: higher priority, then earlier submission.
inline bool runs_before(const Sequence& a, const Sequence& b) noexcept {
    return a.priority != b.priority ? a.priority > b.priority : a.order < b.order;
}

/// One entry of the planned step.
struct Planned {
    Sequence* seq = nullptr;
    std::int32_t n = 0; ///< tokens computed this step, from seq->computed
    bool last = false;  ///< reaches the end of the pending tokens: sample (or embed) after it
};

/// What other threads hand to the engine thread.
struct Queue {
    std::mutex mutex;
    std::condition_variable wake;
    std::vector<SequencePtr> incoming;
    std::vector<RequestId> cancels;
    std::vector<std::string> dropped_holds;
    bool accepting = true;
    bool stopping = false;
};

} // namespace sched

struct Scheduler::Impl {
    std::unique_ptr<Engine> engine;
    kv::KvCache* kv = nullptr;
    SchedulerOptions options;
    std::shared_ptr<SchedulerObserver> observer;
    std::unique_ptr<PrefixCache> cache;
    std::int32_t max_seq_tokens = 0;

    sched::Queue queue;
    std::atomic<RequestId> next_id{1};
    std::atomic<std::size_t> waiting_count{0}; ///< submitted, not admitted and not ended
    std::thread thread;

    // Engine thread only. Both lists are kept in runs_before order.
    std::vector<sched::SequencePtr> waiting;
    std::vector<sched::SequencePtr> running;
    std::vector<sched::Planned> plan;
    std::vector<BatchEntry> batch;
    int planned_blocks = 0;
    int evictable = 0; ///< cache->evictable_blocks() as of the last change on this thread

    // Published for stats().
    std::atomic<int> stat_running{0};
    std::atomic<int> stat_kv_used{0};
    std::atomic<int> stat_kv_total{0};
    std::atomic<std::uint64_t> stat_steps{0};
    std::atomic<std::uint64_t> stat_prompt_tokens{0};
    std::atomic<std::uint64_t> stat_generated{0};
    std::atomic<std::uint64_t> stat_preemptions{0};
    std::atomic<std::uint64_t> stat_finished{0};

    // scheduler.cpp
    void run_loop();
    bool take_incoming();
    void apply_cancels(std::vector<RequestId>& ids);
    void fail_all(const base::Error& error);
    void publish_stats();
    void refresh_evictable();

    // scheduler_plan.cpp
    void plan_step();
    [[nodiscard]] int blocks_for(std::int32_t tokens) const noexcept;
    [[nodiscard]] int blocks_needed(const sched::Sequence& s, std::int32_t n) const;
    [[nodiscard]] int free_blocks() const;
    [[nodiscard]] std::int32_t tokens_that_fit(const sched::Sequence& s, int free) const;
    void preempt(std::size_t running_index);
    bool admit(sched::SequencePtr& s, int& budget);
    [[nodiscard]] int reserved_blocks() const;
    void insert_waiting(sched::SequencePtr s);

    // scheduler_step.cpp
    void run_step();
    void on_logits(sched::Sequence& s, std::span<const float> logits);
    void on_embedding(sched::Sequence& s, std::span<const float> hidden);
    void deliver(sched::Sequence& s, GenerationUpdate&& update);
    void end_sequence(sched::Sequence& s);
    void finish_early(sched::Sequence& s, FinishReason reason, std::optional<base::Error> error);
    void remove_running(const sched::Sequence* s);
};

} // namespace agentd::inference
