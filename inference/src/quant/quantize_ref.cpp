#include "quant/quantize_ref.h"

#include <algorithm>
#include <cmath>

namespace agentd::inference::quant {
namespace {

/// Largest |x| of n values and the signed value that has it.
float signed_absmax(const float* x, int n, float& amax) {
    float max = 0.0f;
    amax = 0.0f;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    return max;
}

int clampi(int v, int lo, int hi) {
    return std::min(hi, std::max(lo, v));
}

/// Packs Q4_K sub-block scales and mins (6 bits each) into the 12-byte layout q4k_scale_min reads.
void pack_q4k_scales(const std::uint8_t* sc, const std::uint8_t* m, std::uint8_t* out) {
    for (int j = 0; j < 4; ++j) {
        out[j] = static_cast<std::uint8_t>((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        out[j + 4] = static_cast<std::uint8_t>((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        out[j + 8] = static_cast<std::uint8_t>((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
    }
}

} // namespace

void quantize_row_q8_0(const float* x, BlockQ8_0* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / kQk; ++b, x += kQk) {
        float amax = 0.0f;
        signed_absmax(x, kQk, amax);
        // Same arithmetic as the activation quantiser (see kernels): q = round(x * 127 / amax).
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[b].d = float_to_half(amax / 127.0f);
        for (int i = 0; i < kQk; ++i) {
            y[b].qs[i] = static_cast<std::int8_t>(round_even(x[i] * id));
        }
    }
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / kQk; ++b, x += kQk) {
        float amax = 0.0f;
        const float max = signed_absmax(x, kQk, amax);
        // The value of largest magnitude maps to -8, so the full range -8..7 is used.
        const float d = max / -8.0f;
        y[b].d = float_to_half(d);
        const float dq = half_to_float(y[b].d);
        const float id = dq != 0.0f ? 1.0f / dq : 0.0f;
        for (int i = 0; i < kQk / 2; ++i) {
            const int lo = clampi(round_even(x[i] * id) + 8, 0, 15);
            const int hi = clampi(round_even(x[i + kQk / 2] * id) + 8, 0, 15);
            y[b].qs[i] = static_cast<std::uint8_t>(lo | (hi << 4));
        }
    }
}

void quantize_row_q4_k(const float* x, BlockQ4K* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / kQkK; ++b, x += kQkK) {
        float scale[8];
        float mins[8];
        float max_scale = 0.0f;
        float max_min = 0.0f;
        for (int j = 0; j < 8; ++j) {
            const float* xs = x + 32 * j;
            float lo = 0.0f;
            float hi = xs[0];
            for (int i = 0; i < 32; ++i) {
                lo = std::min(lo, xs[i]);
                hi = std::max(hi, xs[i]);
            }
            scale[j] = std::max(hi - lo, 0.0f) / 15.0f;
            mins[j] = -lo;
            max_scale = std::max(max_scale, scale[j]);
            max_min = std::max(max_min, mins[j]);
        }
        y[b].d = float_to_half(max_scale / 63.0f);
        y[b].dmin = float_to_half(max_min / 63.0f);
        const float d = half_to_float(y[b].d);
        const float dmin = half_to_float(y[b].dmin);
        std::uint8_t sc[8];
        std::uint8_t mq[8];
        for (int j = 0; j < 8; ++j) {
            // Round the scale up and the min up so the sub-block range stays covered.
            sc[j] = static_cast<std::uint8_t>(
                d > 0.0f ? clampi(static_cast<int>(std::ceil(scale[j] / d - 1e-4f)), 0, 63) : 0);
            mq[j] = static_cast<std::uint8_t>(
                dmin > 0.0f ? clampi(static_cast<int>(std::ceil(mins[j] / dmin - 1e-4f)), 0, 63)
                            : 0);
        }
        pack_q4k_scales(sc, mq, y[b].scales);
        for (int c = 0; c < 4; ++c) {
            for (int half = 0; half < 2; ++half) {
                const int j = 2 * c + half;
                const float s = d * static_cast<float>(sc[j]);
                const float o = dmin * static_cast<float>(mq[j]);
                const float is = s > 0.0f ? 1.0f / s : 0.0f;
                for (int l = 0; l < 32; ++l) {
                    const int q = clampi(round_even((x[64 * c + 32 * half + l] + o) * is), 0, 15);
                    std::uint8_t& byte = y[b].qs[32 * c + l];
                    byte = static_cast<std::uint8_t>(half == 0 ? q : (byte | (q << 4)));
                }
            }
        }
    }
}

void quantize_row_q6_k(const float* x, BlockQ6K* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / kQkK; ++b, x += kQkK) {
        float scale[16];
        float max_abs_scale = 0.0f;
        float max_scale = 0.0f;
        for (int g = 0; g < 16; ++g) {
            float amax = 0.0f;
            const float max = signed_absmax(x + 16 * g, 16, amax);
            scale[g] = max / -32.0f; // the extreme value maps to -32
            if (std::fabs(scale[g]) > max_abs_scale) {
                max_abs_scale = std::fabs(scale[g]);
                max_scale = scale[g];
            }
        }
        BlockQ6K& out = y[b];
        std::memset(&out, 0, sizeof out);
        const float d = max_scale / -128.0f;
        out.d = float_to_half(d);
        const float dq = half_to_float(out.d);
        const float id = dq != 0.0f ? 1.0f / dq : 0.0f;
        for (int g = 0; g < 16; ++g) {
            out.scales[g] = static_cast<std::int8_t>(clampi(round_even(scale[g] * id), -128, 127));
        }
        for (int e = 0; e < kQkK; ++e) {
            const float s = dq * static_cast<float>(out.scales[e / 16]);
            const int q = s != 0.0f ? clampi(round_even(x[e] / s), -32, 31) + 32 : 32;
            const int half = e / 128;
            const int r = e % 128;
            const int quarter = r / 32;
            const int l = r % 32;
            std::uint8_t& lo = out.ql[64 * half + l + 32 * (quarter & 1)];
            lo = static_cast<std::uint8_t>(lo | ((q & 0xF) << (quarter < 2 ? 0 : 4)));
            out.qh[32 * half + l] =
                static_cast<std::uint8_t>(out.qh[32 * half + l] | ((q >> 4) << (2 * quarter)));
        }
    }
}

void quantize_row_q8_k(const float* x, BlockQ8K* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / kQkK; ++b, x += kQkK) {
        float amax = 0.0f;
        const float max = signed_absmax(x, kQkK, amax);
        if (amax == 0.0f) {
            std::memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int i = 0; i < kQkK; ++i) {
            y[b].qs[i] = static_cast<std::int8_t>(std::min(127, round_even(iscale * x[i])));
        }
        for (int g = 0; g < kQkK / 16; ++g) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) {
                sum += y[b].qs[16 * g + i];
            }
            y[b].bsums[g] = static_cast<std::int16_t>(sum);
        }
        y[b].d = 1.0f / iscale;
    }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / kQk; ++b) {
        const float d = half_to_float(x[b].d);
        for (int i = 0; i < kQk; ++i) {
            *y++ = d * static_cast<float>(x[b].qs[i]);
        }
    }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / kQk; ++b, y += kQk) {
        const float d = half_to_float(x[b].d);
        for (int i = 0; i < kQk / 2; ++i) {
            y[i] = d * static_cast<float>((x[b].qs[i] & 0xF) - 8);
            y[i + kQk / 2] = d * static_cast<float>((x[b].qs[i] >> 4) - 8);
        }
    }
}

