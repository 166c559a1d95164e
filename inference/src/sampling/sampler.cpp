#include "agentd/base/check.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/sampling.h"

#include "sampling/fast_exp.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace agentd::inference {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Tokens more than this many nats (after temperature) below the best one weigh under e^-30
// each (below 2e-8 of the mass in total for a 150k vocabulary); skipping them keeps the random
// path from exponentiating the whole vocabulary.
constexpr float kPruneNats = 30.0f;
constexpr int kBuckets = 4096;
// top_k up to this size is selected with a heap during the scan; larger ones by nth_element.
constexpr std::size_t kHeapTopK = 1024;

std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

base::Error invalid(const std::string& what) {
    return base::Error(errc::invalid_argument, "invalid sampling parameter: " + what);
}

bool in_range(float v, float lo, float hi) {
    return std::isfinite(v) && v >= lo && v <= hi;
}

// Calls f(id) for every token the mask allows (every token without a mask), in id order.
template <class F>
void for_each_allowed(std::size_t n, TokenBitmaskView mask, F&& f) {
    if (mask.empty()) {
        for (std::size_t i = 0; i < n; ++i) {
            f(i);
        }
        return;
    }
    for (std::size_t w = 0; w < mask.size() && w * 32 < n; ++w) {
        std::uint32_t bits = mask[w];
        while (bits != 0) {
            std::size_t i = w * 32 + static_cast<std::size_t>(std::countr_zero(bits));
            if (i >= n) {
                return;
            }
            f(i);
            bits &= bits - 1;
        }
    }
}

} // namespace

base::Result<Sampler> Sampler::create(const SamplingParams& p, std::int32_t n_vocab) {
    if (n_vocab <= 0) {
        return invalid("the vocabulary is empty");
    }
    if (!in_range(p.temperature, 0.0f, 100.0f)) {
        return invalid("temperature must be in [0, 100]");
    }
    if (p.top_k < 0) {
        return invalid("top_k must be >= 0");
    }
    if (!in_range(p.top_p, 0.0f, 1.0f) || p.top_p == 0.0f) {
        return invalid("top_p must be in (0, 1]");
    }
    if (!in_range(p.min_p, 0.0f, 1.0f) || p.min_p >= 1.0f) {
        return invalid("min_p must be in [0, 1)");
    }
    if (!in_range(p.repetition_penalty, 0.0f, 10.0f) || p.repetition_penalty == 0.0f) {
        return invalid("repetition_penalty must be in (0, 10]");
    }
    if (!in_range(p.presence_penalty, -2.0f, 2.0f)) {
        return invalid("presence_penalty must be in [-2, 2]");
    }
    if (!in_range(p.frequency_penalty, -2.0f, 2.0f)) {
        return invalid("frequency_penalty must be in [-2, 2]");
    }
    if (p.penalty_last_n < -1) {
        return invalid("penalty_last_n must be -1, 0 or positive");
    }
    if (p.top_logprobs < 0 || p.top_logprobs > 20) {
        return invalid("top_logprobs must be in [0, 20]");
    }
    for (const auto& [id, bias] : p.logit_bias) {
        if (id < 0 || id >= n_vocab) {
            return invalid("logit_bias token " + std::to_string(id) + " is not in the vocabulary");
        }
        if (!in_range(bias, -100.0f, 100.0f)) {
            return invalid("logit_bias values must be in [-100, 100]");
        }
    }
    return Sampler(p, n_vocab);
}

Sampler::Sampler(const SamplingParams& params, std::int32_t n_vocab)
    : params_(params), n_vocab_(n_vocab) {
    std::uint64_t s = params.seed;
    for (auto& word : rng_) {
        word = splitmix64(s);
    }
    override_.assign(static_cast<std::size_t>(n_vocab), kNoOverride);
}

Sampler::Sampler(Sampler&&) noexcept = default;
Sampler& Sampler::operator=(Sampler&&) noexcept = default;
Sampler::~Sampler() = default;

double Sampler::next_uniform() {
    // xoshiro256**
    std::uint64_t result = rotl(rng_[1] * 5, 7) * 9;
    std::uint64_t t = rng_[1] << 17;
    rng_[2] ^= rng_[0];
    rng_[3] ^= rng_[1];
    rng_[1] ^= rng_[2];
    rng_[0] ^= rng_[3];
    rng_[2] ^= t;
    rng_[3] = rotl(rng_[3], 45);
    return static_cast<double>(result >> 11) * 0x1.0p-53;
}

