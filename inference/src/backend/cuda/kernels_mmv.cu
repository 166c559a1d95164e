// Quantised weights x a few activation rows (decode; rows <= kMmvMaxRows): one warp per weight
// row reads the row once and multiplies it with every activation row, 8-bit integer dot
// products (dp4a) per block with the CPU backend's scale arithmetic per block:
//   Q8_0 / Q4_0: sum_i w_i a_i * (d_w * d_a) per block of 32
//   Q4_K:        d_a * (d * sc_j * dot_j) - d_a * (dmin * m_j * bsum_j) per sub-block of 32
//   Q6_K:        d_a * (d * sc_g * dot_g) per sub-block of 16
// Lanes then sum their partial results (so the float summation order differs from the CPU's).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_reduce.h"
#include "backend/cuda/kernels.h"

namespace agentd::inference::cuda {
namespace {

constexpr int kWarps = 4; // weight rows per block

__device__ __forceinline__ int dot16(const int (&w)[4], const std::int8_t* a) {
    int4 v = *reinterpret_cast<const int4*>(a);
    int s = dev::dp4a(w[0], v.x, 0);
    s = dev::dp4a(w[1], v.y, s);
    s = dev::dp4a(w[2], v.z, s);
    return dev::dp4a(w[3], v.w, s);
}

template <TensorType kType, int kRows>
__device__ void row_partials(const std::uint8_t* wrow, const ActQ8& act, int rows, int lane,
                             float (&acc)[kRows]) {
    if constexpr (kType == TensorType::q8_0 || kType == TensorType::q4_0) {
        const std::int64_t nb = act.k / 32;
        for (std::int64_t b = lane; b < nb; b += 32) {
            int q[8];
            const float dw =
                kType == TensorType::q8_0 ? dev::load_q8_0(wrow, b, q) : dev::load_q4_0(wrow, b, q);
            const int lo[4] = {q[0], q[1], q[2], q[3]};
            const int hi[4] = {q[4], q[5], q[6], q[7]};
#pragma unroll
            for (int t = 0; t < kRows; ++t) {
                if (t < rows) {
                    const std::int8_t* a = act.qs + t * act.k + b * 32;
                    const int s = dot16(lo, a) + dot16(hi, a + 16);
                    acc[t] += static_cast<float>(s) * (dw * act.d[t * nb + b]);
                }
            }
        }
    } else if constexpr (kType == TensorType::q4_k) {
        // Sixteen lanes per super-block, two super-blocks at a time; lane: sub-block j, half.
        const std::int64_t nsb = act.k / 256;
        const int l = lane % 16;
        const int j = l / 2;
        const int part = l % 2;
        const auto* blocks = reinterpret_cast<const quant::BlockQ4K*>(wrow);
        for (std::int64_t sb = lane / 16; sb < nsb; sb += 2) {
            const quant::BlockQ4K& blk = blocks[sb];
            int q[4];
            dev::load_q4k_16(blk, j, part, q);
            int sc = 0;
            int m = 0;
            dev::q4k_scale_min(j, blk.scales, sc, m);
            const float d = dev::half_to_float(blk.d);
            const float dmin = dev::half_to_float(blk.dmin);
#pragma unroll
            for (int t = 0; t < kRows; ++t) {
                if (t < rows) {
                    const std::int8_t* a = act.qs + t * act.k + sb * 256 + 32 * j + 16 * part;
                    const float da = act.d[t * nsb + sb];
                    acc[t] += da * (d * static_cast<float>(sc * dot16(q, a)));
                    if (part == 0) {
                        const std::int32_t* bs = act.sums + t * (act.k / 16) + sb * 16 + 2 * j;
                        acc[t] -= da * (dmin * static_cast<float>(m * (bs[0] + bs[1])));
                    }
                }
            }
        }
    } else {
        static_assert(kType == TensorType::q6_k);
        const std::int64_t nsb = act.k / 256;
        const int g = lane % 16;
        const auto* blocks = reinterpret_cast<const quant::BlockQ6K*>(wrow);
        for (std::int64_t sb = lane / 16; sb < nsb; sb += 2) {
            const quant::BlockQ6K& blk = blocks[sb];
            int q[4];
            dev::load_q6k_16(blk, g, q);
            const int sc = blk.scales[g];
            const float d = dev::half_to_float(blk.d);
#pragma unroll
            for (int t = 0; t < kRows; ++t) {
                if (t < rows) {
                    const std::int8_t* a = act.qs + t * act.k + sb * 256 + 16 * g;
                    acc[t] += act.d[t * nsb + sb] * (d * static_cast<float>(sc * dot16(q, a)));
                }
            }
        }
    }
}

template <TensorType kType, int kRows>
__global__ void __launch_bounds__(kWarps * 32) mmv_kernel(MatOut o, ActQ8 act, int rows) {
    const int warp = static_cast<int>(threadIdx.x / 32);
    const int lane = static_cast<int>(threadIdx.x % 32);
    const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * kWarps + warp;
    if (r >= o.n) {
        return;
    }
    float acc[kRows];
#pragma unroll
    for (int t = 0; t < kRows; ++t) {
        acc[t] = 0.0f;
    }
    row_partials<kType, kRows>(o.w + r * o.w_stride, act, rows, lane, acc);
#pragma unroll
    for (int t = 0; t < kRows; ++t) {
        acc[t] = dev::warp_sum(acc[t]);
    }
    if (lane == 0) {
        const float bias = o.bias != nullptr ? o.bias[r] : 0.0f;
#pragma unroll
        for (int t = 0; t < kRows; ++t) {
            if (t < rows) {
                float* y = o.out + t * o.out_stride + r;
                // As the CPU backend: (y +) dot, then + bias.
                *y = (o.accumulate ? *y + acc[t] : acc[t]) + bias;
            }
        }
    }
}

template <TensorType kType>
void launch_type(const MatOut& o, const ActQ8& act, int rows, cudaStream_t stream) {
    const unsigned blocks = static_cast<unsigned>((o.n + kWarps - 1) / kWarps);
    const unsigned threads = kWarps * 32;
    if (rows <= 1) {
        mmv_kernel<kType, 1><<<blocks, threads, 0, stream>>>(o, act, rows);
    } else if (rows <= 2) {
        mmv_kernel<kType, 2><<<blocks, threads, 0, stream>>>(o, act, rows);
    } else if (rows <= 4) {
        mmv_kernel<kType, 4><<<blocks, threads, 0, stream>>>(o, act, rows);
    } else {
        mmv_kernel<kType, 8><<<blocks, threads, 0, stream>>>(o, act, rows);
    }
}

} // namespace

void launch_mmv(const MatOut& o, const ActQ8& act, int rows, cudaStream_t stream) {
    if (o.n == 0 || rows == 0) {
        return;
    }
    switch (o.type) {
    case TensorType::q8_0:
        launch_type<TensorType::q8_0>(o, act, rows, stream);
        break;
    case TensorType::q4_0:
        launch_type<TensorType::q4_0>(o, act, rows, stream);
        break;
    case TensorType::q4_k:
        launch_type<TensorType::q4_k>(o, act, rows, stream);
        break;
    case TensorType::q6_k:
        launch_type<TensorType::q6_k>(o, act, rows, stream);
        break;
    default:
        std::fprintf(stderr, "agentd: launch_mmv: not a quantised type\n");
        std::abort();
    }
    AGENTD_CUDA_CHECK_LAUNCH();
}

} // namespace agentd::inference::cuda
