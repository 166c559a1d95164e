#pragma once
/// Engine::Impl: the parts of an Engine that layers inside the module (prefix cache, scheduler)
/// may reach; engine thread only.

#include "agentd/inference/engine.h"

#include "backend/backend.h"
#include "kv/kv_cache.h"
#include "model/forward.h"

#include <memory>
#include <vector>

namespace agentd::inference {

struct Engine::Impl {
    std::shared_ptr<const Model> model;
    EngineOptions options;
    std::int32_t n_ctx = 0;
    std::unique_ptr<backend::Backend> backend;
    backend::BufferPtr weights; ///< the model file image as the backend sees it
    backend::KvStoragePtr kv_storage;
    std::unique_ptr<kv::KvCache> kv;
    std::unique_ptr<model::Forward> forward;

    // Step outputs (host) and per-pass scratch, reused between steps.
    std::vector<float> logits;
    std::vector<float> embeddings;
    std::vector<OutputRange> logit_rows;
    std::vector<OutputRange> embedding_rows;
    std::vector<float> pass_logits;
    std::vector<float> pass_hidden;
    std::vector<double> pool_sums;
};

} // namespace agentd::inference
