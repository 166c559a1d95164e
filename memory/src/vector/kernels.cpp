#include "vector/kernels.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>

// GCC 12 reports its own AVX-512 extract intrinsics (they start from _mm256_undefined) as
// maybe-uninitialized (GCC PR105593); the values are fully defined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace agentd::memory::vector {
namespace {

void dot_f32_rows_scalar(const float* q, const float* rows, std::size_t stride, std::size_t n,
                         float* out) {
    for (std::size_t i = 0; i < n; ++i) {
        const float* r = rows + i * stride;
        float acc[8] = {};
        for (std::size_t d = 0; d < stride; d += 8) {
            for (std::size_t j = 0; j < 8; ++j) {
                acc[j] += q[d + j] * r[d + j];
            }
        }
        out[i] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
}

void dot_i8_rows_scalar(const std::int8_t* q, const std::int8_t* rows, std::size_t stride,
                        std::size_t n, const std::int32_t* /*row_sums*/, std::int32_t* out) {
    for (std::size_t i = 0; i < n; ++i) {
        const std::int8_t* r = rows + i * stride;
        std::int32_t acc = 0;
        for (std::size_t d = 0; d < stride; ++d) {
            acc += std::int32_t{q[d]} * std::int32_t{r[d]};
        }
        out[i] = acc;
    }
}

__attribute__((target("avx2,fma"))) inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) void dot_f32_rows_avx2(const float* q, const float* rows,
                                                           std::size_t stride, std::size_t n,
                                                           float* out) {
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float* r0 = rows + i * stride;
        const float* r1 = r0 + stride;
        const float* r2 = r1 + stride;
        const float* r3 = r2 + stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (std::size_t d = 0; d < stride; d += 8) {
            const __m256 qv = _mm256_load_ps(q + d);
            a0 = _mm256_fmadd_ps(_mm256_load_ps(r0 + d), qv, a0);
            a1 = _mm256_fmadd_ps(_mm256_load_ps(r1 + d), qv, a1);
            a2 = _mm256_fmadd_ps(_mm256_load_ps(r2 + d), qv, a2);
            a3 = _mm256_fmadd_ps(_mm256_load_ps(r3 + d), qv, a3);
        }
        out[i] = hsum256(a0);
        out[i + 1] = hsum256(a1);
        out[i + 2] = hsum256(a2);
        out[i + 3] = hsum256(a3);
    }
    for (; i < n; ++i) {
        const float* r = rows + i * stride;
        __m256 a = _mm256_setzero_ps();
        for (std::size_t d = 0; d < stride; d += 8) {
            a = _mm256_fmadd_ps(_mm256_load_ps(r + d), _mm256_load_ps(q + d), a);
        }
        out[i] = hsum256(a);
    }
}

__attribute__((target("avx2"))) inline std::int32_t hsum256_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

// Sign-extends to 16 bits and uses madd (exact; maddubs would saturate).
__attribute__((target("avx2"))) void dot_i8_rows_avx2(const std::int8_t* q, const std::int8_t* rows,
                                                      std::size_t stride, std::size_t n,
                                                      const std::int32_t* /*row_sums*/,
                                                      std::int32_t* out) {
    for (std::size_t i = 0; i < n; ++i) {
        const std::int8_t* r = rows + i * stride;
        __m256i acc = _mm256_setzero_si256();
        for (std::size_t d = 0; d < stride; d += 16) {
            const __m256i qv =
                _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(q + d)));
            const __m256i rv =
                _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(r + d)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(qv, rv));
        }
        out[i] = hsum256_epi32(acc);
    }
}

// Horizontal sums through 256 bits.
__attribute__((target("avx512f,avx2,fma"))) inline float hsum512(__m512 v) {
    const __m256 lo = _mm512_castps512_ps256(v);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return hsum256(_mm256_add_ps(lo, hi));
}

__attribute__((target("avx512f,avx2"))) inline std::int32_t hsum512_epi32(__m512i v) {
    return hsum256_epi32(
        _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)));
}

__attribute__((target("avx512f,avx2,fma"))) void dot_f32_rows_avx512(const float* q,
                                                                     const float* rows,
                                                                     std::size_t stride,
                                                                     std::size_t n, float* out) {
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float* r0 = rows + i * stride;
        const float* r1 = r0 + stride;
        const float* r2 = r1 + stride;
        const float* r3 = r2 + stride;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        for (std::size_t d = 0; d < stride; d += 16) {
            const __m512 qv = _mm512_load_ps(q + d);
            a0 = _mm512_fmadd_ps(_mm512_load_ps(r0 + d), qv, a0);
            a1 = _mm512_fmadd_ps(_mm512_load_ps(r1 + d), qv, a1);
            a2 = _mm512_fmadd_ps(_mm512_load_ps(r2 + d), qv, a2);
            a3 = _mm512_fmadd_ps(_mm512_load_ps(r3 + d), qv, a3);
        }
        out[i] = hsum512(a0);
        out[i + 1] = hsum512(a1);
        out[i + 2] = hsum512(a2);
        out[i + 3] = hsum512(a3);
    }
    for (; i < n; ++i) {
        const float* r = rows + i * stride;
        __m512 a = _mm512_setzero_ps();
        for (std::size_t d = 0; d < stride; d += 16) {
            a = _mm512_fmadd_ps(_mm512_load_ps(r + d), _mm512_load_ps(q + d), a);
        }
        out[i] = hsum512(a);
    }
}

