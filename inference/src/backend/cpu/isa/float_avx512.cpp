// AVX-512 activation quantisers, vector helpers and float-weight GEMMs (F32, F16, BF16 without
// the BF16 instructions). Compiled with AVX-512 flags; see kernels.h for the TU rules.
#include "backend/cpu/isa/simd_decls.h"
#include "backend/cpu/isa/simd_math_avx512.h"
#include "quant/block_formats.h"

#include <immintrin.h>

namespace agentd::inference::cpu::avx512 {
namespace {

inline __mmask16 tail_mask16(std::int64_t n) {
    return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// ---- float GEMM micro-kernel: R weight rows x C tokens, 16 elements per step ----

/// Loads 16 weight elements as floats (masked).
template <TensorType T>
inline __m512 load_w(const std::uint8_t* row, std::int64_t i, __mmask16 m) {
    if constexpr (T == TensorType::f32) {
        return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + i);
    } else if constexpr (T == TensorType::f16) {
        const __m256i h =
            _mm256_maskz_loadu_epi16(m, reinterpret_cast<const std::uint16_t*>(row) + i);
        return _mm512_cvtph_ps(h);
    } else {
        const __m256i h =
            _mm256_maskz_loadu_epi16(m, reinterpret_cast<const std::uint16_t*>(row) + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
}

template <TensorType T>
inline __m512 load_a(const std::uint8_t* row, std::int64_t i, __mmask16 m) {
    if constexpr (T == TensorType::bf16) {
        return load_w<TensorType::bf16>(row, i, m);
    } else {
        return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + i);
    }
}

/// Accumulates W[r..r+R) . act[t..t+C) over elements [k0, k1). The R x C partial sums start at
/// zero (`first`) or from `part`, and end reduced into y (`last`) or stored back to `part`.
template <TensorType T, int R, int C>
void float_tile(const GemmArgs& a, std::int64_t r, std::int64_t t, std::int64_t k0, std::int64_t k1,
                __m512* part, bool first, bool last) {
    __m512 acc[R][C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            acc[i][j] = first ? _mm512_setzero_ps() : _mm512_load_ps(part + i * C + j);
        }
    }
    const std::uint8_t* wr[R];
    const std::uint8_t* ar[C];
    AGENTD_UNROLL for (int i = 0; i < R; ++i) {
        wr[i] = a.w + (r + i) * a.w_stride;
    }
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        ar[j] = a.act + (t + j) * a.act_stride;
    }
    // Decode (one or two tokens, whole rows): prefetch the next R rows (see prefetch_bytes).
    const bool prefetch = C <= 2 && k0 == 0 && k1 == a.k;
    const std::uint8_t* next = a.w + (r + R) * a.w_stride;
    const auto step = static_cast<std::int64_t>(R * a.w_stride / static_cast<std::size_t>(a.k));
    for (std::int64_t k = k0; k < k1; k += 16) {
        const __mmask16 m = tail_mask16(k1 - k);
        if (prefetch) {
            prefetch_bytes(next, k * step, (k + 16) * step);
        }
        __m512 w[R];
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            w[i] = load_w<T>(wr[i], k, m);
        }
        AGENTD_UNROLL for (int j = 0; j < C; ++j) {
            const __m512 x = load_a<T>(ar[j], k, m);
            AGENTD_UNROLL for (int i = 0; i < R; ++i) {
                acc[i][j] = _mm512_fmadd_ps(w[i], x, acc[i][j]);
            }
        }
    }
    if (!last) {
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            AGENTD_UNROLL for (int j = 0; j < C; ++j) {
                _mm512_store_ps(part + i * C + j, acc[i][j]);
            }
        }
        return;
    }
    AGENTD_UNROLL for (int j = 0; j < C; ++j) {
        float* y = a.y + (t + j) * a.y_stride + r;
        AGENTD_UNROLL for (int i = 0; i < R; ++i) {
            const float v = _mm512_reduce_add_ps(acc[i][j]);
            y[i] = a.accumulate ? y[i] + v : v;
        }
    }
}

template <TensorType T, int R, int C>
struct FloatTiles {
    using Fn = void (*)(const GemmArgs&, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                        __m512*, bool, bool);
    template <int I, int J>
    static constexpr Fn at() {
        return &float_tile<T, I, J>;
    }
    static Fn get(int rr, int cc) {
        // rr in 1..R, cc in 1..C
        static constexpr Fn table[4][6] = {
            {at<1, 1>(), at<1, 2>(), at<1, 3>(), at<1, 4>(), at<1, 5>(), at<1, 6>()},
            {at<2, 1>(), at<2, 2>(), at<2, 3>(), at<2, 4>(), at<2, 5>(), at<2, 6>()},
            {at<3, 1>(), at<3, 2>(), at<3, 3>(), at<3, 4>(), at<3, 5>(), at<3, 6>()},
            {at<4, 1>(), at<4, 2>(), at<4, 3>(), at<4, 4>(), at<4, 5>(), at<4, 6>()},
        };
        return table[rr - 1][cc - 1];
    }
};

