#pragma once
/// The inference engine: one model on one backend, a paged KV cache, and a batched step.
///
/// The serving layer's engine thread drives it: create sequences, then call `step` with a batch
/// of entries (each: a sequence, its next tokens, and what output it wants); every entry's
/// tokens are appended to its sequence's KV cache and the requested logits or embeddings come
/// back. Many sequences of different lengths share one step (continuous batching); a batch
/// longer than `max_batch_tokens` is run as several forward passes transparently. KV blocks are
/// reserved for the whole batch before anything runs, so a step either happens completely or
/// fails with errc::kv_cache_full / context_overflow and changes nothing.
///
/// Ownership: the Engine shares the Model and owns the backend, KV storage and scratch.
/// Thread affinity: not thread-safe; one thread (the engine thread) calls everything. Errors:
/// `create` fails with errc::unsupported (backend or weight type), errc::device_oom; `step` and
/// the sequence calls return errc::invalid_argument (bad ids, tokens out of the vocabulary,
/// non-contiguous positions), errc::context_overflow and errc::kv_cache_full as values.

#include "agentd/base/result.h"
#include "agentd/inference/backend_info.h"
#include "agentd/inference/model.h"
#include "agentd/inference/tensor_type.h"
#include "agentd/inference/tokenizer.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace agentd::inference {

using SeqId = std::uint64_t;

struct EngineOptions {
    BackendKind backend = BackendKind::cpu;
    int device = 0;             ///< which device of a device backend (cuda:N)
    int n_threads = 0;          ///< CPU compute threads (0: one per core)
    std::int32_t n_ctx = 0;     ///< positions per sequence (0: the model's training context)
    std::int64_t kv_tokens = 0; ///< KV capacity in tokens, all sequences (0: min(n_ctx, 16384))
    /// When > 0 (at most 0.99) and kv_tokens is 0: the KV pool takes this fraction of the
    /// backend's free memory once the weights and scratch are placed (a GPU's KV pool, as vLLM's
    /// gpu_memory_utilization). errc::device_oom when that leaves no room for one block.
    float kv_memory_fraction = 0.0f;
    int kv_block_size = 16;               ///< tokens per KV block (a multiple of 16)
    TensorType kv_type = TensorType::f32; ///< f32 or f16
    int max_batch_tokens = 512;           ///< tokens per forward pass
};

/// What an entry of a step asks for.
enum class OutputKind {
    none,           ///< only fill the KV cache (e.g. a prefill chunk)
    logits_last,    ///< logits of the entry's last token
    logits_all,     ///< logits of every token of the entry
    embedding_last, ///< final-norm hidden state of the last token
    embedding_mean, ///< mean of the final-norm hidden states of the entry's tokens
};

struct BatchEntry {
    SeqId seq = 0;
    std::span<const TokenId> tokens;
    /// Position of tokens[0]; -1 appends at the sequence's length. A smaller position rewinds
    /// the sequence to it first.
    std::int32_t pos0 = -1;
    OutputKind output = OutputKind::logits_last;
};

/// Where an entry's outputs are in StepOutput: `count` rows from `first_row`.
struct OutputRange {
    std::int32_t first_row = 0;
    std::int32_t count = 0;
};

/// The outputs of one step; the spans stay valid until the next call of `step`.
struct StepOutput {
    std::span<const float> logits;               ///< rows of n_vocab
    std::span<const float> embeddings;           ///< rows of n_embd
    std::span<const OutputRange> logit_rows;     ///< per entry
    std::span<const OutputRange> embedding_rows; ///< per entry
    std::int32_t n_vocab = 0;
    std::int32_t n_embd = 0;

    [[nodiscard]] std::span<const float> logits_row(std::int32_t row) const {
        return logits.subspan(static_cast<std::size_t>(row) * static_cast<std::size_t>(n_vocab),
                              static_cast<std::size_t>(n_vocab));
    }
};

struct KvStats {
    int total_blocks = 0;
    int free_blocks = 0;
    int block_size = 0;
    std::size_t bytes = 0;
    std::size_t sequences = 0;
};

class Engine {
public:
    [[nodiscard]] static base::Result<std::unique_ptr<Engine>>
    create(std::shared_ptr<const Model> model, const EngineOptions& options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    [[nodiscard]] const Model& model() const noexcept;
    [[nodiscard]] const ModelInfo& info() const noexcept;
    [[nodiscard]] const Tokenizer& tokenizer() const noexcept;
    [[nodiscard]] std::int32_t n_ctx() const noexcept;
    /// The backend in use, e.g. "cpu (avx512, 2 threads)".
    [[nodiscard]] std::string backend_description() const;

    /// A new, empty sequence (errc::invalid_argument when the id is in use).
    [[nodiscard]] base::Result<void> add_sequence(SeqId seq);
    /// Frees a sequence's KV blocks; false when it does not exist.
    bool remove_sequence(SeqId seq);
    /// `dst` (new) shares the first `n_tokens` positions of `src` (copy-on-write).
    [[nodiscard]] base::Result<void> fork_sequence(SeqId src, SeqId dst, std::int32_t n_tokens);
    /// Forgets positions >= n_tokens of `seq`.
    [[nodiscard]] base::Result<void> truncate_sequence(SeqId seq, std::int32_t n_tokens);
    /// Positions cached for `seq` (errc::invalid_argument when unknown).
    [[nodiscard]] base::Result<std::int32_t> sequence_length(SeqId seq) const;
    [[nodiscard]] KvStats kv_stats() const;

    /// Runs one batched step (see the header comment). Entries name distinct sequences.
    [[nodiscard]] base::Result<StepOutput> step(std::span<const BatchEntry> batch);

    struct Impl;
    /// Engine internals for the layers built on top inside the module (prefix cache).
    [[nodiscard]] Impl& impl() noexcept { return *impl_; }

private:
    explicit Engine(std::unique_ptr<Impl> impl) noexcept;
    std::unique_ptr<Impl> impl_;
};

} // namespace agentd::inference
