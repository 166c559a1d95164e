#pragma once
/// Declarations shared between the kernel TUs of one instruction set (see kernels.h for the
/// rules these TUs follow). Each ISA's functions live in its own namespace.

#include "backend/cpu/kernels.h"

#include <xmmintrin.h>

/// Forces complete unrolling of a tile loop with a compile-time trip count. GCC scalarises the
/// accumulator arrays of a micro-kernel into registers only when these loops are unrolled before
/// its SRA pass; otherwise every accumulator is stored back to the stack on every step.
#define AGENTD_UNROLL _Pragma("GCC unroll 16")

namespace agentd::inference::cpu {

/// Decode GEMVs stream each weight byte once, and a single core's hardware prefetchers do not
/// keep enough misses in flight for R interleaved row streams: a GEMV tile prefetches the tile
/// after it (the next R rows, contiguous in memory) at the pace it consumes its own, which
/// brings a one-thread GEMV from ~0.7x to ~1x of a plain sequential read.
/// Prefetches the cache lines of bytes [begin, end) of `base` (may point past the weights:
/// prefetches never fault).
static inline void prefetch_bytes(const std::uint8_t* base, std::int64_t begin,
                                  std::int64_t end) noexcept {
    for (std::int64_t off = begin & ~std::int64_t{63}; off < end; off += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(base + off), _MM_HINT_T0);
    }
}

#define AGENTD_DECLARE_ISA_KERNELS(ns)                                                             \
    namespace ns {                                                                                 \
    void gemm_f32(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,            \
                  std::int64_t t1);                                                                \
    void gemm_f16(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,            \
                  std::int64_t t1);                                                                \
    void gemm_bf16(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,           \
                   std::int64_t t1);                                                               \
    void gemm_q8_0(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,           \
                   std::int64_t t1);                                                               \
    void gemm_q4_0(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,           \
                   std::int64_t t1);                                                               \
    void gemm_q4_k(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,           \
                   std::int64_t t1);                                                               \
    void gemm_q6_k(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,           \
                   std::int64_t t1);                                                               \
    void quantize_f16r(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,          \
                       std::int64_t rows, std::int64_t k);                                         \
    void quantize_bf16(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,          \
                       std::int64_t rows, std::int64_t k);                                         \
    void quantize_q8_0(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,          \
                       std::int64_t rows, std::int64_t k);                                         \
    void quantize_q4_0(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,          \
                       std::int64_t rows, std::int64_t k);                                         \
    void quantize_q8_k(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,          \
                       std::int64_t rows, std::int64_t k);                                         \
    void swiglu(const float* g, const float* u, float* out, std::int64_t n);                       \
    float dot(const float* a, const float* b, std::int64_t n);                                     \
    void scale_axpy(float* y, float s, const float* x, float a, std::int64_t n);                   \
    float exp_sum(float* x, float max, std::int64_t n);                                            \
    void attn_f32(const AttnTile& t);                                                              \
    void attn_f16(const AttnTile& t);                                                              \
    }

AGENTD_DECLARE_ISA_KERNELS(avx2)
AGENTD_DECLARE_ISA_KERNELS(avx512)

#undef AGENTD_DECLARE_ISA_KERNELS

namespace avx512bf16 {
/// BF16 GEMM with the AVX512_BF16 dot-product instruction (used when the CPU has it).
void gemm_bf16(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1);
} // namespace avx512bf16

/// Whether the CPU has AVX512_BF16 (checked by kernels.cpp).
[[nodiscard]] bool cpu_has_avx512bf16() noexcept;

} // namespace agentd::inference::cpu