/// Several tokens: K is cut into chunks so the C activation rows of a chunk stay in L1 while all
/// weight-row tiles of a 64-row block pass over them (partial sums wait in `part`). One or two
/// tokens (decode) stream each row once over the whole K.
template <TensorType T>
void float_gemm(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
                std::int64_t t1) {
    constexpr int R = 4;
    constexpr int C = 6;
    constexpr std::int64_t kRowBlock = 64;
    constexpr std::int64_t kChunk = 256;
    alignas(64) __m512 part[(kRowBlock / R) * R * C];
    const bool blocked = t1 - t0 > 2 && a.k > kChunk;
    for (std::int64_t t = t0; t < t1; t += C) {
        const int cc = static_cast<int>(t1 - t < C ? t1 - t : C);
        if (!blocked) {
            for (std::int64_t r = r0; r < r1; r += R) {
                const int rr = static_cast<int>(r1 - r < R ? r1 - r : R);
                FloatTiles<T, R, C>::get(rr, cc)(a, r, t, 0, a.k, part, true, true);
            }
            continue;
        }
        for (std::int64_t rb = r0; rb < r1; rb += kRowBlock) {
            const std::int64_t re = r1 - rb < kRowBlock ? r1 : rb + kRowBlock;
            for (std::int64_t k0 = 0; k0 < a.k; k0 += kChunk) {
                const std::int64_t k1 = a.k - k0 < kChunk ? a.k : k0 + kChunk;
                for (std::int64_t r = rb; r < re; r += R) {
                    const int rr = static_cast<int>(re - r < R ? re - r : R);
                    FloatTiles<T, R, C>::get(rr, cc)(a, r, t, k0, k1, part + (r - rb) / R * R * C,
                                                     k0 == 0, k1 == a.k);
                }
            }
        }
    }
}

// ---- activation quantisers ----

/// Packs 16 int32 lanes (already in -127..127) to 16 int8.
inline __m128i pack16(__m512i v) {
    return _mm512_cvtsepi32_epi8(v);
}

void quantize_q8_rows(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                      std::int64_t rows, std::int64_t k, int c) {
    const __m512 sign = _mm512_set1_ps(-0.0f);
    const std::int64_t nb = k / 32;
    for (std::int64_t row = 0; row < rows; ++row) {
        const float* xr = x + row * static_cast<std::int64_t>(xs);
        std::uint8_t* o = out + row * static_cast<std::int64_t>(os);
        auto* qs = reinterpret_cast<std::int8_t*>(o);
        auto* scale = reinterpret_cast<float*>(o + act_q8_scale_offset(k));
        auto* corr = reinterpret_cast<std::int32_t*>(o + act_q8_corr_offset(k));
        if (nb % 4 != 0) {
            // Zero the last group, whose missing blocks must contribute nothing.
            const std::int64_t g = nb / 4;
            __builtin_memset(qs + g * kQ8Group, 0, kQ8Group);
            __builtin_memset(scale + 16 * g, 0, 64);
            __builtin_memset(corr + 16 * g, 0, 64);
        }
        for (std::int64_t b = 0; b < nb; ++b) {
            const __m512 v0 = _mm512_loadu_ps(xr + 32 * b);
            const __m512 v1 = _mm512_loadu_ps(xr + 32 * b + 16);
            const __m512 m = _mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1));
            const float amax = _mm512_reduce_max_ps(m);
            const float d = quant::half_to_float(quant::float_to_half(amax / 127.0f));
            const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
            const __m512 vid = _mm512_set1_ps(id);
            const __m512i q0 = _mm512_cvt_roundps_epi32(
                _mm512_mul_ps(v0, vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            const __m512i q1 = _mm512_cvt_roundps_epi32(
                _mm512_mul_ps(v1, vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + act_q8_index(b, 0)), pack16(q0));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + act_q8_index(b, 16)), pack16(q1));
            const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
            _mm_storeu_ps(scale + act_q8_lane(b), _mm_set1_ps(d));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(corr + act_q8_lane(b)),
                             _mm_setr_epi32(-c * sum, 0, 0, 0));
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
        for (std::int64_t i = 0; i < k; i += 16) {
            const __mmask16 m = tail_mask16(k - i);
            const __m512 v = _mm512_maskz_loadu_ps(m, xr + i);
            const __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            _mm512_mask_storeu_ps(y + i, m, _mm512_cvtph_ps(h));
        }
    }
}

