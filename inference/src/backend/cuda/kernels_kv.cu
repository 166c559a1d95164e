// KV cache writes: each token's K and V rows go to its cache slot (dev::KvLayout), converted to
// the cache's element type with round-to-nearest-even (the CPU backend's float_to_half).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"

#include <cuda_fp16.h>

namespace agentd::inference::cuda {
namespace {

template <bool kF16>
__global__ void kv_write_kernel(KvDev kv, DevTensor k, DevTensor v, const std::int32_t* slots) {
    const std::int64_t t = blockIdx.x;
    const std::int32_t slot = slots[t];
    if (slot < 0) {
        return; // a padded row of a decode graph
    }
    const std::int64_t n_slots =
        static_cast<std::int64_t>(kv.layout.n_blocks) * kv.layout.block_size;
    if (slot >= n_slots) {
        __trap(); // the engine hands out slots inside the pool; anything else is a bug
    }
    const auto* kr = reinterpret_cast<const float*>(static_cast<const std::uint8_t*>(k.data) +
                                                    static_cast<std::size_t>(t) * k.stride);
    const auto* vr = reinterpret_cast<const float*>(static_cast<const std::uint8_t*>(v.data) +
                                                    static_cast<std::size_t>(t) * v.stride);
    const int hd = kv.layout.head_dim;
    for (int i = static_cast<int>(threadIdx.x); i < kv.layout.n_kv_heads * hd;
         i += static_cast<int>(blockDim.x)) {
        const int h = i / hd;
        const int d = i % hd;
        const std::int64_t idx = dev::kv_slot_index(kv.layout, slot, h, d);
        if constexpr (kF16) {
            static_cast<__half*>(kv.k)[idx] = __float2half_rn(kr[i]);
            static_cast<__half*>(kv.v)[idx] = __float2half_rn(vr[i]);
        } else {
            static_cast<float*>(kv.k)[idx] = kr[i];
            static_cast<float*>(kv.v)[idx] = vr[i];
        }
    }
}

} // namespace

void launch_kv_write(const KvDev& kv, const DevTensor& k, const DevTensor& v,
                     const std::int32_t* slots, cudaStream_t stream) {
    if (k.rows == 0) {
        return;
    }
    const unsigned threads = 128;
    if (kv.f16) {
        kv_write_kernel<true>
            <<<static_cast<unsigned>(k.rows), threads, 0, stream>>>(kv, k, v, slots);
    } else {
        kv_write_kernel<false>
            <<<static_cast<unsigned>(k.rows), threads, 0, stream>>>(kv, k, v, slots);
    }
    AGENTD_CUDA_CHECK_LAUNCH();
}

} // namespace agentd::inference::cuda
