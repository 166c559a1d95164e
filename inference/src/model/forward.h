#pragma once
/// The llama-family forward pass, written once against backend::Backend (STYLE.md 2.7).
///
/// One `run` processes a batch of tokens from any number of sequences (the StepLayout says which
/// rows belong to which sequence, their positions and their KV slots), writes every token's K/V
/// to the paged cache, and returns the final-norm hidden states or the logits of the requested
/// output rows. Architectures: llama (normal RoPE), qwen2 (q/k/v biases, NeoX RoPE), qwen3
/// (per-head q/k RMSNorm, NeoX RoPE).
///
/// Ownership: borrows the backend and the KV storage (both must outlive it) and owns its scratch
/// buffer (sized for `max_tokens` rows). Thread affinity: engine thread only. Errors: create
/// fails with errc::device_oom when scratch memory cannot be allocated; shape mismatches in run
/// are bugs (the engine validates batches).

#include "agentd/base/result.h"

#include "backend/backend.h"
#include "model/hparams.h"
#include "model/weights.h"

#include <array>
#include <memory>
#include <span>

namespace agentd::inference::model {

class Forward {
public:
    [[nodiscard]] static base::Result<std::unique_ptr<Forward>>
    create(const HParams& hp, Weights weights, backend::Backend& backend, backend::KvStorage& kv,
           int max_tokens);

    [[nodiscard]] int max_tokens() const noexcept { return max_tokens_; }

    /// Bytes of backend memory `create` allocates for `max_tokens` rows (the engine sizes a KV
    /// pool given as a memory fraction with it).
    [[nodiscard]] static std::size_t scratch_bytes(const HParams& hp, int max_tokens);

    /// Runs the batch described by `layout` (at most max_tokens rows). For each of
    /// layout.output_rows in order, writes n_vocab logits to `logits` and n_embd final-norm
    /// hidden values to `hidden`; an empty span skips that kind of output.
    void run(const backend::StepLayout& layout, std::span<float> logits, std::span<float> hidden);

private:
    Forward(const HParams& hp, Weights weights, backend::Backend& backend, backend::KvStorage& kv,
            int max_tokens);
    void layer(int il, std::int64_t n_tok, std::int64_t n_out);

    /// A scratch tensor and its columns (every one has max_tokens rows).
    struct Shape {
        backend::Tensor Forward::*t;
        std::int64_t cols;
    };
    static std::array<Shape, 11> scratch_shapes(const HParams& hp);

    HParams hp_;
    Weights w_;
    backend::Backend& be_;
    backend::KvStorage& kv_;
    int max_tokens_;
    backend::BufferPtr scratch_;
    backend::RopeParams rope_;

    // Scratch tensors for max_tokens rows (views are narrowed per step).
    backend::Tensor x_, h_, q_, k_, v_, attn_, gate_, up_, x_sel_, attn_sel_, logits_;
};

} // namespace agentd::inference::model
