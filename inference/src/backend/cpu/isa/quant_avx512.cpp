// AVX-512 VNNI GEMMs for the quantised weight types (Q8_0, Q4_0, Q4_K, Q6_K). Compiled with
// AVX-512 flags; see kernels.h for the TU rules.
//
// Q8_0 / Q4_0: two 32-blocks per step. The weights become unsigned bytes (Q8_0: q + 128 by a
// sign-bit flip; Q4_0: the raw nibbles 0..15), so VPDPBUSD multiplies them with the signed
// activation bytes directly; the activation row carries, per block, the correction -C * sum(a)
// that removes the offset again (kernels.h, ActKind::q8_0 / q4_0). The exact integer block sum
// is then scaled by d_w * d_a in float, as ggml does.
//
// Q4_K / Q6_K: 64 elements per step. VPMADDUBSW forms 16-bit pair sums (no saturation: at most
// 2 * 63 * 127), VPDPWSSD multiplies them by the 6/8-bit sub-block scales into 32-bit lanes, and
// one float FMA per super-block applies d_w * d_a; the Q4_K mins and the Q6_K -32 offset use the
// activation's per-16 sums.
#include "backend/cpu/isa/simd_decls.h"
#include "backend/cpu/isa/simd_math_avx512.h"
#include "quant/block_formats.h"

#include <immintrin.h>

namespace agentd::inference::cpu::avx512 {
namespace {

using quant::BlockQ4K;
using quant::BlockQ6K;
using quant::BlockQ8K;

inline std::uint16_t load_u16(const std::uint8_t* p) {
    std::uint16_t v;
    __builtin_memcpy(&v, p, 2);
    return v;
}

inline float fp16(const std::uint8_t* p) {
    return _cvtsh_ss(load_u16(p));
}

// ---------------------------------------------------------------- Q8_0 / Q4_0

/// One group of four weight blocks of a row as the activation layout pairs them (kernels.h):
/// w0 = the first 16 quants of blocks 0..3, w1 = their last 16, as unsigned bytes; ws = each
/// block's d in its four lanes. Blocks past `n` (a partial last group) are zero.
template <bool kQ4>
struct Q8Group {
    static constexpr std::int64_t kBlockBytes = kQ4 ? 18 : 34;
    __m512i w0;
    __m512i w1;
    __m512 ws;

    inline void load(const std::uint8_t* blk, int n) {
        std::uint64_t h = 0;
        for (int j = 0; j < 4; ++j) {
            if (j < n) {
                h |= static_cast<std::uint64_t>(load_u16(blk + kBlockBytes * j)) << (16 * j);
            }
        }
        const __m512i idx = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
        ws = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_cvtph_ps(
                                            _mm_cvtsi64_si128(static_cast<long long>(h)))));
        if constexpr (kQ4) {
            __m512i v;
            if (n == 4) {
                v = _mm512_castsi128_si512(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2)));
                v = _mm512_inserti32x4(
                    v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 20)), 1);
                v = _mm512_inserti32x4(
                    v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 38)), 2);
                v = _mm512_inserti32x4(
                    v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 56)), 3);
            } else {
                alignas(64) std::uint8_t tmp[64] = {};
                for (int j = 0; j < n; ++j) {
                    __builtin_memcpy(tmp + 16 * j, blk + 2 + kBlockBytes * j, 16);
                }
                v = _mm512_load_si512(tmp);
            }
            const __m512i nib = _mm512_set1_epi8(0x0F);
            w0 = _mm512_and_si512(v, nib);
            w1 = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
        } else {
            __m512i x;
            __m512i y;
            if (n == 4) {
                x = _mm512_inserti64x4(
                    _mm512_castsi256_si512(
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2))),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 36)), 1);
                y = _mm512_inserti64x4(
                    _mm512_castsi256_si512(
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 70))),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 104)), 1);
            } else {
                // Missing blocks become q = 0 after the sign flip below.
                alignas(64) std::uint8_t tmp[128];
                __builtin_memset(tmp, 0x80, sizeof tmp);
                for (int j = 0; j < n; ++j) {
                    __builtin_memcpy(tmp + 32 * j, blk + 2 + kBlockBytes * j, 32);
                }
                x = _mm512_load_si512(tmp);
                y = _mm512_load_si512(tmp + 64);
            }
            const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
            w0 = _mm512_xor_si512(_mm512_shuffle_i64x2(x, y, _MM_SHUFFLE(2, 0, 2, 0)), flip);
            w1 = _mm512_xor_si512(_mm512_shuffle_i64x2(x, y, _MM_SHUFFLE(3, 1, 3, 1)), flip);
        }
    }
};

