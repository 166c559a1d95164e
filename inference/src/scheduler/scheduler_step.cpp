// Running one planned step on the engine and turning its outputs into tokens, deltas and final
// updates for the requests' sinks.
#include "agentd/base/check.h"
#include "agentd/inference/errc.h"

#include "scheduler/scheduler_impl.h"

#include <algorithm>
#include <cmath>
#include <exception>

namespace agentd::inference {

using sched::Planned;
using sched::Sequence;

namespace {

double seconds_between(sched::Clock::time_point a, sched::Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

void append_deltas(std::vector<ChatDelta>& to, std::vector<ChatDelta>&& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

} // namespace

void Scheduler::Impl::run_step() {
    if (plan.empty()) {
        return;
    }
    // Blocks the cache holds but nothing else uses are given back before the step needs them.
    if (cache && planned_blocks > kv->free_blocks()) {
        cache->evict(planned_blocks - kv->free_blocks());
    }
    batch.clear();
    int decode_tokens = 0;
    int prefill_tokens = 0;
    for (const Planned& p : plan) {
        Sequence& s = *p.seq;
        OutputKind out = OutputKind::none;
        if (p.last) {
            out =
                s.kind == sched::Kind::embed ? OutputKind::embedding_mean : OutputKind::logits_last;
        }
        batch.push_back({s.id,
                         std::span(s.tokens).subspan(static_cast<std::size_t>(s.computed),
                                                     static_cast<std::size_t>(p.n)),
                         s.computed, out});
        (p.n == 1 && s.computed > 0 ? decode_tokens : prefill_tokens) += p.n;
    }
    const auto t0 = sched::Clock::now();
    auto out = engine->step(batch);
    const auto t1 = sched::Clock::now();
    if (!out) {
        if (out.error().code == make_error_code(errc::kv_cache_full) && !running.empty()) {
            // The accounting missed a block (nothing ran, nothing changed): make room.
            preempt(running.size() - 1);
            return;
        }
        const base::Error error = out.error();
        std::vector<const Sequence*> failed;
        for (const Planned& p : plan) {
            finish_early(*p.seq, FinishReason::cancelled, error);
            end_sequence(*p.seq);
            failed.push_back(p.seq);
        }
        for (const Sequence* s : failed) {
            remove_running(s);
        }
        return;
    }
    stat_steps.fetch_add(1, std::memory_order_relaxed);
    stat_prompt_tokens.fetch_add(static_cast<std::uint64_t>(prefill_tokens),
                                 std::memory_order_relaxed);
    if (observer) {
        observer->on_step(static_cast<int>(plan.size()), decode_tokens, prefill_tokens,
                          seconds_between(t0, t1));
    }
    std::vector<const Sequence*> ended;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        Sequence& s = *plan[i].seq;
        s.computed += plan[i].n;
        if (cache && s.kind == sched::Kind::generate && s.computed - plan[i].n < s.n_prompt) {
            // A prompt's whole blocks are shareable as soon as each chunk is computed: requests
            // admitted while this one still reads its prompt or decodes (other sessions with
            // the same system prompt) hit them.
            cache->insert(s.cache_namespace,
                          std::span(s.tokens).first(static_cast<std::size_t>(s.computed)),
                          kv->block_table(s.id));
        }
        if (!plan[i].last) {
            continue;
        }
        if (s.kind == sched::Kind::embed) {
            const OutputRange r = out->embedding_rows[i];
            on_embedding(
                s, out->embeddings.subspan(static_cast<std::size_t>(r.first_row) * out->n_embd,
                                           static_cast<std::size_t>(out->n_embd)));
        } else {
            on_logits(s, out->logits_row(out->logit_rows[i].first_row));
        }
        if (!s.running) {
            ended.push_back(&s);
        }
    }
    for (const Sequence* s : ended) {
        remove_running(s);
    }
}

/// Samples the next token of `s`, hands the update to its sink, and ends the sequence when the
/// decoder finished or the sequence is as long as it can get.
void Scheduler::Impl::on_logits(Sequence& s, std::span<const float> logits) {
    const SampledToken st = s.decoder->sample(logits);
    const std::string piece = s.text->push(st.token);
    const bool eog = !s.ignore_eos && engine->tokenizer().is_eog(st.token);
    SequenceDecoder::Update u = s.decoder->accept(st.token, piece, eog);
    s.tokens.push_back(st.token);
    ++s.usage.completion_tokens;
    stat_generated.fetch_add(1, std::memory_order_relaxed);

    const auto now = sched::Clock::now();
    if (observer) {
        if (!s.produced) {
            observer->on_first_token(seconds_between(s.submitted, now));
        } else {
            observer->on_inter_token(seconds_between(s.last_token, now));
        }
    }
    s.produced = true;
    s.last_token = now;

    GenerationUpdate update;
    update.tokens.push_back({st.token, st.logprob, st.top});
    update.deltas = std::move(u.deltas);
    update.finish = u.finish;
    update.tool_call_error = std::move(u.error);
    if (update.finish == FinishReason::none && s.size() >= max_seq_tokens) {
        SequenceDecoder::Update end = s.decoder->finish(FinishReason::length);
        append_deltas(update.deltas, std::move(end.deltas));
        update.finish = end.finish;
        if (end.error) {
            update.tool_call_error = std::move(end.error);
        }
    }
    const bool done = update.finish != FinishReason::none;
    deliver(s, std::move(update));
    if (done) {
        end_sequence(s);
    }
}

void Scheduler::Impl::on_embedding(Sequence& s, std::span<const float> hidden) {
    GenerationUpdate update;
    double norm = 0.0;
    for (float v : hidden) {
        norm += static_cast<double>(v) * v;
    }
    norm = std::sqrt(norm);
    update.embedding.reserve(hidden.size());
    for (float v : hidden) {
        update.embedding.push_back(norm > 0.0 ? static_cast<float>(v / norm) : 0.0f);
    }
    update.finish = FinishReason::stop;
    deliver(s, std::move(update));
    end_sequence(s);
}

void Scheduler::Impl::deliver(Sequence& s, GenerationUpdate&& update) {
    update.usage = s.usage;
    const bool final = update.finish != FinishReason::none;
    if (final) {
        s.finish = update.finish;
        stat_finished.fetch_add(1, std::memory_order_relaxed);
    }
    if (!s.sink) {
        return;
    }
    try {
        s.sink(std::move(update));
    } catch (const std::exception&) {
        // A sink broke its no-throw contract; the request's result is lost but the engine
        // thread keeps serving everyone else.
    }
    if (final) {
        s.sink = nullptr; // exactly one final update; release what the sink holds now
    }
}

/// Ends a request that did not finish by itself (cancelled, failed, shutting down).
void Scheduler::Impl::finish_early(Sequence& s, FinishReason reason,
                                   std::optional<base::Error> error) {
    GenerationUpdate update;
    if (s.decoder) {
        SequenceDecoder::Update u = s.decoder->finish(reason);
        update.deltas = std::move(u.deltas);
        update.tool_call_error = std::move(u.error);
    }
    update.finish = reason;
    update.error = std::move(error);
    deliver(s, std::move(update));
}

/// Releases a sequence's engine state: offers its KV to the prefix cache, unpins its match and
/// frees its blocks. The Sequence object stays where it is (the caller removes it).
void Scheduler::Impl::end_sequence(Sequence& s) {
    s.running = false;
    if (!kv->has(s.id)) {
        return;
    }
    if (cache) {
        if (s.kind == sched::Kind::generate && s.computed > 0) {
            const auto computed = std::span(s.tokens).first(static_cast<std::size_t>(s.computed));
            cache->insert(s.cache_namespace, computed, kv->block_table(s.id));
            if (!s.cache_hold.empty() && s.finish != FinishReason::none &&
                s.finish != FinishReason::cancelled) {
                cache->hold(s.cache_namespace, s.cache_hold, computed);
            }
        }
        if (s.cache_pin != 0) {
            cache->release(s.cache_pin);
            s.cache_pin = 0;
        }
    }
    engine->remove_sequence(s.id);
}

void Scheduler::Impl::remove_running(const Sequence* s) {
    auto it = std::find_if(running.begin(), running.end(),
                           [s](const sched::SequencePtr& p) { return p.get() == s; });
    if (it != running.end()) {
        running.erase(it);
    }
}

} // namespace agentd::inference
