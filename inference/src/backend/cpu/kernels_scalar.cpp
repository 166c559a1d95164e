// Portable reference kernels: the oracle for the SIMD tables and the fallback on old CPUs.
#include "backend/cpu/kernels.h"
#include "quant/block_formats.h"
#include "quant/quantize_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace agentd::inference::cpu {
namespace {

using namespace quant;

// ---- activation quantisers ----

void quantize_f32(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                  std::int64_t rows, std::int64_t k) {
    for (std::int64_t r = 0; r < rows; ++r) {
        std::memcpy(out + r * os, x + r * xs, static_cast<std::size_t>(k) * sizeof(float));
    }
}

void quantize_f16r(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    for (std::int64_t r = 0; r < rows; ++r) {
        auto* y = reinterpret_cast<float*>(out + r * os);
        for (std::int64_t i = 0; i < k; ++i) {
            y[i] = half_to_float(float_to_half(x[r * xs + i]));
        }
    }
}

void quantize_bf16(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    for (std::int64_t r = 0; r < rows; ++r) {
        auto* y = reinterpret_cast<std::uint16_t*>(out + r * os);
        for (std::int64_t i = 0; i < k; ++i) {
            y[i] = float_to_bf16(x[r * xs + i]);
        }
    }
}

void quantize_q8_row(const float* x, std::uint8_t* out, std::int64_t k, int c) {
    auto* qs = reinterpret_cast<std::int8_t*>(out);
    auto* scale = reinterpret_cast<float*>(out + act_q8_scale_offset(k));
    auto* corr = reinterpret_cast<std::int32_t*>(out + act_q8_corr_offset(k));
    // Zero the padding blocks of a partial last group.
    std::memset(out, 0, act_row_bytes(c == 128 ? ActKind::q8_0 : ActKind::q4_0, k));
    for (std::int64_t b = 0; b < k / kQk; ++b) {
        const float* xb = x + b * kQk;
        float amax = 0.0f;
        for (int i = 0; i < kQk; ++i) {
            amax = std::fmax(amax, std::fabs(xb[i]));
        }
        const float d = half_to_float(float_to_half(amax / 127.0f));
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int i = 0; i < kQk; ++i) {
            const int q = round_even(xb[i] * id);
            qs[act_q8_index(b, i)] = static_cast<std::int8_t>(q);
            sum += q;
        }
        const std::size_t lane = act_q8_lane(b);
        for (int l = 0; l < 4; ++l) {
            scale[lane + static_cast<std::size_t>(l)] = d;
        }
        corr[lane] = -c * sum;
    }
}

void quantize_q8_0(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    for (std::int64_t r = 0; r < rows; ++r) {
        quantize_q8_row(x + r * xs, out + r * os, k, 128);
    }
}

void quantize_q4_0(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    for (std::int64_t r = 0; r < rows; ++r) {
        quantize_q8_row(x + r * xs, out + r * os, k, 8);
    }
}

void quantize_q8_k(const float* x, std::size_t xs, std::uint8_t* out, std::size_t os,
                   std::int64_t rows, std::int64_t k) {
    for (std::int64_t r = 0; r < rows; ++r) {
        quantize_row_q8_k(x + r * xs, reinterpret_cast<BlockQ8K*>(out + r * os), k);
    }
}

// ---- dot products of one weight row with one activation row ----

float dot_f32(const std::uint8_t* w, const std::uint8_t* a, std::int64_t k) {
    const auto* x = reinterpret_cast<const float*>(w);
    const auto* y = reinterpret_cast<const float*>(a);
    float s = 0.0f;
    for (std::int64_t i = 0; i < k; ++i) {
        s += x[i] * y[i];
    }
    return s;
}

float dot_f16(const std::uint8_t* w, const std::uint8_t* a, std::int64_t k) {
    const auto* x = reinterpret_cast<const std::uint16_t*>(w);
    const auto* y = reinterpret_cast<const float*>(a);
    float s = 0.0f;
    for (std::int64_t i = 0; i < k; ++i) {
        s += half_to_float(x[i]) * y[i];
    }
    return s;
}

float dot_bf16(const std::uint8_t* w, const std::uint8_t* a, std::int64_t k) {
    const auto* x = reinterpret_cast<const std::uint16_t*>(w);
    const auto* y = reinterpret_cast<const std::uint16_t*>(a);
    float s = 0.0f;
    for (std::int64_t i = 0; i < k; ++i) {
        s += bf16_to_float(x[i]) * bf16_to_float(y[i]);
    }
    return s;
}

