// Causal attention over the paged KV cache (grouped-query: query head h reads KV head
// h / group), in float arithmetic with an online softmax, two kernels:
//
// * small items (decode: all rows of one sequence and KV head, at most kAttnSmallRows): the four
//   warps of a block take alternate 32-key tiles of the block's key split; each lane scores one
//   key against every row (key rows read straight from the cache, query rows from shared
//   memory), then the lanes add p * v for their head dimensions. The warps' states are merged
//   in shared memory, and with several key splits (flash-decoding) a second kernel merges the
//   splits' partial states.
// * large items (prefill: 16-row tiles): FlashAttention-style tiling, K and V of 32 keys at a
//   time in shared memory (K transposed, padded against bank conflicts) shared by all 16 rows;
//   each warp owns four rows.
//
// Row r of an item is token r / group of its sequence, head kv_head * group + r % group; it
// sees the keys at positions <= its own (dev::attn_row, dev::split_keys, dev::softmax_merge).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_reduce.h"
#include "backend/cuda/kernels.h"

#include <cuda_fp16.h>

namespace agentd::inference::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kMaxDimsPerLane = kAttnMaxHeadDim / 32;
constexpr int kTile = kAttnKeyTile;

template <bool kF16>
__device__ __forceinline__ float kv_load(const void* base, std::int64_t i) {
    if constexpr (kF16) {
        return __half2float(static_cast<const __half*>(base)[i]);
    } else {
        return static_cast<const float*>(base)[i];
    }
}

/// Dot product of a query row in shared memory with a key row of the cache.
template <bool kF16>
__device__ __forceinline__ float dot_key(const float* q, const void* kbase, std::int64_t k0,
                                         int hd) {
    float s = 0.0f;
    if ((hd & 3) == 0) {
        for (int d = 0; d < hd; d += 4) {
            float k[4];
            if constexpr (kF16) {
                const auto* p =
                    reinterpret_cast<const __half2*>(static_cast<const __half*>(kbase) + k0 + d);
                const float2 a = __half22float2(p[0]);
                const float2 b = __half22float2(p[1]);
                k[0] = a.x;
                k[1] = a.y;
                k[2] = b.x;
                k[3] = b.y;
            } else {
                const float4 v =
                    *reinterpret_cast<const float4*>(static_cast<const float*>(kbase) + k0 + d);
                k[0] = v.x;
                k[1] = v.y;
                k[2] = v.z;
                k[3] = v.w;
            }
            s += q[d] * k[0] + q[d + 1] * k[1] + q[d + 2] * k[2] + q[d + 3] * k[3];
        }
    } else {
        for (int d = 0; d < hd; ++d) {
            s += q[d] * kv_load<kF16>(kbase, k0 + d);
        }
    }
    return s;
}

/// Where query row r of an item lives (token row of the batch and head).
struct RowPlace {
    std::int64_t token;
    int head;
};

__device__ __forceinline__ RowPlace row_place(const AttnItem& it, const SeqDev& sq, int group,
                                              int r) {
    int tok = 0;
    int head = 0;
    dev::attn_row(it.row0 + r, group, it.kv_head, tok, head);
    return {static_cast<std::int64_t>(sq.first_token) + tok, head};
}

/// One online-softmax update of a row with the 32 scores of a key tile (one per lane); returns
/// this lane's probability and rescales the row's accumulators.
template <int kDims>
__device__ __forceinline__ float softmax_step(float s, float& m, float& l, float (&o)[kDims]) {
    const float mt = dev::warp_max(s);
    if (mt == -INFINITY) {
        return 0.0f; // no visible key in this tile
    }
    const float m_new = fmaxf(m, mt);
    const float corr = expf(m - m_new); // 0 while m is still -inf
    const float p = expf(s - m_new);
    l = l * corr + dev::warp_sum(p);
#pragma unroll
    for (int i = 0; i < kDims; ++i) {
        o[i] *= corr;
    }
    m = m_new;
    return p;
}

