// Planning one scheduler step: decodes of running sequences first, then prefill chunks, then
// admissions, all under the token budget and the free KV blocks; preemption when blocks run
// out (see scheduler.h for the policy).
#include "agentd/base/check.h"
#include "agentd/inference/errc.h"

#include "scheduler/scheduler_impl.h"

#include <algorithm>

namespace agentd::inference {

using sched::Planned;
using sched::Sequence;
using sched::SequencePtr;

int Scheduler::Impl::blocks_for(std::int32_t tokens) const noexcept {
    const int bs = kv->block_size();
    return (tokens + bs - 1) / bs;
}

/// New blocks appending `n` tokens at `s.computed` takes, as KvCache::plan counts them:
/// the blocks past the current last one, plus a copy when that last block is partly filled
/// and shared (copy-on-write).
int Scheduler::Impl::blocks_needed(const Sequence& s, std::int32_t n) const {
    int need = blocks_for(s.computed + n) - blocks_for(s.computed);
    if (s.computed % kv->block_size() != 0 && kv->has(s.id)) {
        const auto table = kv->block_table(s.id);
        if (!table.empty() && kv->pool().refcount(table.back()) > 1) {
            ++need;
        }
    }
    return need;
}

int Scheduler::Impl::free_blocks() const {
    return kv->free_blocks() + evictable - planned_blocks;
}

/// The most tokens `s` can append using at most `free` new blocks.
std::int32_t Scheduler::Impl::tokens_that_fit(const Sequence& s, int free) const {
    const int bs = kv->block_size();
    const std::int32_t slack = blocks_for(s.computed) * bs - s.computed;
    if (slack > 0 && blocks_needed(s, 1) > 0) { // the partly filled block must be copied first
        return free > 0 ? slack + (free - 1) * bs : 0;
    }
    return slack + free * bs;
}

/// Blocks that running prefills still need after this step's chunks to reach their first
/// decode token; admission leaves them free so admitted requests can finish their prompts.
int Scheduler::Impl::reserved_blocks() const {
    int reserved = 0;
    for (const auto& s : running) {
        std::int32_t after = s->computed;
        for (const Planned& p : plan) {
            if (p.seq == s.get()) {
                after += p.n;
            }
        }
        const std::int32_t target = std::min(s->size() + 1, max_seq_tokens);
        reserved += std::max(0, blocks_for(target) - blocks_for(after));
    }
    return reserved;
}

void Scheduler::Impl::insert_waiting(SequencePtr s) {
    auto at = std::upper_bound(
        waiting.begin(), waiting.end(), s,
        [](const SequencePtr& a, const SequencePtr& b) { return sched::runs_before(*a, *b); });
    waiting.insert(at, std::move(s));
}

/// Frees a running sequence's KV and puts it back in the waiting queue; its tokens and decoder
/// are kept, so re-admission recomputes the KV and generation continues where it was.
void Scheduler::Impl::preempt(std::size_t index) {
    SequencePtr s = std::move(running[index]);
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(index));
    end_sequence(*s);
    refresh_evictable();
    s->computed = 0;
    s->running = false;
    waiting_count.fetch_add(1);
    stat_preemptions.fetch_add(1, std::memory_order_relaxed);
    if (observer) {
        observer->on_preemption();
    }
    insert_waiting(std::move(s));
}

