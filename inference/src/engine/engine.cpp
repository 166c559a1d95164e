#include "agentd/inference/engine.h"

#include "agentd/base/check.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/gguf.h"

#include "engine/engine_impl.h"
#include "model/model_impl.h"

#include <algorithm>

namespace agentd::inference {

Engine::Engine(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Engine::~Engine() = default;

base::Result<std::unique_ptr<Engine>> Engine::create(std::shared_ptr<const Model> model,
                                                     const EngineOptions& options) {
    if (!model) {
        return base::fail(errc::invalid_argument, "no model");
    }
    const model::HParams& hp = model->impl().hp;
    if (options.kv_block_size <= 0 || options.kv_block_size % 16 != 0 ||
        options.kv_block_size > 1024) {
        return base::fail(errc::invalid_argument,
                          "kv_block_size must be a positive multiple of 16");
    }
    if (options.kv_type != TensorType::f32 && options.kv_type != TensorType::f16) {
        return base::fail(errc::invalid_argument, "kv_type must be f32 or f16");
    }
    if (options.max_batch_tokens <= 0 || options.max_batch_tokens > 65536 || options.n_ctx < 0 ||
        options.kv_tokens < 0 || options.device < 0) {
        return base::fail(errc::invalid_argument, "batch, context and KV sizes must be positive");
    }
    if (!(options.kv_memory_fraction >= 0.0f && options.kv_memory_fraction <= 0.99f)) {
        return base::fail(errc::invalid_argument, "kv_memory_fraction must be in [0, 0.99]");
    }
    auto impl = std::make_unique<Impl>();
    impl->model = std::move(model);
    impl->options = options;
    impl->n_ctx = options.n_ctx > 0 ? options.n_ctx : hp.n_ctx_train;
    if (impl->n_ctx > (1 << 24)) {
        return base::fail(errc::invalid_argument, "context length too large");
    }
    auto be = backend::make_backend(options.backend,
                                    backend::BackendOptions{options.n_threads, options.device});
    if (!be) {
        return be.error();
    }
    impl->backend = std::move(*be);
    const GgufFile& file = impl->model->gguf();
    auto image = impl->backend->import_host(file.bytes().data(), file.bytes().size());
    if (!image) {
        return image.error();
    }
    impl->weights = std::move(*image);
    auto weights =
        model::bind_weights(impl->model->impl().refs,
                            static_cast<std::uint8_t*>(impl->weights->data()), *impl->backend);
    if (!weights) {
        return weights.error();
    }
    // Default capacity: one full context, at most 16k tokens (the storage is committed lazily,
    // but a 128k-token default would reserve tens of GB of address space for large models).
    std::int64_t kv_tokens =
        options.kv_tokens > 0 ? options.kv_tokens : std::min<std::int64_t>(impl->n_ctx, 16384);
    if (options.kv_tokens == 0 && options.kv_memory_fraction > 0.0f) {
        // A share of what is free once the weights are placed, less the forward scratch.
        const double free_bytes = static_cast<double>(impl->backend->memory_info().free_bytes);
        const double budget =
            free_bytes * options.kv_memory_fraction -
            static_cast<double>(model::Forward::scratch_bytes(hp, options.max_batch_tokens));
        const double per_token = 2.0 * hp.n_layer * hp.n_head_kv * hp.head_dim *
                                 (options.kv_type == TensorType::f16 ? 2.0 : 4.0);
        kv_tokens = budget > 0 ? static_cast<std::int64_t>(std::min(budget / per_token, 1e12)) : 0;
        kv_tokens =
            std::min<std::int64_t>(kv_tokens, std::int64_t{1 << 24} * options.kv_block_size);
        kv_tokens -= kv_tokens % options.kv_block_size;
        if (kv_tokens <= 0) {
            return base::fail(errc::device_oom,
                              "kv_memory_fraction leaves no memory for the KV cache");
        }
    }
    const std::int64_t n_blocks = (kv_tokens + options.kv_block_size - 1) / options.kv_block_size;
    if (n_blocks > (1 << 24)) {
        return base::fail(errc::invalid_argument, "KV cache too large");
    }
    backend::KvSpec spec;
    spec.n_layers = hp.n_layer;
    spec.n_blocks = static_cast<int>(n_blocks);
    spec.block_size = options.kv_block_size;
    spec.n_kv_heads = hp.n_head_kv;
    spec.head_dim = hp.head_dim;
    spec.type = options.kv_type;
    auto kv = impl->backend->alloc_kv(spec);
    if (!kv) {
        return kv.error();
    }
    impl->kv_storage = std::move(*kv);
    impl->kv = std::make_unique<kv::KvCache>(spec.n_blocks, spec.block_size, impl->n_ctx);
    auto fwd = model::Forward::create(hp, std::move(*weights), *impl->backend, *impl->kv_storage,
                                      options.max_batch_tokens);
    if (!fwd) {
        return fwd.error();
    }
    impl->forward = std::move(*fwd);
    backend::WorkspaceHint hint;
    hint.max_tokens = options.max_batch_tokens;
    hint.max_k = std::max<std::int64_t>(
        {hp.n_embd, hp.n_ff, static_cast<std::int64_t>(hp.n_head) * hp.head_dim});
    hint.max_n = std::max<std::int64_t>(
        {hp.n_vocab, hp.n_ff, hp.n_embd, static_cast<std::int64_t>(hp.n_head) * hp.head_dim});
    hint.n_head = hp.n_head;
    hint.n_kv_head = hp.n_head_kv;
    hint.head_dim = hp.head_dim;
    hint.rope_dims = hp.rope.n_dims;
    hint.n_ctx = impl->n_ctx;
    hint.kv_block_size = options.kv_block_size;
    if (auto r = impl->backend->reserve_workspace(hint); !r) {
        return r.error();
    }
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const Model& Engine::model() const noexcept {
    return *impl_->model;
}
const ModelInfo& Engine::info() const noexcept {
    return impl_->model->info();
}
const Tokenizer& Engine::tokenizer() const noexcept {
    return impl_->model->tokenizer();
}
std::int32_t Engine::n_ctx() const noexcept {
    return impl_->n_ctx;
}

std::string Engine::backend_description() const {
    return std::string(impl_->backend->name()) + " (" + impl_->backend->detail() + ")";
}

base::Result<void> Engine::add_sequence(SeqId seq) {
    return impl_->kv->add_sequence(seq);
}

bool Engine::remove_sequence(SeqId seq) {
    return impl_->kv->remove_sequence(seq);
}

base::Result<void> Engine::fork_sequence(SeqId src, SeqId dst, std::int32_t n_tokens) {
    return impl_->kv->fork(src, dst, n_tokens);
}

base::Result<void> Engine::truncate_sequence(SeqId seq, std::int32_t n_tokens) {
    return impl_->kv->truncate(seq, n_tokens);
}

base::Result<std::int32_t> Engine::sequence_length(SeqId seq) const {
    if (!impl_->kv->has(seq)) {
        return base::fail(errc::invalid_argument, "unknown sequence " + std::to_string(seq));
    }
    return impl_->kv->length(seq);
}

KvStats Engine::kv_stats() const {
    KvStats s;
    s.total_blocks = impl_->kv->total_blocks();
    s.free_blocks = impl_->kv->free_blocks();
    s.block_size = impl_->kv->block_size();
    s.bytes = impl_->kv_storage->bytes();
    s.sequences = impl_->kv->n_sequences();
    return s;
}

} // namespace agentd::inference