__attribute__((target("avx512f,avx512bw,avx2"))) void
dot_i8_rows_avx512bw(const std::int8_t* q, const std::int8_t* rows, std::size_t stride,
                     std::size_t n, const std::int32_t* /*row_sums*/, std::int32_t* out) {
    for (std::size_t i = 0; i < n; ++i) {
        const std::int8_t* r = rows + i * stride;
        __m512i acc = _mm512_setzero_si512();
        for (std::size_t d = 0; d < stride; d += 32) {
            const __m512i qv =
                _mm512_cvtepi8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(q + d)));
            const __m512i rv =
                _mm512_cvtepi8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(r + d)));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(qv, rv));
        }
        out[i] = hsum512_epi32(acc);
    }
}

// vpdpbusd multiplies unsigned by signed bytes: with u = q + 128 (fits in a byte since codes
// are in [-127, 127]), sum(u * r) = sum(q * r) + 128 * sum(r), and sum(r) is precomputed.
__attribute__((target("avx512f,avx512bw,avx512vnni,avx2"))) void
dot_i8_rows_vnni(const std::int8_t* q, const std::int8_t* rows, std::size_t stride, std::size_t n,
                 const std::int32_t* row_sums, std::int32_t* out) {
    alignas(64) std::uint8_t qu[4096 + 64];
    const std::size_t len = stride <= 4096 ? stride : 4096;
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    for (std::size_t d = 0; d < len; d += 64) {
        const __m512i v = _mm512_load_si512(q + d);
        _mm512_store_si512(qu + d, _mm512_xor_si512(v, bias)); // q + 128 as unsigned
    }
    if (len != stride) { // longer than the stack buffer: the exact 16-bit path
        dot_i8_rows_avx512bw(q, rows, stride, n, row_sums, out);
        return;
    }
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const std::int8_t* r0 = rows + i * stride;
        const std::int8_t* r1 = r0 + stride;
        const std::int8_t* r2 = r1 + stride;
        const std::int8_t* r3 = r2 + stride;
        __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
        __m512i a2 = _mm512_setzero_si512(), a3 = _mm512_setzero_si512();
        for (std::size_t d = 0; d < stride; d += 64) {
            const __m512i qv = _mm512_load_si512(qu + d);
            a0 = _mm512_dpbusd_epi32(a0, qv, _mm512_load_si512(r0 + d));
            a1 = _mm512_dpbusd_epi32(a1, qv, _mm512_load_si512(r1 + d));
            a2 = _mm512_dpbusd_epi32(a2, qv, _mm512_load_si512(r2 + d));
            a3 = _mm512_dpbusd_epi32(a3, qv, _mm512_load_si512(r3 + d));
        }
        out[i] = hsum512_epi32(a0) - 128 * row_sums[i];
        out[i + 1] = hsum512_epi32(a1) - 128 * row_sums[i + 1];
        out[i + 2] = hsum512_epi32(a2) - 128 * row_sums[i + 2];
        out[i + 3] = hsum512_epi32(a3) - 128 * row_sums[i + 3];
    }
    for (; i < n; ++i) {
        const std::int8_t* r = rows + i * stride;
        __m512i a = _mm512_setzero_si512();
        for (std::size_t d = 0; d < stride; d += 64) {
            a = _mm512_dpbusd_epi32(a, _mm512_load_si512(qu + d), _mm512_load_si512(r + d));
        }
        out[i] = hsum512_epi32(a) - 128 * row_sums[i];
    }
}

constexpr Kernels kScalar{"scalar", &dot_f32_rows_scalar, &dot_i8_rows_scalar};
constexpr Kernels kAvx2{"avx2", &dot_f32_rows_avx2, &dot_i8_rows_avx2};
constexpr Kernels kAvx512{"avx512", &dot_f32_rows_avx512, &dot_i8_rows_avx512bw};
constexpr Kernels kAvx512Vnni{"avx512vnni", &dot_f32_rows_avx512, &dot_i8_rows_vnni};

std::size_t detect(const Kernels** out, std::size_t capacity) noexcept {
    const Kernels* levels[4];
    std::size_t n = 0;
    levels[n++] = &kScalar;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        levels[n++] = &kAvx2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
            levels[n++] = &kAvx512;
            if (__builtin_cpu_supports("avx512vnni")) {
                levels[n++] = &kAvx512Vnni;
            }
        }
    }
    std::size_t i = 0;
    for (; i < n && i < capacity; ++i) {
        out[i] = levels[i];
    }
    return i;
}

const Kernels& choose() noexcept {
    const Kernels* levels[4];
    const std::size_t n = detect(levels, 4);
    const Kernels* best = levels[n - 1];
    if (const char* forced = std::getenv("AGENTD_VECTOR_KERNEL")) {
        for (std::size_t i = 0; i < n; ++i) {
            if (std::strcmp(levels[i]->name, forced) == 0) {
                best = levels[i];
            }
        }
    }
    return *best;
}

} // namespace

const Kernels& best_kernels() noexcept {
    static const Kernels& k = choose();
    return k;
}

std::size_t supported_kernels(const Kernels** out, std::size_t capacity) noexcept {
    return detect(out, capacity);
}

} // namespace agentd::memory::vector
