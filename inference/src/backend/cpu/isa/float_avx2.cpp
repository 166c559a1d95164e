// AVX2 activation quantisers, vector helpers and float-weight GEMMs. Compiled with AVX2/FMA/F16C
// flags; see kernels.h for the TU rules.
#include "backend/cpu/isa/simd_decls.h"
#include "backend/cpu/isa/simd_math_avx2.h"
#include "quant/block_formats.h"

#include <immintrin.h>

namespace agentd::inference::cpu::avx2 {
namespace {

template <TensorType T>
inline __m256 load_w(const std::uint8_t* row, std::int64_t i) {
    if constexpr (T == TensorType::f32) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i);
    } else if constexpr (T == TensorType::f16) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
    } else {
        const __m256i v =
            _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
    }
}

template <TensorType T>
inline __m256 load_a(const std::uint8_t* row, std::int64_t i) {
    if constexpr (T == TensorType::bf16) {
        return load_w<TensorType::bf16>(row, i);
    } else {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i);
    }
}

template <TensorType T>
inline float scalar_w(const std::uint8_t* row, std::int64_t i) {
    if constexpr (T == TensorType::f32) {
        return reinterpret_cast<const float*>(row)[i];
    } else {
        std::uint16_t h;
        __builtin_memcpy(&h, row + 2 * i, 2);
        return T == TensorType::f16 ? quant::half_to_float(h) : quant::bf16_to_float(h);
    }
}

template <TensorType T>
inline float scalar_a(const std::uint8_t* row, std::int64_t i) {
    if constexpr (T == TensorType::bf16) {
        return scalar_w<TensorType::bf16>(row, i);
    } else {
        return reinterpret_cast<const float*>(row)[i];
    }
}

template <TensorType T, int R, int C>
void float_tile(const GemmArgs& a, std::int64_t r, std::int64_t t) {
    __m256 acc[R][C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            acc[i][j] = _mm256_setzero_ps();
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
    const std::int64_t kv = a.k & ~static_cast<std::int64_t>(7);
    // Decode (one token): prefetch the next R rows (see prefetch_bytes).
    const std::uint8_t* next = a.w + (r + R) * static_cast<std::int64_t>(a.w_stride);
    const auto step = static_cast<std::int64_t>(R * a.w_stride / static_cast<std::size_t>(a.k));
    for (std::int64_t k = 0; k < kv; k += 8) {
        if constexpr (C == 1) {
            prefetch_bytes(next, k * step, (k + 8) * step);
        }
        __m256 w[R];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            w[i] = load_w<T>(wr[i], k);
        }
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const __m256 x = load_a<T>(ar[j], k);
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                acc[i][j] = _mm256_fmadd_ps(w[i], x, acc[i][j]);
            }
        }
    }
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        float* y = a.y + (t + j) * static_cast<std::int64_t>(a.y_stride) + r;
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            float v = hsum256(acc[i][j]);
            for (std::int64_t k = kv; k < a.k; ++k) {
                v += scalar_w<T>(wr[i], k) * scalar_a<T>(ar[j], k);
            }
            y[i] = a.accumulate ? y[i] + v : v;
        }
    }
}

template <TensorType T>
void float_gemm(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
                std::int64_t t1) {
    constexpr int R = 3;
    constexpr int C = 4;
    std::int64_t t = t0;
    for (; t + C <= t1; t += C) {
        std::int64_t r = r0;
        for (; r + R <= r1; r += R) {
            float_tile<T, R, C>(a, r, t);
        }
        for (; r < r1; ++r) {
            float_tile<T, 1, C>(a, r, t);
        }
    }
    for (; t < t1; ++t) {
        std::int64_t r = r0;
        for (; r + 4 <= r1; r += 4) {
            float_tile<T, 4, 1>(a, r, t);
        }
        for (; r < r1; ++r) {
            float_tile<T, 1, 1>(a, r, t);
        }
    }
}

/// Packs 8 + 8 + 8 + 8 int32 (in -127..127) to 32 int8 in order.
inline __m256i pack32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b); // 16-bit, lanes interleaved per 128
    const __m256i cd = _mm256_packs_epi32(c, d);
    const __m256i abcd = _mm256_packs_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline __m256i round_i32(__m256 v) {
    return _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

void quantize_q8_rows(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                      std::int64_t rows, std::int64_t k, int c) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const std::int64_t nb = k / 32;
    for (std::int64_t row = 0; row < rows; ++row) {
        const float* xr = x + row * static_cast<std::int64_t>(xs);
        std::uint8_t* o = out + row * static_cast<std::int64_t>(os);
        auto* qs = reinterpret_cast<std::int8_t*>(o);
        auto* scale = reinterpret_cast<float*>(o + act_q8_scale_offset(k));
        auto* corr = reinterpret_cast<std::int32_t*>(o + act_q8_corr_offset(k));
        if (nb % 4 != 0) {
            const std::int64_t g = nb / 4;
            __builtin_memset(qs + g * kQ8Group, 0, kQ8Group);
            __builtin_memset(scale + 16 * g, 0, 64);
            __builtin_memset(corr + 16 * g, 0, 64);
        }
        for (std::int64_t b = 0; b < nb; ++b) {
            __m256 v[4];
            __m256 m = _mm256_setzero_ps();
            for (int i = 0; i < 4; ++i) {
                v[i] = _mm256_loadu_ps(xr + 32 * b + 8 * i);
                m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[i]));
            }
            const float amax = hmax256(m);
            const float d = quant::half_to_float(quant::float_to_half(amax / 127.0f));
            const __m256 vid = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
            __m256i q[4];
            __m256i sum = _mm256_setzero_si256();
            for (int i = 0; i < 4; ++i) {
                q[i] = round_i32(_mm256_mul_ps(v[i], vid));
                sum = _mm256_add_epi32(sum, q[i]);
            }
            const __m256i packed = pack32(q[0], q[1], q[2], q[3]);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + act_q8_index(b, 0)),
                             _mm256_castsi256_si128(packed));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + act_q8_index(b, 16)),
                             _mm256_extracti128_si256(packed, 1));
            _mm_storeu_ps(scale + act_q8_lane(b), _mm_set1_ps(d));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(corr + act_q8_lane(b)),
                             _mm_setr_epi32(-c * hsum256i(sum), 0, 0, 0));
        }
    }
}

} // namespace