void Sampler::accept(std::int32_t token) {
    bool neutral = params_.repetition_penalty == 1.0f && params_.presence_penalty == 0.0f &&
                   params_.frequency_penalty == 0.0f;
    if (neutral || params_.penalty_last_n == 0 || token < 0 || token >= n_vocab_) {
        return;
    }
    ++counts_[token];
    if (params_.penalty_last_n > 0) {
        window_.push_back(token);
        if (window_.size() > static_cast<std::size_t>(params_.penalty_last_n)) {
            auto it = counts_.find(window_.front());
            if (--it->second == 0) {
                counts_.erase(it);
            }
            window_.pop_front();
        }
    }
}

// Bias and penalties touch few tokens: they are kept as sparse overrides of the raw logits
// instead of copying the vocabulary every step.
void Sampler::set_overrides(std::span<const float> logits) {
    for (std::int32_t id : overridden_) {
        override_[static_cast<std::size_t>(id)] = kNoOverride;
    }
    overridden_.clear();
    auto value = [&](std::int32_t id) -> float& {
        float& v = override_[static_cast<std::size_t>(id)];
        if (v == kNoOverride) {
            v = logits[static_cast<std::size_t>(id)];
            overridden_.push_back(id);
        }
        return v;
    };
    for (const auto& [id, bias] : params_.logit_bias) {
        value(id) += bias;
    }
    const float rp = params_.repetition_penalty;
    for (const auto& [id, count] : counts_) {
        float& l = value(id);
        if (rp != 1.0f) {
            l = l > 0 ? l / rp : l * rp;
        }
        l -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
        if (l == kNoOverride) {
            l = std::nextafter(l, 0.0f); // keep the sentinel unambiguous
        }
    }
}

std::int32_t Sampler::pick_greedy(std::span<const float> logits, TokenBitmaskView allowed) const {
    std::int32_t best = -1;
    float best_logit = kNegInf;
    if (allowed.empty() && overridden_.empty()) {
        for (std::size_t i = 0; i < logits.size(); ++i) {
            if (logits[i] > best_logit) {
                best_logit = logits[i];
                best = static_cast<std::int32_t>(i);
            }
        }
        return best;
    }
    for_each_allowed(logits.size(), allowed, [&](std::size_t i) {
        float v = override_[i] != kNoOverride ? override_[i] : logits[i];
        if (v > best_logit) {
            best_logit = v;
            best = static_cast<std::int32_t>(i);
        }
    });
    return best;
}

