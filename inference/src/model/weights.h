#pragma once
/// The model's tensors by role, checked against the hyper-parameters, and bound to a backend.
///
/// `find_weights` records each tensor's place in the GGUF file (validated shape and type);
/// `bind_weights` turns them into backend tensors for one backend. Value types; errors as
/// Model::load (errc::invalid_model naming the tensor, errc::unsupported for a type the backend
/// has no kernel for).

#include "agentd/base/result.h"

#include "backend/backend.h"
#include "model/hparams.h"

#include <cstdint>
#include <string>
#include <vector>

namespace agentd::inference {
class GgufFile;
}

namespace agentd::inference::model {

/// A tensor's location in the file (offset from the start of the image) and shape.
struct TensorRef {
    std::uint64_t offset = 0;
    TensorType type = TensorType::f32;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    bool present = false;
};

struct LayerRefs {
    TensorRef attn_norm, wq, wk, wv, wo, bq, bk, bv, bo, q_norm, k_norm;
    TensorRef ffn_norm, w_gate, w_up, w_down;
};

struct WeightRefs {
    TensorRef tok_embd, output_norm, output; ///< output absent when the embeddings are tied
    std::vector<LayerRefs> layers;
    std::vector<float> rope_factors; ///< from rope_freqs.weight (overrides metadata-derived)
};

[[nodiscard]] base::Result<WeightRefs> find_weights(const GgufFile& file, const HParams& hp);

/// Backend tensors; absent ones have data == nullptr.
struct LayerWeights {
    backend::Tensor attn_norm, wq, wk, wv, wo, bq, bk, bv, bo, q_norm, k_norm;
    backend::Tensor ffn_norm, w_gate, w_up, w_down;
};

struct Weights {
    backend::Tensor tok_embd, output_norm, output; ///< output == tok_embd when tied
    std::vector<LayerWeights> layers;
};

/// Tensors for a backend that holds the file image at `image` (its address for `offset` 0).
/// Fails with errc::unsupported when the backend cannot multiply a weight type.
[[nodiscard]] base::Result<Weights> bind_weights(const WeightRefs& refs, std::uint8_t* image,
                                                 const backend::Backend& backend);

} // namespace agentd::inference::model