template <bool kQ4, int R, int C>
void q8_tile(const GemmArgs& a, std::int64_t r, std::int64_t t) {
    using G = Q8Group<kQ4>;
    const std::int64_t nb = a.k / 32;
    const std::int64_t ng = act_q8_groups(a.k);
    __m512 acc[R][C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            acc[i][j] = _mm512_setzero_ps();
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
    const std::uint8_t* next = a.w + (r + R) * static_cast<std::int64_t>(a.w_stride);
    constexpr std::int64_t kStep = R * 4 * G::kBlockBytes;
    for (std::int64_t g = 0; g < ng; ++g) {
        const int n = nb - 4 * g >= 4 ? 4 : static_cast<int>(nb - 4 * g);
        if constexpr (C == 1) {
            prefetch_bytes(next, g * kStep, (g + 1) * kStep);
        }
        G w[R];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            w[i].load(wr[i] + 4 * g * G::kBlockBytes, n);
        }
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const __m512i a0 = _mm512_loadu_si512(aq[j] + g * kQ8Group);
            const __m512i a1 = _mm512_loadu_si512(aq[j] + g * kQ8Group + 64);
            const __m512 sc = _mm512_loadu_ps(as[j] + 16 * g);
            const __m512i cr = _mm512_loadu_si512(ac[j] + 16 * g);
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                __m512i p = _mm512_dpbusd_epi32(cr, w[i].w0, a0);
                p = _mm512_dpbusd_epi32(p, w[i].w1, a1);
                acc[i][j] =
                    _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(w[i].ws, sc), acc[i][j]);
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

// ---------------------------------------------------------------- Q4_K

/// The 8 scales (bytes 0..7) and 8 mins (bytes 8..15) of a Q4_K block, unpacked from 6 bits in
/// vector registers. With w0..w2 the block's three scale words: scales 0..3 = w0 & 0x3F..,
/// scales 4..7 = (w2 & 0x0F..) | ((w0 >> 6) & 3..) << 4, mins 0..3 = w1 & 0x3F.., mins 4..7 =
/// ((w2 >> 4) & 0x0F..) | ((w1 >> 6) & 3..) << 4. (Assembling them in general registers and
/// reloading them as a vector stalls on store forwarding.) Reads 16 bytes: `s` is followed by
/// the block's quants.
inline __m128i q4k_unpack_scales(const std::uint8_t* s) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    const __m128i low = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0));  // w0 w2 w1 w2
    const __m128i high = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0)); // w0 w0 w1 w1
    const __m128i lo =
        _mm_and_si128(_mm_srlv_epi32(low, _mm_setr_epi32(0, 0, 0, 4)),
                      _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
    const __m128i hi =
        _mm_and_si128(_mm_srli_epi32(high, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
    return _mm_or_si128(lo, hi);
}

/// Permutation indices: dword `lo` into the low 8 lanes, dword `hi` into the high 8.
inline __m512i idx_pairs(int lo, int hi) {
    return _mm512_inserti64x4(_mm512_set1_epi32(lo), _mm256_set1_epi32(hi), 1);
}

template <int R, int C>
void q4k_tile(const GemmArgs& a, std::int64_t r, std::int64_t t) {
    const std::int64_t nsb = a.k / 256;
    __m512 acc[R][C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            acc[i][j] = _mm512_setzero_ps();
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
    const __m256i dup = _mm256_setr_epi16(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i nib = _mm512_set1_epi8(0x0F);
    const std::uint8_t* next = a.w + (r + R) * static_cast<std::int64_t>(a.w_stride);
    constexpr std::int64_t kStep = R * static_cast<std::int64_t>(sizeof(BlockQ4K));
    for (std::int64_t sb = 0; sb < nsb; ++sb) {
        if constexpr (C == 1) {
            prefetch_bytes(next, sb * kStep, (sb + 1) * kStep);
        }
        __m512i sc_pairs[R]; // dword j: scale j in both 16-bit halves
        __m256i mins[R];
        float dw[R];
        float dmw[R];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            const BlockQ4K& blk = wr[i][sb];
            const __m128i bytes = q4k_unpack_scales(blk.scales);
            const __m256i sc32 = _mm256_cvtepu8_epi32(bytes);
            sc_pairs[i] =
                _mm512_castsi256_si512(_mm256_or_si256(sc32, _mm256_slli_epi32(sc32, 16)));
            mins[i] = _mm256_permutexvar_epi16(
                dup, _mm256_castsi128_si256(_mm_cvtepu8_epi16(_mm_srli_si128(bytes, 8))));
            dw[i] = _cvtsh_ss(blk.d);
            dmw[i] = _cvtsh_ss(blk.dmin);
        }
        __m512i iacc[R][C];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            AGENTD_UNROLL for (int j = 0; j < C; ++j) {
                iacc[i][j] = _mm512_setzero_si512();
            }
        }
        AGENTD_UNROLL for (int c4 = 0; c4 < 4; ++c4) {
            const __m512i idx = idx_pairs(2 * c4, 2 * c4 + 1);
            __m512i wq[R];
            __m512i s[R];
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                __m512i q = _mm512_broadcast_i64x4(
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[i][sb].qs + 32 * c4)));
                q = _mm512_mask_srli_epi16(q, static_cast<__mmask32>(0xFFFF0000u), q, 4);
                wq[i] = _mm512_and_si512(q, nib);
                s[i] = _mm512_permutexvar_epi32(idx, sc_pairs[i]);
            }
            AGENTD_UNROLL for (int j = 0; j < C; ++j) {
                const __m512i av = _mm512_loadu_si512(ar[j][sb].qs + 64 * c4);
                AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                    iacc[i][j] =
                        _mm512_dpwssd_epi32(iacc[i][j], _mm512_maddubs_epi16(wq[i], av), s[i]);
                }
            }
        }
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const __m256i bs =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar[j][sb].bsums));
            const float da = ar[j][sb].d;
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                const __m512i mi = _mm512_zextsi256_si512(_mm256_madd_epi16(bs, mins[i]));
                acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[i][j]),
                                            _mm512_set1_ps(dw[i] * da), acc[i][j]);
                acc[i][j] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mi), _mm512_set1_ps(dmw[i] * da),
                                             acc[i][j]);
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