template <bool kF16>
__global__ void __launch_bounds__(kThreads)
    attn_small_kernel(AttnArgs a, const AttnItem* items, int splits, float* partials) {
    extern __shared__ float smem[];
    constexpr int R = kAttnSmallRows;
    const AttnItem it = items[blockIdx.x];
    const int split = static_cast<int>(blockIdx.y);
    const SeqDev sq = a.step.seqs[it.seq];
    const int hd = a.kv.layout.head_dim;
    const int warp = static_cast<int>(threadIdx.x / 32);
    const int lane = static_cast<int>(threadIdx.x % 32);
    float* q_s = smem;          // [R][hd]
    float* red = smem + R * hd; // [kWarps][R][hd + 2]

    for (int i = static_cast<int>(threadIdx.x); i < R * hd; i += kThreads) {
        const int r = i / hd;
        float v = 0.0f;
        if (r < it.rows) {
            const RowPlace pl = row_place(it, sq, a.group, r);
            v = a.q[pl.token * a.q_stride + static_cast<std::int64_t>(pl.head) * hd + i % hd];
        }
        q_s[i] = v;
    }
    int pos[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
        pos[r] = r < it.rows ? a.step.positions[row_place(it, sq, a.group, r).token] : -1;
    }
    __syncthreads();

    const std::int32_t* table = a.step.tables + sq.table_offset;
    const dev::KeyRange keys = dev::split_keys(sq.n_ctx, splits, split, kTile);
    float m[R];
    float l[R];
    float o[R][kMaxDimsPerLane];
#pragma unroll
    for (int r = 0; r < R; ++r) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
#pragma unroll
        for (int i = 0; i < kMaxDimsPerLane; ++i) {
            o[r][i] = 0.0f;
        }
    }
    for (int t0 = keys.begin + kTile * warp; t0 < keys.end; t0 += kTile * kWarps) {
        const int p = t0 + lane;
        const bool valid = p < keys.end;
        float s[R];
        std::int64_t kidx = 0;
        if (valid) {
            kidx = dev::kv_pos_index(a.kv.layout, table, p, it.kv_head, 0);
        }
#pragma unroll
        for (int r = 0; r < R; ++r) {
            s[r] = -INFINITY;
            if (valid && r < it.rows && p <= pos[r]) {
                s[r] = dot_key<kF16>(q_s + r * hd, a.kv.k, kidx, hd) * a.scale;
            }
        }
        float pr[R];
#pragma unroll
        for (int r = 0; r < R; ++r) {
            pr[r] = r < it.rows ? softmax_step(s[r], m[r], l[r], o[r]) : 0.0f;
        }
        const int n = keys.end - t0 < kTile ? keys.end - t0 : kTile;
        for (int j = 0; j < n; ++j) {
            const std::int64_t vidx = dev::kv_pos_index(a.kv.layout, table, t0 + j, it.kv_head, 0);
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const float pj = __shfl_sync(dev::kFullMask, pr[r], j);
                if (r < it.rows && pj != 0.0f) {
#pragma unroll
                    for (int i = 0; i < kMaxDimsPerLane; ++i) {
                        const int d = lane + 32 * i;
                        if (d < hd) {
                            o[r][i] += pj * kv_load<kF16>(a.kv.v, vidx + d);
                        }
                    }
                }
            }
        }
    }

    // Merge the four warps' states.
    const int stride = hd + 2;
#pragma unroll
    for (int r = 0; r < R; ++r) {
        float* w = red + (warp * R + r) * stride;
#pragma unroll
        for (int i = 0; i < kMaxDimsPerLane; ++i) {
            const int d = lane + 32 * i;
            if (d < hd) {
                w[d] = o[r][i];
            }
        }
        if (lane == 0) {
            w[hd] = m[r];
            w[hd + 1] = l[r];
        }
    }
    __syncthreads();
    for (int i = static_cast<int>(threadIdx.x); i < it.rows * hd; i += kThreads) {
        const int r = i / hd;
        const int d = i % hd;
        dev::SoftmaxState st{-INFINITY, 0.0f};
        float acc = 0.0f;
        for (int w = 0; w < kWarps; ++w) {
            const float* src = red + (w * R + r) * stride;
            const dev::MergeFactors f = dev::softmax_merge(st, {src[hd], src[hd + 1]});
            acc = acc * f.fa + src[d] * f.fb;
        }
        if (splits == 1) {
            const RowPlace pl = row_place(it, sq, a.group, r);
            a.out[pl.token * a.out_stride + static_cast<std::int64_t>(pl.head) * hd + d] =
                st.l > 0.0f ? acc / st.l : 0.0f;
        } else {
            float* part =
                partials +
                ((static_cast<std::int64_t>(blockIdx.x) * splits + split) * R + r) * stride;
            part[d] = acc;
            if (d == 0) {
                part[hd] = st.m;
                part[hd + 1] = st.l;
            }
        }
    }
}

