#pragma once
/// The serving scheduler: one engine thread that owns an Engine (model, KV block pool) and runs
/// continuous batching for every request submitted from any thread.
///
/// Each scheduler step builds one Engine::step batch under a token budget: first one decode
/// token for every running sequence that has produced a token, then chunks of prefill for
/// sequences still reading their prompt, then newly admitted requests (in priority order, FIFO
/// within a priority) as long as running sequences, budget and free KV blocks allow. A request
/// is admitted only when the KV blocks of its whole prompt (plus one decode block) are free
/// after what running prefills still need. When decode blocks run out, the lowest-priority,
/// most recently admitted sequence is preempted: its KV blocks are freed and it goes back to the
/// waiting queue with its generated tokens, to be recomputed on re-admission (its sampler,
/// grammar and parser state are kept, so the output continues exactly). A waiting request of
/// higher priority than a running one preempts it when it cannot otherwise be admitted.
///
/// Results go to the request's sink, called on the engine thread, in order: zero or more
/// updates with tokens and deltas, then exactly one final update (finish != none). A sink must
/// return quickly and not block (the gateway's sinks post to the caller's executor).
///
/// Cancellation (`cancel`, from any thread) takes effect at the start of the next step: the
/// sequence's KV blocks are freed and its final update (finish `cancelled`) is delivered.
///
/// Prefix caching (issue 5) plugs in through `PrefixCache` (prefix_cache.h): the scheduler asks it
/// for a cached prefix when a request is admitted, starts the sequence on those blocks, offers a
/// sequence's blocks back when it ends, and asks it to evict before preempting.
/// `GenerationRequest::cache_namespace` keeps tenants apart.
///
/// Ownership: the Scheduler owns the Engine and its thread; requests are moved in. Thread
/// affinity: submit, cancel, stats, stop_accepting and shutdown are thread-safe; sinks and the
/// observer run on the engine thread. Errors: submit returns errc::invalid_argument (empty or
/// out-of-vocabulary prompt, bad sampling parameters), errc::context_overflow (the prompt does
/// not fit the context or the KV cache), errc::overloaded (the waiting queue is full) and
/// errc::cancelled (shutting down) as values; failures while running arrive in the final update.

#include "agentd/base/result.h"
#include "agentd/inference/engine.h"
#include "agentd/inference/prefix_cache.h"
#include "agentd/inference/sampling_sequence.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace agentd::inference {

struct SchedulerOptions {
    int max_sequences = 64;        ///< running (admitted) sequences at once, [1, 4096]
    std::size_t max_waiting = 256; ///< submitted requests not yet admitted, [1, 1'000'000]
    int token_budget = 512;        ///< tokens per step (decodes + prefill chunks), [1, 65536]
};

/// A completion request: the prompt's tokens and how to decode after it.
struct GenerationRequest {
    std::vector<TokenId> prompt;
    SequenceDecoderConfig decoder;
    /// Larger runs first; a waiting request may preempt running ones of lower priority.
    int priority = 0;
    /// Pieces include control tokens' text (tool-call formats whose markers are special
    /// tokens, e.g. "[TOOL_CALLS]").
    bool render_special = false;
    /// End-of-generation tokens do not end the sequence (benchmarks; vLLM's ignore_eos). The
    /// caller should also ban them through logit_bias so they are not sampled.
    bool ignore_eos = false;
    /// Prefix-cache namespace, set by the server from the authenticated tenant and the model
    /// (never from a client field); requests only share cached prefixes within one namespace.
    std::string cache_namespace;
    /// Turn-aware retention, set by the server (e.g. an agent session id): when the request
    /// ends (not cancelled), its prompt + output prefix stays pinned in the prefix cache under
    /// this key until Scheduler::drop_cache_hold(key), the next hold under it, or the pin TTL,
    /// so the continuation after a tool call hits. Empty: no hold.
    std::string cache_hold;
};

/// An embedding request: the input's final-norm hidden states, mean-pooled, L2-normalised.
struct EmbeddingRequest {
    std::vector<TokenId> tokens;
    int priority = 0;
};

/// One generated token.
struct GeneratedToken {
    TokenId token = -1;
    float logprob = 0.0f;          ///< when the request asked for logprobs
    std::vector<TokenLogprob> top; ///< when it asked for top_logprobs
};

struct RequestUsage {
    std::int32_t prompt_tokens = 0;
    std::int32_t completion_tokens = 0;
    std::int32_t cached_tokens = 0; ///< prompt tokens served from the prefix cache
};