/// Starts a waiting request: a sequence in the engine (on cached prefix blocks when the prefix
/// cache has them) and, when the budget allows, its first chunk in this step. Returns false
/// (leaving it waiting) when its prompt's blocks are not free.
bool Scheduler::Impl::admit(SequencePtr& s, int& budget) {
    PrefixCache::Match match;
    if (cache && s->kind == sched::Kind::generate) {
        match = cache->match(s->cache_namespace, std::span(s->tokens).first(s->tokens.size() - 1));
        refresh_evictable(); // the matched path is pinned now
    }
    const std::int32_t target =
        s->kind == sched::Kind::embed ? s->size() : std::min(s->size() + 1, max_seq_tokens);
    // A match ending inside a shared block costs a copy of it (copy-on-write) on first write.
    const int need = blocks_for(target) - static_cast<int>(match.blocks.size()) +
                     (match.tokens % kv->block_size() != 0 ? 1 : 0);
    if (need > free_blocks() - reserved_blocks()) {
        if (match.pin != 0) {
            cache->release(match.pin);
            refresh_evictable();
        }
        return false;
    }
    if (s->kind == sched::Kind::embed && s->size() > budget) {
        const bool has_prefill =
            std::any_of(plan.begin(), plan.end(), [](const Planned& p) { return p.n > 1; });
        if (has_prefill) {
            return false; // a long input runs alone rather than beyond the budget of a mixed step
        }
    }
    auto added = kv->add_sequence(s->id, match.blocks, match.tokens);
    AGENTD_CHECK(added.has_value(), "a new request id is not in the KV cache");
    s->computed = match.tokens;
    s->cache_pin = match.pin;
    // A re-admitted (preempted) sequence may match its own generated tokens too; usage counts
    // prompt tokens only.
    s->usage.cached_tokens = std::max(s->usage.cached_tokens, std::min(match.tokens, s->n_prompt));
    s->running = true;
    const std::int32_t chunk =
        s->kind == sched::Kind::embed
            ? s->size()
            : std::min({s->pending(), budget, tokens_that_fit(*s, free_blocks())});
    if (chunk > 0) {
        planned_blocks += blocks_needed(*s, chunk);
        plan.push_back({s.get(), chunk, chunk == s->pending()});
        budget -= std::min(chunk, budget);
    }
    return true;
}

void Scheduler::Impl::plan_step() {
    plan.clear();
    planned_blocks = 0;
    refresh_evictable();
    int budget = options.token_budget;

    // A waiting request of higher priority takes the place of lower-priority running ones.
    while (!waiting.empty() && !running.empty() &&
           waiting.front()->priority > running.back()->priority) {
        const Sequence& head = *waiting.front();
        const std::int32_t target = std::min(head.size() + 1, max_seq_tokens);
        const bool room = static_cast<int>(running.size()) < options.max_sequences &&
                          blocks_for(target) <= free_blocks() - reserved_blocks();
        if (room) {
            break;
        }
        preempt(running.size() - 1);
    }

    // 1. One decode token for every sequence that has sampled one; preempt from the back
    // (lowest priority, latest) when blocks run out.
    for (std::size_t i = 0; i < running.size(); ++i) {
        Sequence& s = *running[i];
        if (s.pending() != 1) {
            continue;
        }
        const int need = blocks_needed(s, 1);
        bool preempted_self = false;
        while (need > free_blocks()) {
            const std::size_t victim = running.size() - 1;
            preempted_self = victim == i;
            preempt(victim);
            if (preempted_self) {
                break;
            }
        }
        if (preempted_self) {
            break;
        }
        planned_blocks += need;
        plan.push_back({&s, 1, true});
        --budget;
    }

    // 2. Prefill chunks of running sequences, in order, as budget and blocks allow.
    for (const auto& sp : running) {
        Sequence& s = *sp;
        if (s.pending() <= 1 || budget <= 0) {
            continue;
        }
        const std::int32_t chunk =
            std::min({s.pending(), budget, tokens_that_fit(s, free_blocks())});
        if (chunk <= 0) {
            continue;
        }
        planned_blocks += blocks_needed(s, chunk);
        plan.push_back({&s, chunk, chunk == s.pending()});
        budget -= chunk;
    }

    // 3. Admissions, in priority order, without skipping the head (no starvation of long
    // prompts behind short ones).
    while (!waiting.empty() && budget > 0 &&
           static_cast<int>(running.size()) < options.max_sequences) {
        if (!admit(waiting.front(), budget)) {
            break;
        }
        SequencePtr s = std::move(waiting.front());
        waiting.erase(waiting.begin());
        waiting_count.fetch_sub(1);
        auto at = std::upper_bound(
            running.begin(), running.end(), s,
            [](const SequencePtr& a, const SequencePtr& b) { return sched::runs_before(*a, *b); });
        running.insert(at, std::move(s));
    }

    if (!plan.empty()) {
        return;
    }
    // Nothing could run. With running sequences, blocks are short: free the latest one (a
    // sequence alone always fits, since no sequence outgrows the KV capacity). With none, the
    // head of the queue cannot fit even an empty cache.
    if (!running.empty()) {
        preempt(running.size() - 1);
    } else if (!waiting.empty()) {
        SequencePtr s = std::move(waiting.front());
        waiting.erase(waiting.begin());
        waiting_count.fetch_sub(1);
        finish_early(
            *s, FinishReason::cancelled,
            base::Error(errc::kv_cache_full, "the request needs more KV blocks than are free"));
    }
}

} // namespace agentd::inference
