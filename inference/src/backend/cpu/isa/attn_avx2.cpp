// AVX2 attention tile: online softmax over 16-key chunks (see AttnTile in kernels.h), each chunk
// as two 8-lane halves. Compiled with AVX2/FMA/F16C flags; see kernels.h for the TU rules.
#include "backend/cpu/isa/simd_decls.h"
#include "backend/cpu/isa/simd_math_avx2.h"

#include <immintrin.h>

namespace agentd::inference::cpu::avx2 {
namespace {

template <bool kF16>
inline __m256 load8(const void* base, std::int64_t i) {
    if constexpr (kF16) {
        return _mm256_cvtph_ps(_mm_loadu_si128(
            reinterpret_cast<const __m128i*>(static_cast<const std::uint16_t*>(base) + i)));
    } else {
        return _mm256_loadu_ps(static_cast<const float*>(base) + i);
    }
}

template <bool kF16>
inline float load1(const void* base, std::int64_t i) {
    if constexpr (kF16) {
        return _cvtsh_ss(static_cast<const std::uint16_t*>(base)[i]);
    } else {
        return static_cast<const float*>(base)[i];
    }
}

template <bool kF16>
void run(const AttnTile& t) {
    const int hd = t.head_dim;
    const int hd8 = hd & ~7;
    alignas(32) float p[16];
    for (int i = 0; i < t.n_rows; ++i) {
        float m = -__builtin_inff();
        float l = 0.0f;
        float* out = t.out[i];
        for (int d = 0; d < hd; ++d) {
            out[d] = 0.0f;
        }
        const std::int32_t n = t.n_keys < t.pos[i] + 1 ? t.n_keys : t.pos[i] + 1;
        for (std::int32_t k0 = 0; k0 < n; k0 += 16) {
            const int c = k0 / 16;
            const int keys = n - k0 < 16 ? n - k0 : 16;
            __m256 s0 = _mm256_setzero_ps();
            __m256 s1 = _mm256_setzero_ps();
            for (int d = 0; d < hd; ++d) {
                const __m256 q = _mm256_set1_ps(t.q[i][d]);
                s0 = _mm256_fmadd_ps(q, load8<kF16>(t.kt[c], d * t.kt_stride), s0);
                s1 = _mm256_fmadd_ps(q, load8<kF16>(t.kt[c], d * t.kt_stride + 8), s1);
            }
            _mm256_store_ps(p, _mm256_mul_ps(s0, _mm256_set1_ps(t.scale)));
            _mm256_store_ps(p + 8, _mm256_mul_ps(s1, _mm256_set1_ps(t.scale)));
            float mx = p[0];
            for (int j = 1; j < keys; ++j) {
                mx = p[j] > mx ? p[j] : mx;
            }
            const float m_new = mx > m ? mx : m;
            const float alpha = __builtin_expf(m - m_new);
            m = m_new;
            const __m256 vm = _mm256_set1_ps(m_new);
            _mm256_store_ps(p, exp256(_mm256_sub_ps(_mm256_load_ps(p), vm)));
            _mm256_store_ps(p + 8, exp256(_mm256_sub_ps(_mm256_load_ps(p + 8), vm)));
            float sum = 0.0f;
            for (int j = 0; j < keys; ++j) {
                sum += p[j];
            }
            l = l * alpha + sum;
            const __m256 va = _mm256_set1_ps(alpha);
            int d = 0;
            for (; d < hd8; d += 8) {
                __m256 o = _mm256_mul_ps(_mm256_loadu_ps(out + d), va);
                for (int j = 0; j < keys; ++j) {
                    o = _mm256_fmadd_ps(_mm256_set1_ps(p[j]),
                                        load8<kF16>(t.v[c], j * t.v_stride + d), o);
                }
                _mm256_storeu_ps(out + d, o);
            }
            for (; d < hd; ++d) {
                float o = out[d] * alpha;
                for (int j = 0; j < keys; ++j) {
                    o += p[j] * load1<kF16>(t.v[c], j * t.v_stride + d);
                }
                out[d] = o;
            }
        }
        const float inv = l > 0.0f ? 1.0f / l : 0.0f;
        for (int d = 0; d < hd; ++d) {
            out[d] *= inv;
        }
    }
}

} // namespace

void attn_f32(const AttnTile& t) {
    run<false>(t);
}
void attn_f16(const AttnTile& t) {
    run<true>(t);
}

} // namespace agentd::inference::cpu::avx2