__global__ void __launch_bounds__(kThreads)
    attn_merge_kernel(AttnArgs a, const AttnItem* items, int splits, const float* partials) {
    constexpr int R = kAttnSmallRows;
    const AttnItem it = items[blockIdx.x];
    const SeqDev sq = a.step.seqs[it.seq];
    const int hd = a.kv.layout.head_dim;
    const int stride = hd + 2;
    for (int i = static_cast<int>(threadIdx.x); i < it.rows * hd; i += kThreads) {
        const int r = i / hd;
        const int d = i % hd;
        dev::SoftmaxState st{-INFINITY, 0.0f};
        float acc = 0.0f;
        for (int sp = 0; sp < splits; ++sp) {
            const float* src =
                partials + ((static_cast<std::int64_t>(blockIdx.x) * splits + sp) * R + r) * stride;
            const dev::MergeFactors f = dev::softmax_merge(st, {src[hd], src[hd + 1]});
            acc = acc * f.fa + src[d] * f.fb;
        }
        const RowPlace pl = row_place(it, sq, a.group, r);
        a.out[pl.token * a.out_stride + static_cast<std::int64_t>(pl.head) * hd + d] =
            st.l > 0.0f ? acc / st.l : 0.0f;
    }
}

template <bool kF16>
__global__ void __launch_bounds__(kThreads) attn_large_kernel(AttnArgs a, const AttnItem* items) {
    extern __shared__ float smem[];
    constexpr int R = kAttnTileRows;
    constexpr int kRowsPerWarp = R / kWarps;
    const AttnItem it = items[blockIdx.x];
    const SeqDev sq = a.step.seqs[it.seq];
    const int hd = a.kv.layout.head_dim;
    const int warp = static_cast<int>(threadIdx.x / 32);
    const int lane = static_cast<int>(threadIdx.x % 32);
    float* q_s = smem;                 // [R][hd]
    float* kt = q_s + R * hd;          // [hd][kTile + 1]: K transposed
    float* vs = kt + hd * (kTile + 1); // [kTile][hd]

    for (int i = static_cast<int>(threadIdx.x); i < R * hd; i += kThreads) {
        const int r = i / hd;
        float v = 0.0f;
        if (r < it.rows) {
            const RowPlace pl = row_place(it, sq, a.group, r);
            v = a.q[pl.token * a.q_stride + static_cast<std::int64_t>(pl.head) * hd + i % hd];
        }
        q_s[i] = v;
    }
    int pos[kRowsPerWarp];
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        const int r = warp * kRowsPerWarp + rr;
        pos[rr] = r < it.rows ? a.step.positions[row_place(it, sq, a.group, r).token] : -1;
    }
    // Rows are token-major, so the last row has the largest position.
    const int last = a.step.positions[row_place(it, sq, a.group, it.rows - 1).token];
    const int n_keys = last + 1 < sq.n_ctx ? last + 1 : sq.n_ctx;
    const std::int32_t* table = a.step.tables + sq.table_offset;

    float m[kRowsPerWarp];
    float l[kRowsPerWarp];
    float o[kRowsPerWarp][kMaxDimsPerLane];
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        m[rr] = -INFINITY;
        l[rr] = 0.0f;
