#pragma once
/// The CPU backend's compute kernels, one table per instruction set (scalar, AVX2, AVX-512).
///
/// A matrix product y = W·x quantises the activations x once into the format the weight type
/// pairs with (`ActKind`, as llama.cpp's vec_dot_type: Q8 blocks for quantised weights, F16- or
/// BF16-rounded values for half weights), then runs the type's GEMM kernel over tiles of
/// (weight rows × tokens). The scalar table is the oracle the SIMD tables are tested against.
/// Kernels are pure functions of their arguments: thread-safe on disjoint outputs.
///
/// Kernel TUs are compiled with per-file ISA flags; they must use only intrinsics, plain C and
/// the internal-linkage helpers of quant/block_formats.h (never inline std:: templates), so no
/// ISA-specific code can leak into a COMDAT shared with other TUs.

#include "agentd/inference/tensor_type.h"

#include <cstddef>
#include <cstdint>

namespace agentd::inference::cpu {

/// Activation formats (one row of k elements each).
enum class ActKind : int {
    f32,  ///< float[k]
    f16r, ///< float[k], each value rounded through IEEE half (pairs with F16 weights)
    bf16, ///< uint16[k] bfloat16 (pairs with BF16 weights)
    q8_0, ///< Q8 blocks of 32 for Q8_0 weights (layout: ActQ8 below, corr = -128 * sum)
    q4_0, ///< Q8 blocks of 32 for Q4_0 weights (layout: ActQ8 below, corr = -8 * sum)
    q8_k, ///< quant::BlockQ8K[k / 256] for Q4_K and Q6_K weights
};
inline constexpr int kActKinds = 6;

/// Row layout of the q8_0 / q4_0 activation kinds. The row's nb = k / 32 blocks (quantised as
/// q = round(x * 127 / max|x|), d = fp16(max|x| / 127), as ggml's Q8_0) are stored in groups of
/// four (ng = ceil(nb / 4); missing blocks of the last group are zero):
///   int8  qs[ng][128]     per group: the first 16 quants of blocks 0..3, then their last 16,
///                         so one 64-byte load gives each block four 32-bit lanes
///   float scale[ng][16]   per group: d of block j in lanes 4j..4j+3
///   int32 corr[ng][16]    per group: -C * sum(qs of block j) in lane 4j (C = 128 or 8), else 0
/// With it a VNNI kernel multiplies unsigned weight bytes (Q8_0: q + 128; Q4_0: the raw nibbles)
/// by the signed activations, adds the correction, and converts four blocks at once.
inline constexpr int kQ8Group = 128;
[[nodiscard]] static inline std::int64_t act_q8_groups(std::int64_t k) noexcept {
    return (k / 32 + 3) / 4;
}
[[nodiscard]] static inline std::size_t act_q8_scale_offset(std::int64_t k) noexcept {
    return static_cast<std::size_t>(act_q8_groups(k)) * kQ8Group;
}
[[nodiscard]] static inline std::size_t act_q8_corr_offset(std::int64_t k) noexcept {
    return act_q8_scale_offset(k) + static_cast<std::size_t>(act_q8_groups(k)) * 16 * 4;
}
/// Byte offset of element i (0..31) of block b in the qs array.
[[nodiscard]] static inline std::size_t act_q8_index(std::int64_t b, int i) noexcept {
    return static_cast<std::size_t>(b / 4) * kQ8Group + static_cast<std::size_t>(i / 16) * 64 +
           static_cast<std::size_t>(b % 4) * 16 + static_cast<std::size_t>(i % 16);
}
/// Index of block b's scale (and correction) lane group in the scale / corr arrays.
[[nodiscard]] static inline std::size_t act_q8_lane(std::int64_t b) noexcept {
    return static_cast<std::size_t>(b / 4) * 16 + static_cast<std::size_t>(b % 4) * 4;
}

/// Bytes of one activation row of k elements.
[[nodiscard]] std::size_t act_row_bytes(ActKind kind, std::int64_t k) noexcept;

/// The activation kind weights of `type` pair with.
[[nodiscard]] ActKind act_kind_for(TensorType weight_type) noexcept;

/// Arguments of one GEMM: y[t * y_stride + r] (+)= dot(W row r, act row t).
struct GemmArgs {
    const std::uint8_t* w; ///< weight rows
    std::size_t w_stride;  ///< bytes between weight rows
    const std::uint8_t* act;
    std::size_t act_stride; ///< bytes between activation rows
    float* y;
    std::size_t y_stride; ///< floats between output rows (one output row per token)
    std::int64_t k;       ///< row length in elements
    bool accumulate;      ///< add to y instead of storing
};

/// Computes weight rows [r0, r1) × tokens [t0, t1) of `a`.
using GemmFn = void (*)(const GemmArgs& a, std::int64_t r0, std::int64_t r1, std::int64_t t0,
                        std::int64_t t1);
/// Converts `rows` rows of k floats (stride x_stride floats) to activation rows (stride
/// out_stride bytes).
using QuantizeFn = void (*)(const float* x, std::size_t x_stride, std::uint8_t* out,
                            std::size_t out_stride, std::int64_t rows, std::int64_t k);

/// Vector helpers used by the non-matmul ops.
struct VecKernels {
    /// out[i] = silu(g[i]) * u[i]
    void (*swiglu)(const float* g, const float* u, float* out, std::int64_t n);
    /// Dot product of n floats.
    float (*dot)(const float* a, const float* b, std::int64_t n);
    /// y[i] = y[i] * s + x[i] * a  (the running-softmax update of attention)
    void (*scale_axpy)(float* y, float s, const float* x, float a, std::int64_t n);
    /// x[i] = exp(x[i] - max), returns the sum.
    float (*exp_sum)(float* x, float max, std::int64_t n);
};

/// Attention of up to 4 query rows (same KV head) over keys [0, n_keys), causal per row.
///
/// Keys come in chunks of 16 consecutive positions; chunk c holds positions 16c .. 16c + 15 as
/// K transposed (kt[c]: head_dim rows of 16 values, `kt_stride` elements apart) and V (v[c]:
/// 16 rows of head_dim values, `v_stride` elements apart), both of the KV element type (f32 or
/// f16). Row i sees the keys at positions <= pos[i]; its output is softmax(q.k * scale) . v.
struct AttnTile {
    int n_rows = 0;
    const float* q[4] = {};
    std::int32_t pos[4] = {};
    float* out[4] = {};
    int head_dim = 0;
    float scale = 1.0f;
    std::int32_t n_keys = 0;
    const void* const* kt = nullptr;
    const void* const* v = nullptr;
    std::int64_t kt_stride = 16;
    std::int64_t v_stride = 0;
};
inline constexpr int kAttnRows = 4;
inline constexpr int kAttnChunk = 16;
using AttnFn = void (*)(const AttnTile& t);

/// One instruction set's kernels.
struct KernelTable {
    const char* isa;
    GemmFn gemm[64]; ///< indexed by TensorType id; null when the type has no kernel
    QuantizeFn quantize[kActKinds];
    VecKernels vec;
    AttnFn attn_f32; ///< KV cache stored as f32
    AttnFn attn_f16; ///< KV cache stored as f16
};

enum class Isa : int { scalar, avx2, avx512 };

/// The kernels for `isa`; nullptr when this build or this CPU lacks it.
[[nodiscard]] const KernelTable* kernel_table(Isa isa) noexcept;

/// The best ISA this CPU supports, or the one AGENTD_CPU_ISA (scalar|avx2|avx512) asks for when
/// it is available. Thread-safe (computed once).
[[nodiscard]] Isa best_isa() noexcept;

[[nodiscard]] const char* isa_name(Isa isa) noexcept;

namespace detail {
/// The scalar table (kernels_scalar.cpp); the SIMD tables are assembled in kernels.cpp.
extern const KernelTable kScalarKernels;
} // namespace detail

} // namespace agentd::inference::cpu