std::int32_t Sampler::pick_random(std::span<const float> logits, TokenBitmaskView allowed) {
    const float t = params_.temperature;
    float floor_nats = -kPruneNats;
    if (params_.min_p > 0.0f) {
        // min-p keeps p >= min_p * p_max: a cut relative to the best token, the same before or
        // after top-k/top-p since those keep the best token.
        floor_nats = std::max(floor_nats, std::log(params_.min_p));
    }
    const float window = -floor_nats * t; // in raw logit units
    cand_id_.clear();
    cand_z_.clear();
    float max_logit = kNegInf;
    const auto top_k = static_cast<std::size_t>(params_.top_k);
    if (top_k > 0 && top_k <= kHeapTopK) {
        // Small top-k: one pass keeping the k best in a heap whose top is the worst kept.
        heap_.clear();
        auto better = [](const std::pair<float, std::int32_t>& a,
                         const std::pair<float, std::int32_t>& b) {
            return a.first > b.first || (a.first == b.first && a.second < b.second);
        };
        for_each_allowed(logits.size(), allowed, [&](std::size_t i) {
            float v = override_[i] != kNoOverride ? override_[i] : logits[i];
            std::pair<float, std::int32_t> c{v, static_cast<std::int32_t>(i)};
            if (heap_.size() < top_k) {
                heap_.push_back(c);
                std::push_heap(heap_.begin(), heap_.end(), better);
            } else if (better(c, heap_.front())) {
                std::pop_heap(heap_.begin(), heap_.end(), better);
                heap_.back() = c;
                std::push_heap(heap_.begin(), heap_.end(), better);
            }
        });
        for (const auto& [v, id] : heap_) {
            max_logit = std::max(max_logit, v);
            cand_id_.push_back(id);
            cand_z_.push_back(v);
        }
    } else {
        // One pass: collect tokens within `window` of the running maximum, then drop those
        // below the final cut.
        cand_id_.reserve(logits.size());
        cand_z_.reserve(logits.size());
        auto collect = [&](std::size_t i, float v) {
            if (v >= max_logit - window) {
                max_logit = std::max(max_logit, v);
                cand_id_.push_back(static_cast<std::int32_t>(i));
                cand_z_.push_back(v);
            }
        };
        if (overridden_.empty()) {
            for_each_allowed(logits.size(), allowed, [&](std::size_t i) { collect(i, logits[i]); });
        } else {
            for_each_allowed(logits.size(), allowed, [&](std::size_t i) {
                collect(i, override_[i] != kNoOverride ? override_[i] : logits[i]);
            });
        }
    }
    if (max_logit == kNegInf || std::isnan(max_logit)) {
        return -1;
    }
    const float cut = max_logit - window;
    const float inv_t = 1.0f / t;
    std::size_t kept = 0;
    for (std::size_t k = 0; k < cand_id_.size(); ++k) {
        if (cand_z_[k] >= cut) {
            cand_id_[kept] = cand_id_[k];
            cand_z_[kept] = std::max((cand_z_[k] - max_logit) * inv_t, -kPruneNats);
            ++kept;
        }
    }
    cand_id_.resize(kept);
    cand_z_.resize(kept);
    if (params_.top_k > 0 && static_cast<std::size_t>(params_.top_k) < kept) {
        keep_top_k(static_cast<std::size_t>(params_.top_k));
    }
    cand_p_.resize(cand_z_.size());
    double total = fast_exp_array(cand_z_.data(), cand_p_.data(), cand_z_.size());
    if (params_.top_p < 1.0f && cand_id_.size() > 1) {
        total = keep_nucleus(total);
    }
    double u = next_uniform() * total;
    for (std::size_t k = 0; k < cand_p_.size(); ++k) {
        u -= cand_p_[k];
        if (u < 0) {
            return cand_id_[k];
        }
    }
    return cand_id_.back(); // rounding left u marginally above zero
}

void Sampler::reorder(std::size_t count) {
    std::vector<std::int32_t> ids(count);
    std::vector<float> zs(count);
    for (std::size_t k = 0; k < count; ++k) {
        ids[k] = cand_id_[static_cast<std::size_t>(order_[k])];
        zs[k] = cand_z_[static_cast<std::size_t>(order_[k])];
    }
    cand_id_ = std::move(ids);
    cand_z_ = std::move(zs);
}

void Sampler::keep_top_k(std::size_t k) {
    order_.resize(cand_id_.size());
    for (std::size_t i = 0; i < order_.size(); ++i) {
        order_[i] = static_cast<std::int32_t>(i);
    }
    auto better = [&](std::int32_t a, std::int32_t b) {
        float za = cand_z_[static_cast<std::size_t>(a)];
        float zb = cand_z_[static_cast<std::size_t>(b)];
        return za > zb || (za == zb && cand_id_[static_cast<std::size_t>(a)] <
                                           cand_id_[static_cast<std::size_t>(b)]);
    };
    std::nth_element(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(k), order_.end(),
                     better);
    reorder(k);
}