#pragma unroll
        for (int i = 0; i < kMaxDimsPerLane; ++i) {
            o[rr][i] = 0.0f;
        }
    }
    for (int t0 = 0; t0 < n_keys; t0 += kTile) {
        __syncthreads(); // the previous tile (and the query rows, first time) are in place / read
        for (int i = static_cast<int>(threadIdx.x); i < kTile * hd; i += kThreads) {
            const int key = i / hd;
            const int d = i % hd;
            const int p = t0 + key;
            float kv = 0.0f;
            float vv = 0.0f;
            if (p < n_keys) {
                const std::int64_t idx = dev::kv_pos_index(a.kv.layout, table, p, it.kv_head, d);
                kv = kv_load<kF16>(a.kv.k, idx);
                vv = kv_load<kF16>(a.kv.v, idx);
            }
            kt[d * (kTile + 1) + key] = kv;
            vs[key * hd + d] = vv;
        }
        __syncthreads();
        const int p = t0 + lane;
        float pr[kRowsPerWarp];
#pragma unroll
        for (int rr = 0; rr < kRowsPerWarp; ++rr) {
            float s = -INFINITY;
            if (p < n_keys && p <= pos[rr]) {
                const float* q = q_s + (warp * kRowsPerWarp + rr) * hd;
                float dot = 0.0f;
                for (int d = 0; d < hd; ++d) {
                    dot += q[d] * kt[d * (kTile + 1) + lane];
                }
                s = dot * a.scale;
            }
            pr[rr] = softmax_step(s, m[rr], l[rr], o[rr]);
        }
        const int n = n_keys - t0 < kTile ? n_keys - t0 : kTile;
        for (int j = 0; j < n; ++j) {
#pragma unroll
            for (int rr = 0; rr < kRowsPerWarp; ++rr) {
                const float pj = __shfl_sync(dev::kFullMask, pr[rr], j);
                if (pj != 0.0f) {
#pragma unroll
                    for (int i = 0; i < kMaxDimsPerLane; ++i) {
                        const int d = lane + 32 * i;
                        if (d < hd) {
                            o[rr][i] += pj * vs[j * hd + d];
                        }
                    }
                }
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        const int r = warp * kRowsPerWarp + rr;
        if (r >= it.rows) {
            continue;
        }
        const RowPlace pl = row_place(it, sq, a.group, r);
        float* dst = a.out + pl.token * a.out_stride + static_cast<std::int64_t>(pl.head) * hd;
#pragma unroll
        for (int i = 0; i < kMaxDimsPerLane; ++i) {
            const int d = lane + 32 * i;
            if (d < hd) {
                dst[d] = l[rr] > 0.0f ? o[rr][i] / l[rr] : 0.0f;
            }
        }
    }
}

std::size_t small_smem(int hd) {
    return (static_cast<std::size_t>(kAttnSmallRows) * hd +
            static_cast<std::size_t>(kWarps) * kAttnSmallRows * (hd + 2)) *
           sizeof(float);
}

} // namespace

std::size_t attention_large_smem(int head_dim) {
    const auto hd = static_cast<std::size_t>(head_dim);
    return (kAttnTileRows * hd + hd * (kTile + 1) + kTile * hd) * sizeof(float);
}

bool attention_configure(std::size_t max_smem_optin) {
    const std::size_t need = attention_large_smem(kAttnMaxHeadDim);
    if (need > max_smem_optin) {
        return false;
    }
    AGENTD_CUDA_CHECK(cudaFuncSetAttribute(attn_large_kernel<false>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(need)));
    AGENTD_CUDA_CHECK(cudaFuncSetAttribute(attn_large_kernel<true>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(need)));
    return true;
}

void launch_attention_small(const AttnArgs& a, const AttnItem* items, int n_items, int splits,
                            float* partials, cudaStream_t stream) {
    if (n_items == 0) {
        return;
    }
    const dim3 grid(static_cast<unsigned>(n_items), static_cast<unsigned>(splits));
    const std::size_t smem = small_smem(a.kv.layout.head_dim);
    if (a.kv.f16) {
        attn_small_kernel<true><<<grid, kThreads, smem, stream>>>(a, items, splits, partials);
    } else {
        attn_small_kernel<false><<<grid, kThreads, smem, stream>>>(a, items, splits, partials);
    }
    AGENTD_CUDA_CHECK_LAUNCH();
    if (splits > 1) {
        attn_merge_kernel<<<static_cast<unsigned>(n_items), kThreads, 0, stream>>>(a, items, splits,
                                                                                   partials);
        AGENTD_CUDA_CHECK_LAUNCH();
    }
}

void launch_attention_large(const AttnArgs& a, const AttnItem* items, int n_items,
                            cudaStream_t stream) {
    if (n_items == 0) {
        return;
    }
    const std::size_t smem = attention_large_smem(a.kv.layout.head_dim);
    if (a.kv.f16) {
        attn_large_kernel<true>
            <<<static_cast<unsigned>(n_items), kThreads, smem, stream>>>(a, items);
    } else {
        attn_large_kernel<false>
            <<<static_cast<unsigned>(n_items), kThreads, smem, stream>>>(a, items);
    }
    AGENTD_CUDA_CHECK_LAUNCH();
}

} // namespace agentd::inference::cuda
