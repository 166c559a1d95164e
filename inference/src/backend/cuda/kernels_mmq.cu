// Quantised weights x activations with int8 tensor cores (prefill; any number of rows).
//
// A block computes a 64 (weight rows) x 64 (tokens) tile of the output, 4 warps of 32 x 32.
// Per K step of 256 elements it unpacks the weights into signed 8-bit values in shared memory
// (Q4_0: q - 8; Q4_K: the 4-bit quant; Q6_K: q - 32), copies the matching Q8 activations next
// to them, and multiplies sub-block by sub-block with mma.sync (m16n8k32 for sub-blocks of 32,
// m16n8k16 for Q6_K's sub-blocks of 16); the integer result of each sub-block is combined with
// the block scales exactly as the CPU backend's scalar kernels do:
//   Q8_0 / Q4_0: acc += float(dot_b) * (d_w * d_a)                             per block of 32
//   Q4_K:        acc += (d_a d) float(sum_j sc_j dot_j) - (d_a dmin) float(sum_j m_j bsum_j)
//   Q6_K:        acc += (d_a d) float(sum_g sc_g dot_g)                        per super-block
// Fragment positions come from mma_layout.h (checked on the host by cuda_helpers_test.cpp).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/mma_layout.h"

namespace agentd::inference::cuda {
namespace {

constexpr int kBM = kMmqTileRows;
constexpr int kBN = kMmqTileCols;
constexpr int kBK = kMmqTileK;
constexpr int kThreads = 128;
/// Shared-memory row stride in bytes: 256 + 16, so the 8 rows x 4 words a fragment load
/// touches fall in 32 different banks.
constexpr int kStride = kBK + 16;

struct Tiles {
    alignas(16) std::int8_t a[kBM][kStride]; // weights
    alignas(16) std::int8_t b[kBN][kStride]; // activations
    float a_scale[kBM][8];                   // Q8_0/Q4_0: d per block; K-quants: d, dmin
    int a_sc[kBM][16];                       // Q4_K: sc[8], m[8]; Q6_K: sc[16]
    float b_scale[kBN][8];                   // Q8_32: d per block; Q8_K: d
    int b_sum[kBN][8];                       // Q8_K: quant sums per sub-block of 32
};

__device__ __forceinline__ void store16(std::int8_t* dst, const int (&q)[4]) {
    *reinterpret_cast<int4*>(dst) = make_int4(q[0], q[1], q[2], q[3]);
}

template <TensorType kType>
__device__ void load_weights(Tiles& s, const MatOut& o, std::int64_t k, std::int64_t m0,
                             std::int64_t k0) {
    const int tid = static_cast<int>(threadIdx.x);
    if constexpr (kType == TensorType::q8_0 || kType == TensorType::q4_0) {
        const std::int64_t nb = k / 32;
        for (int item = tid; item < kBM * 8; item += kThreads) {
            const int row = item / 8;
            const int blk = item % 8;
            const std::int64_t b = k0 / 32 + blk;
            int q[8] = {};
            float d = 0.0f;
            if (m0 + row < o.n && b < nb) {
                const std::uint8_t* wrow = o.w + (m0 + row) * static_cast<std::int64_t>(o.w_stride);
                d = kType == TensorType::q8_0 ? dev::load_q8_0(wrow, b, q)
                                              : dev::load_q4_0(wrow, b, q);
            }
            const int lo[4] = {q[0], q[1], q[2], q[3]};
            const int hi[4] = {q[4], q[5], q[6], q[7]};
            store16(&s.a[row][blk * 32], lo);
            store16(&s.a[row][blk * 32 + 16], hi);
            s.a_scale[row][blk] = d;
        }
    } else if constexpr (kType == TensorType::q4_k) {
        for (int item = tid; item < kBM * 16; item += kThreads) {
            const int row = item / 16;
            const int j = (item % 16) / 2;
            const int part = item % 2;
            int q[4] = {};
            const bool valid = m0 + row < o.n;
            const quant::BlockQ4K* blk = nullptr;
            if (valid) {
                blk = reinterpret_cast<const quant::BlockQ4K*>(
                          o.w + (m0 + row) * static_cast<std::int64_t>(o.w_stride)) +
                      k0 / 256;
                dev::load_q4k_16(*blk, j, part, q);
            }
            store16(&s.a[row][32 * j + 16 * part], q);
            if (part == 0) {
                int sc = 0;
                int m = 0;
                if (valid) {
                    dev::q4k_scale_min(j, blk->scales, sc, m);
                }
                s.a_sc[row][j] = sc;
                s.a_sc[row][8 + j] = m;
                if (j == 0) {
                    s.a_scale[row][0] = valid ? dev::half_to_float(blk->d) : 0.0f;
                    s.a_scale[row][1] = valid ? dev::half_to_float(blk->dmin) : 0.0f;
                }
            }
        }
    } else {
        static_assert(kType == TensorType::q6_k);
        for (int item = tid; item < kBM * 16; item += kThreads) {
            const int row = item / 16;
            const int g = item % 16;
            int q[4] = {};
            const bool valid = m0 + row < o.n;
            const quant::BlockQ6K* blk = nullptr;
            if (valid) {
                blk = reinterpret_cast<const quant::BlockQ6K*>(
                          o.w + (m0 + row) * static_cast<std::int64_t>(o.w_stride)) +
                      k0 / 256;
                dev::load_q6k_16(*blk, g, q);
            }
            store16(&s.a[row][16 * g], q);
            s.a_sc[row][g] = valid ? blk->scales[g] : 0;
            if (g == 0) {
                s.a_scale[row][0] = valid ? dev::half_to_float(blk->d) : 0.0f;
            }
        }
    }
}

template <TensorType kType>
__device__ void load_acts(Tiles& s, const ActQ8& act, int rows, std::int64_t n0, std::int64_t k0) {
    const int tid = static_cast<int>(threadIdx.x);
    for (int item = tid; item < kBN * 16; item += kThreads) {
        const int row = item / 16;
        const int c = item % 16;
        int4 v = make_int4(0, 0, 0, 0);
        if (n0 + row < rows && k0 + 16 * c < act.k) {
            v = *reinterpret_cast<const int4*>(act.qs + (n0 + row) * act.k + k0 + 16 * c);
        }
        *reinterpret_cast<int4*>(&s.b[row][16 * c]) = v;
    }
    if constexpr (kType == TensorType::q8_0 || kType == TensorType::q4_0) {
        const std::int64_t nb = act.k / 32;
        for (int item = tid; item < kBN * 8; item += kThreads) {
            const int row = item / 8;
            const std::int64_t b = k0 / 32 + item % 8;
            s.b_scale[row][item % 8] =
                n0 + row < rows && b < nb ? act.d[(n0 + row) * nb + b] : 0.0f;
        }
    } else {
        const std::int64_t nsb = act.k / 256;
        for (int item = tid; item < kBN * 8; item += kThreads) {
            const int row = item / 8;
            const int j = item % 8;
            const bool valid = n0 + row < rows;
            int sum = 0;
            if (valid) {
                const std::int32_t* bs =
                    act.sums + (n0 + row) * (act.k / 16) + (k0 / 256) * 16 + 2 * j;
                sum = bs[0] + bs[1];
            }
            s.b_sum[row][j] = sum;
            if (j == 0) {
                s.b_scale[row][0] = valid ? act.d[(n0 + row) * nsb + k0 / 256] : 0.0f;
            }
        }
    }
}

/// The 2 x 4 fragment products of one warp for the K range [kk, kk + 32) (or 16 for Q6_K).
template <bool kK16>
__device__ __forceinline__ void warp_mma(const Tiles& s, int wm, int wn, int lane, int kk,
                                         int (&c)[2][4][4]) {
#pragma unroll
    for (int mi = 0; mi < 2; ++mi) {
        const int rb = wm + 16 * mi;
        if constexpr (kK16) {
            int a[2];
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                a[r] = *reinterpret_cast<const int*>(
                    &s.a[rb + dev::mma_a_row(lane, r)][kk + dev::mma_a_k(lane, r)]);
            }
#pragma unroll
            for (int ni = 0; ni < 4; ++ni) {
                const int b = *reinterpret_cast<const int*>(
                    &s.b[wn + 8 * ni + dev::mma_b_col(lane)][kk + dev::mma_b_k(lane, 0)]);
                dev::mma_k16(c[mi][ni], a, b);
            }
        } else {
            int a[4];
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                a[r] = *reinterpret_cast<const int*>(
                    &s.a[rb + dev::mma_a_row(lane, r)][kk + dev::mma_a_k(lane, r)]);
            }
#pragma unroll
            for (int ni = 0; ni < 4; ++ni) {
                int b[2];
#pragma unroll
                for (int r = 0; r < 2; ++r) {
                    b[r] = *reinterpret_cast<const int*>(
                        &s.b[wn + 8 * ni + dev::mma_b_col(lane)][kk + dev::mma_b_k(lane, r)]);
                }
                dev::mma_k32(c[mi][ni], a, b);
            }
        }
    }
}

