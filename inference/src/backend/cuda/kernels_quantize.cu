// Activation formats for the matrix products, bit-exact with the CPU backend's quantisers:
// Q8 blocks of 32 (one warp per block: max |x| by shuffles, then dev::q8_scale / q8_quant) and
// Q8_K blocks of 256 (one warp per block, eight elements per lane, the first-largest |x| found
// with dev::absmax_combine), and IEEE half / bfloat16 rounding for the float weight types.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_reduce.h"
#include "backend/cuda/kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <climits>

namespace agentd::inference::cuda {
namespace {

__device__ __forceinline__ const float* frow(const DevTensor& t, std::int64_t r) {
    return reinterpret_cast<const float*>(static_cast<const std::uint8_t*>(t.data) +
                                          static_cast<std::size_t>(r) * t.stride);
}

__global__ void quantize_q8_32_kernel(DevTensor x, ActQ8 act, std::int64_t n_blocks) {
    const std::int64_t wid =
        (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    const int lane = static_cast<int>(threadIdx.x % 32);
    if (wid >= n_blocks) {
        return; // the whole warp leaves together
    }
    const std::int64_t nb = act.k / 32;
    const std::int64_t r = wid / nb;
    const std::int64_t b = wid % nb;
    const float v = frow(x, r)[b * 32 + lane];
    const float amax = dev::warp_max(fabsf(v));
    const dev::Q8Scale s = dev::q8_scale(amax);
    act.qs[r * act.k + b * 32 + lane] = static_cast<std::int8_t>(dev::q8_quant(v, s.id));
    if (lane == 0) {
        act.d[r * nb + b] = s.d;
    }
}

__global__ void quantize_q8_256_kernel(DevTensor x, ActQ8 act, std::int64_t n_blocks) {
    const std::int64_t wid =
        (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    const int lane = static_cast<int>(threadIdx.x % 32);
    if (wid >= n_blocks) {
        return;
    }
    const std::int64_t nb = act.k / 256;
    const std::int64_t r = wid / nb;
    const std::int64_t b = wid % nb;
    const float* xb = frow(x, r) + b * 256 + lane * 8;
    float v[8];
    dev::AbsMax a{0.0f, 0.0f, INT_MAX};
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        v[i] = xb[i];
        a = dev::absmax_combine(a, dev::AbsMax{fabsf(v[i]), v[i], lane * 8 + i});
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const dev::AbsMax other{__shfl_xor_sync(dev::kFullMask, a.amax, o),
                                __shfl_xor_sync(dev::kFullMask, a.value, o),
                                __shfl_xor_sync(dev::kFullMask, a.index, o)};
        a = dev::absmax_combine(a, other);
    }
    const dev::Q8KScale s = dev::q8k_scale(a.value, a.amax);
    int q[8];
    int sum = 0;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        q[i] = a.amax == 0.0f ? 0 : dev::q8k_quant(v[i], s.iscale);
        sum += q[i];
    }
    auto* out = reinterpret_cast<int*>(act.qs + r * act.k + b * 256 + lane * 8);
    out[0] = dev::pack4(q[0], q[1], q[2], q[3]);
    out[1] = dev::pack4(q[4], q[5], q[6], q[7]);
    // Lanes 2g and 2g + 1 hold the 16 quants of group g.
    sum += __shfl_xor_sync(dev::kFullMask, sum, 1);
    if (lane % 2 == 0) {
        act.sums[r * (act.k / 16) + b * 16 + lane / 2] = sum;
    }
    if (lane == 0) {
        act.d[r * nb + b] = s.d;
    }
}

__global__ void convert_half_kernel(DevTensor x, void* out, bool f16) {
    const std::int64_t total = x.rows * x.cols;
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
         i < total; i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const float v = frow(x, i / x.cols)[i % x.cols];
        if (f16) {
            static_cast<__half*>(out)[i] = __float2half_rn(v);
        } else {
            static_cast<__nv_bfloat16*>(out)[i] = __float2bfloat16_rn(v);
        }
    }
}

unsigned blocks_for(std::int64_t threads_total, unsigned per_block) {
    const std::int64_t b = (threads_total + per_block - 1) / per_block;
    return static_cast<unsigned>(b < 1 ? 1 : (b > (1 << 30) ? (1 << 30) : b));
}

} // namespace

void launch_quantize_q8(const DevTensor& x, const ActQ8& act, cudaStream_t stream) {
    const std::int64_t n_blocks = x.rows * (act.k / act.block);
    if (n_blocks == 0) {
        return;
    }
    constexpr unsigned kThreads = 128;
    if (act.block == 32) {
        quantize_q8_32_kernel<<<blocks_for(n_blocks * 32, kThreads), kThreads, 0, stream>>>(
            x, act, n_blocks);
    } else {
        quantize_q8_256_kernel<<<blocks_for(n_blocks * 32, kThreads), kThreads, 0, stream>>>(
            x, act, n_blocks);
    }
    AGENTD_CUDA_CHECK_LAUNCH();
}

void launch_convert_half(const DevTensor& x, void* out, bool f16, cudaStream_t stream) {
    const std::int64_t total = x.rows * x.cols;
    if (total == 0) {
        return;
    }
    convert_half_kernel<<<blocks_for(total, 256), 256, 0, stream>>>(x, out, f16);
    AGENTD_CUDA_CHECK_LAUNCH();
}

} // namespace agentd::inference::cuda
