#include "openai/serving_metrics.h"

namespace agentd::gateway::openai {

ServingMetrics::ServingMetrics(metrics::Registry& r)
    : generated_(r.counter("agentd_generation_tokens_total",
                           "Tokens generated (sampled); rate() gives tokens per second.")),
      prompt_(r.counter("agentd_prompt_tokens_total",
                        "Prompt tokens computed by prefill (recomputation after preemption "
                        "included).")),
      preemptions_(r.counter("agentd_preemptions_total",
                             "Sequences preempted (KV freed, recomputed later).")),
      steps_(r.counter("agentd_engine_steps_total", "Engine steps (batched forward passes).")),
      ttft_(r.histogram("agentd_time_to_first_token_seconds",
                        "From submission to the first generated token.",
                        metrics::Registry::latency_buckets())),
      itl_(r.histogram("agentd_inter_token_latency_seconds",
                       "Between consecutive tokens of one request.",
                       metrics::Registry::latency_buckets())),
      batch_(r.histogram("agentd_batch_size", "Sequences per engine step.",
                         {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})),
      step_seconds_(r.histogram("agentd_engine_step_seconds", "Wall time of one engine step.",
                                metrics::Registry::latency_buckets())) {}

void ServingMetrics::on_step(int batch_sequences, int /*decode_tokens*/, int prefill_tokens,
                             double seconds) {
    steps_.inc();
    prompt_.inc(static_cast<std::uint64_t>(prefill_tokens));
    batch_.observe(batch_sequences);
    step_seconds_.observe(seconds);
}

void ServingMetrics::on_first_token(double seconds) {
    generated_.inc();
    ttft_.observe(seconds);
}

void ServingMetrics::on_inter_token(double seconds) {
    generated_.inc();
    itl_.observe(seconds);
}

void ServingMetrics::on_preemption() {
    preemptions_.inc();
}

namespace {

/// The prefix cache's counters and gauges (issue 5), read from the scheduler's stats.
template <typename Read>
void register_prefix_gauges(metrics::Registry& r, const Read& read) {
    using S = inference::SchedulerStats;
    r.gauge_callback("agentd_prefix_cache_hit_rate",
                     "Prompt tokens served from the prefix cache / prompt tokens looked up.",
                     read([](const S& s) {
                         return s.prefix.lookup_tokens > 0
                                    ? double(s.prefix.hit_tokens) / double(s.prefix.lookup_tokens)
                                    : 0.0;
                     }));
    r.gauge_callback("agentd_prefix_cache_hit_tokens",
                     "Prompt tokens served from the prefix cache (since start).",
                     read([](const S& s) { return double(s.prefix.hit_tokens); }));
    r.gauge_callback("agentd_prefix_cache_lookup_tokens",
                     "Prompt tokens looked up in the prefix cache (since start).",
                     read([](const S& s) { return double(s.prefix.lookup_tokens); }));
    r.gauge_callback("agentd_prefix_cache_hits", "Requests that hit the prefix cache.",
                     read([](const S& s) { return double(s.prefix.hits); }));
    r.gauge_callback("agentd_prefix_cache_lookups", "Requests looked up in the prefix cache.",
                     read([](const S& s) { return double(s.prefix.lookups); }));
    r.gauge_callback("agentd_prefix_cache_evicted_blocks",
                     "KV blocks evicted from the prefix cache (since start).",
                     read([](const S& s) { return double(s.prefix.evicted_blocks); }));
    r.gauge_callback("agentd_prefix_cache_pinned_blocks",
                     "Cached KV blocks pinned by running requests and agent-turn holds.",
                     read([](const S& s) { return double(s.prefix.pinned_blocks); }));
    r.gauge_callback("agentd_prefix_cache_tree_blocks", "KV blocks in the prefix tree.",
                     read([](const S& s) { return double(s.prefix.tree_blocks); }));
    r.gauge_callback("agentd_prefix_cache_tree_nodes", "Nodes of the prefix tree.",
                     read([](const S& s) { return double(s.prefix.tree_nodes); }));
    r.gauge_callback("agentd_prefix_cache_holds", "Agent-turn holds alive.",
                     read([](const S& s) { return double(s.prefix.holds); }));
}

} // namespace

void ServingMetrics::register_gauges(metrics::Registry& r,
                                     std::weak_ptr<const inference::Scheduler> scheduler) {
    const auto read = [scheduler](auto f) {
        return [scheduler, f]() -> double {
            auto s = scheduler.lock();
            return s ? f(s->stats()) : 0.0;
        };
    };
    r.gauge_callback("vllm:num_requests_running", "Requests being decoded (vLLM name).",
                     read([](const inference::SchedulerStats& s) { return double(s.running); }));
    r.gauge_callback("vllm:num_requests_waiting", "Requests waiting to be admitted (vLLM name).",
                     read([](const inference::SchedulerStats& s) { return double(s.waiting); }));
    const auto usage = [](const inference::SchedulerStats& s) {
        return s.kv_total_blocks > 0 ? double(s.kv_used_blocks) / s.kv_total_blocks : 0.0;
    };
    r.gauge_callback("vllm:kv_cache_usage_perc",
                     "Fraction of KV cache blocks in use, 0 to 1 (vLLM name).", read(usage));
    r.gauge_callback("vllm:gpu_cache_usage_perc",
                     "Fraction of KV cache blocks in use, 0 to 1 (vLLM's older name).",
                     read(usage));
    r.gauge_callback(
        "agentd_kv_cache_blocks", "KV cache blocks in total.",
        read([](const inference::SchedulerStats& s) { return double(s.kv_total_blocks); }));
    register_prefix_gauges(r, read);
}

} // namespace agentd::gateway::openai
