// BF16 GEMM with AVX512_BF16's VDPBF16PS (32 products per instruction, float accumulation).
// Compiled with AVX-512 + BF16 flags and only called when the CPU has AVX512_BF16; see kernels.h
// for the TU rules.
#include "backend/cpu/isa/simd_decls.h"
#include "backend/cpu/isa/simd_math_avx512.h"

#include <immintrin.h>

namespace agentd::inference::cpu::avx512bf16 {
namespace {

inline __mmask32 tail_mask32(std::int64_t n) {
    return n >= 32 ? ~static_cast<__mmask32>(0) : static_cast<__mmask32>((1u << n) - 1u);
}

inline __m512bh load_bh(const std::uint8_t* row, std::int64_t i, __mmask32 m) {
    return reinterpret_cast<__m512bh>(
        _mm512_maskz_loadu_epi16(m, reinterpret_cast<const std::uint16_t*>(row) + i));
}

template <int R, int C>
void tile(const GemmArgs& a, std::int64_t r, std::int64_t t) {
    __m512 acc[R][C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            acc[i][j] = _mm512_setzero_ps();
        }
    }
    const std::uint8_t* wr[R];
    const std::uint8_t* ar[C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        wr[i] = a.w + (r + i) * static_cast<std::int64_t>(a.w_stride);
    }
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        ar[j] = a.act + (t + j) * static_cast<std::int64_t>(a.act_stride);
    }
    for (std::int64_t k = 0; k < a.k; k += 32) {
        const __mmask32 m = tail_mask32(a.k - k);
        __m512bh w[R];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            w[i] = load_bh(wr[i], k, m);
        }
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const __m512bh x = load_bh(ar[j], k, m);
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                acc[i][j] = _mm512_dpbf16_ps(acc[i][j], w[i], x);
            }
        }
    }
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        float* y = a.y + (t + j) * static_cast<std::int64_t>(a.y_stride) + r;
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            const float v = _mm512_reduce_add_ps(acc[i][j]);
            y[i] = a.accumulate ? y[i] + v : v;
        }
    }
}

} // namespace

void gemm_bf16(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    constexpr int R = 4;
    constexpr int C = 6;
    std::int64_t t = t0;
    for (; t + C <= t1; t += C) {
        std::int64_t r = r0;
        for (; r + R <= r1; r += R) {
            tile<R, C>(a, r, t);
        }
        for (; r < r1; ++r) {
            tile<1, C>(a, r, t);
        }
    }
    for (; t < t1; ++t) {
        std::int64_t r = r0;
        for (; r + 8 <= r1; r += 8) {
            tile<8, 1>(a, r, t);
        }
        for (; r < r1; ++r) {
            tile<1, 1>(a, r, t);
        }
    }
}

} // namespace agentd::inference::cpu::avx512bf16
