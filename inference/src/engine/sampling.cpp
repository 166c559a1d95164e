#include "agentd/inference/sampling.h"

#include <algorithm>
#include <cmath>

namespace agentd::inference {

Sampler::Sampler(const SamplingParams& params) : params_(params), state_(params.seed) {}

TokenId Sampler::argmax(std::span<const float> logits) noexcept {
    TokenId best = 0;
    for (std::size_t i = 1; i < logits.size(); ++i) {
        if (logits[i] > logits[static_cast<std::size_t>(best)]) {
            best = static_cast<TokenId>(i);
        }
    }
    return best;
}

float Sampler::next_uniform() noexcept {
    // splitmix64: fully specified, so a seed gives the same stream on every platform.
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

TokenId Sampler::sample(std::span<const float> logits) {
    if (logits.empty()) {
        return 0;
    }
    if (!(params_.temperature > 0.0f)) {
        return argmax(logits);
    }
    const std::size_t n = logits.size();
    candidates_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        candidates_[i] = {logits[i], static_cast<TokenId>(i)};
    }
    auto by_logit = [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    std::size_t keep = n;
    if (params_.top_k > 0 && static_cast<std::size_t>(params_.top_k) < n) {
        keep = static_cast<std::size_t>(params_.top_k);
        std::partial_sort(candidates_.begin(),
                          candidates_.begin() + static_cast<std::ptrdiff_t>(keep),
                          candidates_.end(), by_logit);
    } else {
        std::sort(candidates_.begin(), candidates_.end(), by_logit);
    }
    // Softmax at the temperature over the kept candidates (sorted, largest first).
    const float max = candidates_[0].first;
    double sum = 0.0;
    for (std::size_t i = 0; i < keep; ++i) {
        candidates_[i].first = std::exp((candidates_[i].first - max) / params_.temperature);
        sum += candidates_[i].first;
    }
    if (params_.top_p > 0.0f && params_.top_p < 1.0f) {
        double cum = 0.0;
        for (std::size_t i = 0; i < keep; ++i) {
            cum += candidates_[i].first / sum;
            if (cum >= params_.top_p) {
                keep = i + 1;
                break;
            }
        }
        sum = 0.0;
        for (std::size_t i = 0; i < keep; ++i) {
            sum += candidates_[i].first;
        }
    }
    const double r = static_cast<double>(next_uniform()) * sum;
    double acc = 0.0;
    for (std::size_t i = 0; i < keep; ++i) {
        acc += candidates_[i].first;
        if (r < acc) {
            return candidates_[i].second;
        }
    }
    return candidates_[keep - 1].second;
}

} // namespace agentd::inference
