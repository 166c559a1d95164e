#pragma once
// exp() for the sampler's hot loops: inputs are tempered logits relative to the best token
// (<= 0). Range reduction to 2^n * e^f with |f| <= ln2/2 and a degree-6 polynomial give a
// relative error below 4e-6 over [-87, 0] (measured; most of it from the float reduction). The
// array forms use SSE2 (baseline x86-64) four lanes at a time, where std::exp is a scalar library
// call; other targets use the same arithmetic in scalar form.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace agentd::inference {

namespace detail {
inline constexpr float kExpLo = -87.0f; // e^-87 ~ 1.6e-38: the smallest normal float range
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2 = 0.693147180559945309f;
} // namespace detail

inline float fast_exp_nonpositive(float x) {
    x = std::isnan(x) ? detail::kExpLo : std::clamp(x, detail::kExpLo, 0.0f);
    float t = x * detail::kLog2e;
    auto n = static_cast<std::int32_t>(t - 0.5f); // round to nearest for t <= 0
    float f = (t - static_cast<float>(n)) * detail::kLn2;
    float p =
        1.0f +
        f * (1.0f +
             f * (0.5f + f * (1.0f / 6 + f * (1.0f / 24 + f * (1.0f / 120 + f * (1.0f / 720))))));
    std::int32_t bits = (n + 127) << 23;
    float scale = 0;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

#if defined(__SSE2__)
inline __m128 fast_exp_nonpositive4(__m128 x) {
    x = _mm_max_ps(x, _mm_set1_ps(detail::kExpLo)); // also maps NaN to the low bound
    x = _mm_min_ps(x, _mm_setzero_ps());
    __m128 t = _mm_mul_ps(x, _mm_set1_ps(detail::kLog2e));
    __m128i n = _mm_cvttps_epi32(_mm_sub_ps(t, _mm_set1_ps(0.5f)));
    __m128 f = _mm_mul_ps(_mm_sub_ps(t, _mm_cvtepi32_ps(n)), _mm_set1_ps(detail::kLn2));
    __m128 p = _mm_set1_ps(1.0f / 720);
    p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(1.0f / 120));
    p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(1.0f / 24));
    p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(1.0f / 6));
    p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(0.5f));
    p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(1.0f));
    p = _mm_add_ps(_mm_mul_ps(p, f), _mm_set1_ps(1.0f));
    __m128i bits = _mm_slli_epi32(_mm_add_epi32(n, _mm_set1_epi32(127)), 23);
    return _mm_mul_ps(p, _mm_castsi128_ps(bits));
}
#endif

/// out[i] = exp(in[i]) for in[i] <= 0; returns the sum of the outputs (float lanes folded into
/// a double every 1024 elements).
inline double fast_exp_array(const float* in, float* out, std::size_t n) {
    std::size_t i = 0;
    double total = 0;
#if defined(__SSE2__)
    while (i + 4 <= n) {
        __m128 acc = _mm_setzero_ps();
        std::size_t end = std::min(i + 1024, n - (n - i) % 4);
        for (; i < end; i += 4) {
            __m128 e = fast_exp_nonpositive4(_mm_loadu_ps(in + i));
            _mm_storeu_ps(out + i, e);
            acc = _mm_add_ps(acc, e);
        }
        float lanes[4];
        _mm_storeu_ps(lanes, acc);
        total += static_cast<double>(lanes[0]) + lanes[1] + lanes[2] + lanes[3];
    }
#endif
    for (; i < n; ++i) {
        out[i] = fast_exp_nonpositive(in[i]);
        total += out[i];
    }
    return total;
}

/// Sum of exp(l - max) over all logits (max must be their maximum), accumulated in double.
inline double sum_exp(std::span<const float> logits, float max) {
    double total = 0;
    std::size_t i = 0;
#if defined(__SSE2__)
    const __m128 m = _mm_set1_ps(max);
    // Four float lanes per block of 1024, folded into the double total after each block.
    while (i + 4 <= logits.size()) {
        __m128 acc = _mm_setzero_ps();
        std::size_t end = std::min(i + 1024, logits.size() - (logits.size() - i) % 4);
        for (; i < end; i += 4) {
            acc = _mm_add_ps(acc, fast_exp_nonpositive4(_mm_sub_ps(_mm_loadu_ps(&logits[i]), m)));
        }
        float lanes[4];
        _mm_storeu_ps(lanes, acc);
        total += static_cast<double>(lanes[0]) + lanes[1] + lanes[2] + lanes[3];
    }
#endif
    for (; i < logits.size(); ++i) {
        total += fast_exp_nonpositive(logits[i] - max);
    }
    return total;
}

} // namespace agentd::inference