__device__ __forceinline__ void zero(int (&c)[2][4][4]) {
#pragma unroll
    for (int mi = 0; mi < 2; ++mi) {
#pragma unroll
        for (int ni = 0; ni < 4; ++ni) {
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                c[mi][ni][r] = 0;
            }
        }
    }
}

/// One K step of 256 for the warp's 32 x 32 tile.
template <TensorType kType>
__device__ void compute_stage(const Tiles& s, int wm, int wn, int lane, float (&acc)[2][4][4]) {
    int c[2][4][4];
    if constexpr (kType == TensorType::q8_0 || kType == TensorType::q4_0) {
        for (int blk = 0; blk < 8; ++blk) {
            zero(c);
            warp_mma<false>(s, wm, wn, lane, 32 * blk, c);
#pragma unroll
            for (int mi = 0; mi < 2; ++mi) {
#pragma unroll
                for (int ni = 0; ni < 4; ++ni) {
#pragma unroll
                    for (int r = 0; r < 4; ++r) {
                        const int row = wm + 16 * mi + dev::mma_c_row(lane, r);
                        const int col = wn + 8 * ni + dev::mma_c_col(lane, r);
                        acc[mi][ni][r] += static_cast<float>(c[mi][ni][r]) *
                                          (s.a_scale[row][blk] * s.b_scale[col][blk]);
                    }
                }
            }
        }
    } else {
        int isum[2][4][4];
        int msum[2][4][4];
        zero(isum);
        zero(msum);
        constexpr bool kK16 = kType == TensorType::q6_k;
        constexpr int kSub = kK16 ? 16 : 8;
        for (int j = 0; j < kSub; ++j) {
            zero(c);
            warp_mma<kK16>(s, wm, wn, lane, (kK16 ? 16 : 32) * j, c);
#pragma unroll
            for (int mi = 0; mi < 2; ++mi) {
#pragma unroll
                for (int ni = 0; ni < 4; ++ni) {
#pragma unroll
                    for (int r = 0; r < 4; ++r) {
                        const int row = wm + 16 * mi + dev::mma_c_row(lane, r);
                        isum[mi][ni][r] += s.a_sc[row][j] * c[mi][ni][r];
                        if constexpr (!kK16) {
                            const int col = wn + 8 * ni + dev::mma_c_col(lane, r);
                            msum[mi][ni][r] += s.a_sc[row][8 + j] * s.b_sum[col][j];
                        }
                    }
                }
            }
        }
#pragma unroll
        for (int mi = 0; mi < 2; ++mi) {
#pragma unroll
            for (int ni = 0; ni < 4; ++ni) {
#pragma unroll
                for (int r = 0; r < 4; ++r) {
                    const int row = wm + 16 * mi + dev::mma_c_row(lane, r);
                    const int col = wn + 8 * ni + dev::mma_c_col(lane, r);
                    const float da = s.b_scale[col][0];
                    float v = (da * s.a_scale[row][0]) * static_cast<float>(isum[mi][ni][r]);
                    if constexpr (!kK16) {
                        v = v - (da * s.a_scale[row][1]) * static_cast<float>(msum[mi][ni][r]);
                    }
                    acc[mi][ni][r] += v;
                }
            }
        }
    }
}

