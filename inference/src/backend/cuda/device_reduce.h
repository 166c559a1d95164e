#pragma once
/// Warp and block reductions for the CUDA kernels (.cu files only). Block reductions take a
/// shared scratch array of 32 values, require blockDim.x to be a multiple of 32 (at most 1024)
/// and return the result to every thread; they contain __syncthreads, so every thread of the
/// block must call them.

#if !defined(__CUDACC__)
#error "device_reduce.h is for CUDA sources"
#endif

#include <cstdint>

namespace agentd::inference::cuda::dev {

inline constexpr unsigned kFullMask = 0xFFFFFFFFu;

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) {
        v += __shfl_xor_sync(kFullMask, v, o);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
    }
    return v;
}

template <class T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
    const int lane = static_cast<int>(threadIdx.x % 32);
    const int warp = static_cast<int>(threadIdx.x / 32);
    const int n_warps = static_cast<int>(blockDim.x / 32);
    v = warp_sum(v);
    __syncthreads(); // scratch may still be read by a previous reduction
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    T total = lane < n_warps ? scratch[lane] : T(0);
    return warp_sum(total);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    const int lane = static_cast<int>(threadIdx.x % 32);
    const int warp = static_cast<int>(threadIdx.x / 32);
    const int n_warps = static_cast<int>(blockDim.x / 32);
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    const float m = lane < n_warps ? scratch[lane] : -INFINITY;
    return warp_max(m);
}

} // namespace agentd::inference::cuda::dev
