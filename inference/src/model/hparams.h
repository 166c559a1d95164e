#pragma once
/// Model hyper-parameters read from GGUF metadata (`general.architecture` and the
/// `<arch>.*` keys llama.cpp writes), for the architectures the forward pass implements.
///
/// Pure value type. `read_hparams` returns errc::unsupported for an architecture or feature we
/// do not implement (naming it) and errc::invalid_model for missing or inconsistent keys.

#include "agentd/base/result.h"

#include "backend/backend.h"

#include <cstdint>
#include <string>
#include <vector>

namespace agentd::inference {
class GgufFile;
}

namespace agentd::inference::model {

enum class Arch {
    llama, ///< Llama 2/3.x, Mistral, SmolLM, TinyLlama: normal RoPE
    qwen2, ///< NeoX RoPE, biases on q/k/v
    qwen3, ///< NeoX RoPE, RMSNorm of each q and k head
};

struct HParams {
    Arch arch = Arch::llama;
    std::string arch_name;
    std::int32_t n_vocab = 0;
    std::int32_t n_ctx_train = 0;
    std::int32_t n_embd = 0;
    std::int32_t n_layer = 0;
    std::int32_t n_head = 0;
    std::int32_t n_head_kv = 0;
    std::int32_t head_dim = 0;
    std::int32_t n_ff = 0;
    float norm_eps = 1e-5f;
    backend::RopeParams rope;        ///< freq_factors left empty; see rope_factors
    std::vector<float> rope_factors; ///< llama3-style per-pair divisors (metadata-derived)
    bool attn_bias = false;
    bool qk_norm = false;
};

/// The hyper-parameters of `file`; n_vocab is taken from the token embedding when the
/// metadata has no vocab_size.
[[nodiscard]] base::Result<HParams> read_hparams(const GgufFile& file);

[[nodiscard]] const char* arch_name(Arch arch) noexcept;

} // namespace agentd::inference::model