void dequantize_row_q4_k(const BlockQ4K* x, float* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / kQkK; ++b) {
        const float d = half_to_float(x[b].d);
        const float dmin = half_to_float(x[b].dmin);
        for (int c = 0; c < 4; ++c) {
            std::uint8_t sc0, m0, sc1, m1;
            q4k_scale_min(2 * c, x[b].scales, sc0, m0);
            q4k_scale_min(2 * c + 1, x[b].scales, sc1, m1);
            const float d0 = d * sc0, o0 = dmin * m0, d1 = d * sc1, o1 = dmin * m1;
            const std::uint8_t* q = x[b].qs + 32 * c;
            for (int l = 0; l < 32; ++l) {
                *y++ = d0 * static_cast<float>(q[l] & 0xF) - o0;
            }
            for (int l = 0; l < 32; ++l) {
                *y++ = d1 * static_cast<float>(q[l] >> 4) - o1;
            }
        }
    }
}

void dequantize_row_q6_k(const BlockQ6K* x, float* y, std::int64_t k) {
    for (std::int64_t b = 0; b < k / kQkK; ++b) {
        const float d = half_to_float(x[b].d);
        for (int e = 0; e < kQkK; ++e) {
            *y++ = d * static_cast<float>(x[b].scales[e / 16]) *
                   static_cast<float>(q6k_get(x[b], e) - 32);
        }
    }
}

} // namespace agentd::inference::quant
