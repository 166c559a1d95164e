#pragma once
/// Serving metrics in /metrics: the gauges scale-out routers scrape from vLLM
/// (`vllm:num_requests_running`, `vllm:num_requests_waiting`, `vllm:kv_cache_usage_perc` and
/// its older name `vllm:gpu_cache_usage_perc`, a fraction in [0, 1] as vLLM reports it) and
/// agentd's own: token counters (rate() gives tokens/s), time-to-first-token and inter-token
/// latency histograms, batch size and step time histograms, preemptions.
///
/// Ownership: the observer is shared with the Scheduler; the gauges read the scheduler through
/// a weak reference. Thread affinity: observer callbacks run on the engine thread and only touch
/// atomics; gauges are read on the scraping thread. Errors: none.

#include "agentd/inference/scheduler.h"

#include "metrics/registry.h"

#include <memory>

namespace agentd::gateway::openai {

class ServingMetrics : public inference::SchedulerObserver {
public:
    explicit ServingMetrics(metrics::Registry& registry);

    void on_step(int batch_sequences, int decode_tokens, int prefill_tokens,
                 double seconds) override;
    void on_first_token(double seconds) override;
    void on_inter_token(double seconds) override;
    void on_preemption() override;

    /// Registers the gauges that read `scheduler` at scrape time (0 once it is gone).
    static void register_gauges(metrics::Registry& registry,
                                std::weak_ptr<const inference::Scheduler> scheduler);

private:
    metrics::Counter& generated_;
    metrics::Counter& prompt_;
    metrics::Counter& preemptions_;
    metrics::Counter& steps_;
    metrics::Histogram& ttft_;
    metrics::Histogram& itl_;
    metrics::Histogram& batch_;
    metrics::Histogram& step_seconds_;
};

} // namespace agentd::gateway::openai
