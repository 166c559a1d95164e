#pragma once
/// Token sampling for one sequence: logit bias, repetition/presence/frequency penalties over a
/// window, grammar mask, temperature, top-k, top-p, min-p, greedy at temperature 0, a seeded
/// RNG per sequence, and log-probabilities.
///
/// Order of the transforms (documented in docs/CHAT.md): logit_bias, penalties, grammar mask,
/// then — unless greedy — temperature, top-k, top-p (nucleus, on the tempered distribution),
/// min-p (relative to the most likely remaining token), and one uniform draw. Greedy
/// (temperature 0) takes the argmax after bias, penalties and mask; ties go to the lower id.
///
/// Log-probabilities are those of the model's own distribution: log-softmax of the raw logits
/// over the full vocabulary, before bias, penalties, mask and temperature (what OpenAI reports).
///
/// Determinism: the RNG (xoshiro256**, seeded through splitmix64) belongs to the Sampler, i.e.
/// to one request, and advances exactly once per sampled token; so the same seed, logits and
/// history give the same tokens whatever else is batched alongside.
///
/// Ownership: a Sampler owns its scratch buffers (no allocation per step once warmed up).
/// Thread affinity: one thread at a time (the engine thread). Errors: create() validates the
/// parameters (errc::invalid_argument naming the field); sample() cannot fail for logits of
/// the vocabulary size it was created with (a mismatch is a bug and aborts).

#include "agentd/base/result.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace agentd::inference {

struct SamplingParams {
    float temperature = 1.0f;        ///< 0: greedy; valid range [0, 100]
    std::int32_t top_k = 0;          ///< 0: off
    float top_p = 1.0f;              ///< (0, 1]; 1: off
    float min_p = 0.0f;              ///< [0, 1); 0: off
    float repetition_penalty = 1.0f; ///< CTRL/llama.cpp style, (0, 10]; 1: off
    float presence_penalty = 0.0f;   ///< OpenAI: subtract once per token present, [-2, 2]
    float frequency_penalty = 0.0f;  ///< OpenAI: subtract per occurrence, [-2, 2]
    /// How many of the most recent accepted tokens the penalties look at: -1 all (OpenAI's
    /// semantics over generated tokens), 0 none, n the last n (llama.cpp's penalty_last_n).
    std::int32_t penalty_last_n = -1;
    /// Added to the raw logits (OpenAI logit_bias, [-100, 100]; -100 bans a token).
    std::vector<std::pair<std::int32_t, float>> logit_bias;
    std::uint64_t seed = 0;
    bool logprobs = false;         ///< report the chosen token's log-probability
    std::int32_t top_logprobs = 0; ///< also report this many most likely tokens, [0, 20]
};

/// A bitmask over the vocabulary (bit i set: token i allowed), as produced by the grammar
/// matcher. 32 tokens per word.
using TokenBitmaskView = std::span<const std::uint32_t>;

struct TokenLogprob {
    std::int32_t token = -1;
    float logprob = 0.0f;
};

struct SampledToken {
    std::int32_t token = -1;
    float logprob = 0.0f;          ///< model log-probability of `token` (when requested)
    std::vector<TokenLogprob> top; ///< most likely tokens, best first (when requested)
};

class Sampler {
public:
    /// Validates `params` against the vocabulary. Errors: errc::invalid_argument.
    [[nodiscard]] static base::Result<Sampler> create(const SamplingParams& params,
                                                      std::int32_t n_vocab);

    Sampler(Sampler&&) noexcept;
    Sampler& operator=(Sampler&&) noexcept;
    ~Sampler();

    /// Records a token of the sequence for the penalties (every generated token; prompt tokens
    /// too when the caller wants llama.cpp's semantics).
    void accept(std::int32_t token);

    /// Picks the next token. `logits` must have n_vocab entries; `allowed` (optional) has
    /// ceil(n_vocab / 32) words. If the mask allows no token at all, the unmasked choice is
    /// returned (the grammar layer guarantees a non-empty mask; this keeps a bug from hanging).
    [[nodiscard]] SampledToken sample(std::span<const float> logits, TokenBitmaskView allowed = {});

    /// The index of the largest logit (lowest index on ties).
    [[nodiscard]] static std::int32_t argmax(std::span<const float> logits) noexcept;

    [[nodiscard]] const SamplingParams& params() const noexcept { return params_; }
    [[nodiscard]] std::int32_t n_vocab() const noexcept { return n_vocab_; }

private:
    Sampler(const SamplingParams& params, std::int32_t n_vocab);

    // Marks "no override" in override_: a value no bias or penalty computation produces.
    static constexpr float kNoOverride = -3.4028234e38f;

    void set_overrides(std::span<const float> logits);
    [[nodiscard]] std::int32_t pick_greedy(std::span<const float> logits,
                                           TokenBitmaskView allowed) const;
    std::int32_t pick_random(std::span<const float> logits, TokenBitmaskView allowed);
    void keep_top_k(std::size_t k);
    double keep_nucleus(double total);
    void reorder(std::size_t count);
    void fill_logprobs(std::span<const float> logits, SampledToken& out) const;
    double next_uniform();

    SamplingParams params_;
    std::int32_t n_vocab_;
    std::uint64_t rng_[4];
    std::deque<std::int32_t> window_;
    std::unordered_map<std::int32_t, std::int32_t> counts_;
    std::vector<float> override_;          // biased/penalised logits, kNoOverride elsewhere
    std::vector<std::int32_t> overridden_; // ids with an override this step
    std::vector<std::int32_t> cand_id_;    // random path candidates (structure of arrays)
    std::vector<float> cand_z_;            // tempered logit relative to the best (<= 0)
    std::vector<float> cand_p_;            // exp(z)
    std::vector<std::int32_t> order_;      // scratch permutation
    std::vector<double> bucket_mass_;      // scratch for top-p
    std::vector<std::pair<float, std::int32_t>> heap_; // scratch for small top-k
};

/// A seed for requests that did not ask for one (from std::random_device).
[[nodiscard]] std::uint64_t random_seed();

/// Stop strings over the detokenized stream, including matches that span token boundaries.
///
/// feed() returns the text that is safe to show now: it holds back any tail that could still
/// grow into a stop string, and (optionally) an incomplete UTF-8 sequence at the end. When a
/// stop string appears, the text before it is returned, `stopped` is set, and the stop string
/// and everything after it are dropped (OpenAI semantics). finish() returns what is held back
/// once the sequence ends without a stop.
///
/// Thread affinity: one thread at a time. No errors.
class StopMatcher {
public:
    explicit StopMatcher(std::vector<std::string> stops, bool hold_partial_utf8 = true);

    struct Output {
        std::string text;
        bool stopped = false;
        std::string matched; ///< the stop string that ended the sequence
    };

    [[nodiscard]] Output feed(std::string_view piece);
    [[nodiscard]] std::string finish();
    [[nodiscard]] bool stopped() const noexcept { return stopped_; }

private:
    std::vector<std::string> stops_;
    bool hold_partial_utf8_;
    std::string pending_;
    bool stopped_ = false;
};

} // namespace agentd::inference