// Keeps the smallest set of most likely candidates whose mass reaches top_p, exactly as a full
// sort would, without sorting: a histogram of the mass over fine buckets of the tempered logit
// finds the bucket where the nucleus ends, and only that bucket is sorted.
double Sampler::keep_nucleus(double total) {
    constexpr float kScale = static_cast<float>(kBuckets - 1) / kPruneNats;
    auto bucket = [&](std::size_t k) {
        return std::min(kBuckets - 1, static_cast<int>(-cand_z_[k] * kScale));
    };
    bucket_mass_.assign(kBuckets, 0.0);
    for (std::size_t k = 0; k < cand_z_.size(); ++k) {
        bucket_mass_[static_cast<std::size_t>(bucket(k))] += cand_p_[k];
    }
    const double target = static_cast<double>(params_.top_p) * total;
    double before = 0;
    int edge = 0;
    for (; edge < kBuckets - 1; ++edge) {
        if (before + bucket_mass_[static_cast<std::size_t>(edge)] >= target) {
            break;
        }
        before += bucket_mass_[static_cast<std::size_t>(edge)];
    }
    // Above-the-edge candidates in any order, then the edge bucket sorted best first.
    order_.clear();
    for (std::size_t k = 0; k < cand_z_.size(); ++k) {
        if (bucket(k) < edge) {
            order_.push_back(static_cast<std::int32_t>(k));
        }
    }
    std::size_t edge_begin = order_.size();
    for (std::size_t k = 0; k < cand_z_.size(); ++k) {
        if (bucket(k) == edge) {
            order_.push_back(static_cast<std::int32_t>(k));
        }
    }
    std::sort(order_.begin() + static_cast<std::ptrdiff_t>(edge_begin), order_.end(),
              [&](std::int32_t a, std::int32_t b) {
                  float za = cand_z_[static_cast<std::size_t>(a)];
                  float zb = cand_z_[static_cast<std::size_t>(b)];
                  return za > zb || (za == zb && cand_id_[static_cast<std::size_t>(a)] <
                                                     cand_id_[static_cast<std::size_t>(b)]);
              });
    double cum = before;
    std::size_t end = edge_begin;
    while (end < order_.size() && cum < target) {
        cum += cand_p_[static_cast<std::size_t>(order_[end])];
        ++end;
    }
    end = std::max<std::size_t>(end, 1);
    std::vector<float> ps(end);
    for (std::size_t k = 0; k < end; ++k) {
        ps[k] = cand_p_[static_cast<std::size_t>(order_[k])];
    }
    reorder(end);
    cand_p_ = std::move(ps);
    double kept_total = 0;
    for (float p : cand_p_) {
        kept_total += p;
    }
    return kept_total;
}

void Sampler::fill_logprobs(std::span<const float> logits, SampledToken& out) const {
    float max_logit = kNegInf;
    for (float l : logits) {
        max_logit = std::max(max_logit, l);
    }
    const double log_z = static_cast<double>(max_logit) + std::log(sum_exp(logits, max_logit));
    out.logprob = static_cast<float>(
        static_cast<double>(logits[static_cast<std::size_t>(out.token)]) - log_z);
    if (params_.top_logprobs == 0) {
        return;
    }
    // The n best by a single pass with a small sorted buffer.
    const auto n = static_cast<std::size_t>(params_.top_logprobs);
    std::vector<TokenLogprob> best;
    best.reserve(n + 1);
    for (std::size_t i = 0; i < logits.size(); ++i) {
        float l = logits[i];
        if (best.size() == n && l <= best.back().logprob) {
            continue;
        }
        TokenLogprob entry{static_cast<std::int32_t>(i), l};
        auto pos =
            std::upper_bound(best.begin(), best.end(), entry,
                             [](const auto& a, const auto& b) { return a.logprob > b.logprob; });
        best.insert(pos, entry);
        if (best.size() > n) {
            best.pop_back();
        }
    }
    for (auto& entry : best) {
        entry.logprob = static_cast<float>(static_cast<double>(entry.logprob) - log_z);
    }
    out.top = std::move(best);
}

SampledToken Sampler::sample(std::span<const float> logits, TokenBitmaskView allowed) {
    AGENTD_CHECK(logits.size() == override_.size(),
                 "logits must have one entry per vocabulary token (engine bug)");
    set_overrides(logits);
    SampledToken out;
    bool greedy = params_.temperature == 0.0f || params_.top_k == 1;
    out.token = greedy ? pick_greedy(logits, allowed) : pick_random(logits, allowed);
    if (out.token < 0) {
        // Everything masked (or non-finite): fall back to the unmasked choice rather than
        // emitting nothing; the grammar layer never produces an empty mask.
        out.token = greedy ? pick_greedy(logits, {}) : pick_random(logits, {});
        if (out.token < 0) {
            out.token = 0;
        }
    }
    if (params_.logprobs || params_.top_logprobs > 0) {
        fill_logprobs(logits, out);
    }
    return out;
}

std::int32_t Sampler::argmax(std::span<const float> logits) noexcept {
    std::int32_t best = 0;
    for (std::size_t i = 1; i < logits.size(); ++i) {
        if (logits[i] > logits[static_cast<std::size_t>(best)]) {
            best = static_cast<std::int32_t>(i);
        }
    }
    return best;
}

std::uint64_t random_seed() {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

} // namespace agentd::inference