void gemm_f32(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
              std::int64_t t1) {
    float_gemm<TensorType::f32>(a, r0, r1, t0, t1);
}

void gemm_f16(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
              std::int64_t t1) {
    float_gemm<TensorType::f16>(a, r0, r1, t0, t1);
}

void gemm_bf16(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
               std::int64_t t1) {
    float_gemm<TensorType::bf16>(a, r0, r1, t0, t1);
}

void quantize_f16r(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * static_cast<std::int64_t>(xs);
        auto* y = reinterpret_cast<float*>(out + r * static_cast<std::int64_t>(os));
        std::int64_t i = 0;
        for (; i + 8 <= k; i += 8) {
            const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(xr + i),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm256_storeu_ps(y + i, _mm256_cvtph_ps(h));
        }
        for (; i < k; ++i) {
            y[i] = quant::half_to_float(quant::float_to_half(xr[i]));
        }
    }
}

void quantize_bf16(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * static_cast<std::int64_t>(xs);
        auto* y = reinterpret_cast<std::uint16_t*>(out + r * static_cast<std::int64_t>(os));
        for (std::int64_t i = 0; i < k; ++i) {
            y[i] = quant::float_to_bf16(xr[i]);
        }
    }
}

void quantize_q8_0(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    quantize_q8_rows(x, xs, out, os, rows, k, 128);
}

void quantize_q4_0(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    quantize_q8_rows(x, xs, out, os, rows, k, 8);
}

void quantize_q8_k(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (std::int64_t row = 0; row < rows; ++row) {
        const float* xr = x + row * static_cast<std::int64_t>(xs);
        auto* blocks =
            reinterpret_cast<quant::BlockQ8K*>(out + row * static_cast<std::int64_t>(os));
        for (std::int64_t b = 0; b < k / 256; ++b) {
            const float* xb = xr + 256 * b;
            quant::BlockQ8K& y = blocks[b];
            __m256 m = _mm256_setzero_ps();
            for (int i = 0; i < 256; i += 8) {
                m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(xb + i)));
            }
            const float amax = hmax256(m);
            if (amax == 0.0f) {
                __builtin_memset(&y, 0, sizeof y);
                continue;
            }
            float max = 0.0f;
            for (int i = 0; i < 256; ++i) {
                if (__builtin_fabsf(xb[i]) == amax) {
                    max = xb[i];
                    break;
                }
            }
            const float iscale = -127.0f / max;
            const __m256 vs = _mm256_set1_ps(iscale);
            const __m256i lim = _mm256_set1_epi32(127);
            for (int i = 0; i < 256; i += 32) {
                __m256i q[4];
                for (int j = 0; j < 4; ++j) {
                    q[j] = _mm256_min_epi32(
                        round_i32(_mm256_mul_ps(_mm256_loadu_ps(xb + i + 8 * j), vs)), lim);
                }
                y.bsums[i / 16] = static_cast<std::int16_t>(hsum256i(_mm256_add_epi32(q[0], q[1])));
                y.bsums[i / 16 + 1] =
                    static_cast<std::int16_t>(hsum256i(_mm256_add_epi32(q[2], q[3])));
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.qs + i),
                                    pack32(q[0], q[1], q[2], q[3]));
            }
            y.d = 1.0f / iscale;
        }
    }
}

void swiglu(const float* g, const float* u, float* out, std::int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 vg = _mm256_loadu_ps(g + i);
        const __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), vg));
        const __m256 s = _mm256_div_ps(vg, _mm256_add_ps(one, e));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    for (; i < n; ++i) {
        out[i] = g[i] / (1.0f + __builtin_expf(-g[i])) * u[i];
    }
}

float dot(const float* a, const float* b, std::int64_t n) {
    __m256 acc = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
    }
    float s = hsum256(acc);
    for (; i < n; ++i) {
        s += a[i] * b[i];
    }
    return s;
}

void scale_axpy(float* y, float s, const float* x, float a, std::int64_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    const __m256 va = _mm256_set1_ps(a);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va,
                                                _mm256_mul_ps(_mm256_loadu_ps(y + i), vs)));
    }
    for (; i < n; ++i) {
        y[i] = y[i] * s + x[i] * a;
    }
}

float exp_sum(float* x, float max, std::int64_t n) {
    const __m256 vm = _mm256_set1_ps(max);
    __m256 sum = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    float s = hsum256(sum);
    for (; i < n; ++i) {
        x[i] = __builtin_expf(x[i] - max);
        s += x[i];
    }
    return s;
}

} // namespace agentd::inference::cpu::avx2
