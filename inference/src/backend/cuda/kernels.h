#pragma once
/// Launchers of the CUDA backend's kernels (the .cu files), callable from host C++: each enqueues
/// its kernel(s) on `stream` and returns at once; launch failures abort through
/// AGENTD_CUDA_CHECK (they are bugs: shapes are checked by CudaBackend before any launch).
/// Nothing here allocates, so every launcher may be captured into a CUDA graph.
///
/// Tensors are device views (DevTensor: data is a device pointer, stride in bytes; the host
/// code converts DevTensor, so this header and the .cu files stay free of the engine's
/// Boost-based headers). Step data (token ids, positions, slots, sequences, block tables, output
/// rows) lives in device memory described by StepDev.

#include "agentd/inference/tensor_type.h"

#include "backend/cuda/device_math.h"
#include "backend/cuda/launch_policy.h"

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace agentd::inference::cuda {

/// A row-major 2-D device view (DevTensor's fields).
struct DevTensor {
    void* data = nullptr;
    TensorType type = TensorType::f32;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::size_t stride = 0; ///< bytes between rows

    bool operator==(const DevTensor&) const = default;
};

/// One sequence of a step (backend::SeqSlice's fields).
struct SeqDev {
    std::int32_t first_token;
    std::int32_t n_tokens;
    std::int32_t n_ctx;
    std::int32_t table_offset;
    std::int32_t table_len;
};

/// Device copies of a step's layout (sections of one upload) and the sizes kernels use.
struct StepDev {
    const std::int32_t* tokens = nullptr;
    const std::int32_t* positions = nullptr;
    const std::int32_t* kv_slots = nullptr;
    const SeqDev* seqs = nullptr;
    const std::int32_t* tables = nullptr;
    const std::int32_t* out_rows = nullptr;
};

/// One layer of a KV cache on the device (dev::KvLayout order).
struct KvDev {
    void* k = nullptr;
    void* v = nullptr;
    dev::KvLayout layout;
    bool f16 = false;
};

/// Quantised activations for one matrix product: rows of k int8 quants (`qs`, row stride k
/// bytes), one scale per block (`d`, k / block floats per row) and, for blocks of 256, the sum
/// of each 16 quants (`sums`, k / 16 ints per row).
struct ActQ8 {
    std::int8_t* qs = nullptr;
    float* d = nullptr;
    std::int32_t* sums = nullptr;
    std::int64_t k = 0;
    int block = 32; ///< 32 (Q8_0 / Q4_0 weights) or 256 (Q4_K / Q6_K weights)
};

/// Output of one quantised product: out[t][r] = dot(w row r, act row t) (+ bias[r])
/// (+ out[t][r] when accumulating), for t < rows of the activations.
struct MatOut {
    const std::uint8_t* w = nullptr;
    std::size_t w_stride = 0; ///< bytes between weight rows
    TensorType type = TensorType::q8_0;
    std::int64_t n = 0; ///< weight rows (outputs)
    const float* bias = nullptr;
    float* out = nullptr;
    std::int64_t out_stride = 0; ///< floats between output rows
    bool accumulate = false;
};

// ---- elementwise and row ops (kernels_rows.cu) ----
void launch_embed(const DevTensor& table, const DevTensor& out, const std::int32_t* tokens,
                  cudaStream_t stream);
void launch_rms_norm(const DevTensor& x, const float* weight, float eps, const DevTensor& out,
                     cudaStream_t stream);
/// table[t][2i], [2i + 1] = cos, sin of pair i for positions[t], t < n_tokens.
void launch_rope_table(const std::int32_t* positions, int n_tokens, const dev::RopeConsts& c,
                       const float* freq_factors, float* table, cudaStream_t stream);
void launch_rope(const DevTensor& x, int n_heads, int head_dim, bool neox, int n_dims,
                 const float* table, cudaStream_t stream);
void launch_swiglu(const DevTensor& gate, const DevTensor& up, const DevTensor& out,
                   cudaStream_t stream);
enum class BinaryOp { add, mul };
void launch_binary(BinaryOp op, const DevTensor& a, const DevTensor& b, const DevTensor& out,
                   cudaStream_t stream);
void launch_softmax(const DevTensor& x, cudaStream_t stream);
/// out[i] = x[rows[i]], i < out.rows.
void launch_gather_rows(const DevTensor& x, const DevTensor& out, const std::int32_t* rows,
                        cudaStream_t stream);
/// out[t][i] += bias[i].
void launch_add_bias(float* out, std::int64_t out_stride, std::int64_t rows, std::int64_t cols,
                     const float* bias, cudaStream_t stream);

// ---- KV cache (kernels_kv.cu) ----
/// Stores rows t < k.rows of K and V at cache slots slots[t] (negative slots are skipped).
void launch_kv_write(const KvDev& kv, const DevTensor& k, const DevTensor& v,
                     const std::int32_t* slots, cudaStream_t stream);

// ---- matrix products (kernels_quantize.cu, kernels_mmv.cu, kernels_mmq.cu) ----
/// Quantises x (f32 [rows, k]) into `act` (block 32 or 256, bit-exact with the CPU backend).
void launch_quantize_q8(const DevTensor& x, const ActQ8& act, cudaStream_t stream);
/// Rounds x (f32 [rows, k]) to IEEE half (f16 = true) or bfloat16, contiguous rows of k.
void launch_convert_half(const DevTensor& x, void* out, bool f16, cudaStream_t stream);
/// Quantised weights x activations for rows <= kMmvMaxRows.
void launch_mmv(const MatOut& o, const ActQ8& act, int rows, cudaStream_t stream);
/// Quantised weights x activations with int8 tensor cores (any rows).
void launch_mmq(const MatOut& o, const ActQ8& act, int rows, cudaStream_t stream);

// ---- attention (kernels_attention.cu) ----
struct AttnArgs {
    const float* q = nullptr;
    std::int64_t q_stride = 0; ///< floats between query rows (tokens)
    float* out = nullptr;
    std::int64_t out_stride = 0;
    KvDev kv;
    StepDev step;
    int group = 1;
    float scale = 1.0f;
};
/// Small items (all rows of a sequence and KV head, at most kAttnSmallRows), keys cut into
/// `splits`; with splits > 1 partial results go to `partials` and a merge kernel writes out.
void launch_attention_small(const AttnArgs& a, const AttnItem* items, int n_items, int splits,
                            float* partials, cudaStream_t stream);
/// Large items (kAttnTileRows-row tiles of a prefill), keys walked in shared-memory tiles.
void launch_attention_large(const AttnArgs& a, const AttnItem* items, int n_items,
                            cudaStream_t stream);
/// Shared memory the large-item kernel needs for `head_dim` (set as its dynamic limit once).
[[nodiscard]] std::size_t attention_large_smem(int head_dim);
/// Raises the large-item kernels' dynamic shared-memory limit for head sizes up to
/// kAttnMaxHeadDim; false when the device cannot give that much.
[[nodiscard]] bool attention_configure(std::size_t max_smem_optin);

} // namespace agentd::inference::cuda
