// AVX-512 attention tile: online softmax over 16-key chunks (see AttnTile in kernels.h).
// Compiled with AVX-512 flags; see kernels.h for the TU rules.
#include "backend/cpu/isa/simd_decls.h"
#include "backend/cpu/isa/simd_math_avx512.h"

#include <immintrin.h>

namespace agentd::inference::cpu::avx512 {
namespace {

template <bool kF16>
inline __m512 load16(const void* base, std::int64_t i, __mmask16 m) {
    if constexpr (kF16) {
        return _mm512_cvtph_ps(
            _mm256_maskz_loadu_epi16(m, static_cast<const std::uint16_t*>(base) + i));
    } else {
        return _mm512_maskz_loadu_ps(m, static_cast<const float*>(base) + i);
    }
}

inline __mmask16 tail_mask16(std::int64_t n) {
    return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

template <bool kF16, int R>
void tile(const AttnTile& t) {
    const int hd = t.head_dim;
    float m[R];
    float l[R];
    alignas(64) float p[R][16];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        m[i] = -__builtin_inff();
        l[i] = 0.0f;
        for (int d = 0; d < hd; d += 16) {
            _mm512_mask_storeu_ps(t.out[i] + d, tail_mask16(hd - d), _mm512_setzero_ps());
        }
    }
    std::int32_t max_pos = 0;
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        max_pos = t.pos[i] > max_pos ? t.pos[i] : max_pos;
    }
    const std::int32_t n = t.n_keys < max_pos + 1 ? t.n_keys : max_pos + 1;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 vscale = _mm512_set1_ps(t.scale);
    for (std::int32_t k0 = 0; k0 < n; k0 += 16) {
        const int c = k0 / 16;
        // Scores: S[i] = sum_d q[i][d] * K^T[d][0..15].
        __m512 s[R];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            s[i] = _mm512_setzero_ps();
        }
        for (int d = 0; d < hd; ++d) {
            const __m512 k = load16<kF16>(t.kt[c], d * t.kt_stride, 0xFFFF);
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                s[i] = _mm512_fmadd_ps(_mm512_set1_ps(t.q[i][d]), k, s[i]);
            }
        }
        float alpha[R];
        const __m512i keypos = _mm512_add_epi32(_mm512_set1_epi32(k0), lane);
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            // Keys past this row's position (or past n_keys) take no part.
            const std::int32_t last = t.pos[i] < t.n_keys - 1 ? t.pos[i] : t.n_keys - 1;
            const __mmask16 valid = _mm512_cmple_epi32_mask(keypos, _mm512_set1_epi32(last));
            if (valid == 0) {
                alpha[i] = 1.0f;
                _mm512_store_ps(p[i], _mm512_setzero_ps());
                continue;
            }
            const __m512 sc = _mm512_mul_ps(s[i], vscale);
            const float mx = _mm512_mask_reduce_max_ps(valid, sc);
            const float m_new = mx > m[i] ? mx : m[i];
            alpha[i] = __builtin_expf(m[i] - m_new); // 0 on the first chunk (m = -inf)
            m[i] = m_new;
            const __m512 e =
                _mm512_maskz_mov_ps(valid, exp512(_mm512_sub_ps(sc, _mm512_set1_ps(m_new))));
            l[i] = l[i] * alpha[i] + _mm512_reduce_add_ps(e);
            _mm512_store_ps(p[i], e);
        }
        const int keys = n - k0 < 16 ? n - k0 : 16;
        for (int d = 0; d < hd; d += 16) {
            const __mmask16 dm = tail_mask16(hd - d);
            __m512 o[R];
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                o[i] = _mm512_mul_ps(_mm512_maskz_loadu_ps(dm, t.out[i] + d),
                                     _mm512_set1_ps(alpha[i]));
            }
            for (int j = 0; j < keys; ++j) {
                const __m512 v = load16<kF16>(t.v[c], j * t.v_stride + d, dm);
                AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                    o[i] = _mm512_fmadd_ps(_mm512_set1_ps(p[i][j]), v, o[i]);
                }
            }
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                _mm512_mask_storeu_ps(t.out[i] + d, dm, o[i]);
            }
        }
    }
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        const __m512 inv = _mm512_set1_ps(l[i] > 0.0f ? 1.0f / l[i] : 0.0f);
        for (int d = 0; d < hd; d += 16) {
            const __mmask16 dm = tail_mask16(hd - d);
            _mm512_mask_storeu_ps(t.out[i] + d, dm,
                                  _mm512_mul_ps(_mm512_maskz_loadu_ps(dm, t.out[i] + d), inv));
        }
    }
}

template <bool kF16>
void run(const AttnTile& t) {
    switch (t.n_rows) {
    case 1:
        tile<kF16, 1>(t);
        break;
    case 2:
        tile<kF16, 2>(t);
        break;
    case 3:
        tile<kF16, 3>(t);
        break;
    default:
        tile<kF16, 4>(t);
        break;
    }
}

} // namespace

void attn_f32(const AttnTile& t) {
    run<false>(t);
}
void attn_f16(const AttnTile& t) {
    run<true>(t);
}

} // namespace agentd::inference::cpu::avx512