float dot_q8_0(const std::uint8_t* w, const std::uint8_t* a, std::int64_t k) {
    const auto* x = reinterpret_cast<const BlockQ8_0*>(w);
    const auto* qs = reinterpret_cast<const std::int8_t*>(a);
    const auto* scale = reinterpret_cast<const float*>(a + act_q8_scale_offset(k));
    float s = 0.0f;
    for (std::int64_t b = 0; b < k / kQk; ++b) {
        int sumi = 0;
        for (int i = 0; i < kQk; ++i) {
            sumi += x[b].qs[i] * qs[act_q8_index(b, i)];
        }
        s += static_cast<float>(sumi) * (half_to_float(x[b].d) * scale[act_q8_lane(b)]);
    }
    return s;
}

float dot_q4_0(const std::uint8_t* w, const std::uint8_t* a, std::int64_t k) {
    const auto* x = reinterpret_cast<const BlockQ4_0*>(w);
    const auto* qs = reinterpret_cast<const std::int8_t*>(a);
    const auto* scale = reinterpret_cast<const float*>(a + act_q8_scale_offset(k));
    float s = 0.0f;
    for (std::int64_t b = 0; b < k / kQk; ++b) {
        int sumi = 0;
        for (int i = 0; i < kQk / 2; ++i) {
            sumi += ((x[b].qs[i] & 0xF) - 8) * qs[act_q8_index(b, i)];
            sumi += ((x[b].qs[i] >> 4) - 8) * qs[act_q8_index(b, i + kQk / 2)];
        }
        s += static_cast<float>(sumi) * (half_to_float(x[b].d) * scale[act_q8_lane(b)]);
    }
    return s;
}

float dot_q4_k(const std::uint8_t* w, const std::uint8_t* a, std::int64_t k) {
    const auto* x = reinterpret_cast<const BlockQ4K*>(w);
    const auto* y = reinterpret_cast<const BlockQ8K*>(a);
    float s = 0.0f;
    for (std::int64_t b = 0; b < k / kQkK; ++b) {
        int sumi = 0;
        int summ = 0;
        for (int j = 0; j < 8; ++j) {
            std::uint8_t sc, m;
            q4k_scale_min(j, x[b].scales, sc, m);
            const std::uint8_t* q = x[b].qs + 32 * (j / 2);
            const int shift = (j & 1) ? 4 : 0;
            int dot = 0;
            for (int l = 0; l < 32; ++l) {
                dot += ((q[l] >> shift) & 0xF) * y[b].qs[32 * j + l];
            }
            sumi += sc * dot;
            summ += m * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
        }
        const float d = y[b].d * half_to_float(x[b].d);
        const float dmin = y[b].d * half_to_float(x[b].dmin);
        s += d * static_cast<float>(sumi) - dmin * static_cast<float>(summ);
    }
    return s;
}

float dot_q6_k(const std::uint8_t* w, const std::uint8_t* a, std::int64_t k) {
    const auto* x = reinterpret_cast<const BlockQ6K*>(w);
    const auto* y = reinterpret_cast<const BlockQ8K*>(a);
    float s = 0.0f;
    for (std::int64_t b = 0; b < k / kQkK; ++b) {
        int sumi = 0;
        for (int g = 0; g < 16; ++g) {
            int dot = 0;
            for (int l = 0; l < 16; ++l) {
                dot += (q6k_get(x[b], 16 * g + l) - 32) * y[b].qs[16 * g + l];
            }
            sumi += x[b].scales[g] * dot;
        }
        s += y[b].d * half_to_float(x[b].d) * static_cast<float>(sumi);
    }
    return s;
}

template <float (*Dot)(const std::uint8_t*, const std::uint8_t*, std::int64_t)>
void gemm(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0, std::int64_t t1) {
    for (std::int64_t t = t0; t < t1; ++t) {
        const std::uint8_t* act = a.act + t * a.act_stride;
        float* y = a.y + t * a.y_stride;
        for (std::int64_t r = r0; r < r1; ++r) {
            const float v = Dot(a.w + r * a.w_stride, act, a.k);
            y[r] = a.accumulate ? y[r] + v : v;
        }
    }
}

// ---- vector helpers ----

void swiglu(const float* g, const float* u, float* out, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        out[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
    }
}

