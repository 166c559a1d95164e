// Scheduler lifecycle: creation, the thread-safe submission queue, cancellation, shutdown and
// the engine thread's loop. Planning is in scheduler_plan.cpp, stepping in scheduler_step.cpp.
#include "agentd/inference/scheduler.h"

#include "agentd/inference/errc.h"

#include "engine/engine_impl.h"
#include "scheduler/scheduler_impl.h"

#include <algorithm>
#include <cstdio>
#include <exception>

namespace agentd::inference {

using sched::Sequence;
using sched::SequencePtr;

base::Result<std::unique_ptr<Scheduler>>
Scheduler::create(std::unique_ptr<Engine> engine, const SchedulerOptions& options,
                  std::shared_ptr<SchedulerObserver> observer,
                  std::unique_ptr<PrefixCache> prefix_cache) {
    if (!engine) {
        return base::fail(errc::invalid_argument, "no engine");
    }
    if (options.max_sequences < 1 || options.max_sequences > 4096) {
        return base::fail(errc::invalid_argument, "max_sequences must be in [1, 4096]");
    }
    if (options.max_waiting < 1 || options.max_waiting > 1'000'000) {
        return base::fail(errc::invalid_argument, "max_waiting must be in [1, 1000000]");
    }
    if (options.token_budget < options.max_sequences || options.token_budget > 65536) {
        return base::fail(errc::invalid_argument,
                          "token_budget must be in [max_sequences, 65536] (every running "
                          "sequence decodes one token per step)");
    }
    auto impl = std::make_unique<Impl>();
    impl->engine = std::move(engine);
    impl->kv = impl->engine->impl().kv.get();
    impl->options = options;
    impl->observer = std::move(observer);
    impl->cache = std::move(prefix_cache);
    const std::int64_t capacity =
        static_cast<std::int64_t>(impl->kv->total_blocks()) * impl->kv->block_size();
    impl->max_seq_tokens =
        static_cast<std::int32_t>(std::min<std::int64_t>(impl->engine->n_ctx(), capacity));
    if (impl->cache) {
        impl->cache->attach(*impl->engine);
    }
    impl->publish_stats();
    std::unique_ptr<Scheduler> s(new Scheduler(std::move(impl), options));
    Impl* raw = s->impl_.get();
    raw->thread = std::thread([raw] { raw->run_loop(); });
    return s;
}

Scheduler::Scheduler(std::unique_ptr<Impl> impl, const SchedulerOptions& options)
    : impl_(std::move(impl)), options_(options) {
    info_ = &impl_->engine->info();
    tokenizer_ = &impl_->engine->tokenizer();
    model_ = &impl_->engine->model();
    n_ctx_ = impl_->engine->n_ctx();
    max_seq_tokens_ = impl_->max_seq_tokens;
}

Scheduler::~Scheduler() {
    shutdown();
}

namespace {

SequencePtr make_sequence(RequestId id, GenerationSink sink) {
    auto s = std::make_unique<Sequence>();
    s->id = id;
    s->order = id;
    s->sink = std::move(sink);
    s->submitted = sched::Clock::now();
    return s;
}

base::Result<void> check_tokens(std::span<const TokenId> tokens, std::int32_t n_vocab,
                                std::int32_t max_tokens) {
    if (tokens.empty()) {
        return base::fail(errc::invalid_argument, "the prompt has no tokens");
    }
    for (TokenId t : tokens) {
        if (t < 0 || t >= n_vocab) {
            return base::fail(errc::invalid_argument,
                              "token id " + std::to_string(t) + " is outside the vocabulary");
        }
    }
    if (tokens.size() > static_cast<std::size_t>(max_tokens)) {
        return base::fail(errc::context_overflow,
                          "the prompt has " + std::to_string(tokens.size()) +
                              " tokens; a sequence holds at most " + std::to_string(max_tokens));
    }
    return {};
}

} // namespace

base::Result<RequestId> Scheduler::submit(GenerationRequest request, GenerationSink sink) {
    if (auto ok = check_tokens(request.prompt, info_->n_vocab, max_seq_tokens_); !ok) {
        return ok.error();
    }
    auto decoder = SequenceDecoder::create(std::move(request.decoder), info_->n_vocab);
    if (!decoder) {
        return decoder.error();
    }
    const RequestId id = impl_->next_id.fetch_add(1);
    auto s = make_sequence(id, std::move(sink));
    s->kind = sched::Kind::generate;
    s->priority = request.priority;
    s->n_prompt = static_cast<std::int32_t>(request.prompt.size());
    s->tokens = std::move(request.prompt);
    s->decoder.emplace(std::move(*decoder));
    s->text.emplace(*tokenizer_, request.render_special);
    s->ignore_eos = request.ignore_eos;
    s->cache_namespace = std::move(request.cache_namespace);
    s->cache_hold = std::move(request.cache_hold);
    s->usage.prompt_tokens = s->n_prompt;
    {
        std::lock_guard lock(impl_->queue.mutex);
        if (!impl_->queue.accepting) {
            return base::fail(errc::cancelled, "the server is shutting down");
        }
        if (impl_->waiting_count.load() >= options_.max_waiting) {
            return base::fail(errc::overloaded, "too many requests are waiting (" +
                                                    std::to_string(options_.max_waiting) + ")");
        }
        impl_->waiting_count.fetch_add(1);
        impl_->queue.incoming.push_back(std::move(s));
    }
    impl_->queue.wake.notify_one();
    return id;
}

base::Result<RequestId> Scheduler::submit(EmbeddingRequest request, GenerationSink sink) {
    if (auto ok = check_tokens(request.tokens, info_->n_vocab, max_seq_tokens_); !ok) {
        return ok.error();
    }
    const RequestId id = impl_->next_id.fetch_add(1);
    auto s = make_sequence(id, std::move(sink));
    s->kind = sched::Kind::embed;
    s->priority = request.priority;
    s->n_prompt = static_cast<std::int32_t>(request.tokens.size());
    s->tokens = std::move(request.tokens);
    s->usage.prompt_tokens = s->n_prompt;
    {
        std::lock_guard lock(impl_->queue.mutex);
        if (!impl_->queue.accepting) {
            return base::fail(errc::cancelled, "the server is shutting down");
        }
        if (impl_->waiting_count.load() >= options_.max_waiting) {
            return base::fail(errc::overloaded, "too many requests are waiting (" +
                                                    std::to_string(options_.max_waiting) + ")");
        }
        impl_->waiting_count.fetch_add(1);
        impl_->queue.incoming.push_back(std::move(s));
    }
    impl_->queue.wake.notify_one();
    return id;
}

void Scheduler::cancel(RequestId id) {
    {
        std::lock_guard lock(impl_->queue.mutex);
        if (impl_->queue.stopping) {
            return;
        }
        impl_->queue.cancels.push_back(id);
    }
    impl_->queue.wake.notify_one();
}

void Scheduler::drop_cache_hold(std::string key) {
    {
        std::lock_guard lock(impl_->queue.mutex);
        if (impl_->queue.stopping || !impl_->cache) {
            return;
        }
        impl_->queue.dropped_holds.push_back(std::move(key));
    }
    impl_->queue.wake.notify_one();
}

void Scheduler::stop_accepting() {
    std::lock_guard lock(impl_->queue.mutex);
    impl_->queue.accepting = false;
}

void Scheduler::shutdown() {
    {
        std::lock_guard lock(impl_->queue.mutex);
        impl_->queue.accepting = false;
        impl_->queue.stopping = true;
    }
    impl_->queue.wake.notify_one();
    if (impl_->thread.joinable()) {
        impl_->thread.join();
    }
}

SchedulerStats Scheduler::stats() const {
    SchedulerStats s;
    s.running = impl_->stat_running.load(std::memory_order_relaxed);
    s.waiting = impl_->waiting_count.load(std::memory_order_relaxed);
    s.kv_total_blocks = impl_->stat_kv_total.load(std::memory_order_relaxed);
    s.kv_used_blocks = impl_->stat_kv_used.load(std::memory_order_relaxed);
    s.steps = impl_->stat_steps.load(std::memory_order_relaxed);
    s.prompt_tokens = impl_->stat_prompt_tokens.load(std::memory_order_relaxed);
    s.generated_tokens = impl_->stat_generated.load(std::memory_order_relaxed);
    s.preemptions = impl_->stat_preemptions.load(std::memory_order_relaxed);
    s.requests_finished = impl_->stat_finished.load(std::memory_order_relaxed);
    if (impl_->cache) {
        s.prefix_cache = true;
        s.prefix = impl_->cache->stats();
    }
    return s;
}

// ---- engine thread ----

void Scheduler::Impl::publish_stats() {
    stat_running.store(static_cast<int>(running.size()), std::memory_order_relaxed);
    stat_kv_total.store(kv->total_blocks(), std::memory_order_relaxed);
    refresh_evictable();
    stat_kv_used.store(kv->total_blocks() - kv->free_blocks() - evictable,
                       std::memory_order_relaxed);
}

void Scheduler::Impl::refresh_evictable() {
    evictable = cache ? cache->evictable_blocks() : 0;
}

/// Moves submitted requests and cancellations over; waits while there is nothing to do.
/// Returns false when the scheduler is stopping.
bool Scheduler::Impl::take_incoming() {
    std::vector<SequencePtr> incoming;
    std::vector<RequestId> cancels;
    std::vector<std::string> dropped;
    {
        std::unique_lock lock(queue.mutex);
        queue.wake.wait(lock, [&] {
            return queue.stopping || !queue.incoming.empty() || !queue.cancels.empty() ||
                   !queue.dropped_holds.empty() || !running.empty() || !waiting.empty();
        });
        if (queue.stopping) {
            return false;
        }
        incoming.swap(queue.incoming);
        cancels.swap(queue.cancels);
        dropped.swap(queue.dropped_holds);
    }
    for (const auto& key : dropped) {
        cache->drop(key);
    }
    for (auto& s : incoming) {
        insert_waiting(std::move(s));
    }
    apply_cancels(cancels);
    return true;
}

void Scheduler::Impl::apply_cancels(std::vector<RequestId>& ids) {
    for (RequestId id : ids) {
        auto w = std::find_if(waiting.begin(), waiting.end(),
                              [id](const SequencePtr& s) { return s->id == id; });
        if (w != waiting.end()) {
            SequencePtr s = std::move(*w);
            waiting.erase(w);
            waiting_count.fetch_sub(1);
            finish_early(*s, FinishReason::cancelled, std::nullopt);
            continue;
        }
        auto r = std::find_if(running.begin(), running.end(),
                              [id](const SequencePtr& s) { return s->id == id; });
        if (r != running.end()) {
            finish_early(**r, FinishReason::cancelled, std::nullopt);
            end_sequence(**r);
            running.erase(r);
        }
    }
}

void Scheduler::Impl::fail_all(const base::Error& error) {
    for (auto& s : running) {
        finish_early(*s, FinishReason::cancelled, error);
        end_sequence(*s);
    }
    running.clear();
    for (auto& s : waiting) {
        finish_early(*s, FinishReason::cancelled, error);
    }
    waiting_count.fetch_sub(waiting.size());
    waiting.clear();
    std::vector<SequencePtr> incoming;
    {
        std::lock_guard lock(queue.mutex);
        incoming.swap(queue.incoming);
    }
    for (auto& s : incoming) {
        finish_early(*s, FinishReason::cancelled, error);
    }
    waiting_count.fetch_sub(incoming.size());
}

void Scheduler::Impl::run_loop() {
    while (take_incoming()) {
        try {
            plan_step();
            run_step();
        } catch (const std::exception& e) {
            // Nothing may escape an engine step (STYLE.md 2.3): the requests in flight fail,
            // the scheduler keeps serving new ones.
            base::Error error(errc::invalid_argument,
                              std::string("engine step failed: ") + e.what());
            for (auto& s : running) {
                finish_early(*s, FinishReason::cancelled, error);
                end_sequence(*s);
            }
            running.clear();
        }
        publish_stats();
    }
    fail_all(base::Error(errc::cancelled, "the server is shutting down"));
    publish_stats();
}

} // namespace agentd::inference
