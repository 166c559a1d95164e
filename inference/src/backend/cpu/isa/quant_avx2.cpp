// AVX2 GEMMs for the quantised weight types. Compiled with AVX2/FMA/F16C flags; see kernels.h
// for the TU rules. Without VNNI the byte products go through VPMADDUBSW (unsigned x signed,
// 16-bit pair sums): Q8_0 uses the sign trick (|w| x sign(a, w), at most 2 * 127 * 127), the
// 4-bit types multiply their unsigned nibbles directly and remove the offset afterwards.
#include "backend/cpu/isa/simd_decls.h"
#include "backend/cpu/isa/simd_math_avx2.h"
#include "quant/block_formats.h"

#include <immintrin.h>

namespace agentd::inference::cpu::avx2 {
namespace {

using quant::BlockQ4_0;
using quant::BlockQ4K;
using quant::BlockQ6K;
using quant::BlockQ8_0;
using quant::BlockQ8K;

inline __m256i sum_pairs(__m256i p16) {
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// ---------------------------------------------------------------- Q8_0 / Q4_0

template <bool kQ4, int R, int C>
void q8_tile(const GemmArgs& a, std::int64_t r, std::int64_t t) {
    const std::int64_t nb = a.k / 32;
    __m256 acc[R][C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            acc[i][j] = _mm256_setzero_ps();
        }
    }
    const std::uint8_t* wr[R];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        wr[i] = a.w + (r + i) * static_cast<std::int64_t>(a.w_stride);
    }
    const std::int8_t* aq[C];
    const float* as[C];
    const std::int32_t* ac[C];
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        const std::uint8_t* row = a.act + (t + j) * static_cast<std::int64_t>(a.act_stride);
        aq[j] = reinterpret_cast<const std::int8_t*>(row);
        as[j] = reinterpret_cast<const float*>(row + act_q8_scale_offset(a.k));
        ac[j] = reinterpret_cast<const std::int32_t*>(row + act_q8_corr_offset(a.k));
    }
    const __m128i nib = _mm_set1_epi8(0x0F);
    const std::uint8_t* next = a.w + (r + R) * static_cast<std::int64_t>(a.w_stride);
    constexpr std::int64_t kStep =
        R * static_cast<std::int64_t>(kQ4 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0));
    for (std::int64_t b = 0; b < nb; ++b) {
        prefetch_bytes(next, b * kStep, (b + 1) * kStep);
        __m256i wv[R];
        __m256 ws[R];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            if constexpr (kQ4) {
                const auto* blk = reinterpret_cast<const BlockQ4_0*>(wr[i]) + b;
                const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk->qs));
                wv[i] = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), nib),
                                         _mm_and_si128(q, nib));
                ws[i] = _mm256_set1_ps(_cvtsh_ss(blk->d));
            } else {
                const auto* blk = reinterpret_cast<const BlockQ8_0*>(wr[i]) + b;
                wv[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk->qs));
                ws[i] = _mm256_set1_ps(_cvtsh_ss(blk->d));
            }
        }
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const __m256i av =
                _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(aq[j] + act_q8_index(b, 16)),
                                    reinterpret_cast<const __m128i*>(aq[j] + act_q8_index(b, 0)));
            const __m256 sc = _mm256_broadcast_ss(as[j] + act_q8_lane(b));
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                __m256i p;
                if constexpr (kQ4) {
                    p = _mm256_add_epi32(
                        sum_pairs(_mm256_maddubs_epi16(wv[i], av)),
                        _mm256_zextsi128_si256(_mm_cvtsi32_si128(ac[j][act_q8_lane(b)])));
                } else {
                    p = sum_pairs(_mm256_maddubs_epi16(_mm256_sign_epi8(wv[i], wv[i]),
                                                       _mm256_sign_epi8(av, wv[i])));
                }
                acc[i][j] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(ws[i], sc), acc[i][j]);
            }
        }
    }
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        float* y = a.y + (t + j) * static_cast<std::int64_t>(a.y_stride) + r;
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            const float v = hsum256(acc[i][j]);
            y[i] = a.accumulate ? y[i] + v : v;
        }
    }
}