/// What a sink receives.
struct GenerationUpdate {
    std::vector<GeneratedToken> tokens; ///< tokens produced since the previous update
    std::vector<ChatDelta> deltas;      ///< content / reasoning / tool-call deltas
    FinishReason finish = FinishReason::none;
    /// A failure that ended the request (finish is then `cancelled` or `stop`): e.g. the
    /// scheduler shut down (errc::cancelled) or the engine failed.
    std::optional<base::Error> error;
    std::optional<std::string> tool_call_error; ///< a tool call the model left broken
    RequestUsage usage;                         ///< totals so far (final in the last update)
    std::vector<float> embedding;               ///< embedding requests, final update only
};

using RequestId = std::uint64_t;
/// Called on the engine thread; must not block or throw.
using GenerationSink = std::function<void(GenerationUpdate&&)>;

/// Thread-safe counters and gauges for /metrics.
struct SchedulerStats {
    int running = 0;
    std::size_t waiting = 0;
    int kv_total_blocks = 0;
    int kv_used_blocks = 0;
    std::uint64_t steps = 0;
    std::uint64_t prompt_tokens = 0;    ///< prefill tokens computed (recomputation included)
    std::uint64_t generated_tokens = 0; ///< tokens sampled
    std::uint64_t preemptions = 0;
    std::uint64_t requests_finished = 0;
    bool prefix_cache = false; ///< a prefix cache is attached
    PrefixCacheStats prefix;   ///< its counters (zero without one)
};

/// Hooks for latency metrics; called on the engine thread, so implementations must be cheap
/// and thread-safe with respect to their readers.
class SchedulerObserver {
public:
    virtual ~SchedulerObserver() = default;
    /// After each engine step: sequences in the batch, decode and prefill tokens, wall time.
    virtual void on_step(int batch_sequences, int decode_tokens, int prefill_tokens,
                         double seconds) = 0;
    /// A request's first generated token, `seconds` after submit.
    virtual void on_first_token(double seconds) = 0;
    /// The time between two consecutive tokens of one request.
    virtual void on_inter_token(double seconds) = 0;
    virtual void on_preemption() = 0;
};

class Scheduler {
public:
    /// Starts the engine thread. `engine` is used only on that thread from now on. Errors:
    /// errc::invalid_argument for options out of range.
    [[nodiscard]] static base::Result<std::unique_ptr<Scheduler>>
    create(std::unique_ptr<Engine> engine, const SchedulerOptions& options = {},
           std::shared_ptr<SchedulerObserver> observer = {},
           std::unique_ptr<PrefixCache> prefix_cache = {});
    /// Cancels every request (each gets its final update) and joins the engine thread.
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    /// Queues a request; `sink` receives its updates. Errors: see the header comment.
    [[nodiscard]] base::Result<RequestId> submit(GenerationRequest request, GenerationSink sink);
    [[nodiscard]] base::Result<RequestId> submit(EmbeddingRequest request, GenerationSink sink);
    /// Cancels a request (no effect when it already ended or is unknown).
    void cancel(RequestId id);
    /// Ends the prefix-cache hold under `key` (GenerationRequest::cache_hold), e.g. when an
    /// agent session ends; takes effect on the engine thread's next iteration.
    void drop_cache_hold(std::string key);
    /// New submissions fail with errc::cancelled; running and waiting requests go on.
    void stop_accepting();
    /// Cancels everything and joins the engine thread (idempotent).
    void shutdown();

    [[nodiscard]] SchedulerStats stats() const;
    [[nodiscard]] const SchedulerOptions& options() const noexcept { return options_; }

    /// Immutable facts about the engine, readable from any thread.
    [[nodiscard]] const ModelInfo& model_info() const noexcept { return *info_; }
    [[nodiscard]] const Tokenizer& tokenizer() const noexcept { return *tokenizer_; }
    [[nodiscard]] const Model& model() const noexcept { return *model_; }
    [[nodiscard]] std::int32_t n_ctx() const noexcept { return n_ctx_; }
    /// Tokens one sequence can hold: min(n_ctx, KV capacity).
    [[nodiscard]] std::int32_t max_sequence_tokens() const noexcept { return max_seq_tokens_; }

    struct Impl;

private:
    Scheduler(std::unique_ptr<Impl> impl, const SchedulerOptions& options);

    std::unique_ptr<Impl> impl_;
    SchedulerOptions options_;
    const ModelInfo* info_ = nullptr;
    const Tokenizer* tokenizer_ = nullptr;
    const Model* model_ = nullptr;
    std::int32_t n_ctx_ = 0;
    std::int32_t max_seq_tokens_ = 0;
};

} // namespace agentd::inference
