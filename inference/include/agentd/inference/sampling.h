#pragma once
/// Token sampling basics: greedy (temperature 0), temperature, top-k and top-p with a seeded,
/// platform-independent random stream (same seed, same logits -> same token everywhere).
///
/// The serving layer builds penalties, min-p, logit bias and grammars on top. A Sampler is a
/// value owned by one sequence; not thread-safe. No errors: invalid parameters are clamped
/// (temperature < 0 is greedy, top_k <= 0 or >= n disables it, top_p outside (0, 1) disables it).

#include "agentd/inference/tokenizer.h"

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace agentd::inference {

struct SamplingParams {
    float temperature = 0.0f;
    int top_k = 0;
    float top_p = 1.0f;
    std::uint64_t seed = 0;
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& params);

    /// Picks a token from raw logits (one per vocabulary entry).
    [[nodiscard]] TokenId sample(std::span<const float> logits);

    /// The index of the largest logit (lowest index on ties), as llama.cpp's greedy sampler.
    [[nodiscard]] static TokenId argmax(std::span<const float> logits) noexcept;

private:
    /// Uniform in [0, 1) from the next 24 bits of a splitmix64 stream.
    float next_uniform() noexcept;

    SamplingParams params_;
    std::uint64_t state_;
    std::vector<std::pair<float, TokenId>> candidates_;
};

} // namespace agentd::inference