float vdot(const float* a, const float* b, std::int64_t n) {
    float s = 0.0f;
    for (std::int64_t i = 0; i < n; ++i) {
        s += a[i] * b[i];
    }
    return s;
}

void scale_axpy(float* y, float s, const float* x, float a, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        y[i] = y[i] * s + x[i] * a;
    }
}

float exp_sum(float* x, float max, std::int64_t n) {
    float sum = 0.0f;
    for (std::int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    return sum;
}

// ---- attention: plain two-pass softmax per query row ----

template <bool kF16>
float kv_at(const void* base, std::int64_t i) {
    if constexpr (kF16) {
        return half_to_float(static_cast<const std::uint16_t*>(base)[i]);
    } else {
        return static_cast<const float*>(base)[i];
    }
}

template <bool kF16>
void attn(const AttnTile& t) {
    for (int i = 0; i < t.n_rows; ++i) {
        const std::int32_t n = std::min(t.n_keys, t.pos[i] + 1);
        float scores_buf[kAttnChunk];
        float max = -INFINITY;
        // Pass 1: the largest score.
        for (std::int32_t k0 = 0; k0 < n; k0 += kAttnChunk) {
            const int c = k0 / kAttnChunk;
            for (int j = 0; j < kAttnChunk && k0 + j < n; ++j) {
                float s = 0.0f;
                for (int d = 0; d < t.head_dim; ++d) {
                    s += t.q[i][d] * kv_at<kF16>(t.kt[c], d * t.kt_stride + j);
                }
                max = std::max(max, s * t.scale);
            }
        }
        // Pass 2: exponentials and the weighted sum of values.
        float sum = 0.0f;
        for (int d = 0; d < t.head_dim; ++d) {
            t.out[i][d] = 0.0f;
        }
        for (std::int32_t k0 = 0; k0 < n; k0 += kAttnChunk) {
            const int c = k0 / kAttnChunk;
            const int m = std::min<std::int32_t>(kAttnChunk, n - k0);
            for (int j = 0; j < m; ++j) {
                float s = 0.0f;
                for (int d = 0; d < t.head_dim; ++d) {
                    s += t.q[i][d] * kv_at<kF16>(t.kt[c], d * t.kt_stride + j);
                }
                scores_buf[j] = std::exp(s * t.scale - max);
                sum += scores_buf[j];
            }
            for (int j = 0; j < m; ++j) {
                for (int d = 0; d < t.head_dim; ++d) {
                    t.out[i][d] += scores_buf[j] * kv_at<kF16>(t.v[c], j * t.v_stride + d);
                }
            }
        }
        for (int d = 0; d < t.head_dim; ++d) {
            t.out[i][d] /= sum;
        }
    }
}

constexpr KernelTable make_table() {
    KernelTable t{};
    t.isa = "scalar";
    t.gemm[static_cast<int>(TensorType::f32)] = &gemm<dot_f32>;
    t.gemm[static_cast<int>(TensorType::f16)] = &gemm<dot_f16>;
    t.gemm[static_cast<int>(TensorType::bf16)] = &gemm<dot_bf16>;
    t.gemm[static_cast<int>(TensorType::q8_0)] = &gemm<dot_q8_0>;
    t.gemm[static_cast<int>(TensorType::q4_0)] = &gemm<dot_q4_0>;
    t.gemm[static_cast<int>(TensorType::q4_k)] = &gemm<dot_q4_k>;
    t.gemm[static_cast<int>(TensorType::q6_k)] = &gemm<dot_q6_k>;
    t.quantize[static_cast<int>(ActKind::f32)] = &quantize_f32;
    t.quantize[static_cast<int>(ActKind::f16r)] = &quantize_f16r;
    t.quantize[static_cast<int>(ActKind::bf16)] = &quantize_bf16;
    t.quantize[static_cast<int>(ActKind::q8_0)] = &quantize_q8_0;
    t.quantize[static_cast<int>(ActKind::q4_0)] = &quantize_q4_0;
    t.quantize[static_cast<int>(ActKind::q8_k)] = &quantize_q8_k;
    t.vec = {&swiglu, &vdot, &scale_axpy, &exp_sum};
    t.attn_f32 = &attn<false>;
    t.attn_f16 = &attn<true>;
    return t;
}

} // namespace

namespace detail {
const KernelTable kScalarKernels = make_table();
} // namespace detail

} // namespace agentd::inference::cpu
