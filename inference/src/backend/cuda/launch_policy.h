#pragma once
/// Host-side choices of the CUDA backend that depend only on sizes: which matrix kernel a
/// product uses, how attention work is cut into items and key splits, and which batch sizes
/// share a captured decode graph. Kept apart from the CUDA code so the host tests check them.
///
/// Pure functions; thread-safe.

#include "backend/cuda/device_math.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace agentd::inference::cuda {

/// Quantised products with at most this many token rows use the matrix-vector kernel (weights
/// read once for all rows); larger ones the tensor-core tile kernel.
inline constexpr int kMmvMaxRows = 8;

/// Rows of the tile kernel's output tile (weights x tokens) and its K step.
inline constexpr int kMmqTileRows = 64;
inline constexpr int kMmqTileCols = 64;
inline constexpr int kMmqTileK = 256;

/// Bytes of an ActQ8 buffer for `rows` rows of k and its section offsets.
struct ActQ8Layout {
    std::size_t qs = 0;
    std::size_t d = 0;
    std::size_t sums = 0;
    std::size_t bytes = 0;
};
[[nodiscard]] inline ActQ8Layout act_q8_layout(std::int64_t rows, std::int64_t k, int block) {
    auto align = [](std::size_t v) { return (v + 255) & ~static_cast<std::size_t>(255); };
    ActQ8Layout l;
    const auto r = static_cast<std::size_t>(rows);
    const auto kk = static_cast<std::size_t>(k);
    l.qs = 0;
    l.d = align(r * kk);
    l.sums = align(l.d + r * (kk / static_cast<std::size_t>(block)) * sizeof(float));
    l.bytes = align(l.sums + (block == 256 ? r * (kk / 16) * sizeof(std::int32_t) : 0));
    return l;
}

/// Attention: a "small" item holds all query rows of one sequence and KV head (decode, or a few
/// tokens of a narrow GQA group) and is cut along the keys; a "large" item is a tile of
/// kAttnTileRows rows of a prefill and walks the keys once.
inline constexpr int kAttnSmallRows = 8;
inline constexpr int kAttnTileRows = 16;
inline constexpr int kAttnKeyTile = 32;
inline constexpr int kAttnMaxSplits = 32;
/// Largest head size the attention kernels take (shared-memory tiles are sized by it).
inline constexpr int kAttnMaxHeadDim = 256;

/// Floats of the partials buffer launch_attention_small needs.
[[nodiscard]] inline std::size_t attention_partial_floats(int n_items, int splits, int head_dim) {
    return static_cast<std::size_t>(n_items) * static_cast<std::size_t>(splits) * kAttnSmallRows *
           static_cast<std::size_t>(head_dim + 2);
}

/// One attention work item: rows [row0, row0 + rows) of sequence `seq`'s rows for `kv_head`
/// (rows are token-major: token * group + head within the group).
struct AttnItem {
    std::int32_t seq;
    std::int32_t kv_head;
    std::int32_t row0;
    std::int32_t rows;
};

/// Items of a step: small ones first, then large ones.
struct AttnPlan {
    std::vector<AttnItem> small;
    std::vector<AttnItem> large;
};

/// Cuts each sequence's n_tokens * group rows into items (`seq_tokens[i]` tokens for sequence i).
[[nodiscard]] inline AttnPlan plan_attention(const std::vector<std::int32_t>& seq_tokens,
                                             int n_kv_heads, int group) {
    AttnPlan plan;
    for (std::size_t s = 0; s < seq_tokens.size(); ++s) {
        const std::int32_t rows = seq_tokens[s] * group;
        for (int h = 0; h < n_kv_heads; ++h) {
            if (rows <= kAttnSmallRows) {
                plan.small.push_back({static_cast<std::int32_t>(s), h, 0, rows});
                continue;
            }
            for (std::int32_t r = 0; r < rows; r += kAttnTileRows) {
                const std::int32_t n = rows - r < kAttnTileRows ? rows - r : kAttnTileRows;
                plan.large.push_back({static_cast<std::int32_t>(s), h, r, n});
            }
        }
    }
    return plan;
}

/// Key splits for `n_small` small items on a device with `sm_count` multiprocessors: enough
/// blocks for about two waves, at most kAttnMaxSplits. Independent of the context length, so a
/// decode graph captured once stays valid as the sequences grow.
[[nodiscard]] inline int attention_splits(int n_small, int sm_count) {
    if (n_small <= 0) {
        return 1;
    }
    const int want = (2 * sm_count + n_small - 1) / n_small;
    return want < 1 ? 1 : (want > kAttnMaxSplits ? kAttnMaxSplits : want);
}

/// Batch sizes with their own captured decode graph; a decode step of n tokens runs the graph of
/// the smallest bucket >= n with the extra rows padded (ignored). 0 when n is above them all.
[[nodiscard]] inline int decode_bucket(int n) {
    constexpr int kBuckets[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128};
    for (int b : kBuckets) {
        if (n <= b) {
            return n <= 0 ? 0 : b;
        }
    }
    return 0;
}

/// The per-call constants of the RoPE angle table, computed as the CPU backend computes them
/// (theta scale, YaRN correction range, magnitude scale) from backend::RopeParams' fields.
[[nodiscard]] inline dev::RopeConsts make_rope_consts(int n_dims, float freq_base, float freq_scale,
                                                      float ext_factor, float attn_factor,
                                                      float beta_fast, float beta_slow,
                                                      int n_ctx_orig) {
    dev::RopeConsts c;
    c.n_dims = n_dims;
    c.theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_dims));
    c.freq_scale = freq_scale;
    c.ext_factor = ext_factor;
    if (ext_factor != 0.0f) {
        // YaRN correction range, as ggml_rope_yarn_corr_dims.
        auto corr_dim = [&](float n_rot) {
            return static_cast<float>(n_dims) *
                   std::log(static_cast<float>(n_ctx_orig) /
                            (n_rot * 2.0f * static_cast<float>(M_PI))) /
                   (2.0f * std::log(freq_base));
        };
        c.corr0 = std::max(0.0f, std::floor(corr_dim(beta_fast)));
        c.corr1 = std::min(static_cast<float>(n_dims - 1), std::ceil(corr_dim(beta_slow)));
    }
    c.mscale = attn_factor;
    if (ext_factor != 0.0f) {
        c.mscale *= 1.0f + 0.1f * std::log(1.0f / freq_scale);
    }
    return c;
}

} // namespace agentd::inference::cuda