void quantize_bf16(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    const __m512i bias = _mm512_set1_epi32(0x7FFF);
    const __m512i one = _mm512_set1_epi32(1);
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * static_cast<std::int64_t>(xs);
        auto* y = reinterpret_cast<std::uint16_t*>(out + r * static_cast<std::int64_t>(os));
        for (std::int64_t i = 0; i < k; i += 16) {
            const __mmask16 m = tail_mask16(k - i);
            const __m512 v = _mm512_maskz_loadu_ps(m, xr + i);
            const __m512i u = _mm512_castps_si512(v);
            const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
            __m512i rounded =
                _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(bias, lsb)), 16);
            const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
            rounded = _mm512_mask_mov_epi32(
                rounded, nan, _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(64)));
            _mm256_mask_storeu_epi16(y + i, m, _mm512_cvtepi32_epi16(rounded));
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
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (std::int64_t row = 0; row < rows; ++row) {
        const float* xr = x + row * static_cast<std::int64_t>(xs);
        auto* blocks =
            reinterpret_cast<quant::BlockQ8K*>(out + row * static_cast<std::int64_t>(os));
        for (std::int64_t b = 0; b < k / 256; ++b) {
            const float* xb = xr + 256 * b;
            quant::BlockQ8K& y = blocks[b];
            __m512 m = _mm512_setzero_ps();
            for (int i = 0; i < 256; i += 16) {
                m = _mm512_max_ps(m, _mm512_andnot_ps(sign, _mm512_loadu_ps(xb + i)));
            }
            const float amax = _mm512_reduce_max_ps(m);
            if (amax == 0.0f) {
                __builtin_memset(&y, 0, sizeof y);
                continue;
            }
            // The first element reaching amax gives the sign, as in the reference quantiser.
            float max = 0.0f;
            const __m512 vmax = _mm512_set1_ps(amax);
            for (int i = 0; i < 256; i += 16) {
                const __m512 v = _mm512_loadu_ps(xb + i);
                const __mmask16 hit =
                    _mm512_cmp_ps_mask(_mm512_andnot_ps(sign, v), vmax, _CMP_EQ_OQ);
                if (hit != 0) {
                    max = xb[i + __builtin_ctz(hit)];
                    break;
                }
            }
            const float iscale = -127.0f / max;
            const __m512 vs = _mm512_set1_ps(iscale);
            const __m512i lim = _mm512_set1_epi32(127);
            for (int i = 0; i < 256; i += 16) {
                __m512i q = _mm512_cvt_roundps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb + i), vs),
                                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                q = _mm512_min_epi32(q, lim);
                _mm_storeu_si128(reinterpret_cast<__m128i*>(y.qs + i), pack16(q));
                y.bsums[i / 16] = static_cast<std::int16_t>(_mm512_reduce_add_epi32(q));
            }
            y.d = 1.0f / iscale;
        }
    }
}

void swiglu(const float* g, const float* u, float* out, std::int64_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (std::int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 vg = _mm512_maskz_loadu_ps(m, g + i);
        const __m512 vu = _mm512_maskz_loadu_ps(m, u + i);
        const __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), vg));
        const __m512 s = _mm512_div_ps(vg, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(s, vu));
    }
}

float dot(const float* a, const float* b, std::int64_t n) {
    __m512 acc0 = _mm512_setzero_ps();
    __m512 acc1 = _mm512_setzero_ps();
    std::int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i);
        acc0 =
            _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

void scale_axpy(float* y, float s, const float* x, float a, std::int64_t n) {
    const __m512 vs = _mm512_set1_ps(s);
    const __m512 va = _mm512_set1_ps(a);
    for (std::int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 vy = _mm512_maskz_loadu_ps(m, y + i);
        const __m512 vx = _mm512_maskz_loadu_ps(m, x + i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(vx, va, _mm512_mul_ps(vy, vs)));
    }
}

float exp_sum(float* x, float max, std::int64_t n) {
    const __m512 vm = _mm512_set1_ps(max);
    __m512 sum = _mm512_setzero_ps();
    for (std::int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm));
        _mm512_mask_storeu_ps(x + i, m, e);
        sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(m, e));
    }
    return _mm512_reduce_add_ps(sum);
}

} // namespace agentd::inference::cpu::avx512