// ---------------------------------------------------------------- Q6_K

/// Permutation indices: dword g0 + q into lanes 4q..4q+3 (q = 0..3).
inline __m512i idx_quads(int g0) {
    return _mm512_add_epi32(_mm512_set1_epi32(g0),
                            _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
}

template <int R, int C>
void q6k_tile(const GemmArgs& a, std::int64_t r, std::int64_t t) {
    const std::int64_t nsb = a.k / 256;
    __m512 acc[R][C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            acc[i][j] = _mm512_setzero_ps();
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
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i m2 = _mm512_set1_epi8(0x30);
    const std::uint8_t* next = a.w + (r + R) * static_cast<std::int64_t>(a.w_stride);
    constexpr std::int64_t kStep = R * static_cast<std::int64_t>(sizeof(BlockQ6K));
    for (std::int64_t sb = 0; sb < nsb; ++sb) {
        if constexpr (C == 1) {
            prefetch_bytes(next, sb * kStep, (sb + 1) * kStep);
        }
        __m256i sc16[R];     // the 16 scales as int16
        __m512i sc_pairs[R]; // dword g: scale g in both 16-bit halves
        float dw[R];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            const __m128i s8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wr[i][sb].scales));
            sc16[i] = _mm256_cvtepi8_epi16(s8);
            const __m512i sc32 = _mm512_cvtepu16_epi32(sc16[i]);
            sc_pairs[i] = _mm512_or_si512(sc32, _mm512_slli_epi32(sc32, 16));
            dw[i] = _cvtsh_ss(wr[i][sb].d);
        }
        __m512i iacc[R][C];
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const __m256i bs =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar[j][sb].bsums));
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                // -32 * sum_g sc_g * bsum_g: the offset of the unsigned 6-bit quants.
                const __m256i off = _mm256_slli_epi32(_mm256_madd_epi16(bs, sc16[i]), 5);
                iacc[i][j] = _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), off));
            }
        }
        AGENTD_UNROLL for (int h = 0; h < 2; ++h) {
            const __m512i idx_a = idx_quads(8 * h);
            const __m512i idx_b = idx_quads(8 * h + 4);
            __m512i qa[R];
            __m512i qb[R];
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                const BlockQ6K& blk = wr[i][sb];
                const __m512i l = _mm512_loadu_si512(blk.ql + 64 * h);
                __m512i hb = _mm512_broadcast_i64x4(
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h)));
                hb = _mm512_mask_srli_epi16(hb, static_cast<__mmask32>(0xFFFF0000u), hb, 2);
                qa[i] = _mm512_or_si512(_mm512_and_si512(l, m4),
                                        _mm512_and_si512(_mm512_slli_epi16(hb, 4), m2));
                qb[i] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                        _mm512_and_si512(hb, m2));
            }
            __m512i sa[R];
            __m512i sbv[R];
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                sa[i] = _mm512_permutexvar_epi32(idx_a, sc_pairs[i]);
                sbv[i] = _mm512_permutexvar_epi32(idx_b, sc_pairs[i]);
            }
            AGENTD_UNROLL for (int j = 0; j < C; ++j) {
                const __m512i av = _mm512_loadu_si512(ar[j][sb].qs + 128 * h);
                const __m512i bv = _mm512_loadu_si512(ar[j][sb].qs + 128 * h + 64);
                AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                    iacc[i][j] =
                        _mm512_dpwssd_epi32(iacc[i][j], _mm512_maddubs_epi16(qa[i], av), sa[i]);
                    iacc[i][j] =
                        _mm512_dpwssd_epi32(iacc[i][j], _mm512_maddubs_epi16(qb[i], bv), sbv[i]);
                }
            }
        }
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const float da = ar[j][sb].d;
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(iacc[i][j]),
                                            _mm512_set1_ps(dw[i] * da), acc[i][j]);
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