template <TensorType kType>
__global__ void __launch_bounds__(kThreads) mmq_kernel(MatOut o, ActQ8 act, int rows) {
    __shared__ Tiles s;
    const int warp = static_cast<int>(threadIdx.x / 32);
    const int lane = static_cast<int>(threadIdx.x % 32);
    const int wm = 32 * (warp / 2);
    const int wn = 32 * (warp % 2);
    const std::int64_t m0 = static_cast<std::int64_t>(blockIdx.x) * kBM;
    const std::int64_t n0 = static_cast<std::int64_t>(blockIdx.y) * kBN;
    float acc[2][4][4] = {};
    for (std::int64_t k0 = 0; k0 < act.k; k0 += kBK) {
        load_weights<kType>(s, o, act.k, m0, k0);
        load_acts<kType>(s, act, rows, n0, k0);
        __syncthreads();
        compute_stage<kType>(s, wm, wn, lane, acc);
        __syncthreads();
    }
#pragma unroll
    for (int mi = 0; mi < 2; ++mi) {
#pragma unroll
        for (int ni = 0; ni < 4; ++ni) {
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                const std::int64_t row = m0 + wm + 16 * mi + dev::mma_c_row(lane, r);
                const std::int64_t tok = n0 + wn + 8 * ni + dev::mma_c_col(lane, r);
                if (row < o.n && tok < rows) {
                    float* y = o.out + tok * o.out_stride + row;
                    const float v = acc[mi][ni][r];
                    *y = (o.accumulate ? *y + v : v) + (o.bias != nullptr ? o.bias[row] : 0.0f);
                }
            }
        }
    }
}

} // namespace

void launch_mmq(const MatOut& o, const ActQ8& act, int rows, cudaStream_t stream) {
    if (o.n == 0 || rows == 0) {
        return;
    }
    const dim3 grid(static_cast<unsigned>((o.n + kBM - 1) / kBM),
                    static_cast<unsigned>((rows + kBN - 1) / kBN));
    switch (o.type) {
    case TensorType::q8_0:
        mmq_kernel<TensorType::q8_0><<<grid, kThreads, 0, stream>>>(o, act, rows);
        break;
    case TensorType::q4_0:
        mmq_kernel<TensorType::q4_0><<<grid, kThreads, 0, stream>>>(o, act, rows);
        break;
    case TensorType::q4_k:
        mmq_kernel<TensorType::q4_k><<<grid, kThreads, 0, stream>>>(o, act, rows);
        break;
    case TensorType::q6_k:
        mmq_kernel<TensorType::q6_k><<<grid, kThreads, 0, stream>>>(o, act, rows);
        break;
    default:
        std::fprintf(stderr, "agentd: launch_mmq: not a quantised type\n");
        std::abort();
    }
    AGENTD_CUDA_CHECK_LAUNCH();
}

} // namespace agentd::inference::cuda