// ---------------------------------------------------------------- Q4_K

inline void q4k_unpack_scales(const std::uint8_t* s, std::uint32_t out[4]) {
    std::uint32_t w[3];
    __builtin_memcpy(w, s, 12);
    constexpr std::uint32_t low6 = 0x3F3F3F3Fu, low4 = 0x0F0F0F0Fu, low2 = 0x03030303u;
    out[0] = w[0] & low6;
    out[1] = (w[2] & low4) | (((w[0] >> 6) & low2) << 4);
    out[2] = w[1] & low6;
    out[3] = ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4);
}

template <int R, int C>
void q4k_tile(const GemmArgs& a, std::int64_t r, std::int64_t t) {
    const std::int64_t nsb = a.k / 256;
    __m256 acc[R][C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            acc[i][j] = _mm256_setzero_ps();
        }
    }
    const BlockQ4K* wr[R];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        wr[i] = reinterpret_cast<const BlockQ4K*>(a.w +
                                                  (r + i) * static_cast<std::int64_t>(a.w_stride));
    }
    const BlockQ8K* ar[C];
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        ar[j] = reinterpret_cast<const BlockQ8K*>(
            a.act + (t + j) * static_cast<std::int64_t>(a.act_stride));
    }
    const __m256i nib = _mm256_set1_epi8(0x0F);
    const std::uint8_t* next = a.w + (r + R) * static_cast<std::int64_t>(a.w_stride);
    constexpr std::int64_t kStep = R * static_cast<std::int64_t>(sizeof(BlockQ4K));
    for (std::int64_t sb = 0; sb < nsb; ++sb) {
        prefetch_bytes(next, sb * kStep, (sb + 1) * kStep);
        std::uint8_t sm[R][16];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            std::uint32_t u[4];
            q4k_unpack_scales(wr[i][sb].scales, u);
            __builtin_memcpy(sm[i], u, 16);
        }
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const BlockQ8K& act = ar[j][sb];
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                const BlockQ4K& blk = wr[i][sb];
                __m256i sumi = _mm256_setzero_si256();
                AGENTD_UNROLL for (int c4 = 0; c4 < 4; ++c4) {
                    const __m256i q =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * c4));
                    const __m256i lo = _mm256_and_si256(q, nib);
                    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
                    const __m256i a0 =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act.qs + 64 * c4));
                    const __m256i a1 =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act.qs + 64 * c4 + 32));
                    const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a0),
                                                         _mm256_set1_epi16(sm[i][2 * c4]));
                    const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a1),
                                                         _mm256_set1_epi16(sm[i][2 * c4 + 1]));
                    sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p0, p1));
                }
                int summ = 0;
                for (int s = 0; s < 8; ++s) {
                    summ += sm[i][8 + s] * (act.bsums[2 * s] + act.bsums[2 * s + 1]);
                }
                const float d = act.d * _cvtsh_ss(blk.d);
                const float dmin = act.d * _cvtsh_ss(blk.dmin);
                acc[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(d), acc[i][j]);
                acc[i][j] = _mm256_sub_ps(acc[i][j], _mm256_setr_ps(dmin * static_cast<float>(summ),
                                                                    0, 0, 0, 0, 0, 0, 0));
            }
        }
    }
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        float* y = a.y + (t + j) * static_cast<std::int64_t>(a.y_stride) + r;
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            const float v = hsum256(acc[i][j]);
            y[i] = a.accumulate ? y[i] + v : v;
        }
    }
}

// ---------------------------------------------------------------- Q6_K