// ---------------------------------------------------------------- tiling

using TileFn = void (*)(const GemmArgs&, std::int64_t, std::int64_t);

/// Runs Tile over rows [r0, r1) x tokens [t0, t1): RD-row tiles when there is one token (decode),
/// RP x CP tiles otherwise, with smaller tiles at the edges.
template <template <int, int> class Tile, int RD, int RP, int CP>
void run_tiles(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    if (t1 - t0 == 1) {
        std::int64_t r = r0;
        for (; r + RD <= r1; r += RD) {
            Tile<RD, 1>::run(a, r, t0);
        }
        for (; r < r1; ++r) {
            Tile<1, 1>::run(a, r, t0);
        }
        return;
    }
    std::int64_t t = t0;
    for (; t + CP <= t1; t += CP) {
        std::int64_t r = r0;
        for (; r + RP <= r1; r += RP) {
            Tile<RP, CP>::run(a, r, t);
        }
        for (; r < r1; ++r) {
            Tile<1, CP>::run(a, r, t);
        }
    }
    for (; t < t1; ++t) {
        std::int64_t r = r0;
        for (; r + RP <= r1; r += RP) {
            Tile<RP, 1>::run(a, r, t);
        }
        for (; r < r1; ++r) {
            Tile<1, 1>::run(a, r, t);
        }
    }
}

template <int R, int C>
struct Q8Tile {
    static void run(const GemmArgs& a, std::int64_t r, std::int64_t t) {
        q8_tile<false, R, C>(a, r, t);
    }
};
template <int R, int C>
struct Q4Tile {
    static void run(const GemmArgs& a, std::int64_t r, std::int64_t t) {
        q8_tile<true, R, C>(a, r, t);
    }
};
template <int R, int C>
struct Q4KTile {
    static void run(const GemmArgs& a, std::int64_t r, std::int64_t t) { q4k_tile<R, C>(a, r, t); }
};
template <int R, int C>
struct Q6KTile {
    static void run(const GemmArgs& a, std::int64_t r, std::int64_t t) { q6k_tile<R, C>(a, r, t); }
};

} // namespace

void gemm_q8_0(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    run_tiles<Q8Tile, 6, 2, 8>(a, r0, r1, t0, t1);
}

void gemm_q4_0(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    run_tiles<Q4Tile, 6, 2, 8>(a, r0, r1, t0, t1);
}

void gemm_q4_k(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    run_tiles<Q4KTile, 4, 2, 4>(a, r0, r1, t0, t1);
}

void gemm_q6_k(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    run_tiles<Q6KTile, 4, 2, 4>(a, r0, r1, t0, t1);
}

} // namespace agentd::inference::cpu::avx512