template <int R, int C>
void q6k_tile(const GemmArgs& a, std::int64_t r, std::int64_t t) {
    const std::int64_t nsb = a.k / 256;
    __m256 acc[R][C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            acc[i][j] = _mm256_setzero_ps();
        }
    }
    const BlockQ6K* wr[R];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        wr[i] = reinterpret_cast<const BlockQ6K*>(a.w +
                                                  (r + i) * static_cast<std::int64_t>(a.w_stride));
    }
    const BlockQ8K* ar[C];
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        ar[j] = reinterpret_cast<const BlockQ8K*>(
            a.act + (t + j) * static_cast<std::int64_t>(a.act_stride));
    }
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m2 = _mm256_set1_epi8(0x03);
    const std::uint8_t* next = a.w + (r + R) * static_cast<std::int64_t>(a.w_stride);
    constexpr std::int64_t kStep = R * static_cast<std::int64_t>(sizeof(BlockQ6K));
    for (std::int64_t sb = 0; sb < nsb; ++sb) {
        prefetch_bytes(next, sb * kStep, (sb + 1) * kStep);
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const BlockQ8K& act = ar[j][sb];
            const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act.bsums));
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                const BlockQ6K& blk = wr[i][sb];
                const __m256i sc16 = _mm256_cvtepi8_epi16(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)));
                // -32 * sum_g sc_g * bsum_g
                __m256i sumi = _mm256_sub_epi32(_mm256_setzero_si256(),
                                                _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16), 5));
                AGENTD_UNROLL for (int h = 0; h < 2; ++h) {
                    const __m256i qh =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h));
                    for (int part = 0; part < 4; ++part) {
                        // elements 128h + 32 part .. +31: ql byte block (part & 1), nibble
                        // (part >> 1), qh bits 2 part .. 2 part + 1
                        const __m256i l = _mm256_loadu_si256(
                            reinterpret_cast<const __m256i*>(blk.ql + 64 * h + 32 * (part & 1)));
                        const __m256i lo4 = (part >> 1)
                                                ? _mm256_and_si256(_mm256_srli_epi16(l, 4), m4)
                                                : _mm256_and_si256(l, m4);
                        const __m256i hi2 =
                            _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * part)), m2);
                        const __m256i q = _mm256_or_si256(lo4, _mm256_slli_epi16(hi2, 4));
                        const __m256i av = _mm256_loadu_si256(
                            reinterpret_cast<const __m256i*>(act.qs + 128 * h + 32 * part));
                        const int g = 8 * h + 2 * part;
                        const __m256i s = _mm256_set_m128i(_mm_set1_epi16(blk.scales[g + 1]),
                                                           _mm_set1_epi16(blk.scales[g]));
                        sumi = _mm256_add_epi32(sumi,
                                                _mm256_madd_epi16(_mm256_maddubs_epi16(q, av), s));
                    }
                }
                const float d = act.d * _cvtsh_ss(blk.d);
                acc[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_set1_ps(d), acc[i][j]);
            }
        }
    }
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        float* y = a.y + (t + j) * static_cast<std::int64_t>(a.y_stride) + r;
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            const float v = hsum256(acc[i][j]);
            y[i] = a.accumulate ? y[i] + v : v;
        }
    }
}

template <void (*Tile)(const GemmArgs&, std::int64_t, std::int64_t),
          void (*Tile1)(const GemmArgs&, std::int64_t, std::int64_t), int R>
void run_rows(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
              std::int64_t t1) {
    for (std::int64_t t = t0; t < t1; ++t) {
        std::int64_t r = r0;
        for (; r + R <= r1; r += R) {
            Tile(a, r, t);
        }
        for (; r < r1; ++r) {
            Tile1(a, r, t);
        }
    }
}

} // namespace

void gemm_q8_0(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    run_rows<&q8_tile<false, 4, 1>, &q8_tile<false, 1, 1>, 4>(a, r0, r1, t0, t1);
}

void gemm_q4_0(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    run_rows<&q8_tile<true, 4, 1>, &q8_tile<true, 1, 1>, 4>(a, r0, r1, t0, t1);
}

void gemm_q4_k(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    run_rows<&q4k_tile<2, 1>, &q4k_tile<1, 1>, 2>(a, r0, r1, t0, t1);
}

void gemm_q6_k(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    run_rows<&q6k_tile<2, 1>, &q6k_tile<1, 1>, 2>(a, r0, r1, t0, t1);
}

} // namespace agentd::inference::cpu::avx2
