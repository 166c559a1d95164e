#pragma once
/// The compute backend interface (STYLE.md 2.7): the model forward pass is written once against
/// it, and the CPU backend (backend/cpu/) and a device backend implement it.
///
/// Ops are model-level (a matmul with quantised weights, attention over the paged KV cache, ...)
/// rather than a general tensor graph. A backend executes ops in the order they are issued; a
/// device backend may queue them, so results are only visible to the host after `download` or
/// `synchronize`. Tensors name memory in the backend's own address space (`Tensor::data` is a
/// device pointer for a device backend).
///
/// Per step the engine first calls `set_step` with the batch layout (token ids, positions,
/// sequences and their KV block tables); the ops that need it (embed, rope, kv_write, attention,
/// gather_rows) read it from there, so a device backend uploads it once per step.
///
/// Ownership: buffers and KV storage are owned by the caller through unique_ptr and must not
/// outlive the backend. Thread affinity: one backend object is driven by one thread (the engine
/// thread); it may use its own worker threads internally. Errors: allocation failures are
/// returned (errc::device_oom); invalid shapes are bugs (AGENTD_CHECK).

#include "agentd/base/result.h"
#include "agentd/inference/backend_info.h"
#include "agentd/inference/tensor_type.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace agentd::inference::backend {

struct MemoryInfo {
    std::size_t total_bytes = 0;
    std::size_t free_bytes = 0;
};

/// A block of backend memory (or host memory registered with the backend).
class Buffer {
public:
    virtual ~Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    /// The address ops use (a device pointer on a device backend).
    [[nodiscard]] void* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    /// True when the host can read and write `data()` directly.
    [[nodiscard]] bool host_visible() const noexcept { return host_visible_; }

protected:
    Buffer(void* data, std::size_t size, bool host_visible)
        : data_(data), size_(size), host_visible_(host_visible) {}

private:
    void* data_;
    std::size_t size_;
    bool host_visible_;
};
using BufferPtr = std::unique_ptr<Buffer>;

/// A row-major 2-D view: `rows` rows of `cols` elements of `type`, `stride` bytes apart.
struct Tensor {
    void* data = nullptr;
    TensorType type = TensorType::f32;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::size_t stride = 0;

    /// A contiguous tensor at `data`.
    static Tensor contiguous(void* data, TensorType type, std::int64_t rows, std::int64_t cols);
    /// Rows [first, first + n) of this tensor.
    [[nodiscard]] Tensor slice_rows(std::int64_t first, std::int64_t n) const;
    /// Columns [first, first + n) (a strided view; float types only).
    [[nodiscard]] Tensor slice_cols(std::int64_t first, std::int64_t n) const;
    /// The same memory seen as `new_rows` rows of `new_cols` (contiguous tensors only).
    [[nodiscard]] Tensor reshaped(std::int64_t new_rows, std::int64_t new_cols) const;
    [[nodiscard]] bool is_contiguous() const;
    template <class T>
    [[nodiscard]] T* row(std::int64_t i) const {
        return reinterpret_cast<T*>(static_cast<std::uint8_t*>(data) +
                                    static_cast<std::size_t>(i) * stride);
    }
};

/// One sequence of the current step: its tokens are rows [first_token, first_token + n_tokens)
/// of the batch, at consecutive positions; after the step its KV cache holds positions
/// [0, n_ctx). Its block table is block_tables[table_offset, table_offset + table_len).
struct SeqSlice {
    std::int32_t first_token = 0;
    std::int32_t n_tokens = 0;
    std::int32_t n_ctx = 0;
    std::int32_t table_offset = 0;
    std::int32_t table_len = 0;
};

/// The layout of one forward step, as host data (`set_step` copies what it needs).
struct StepLayout {
    std::span<const std::int32_t> tokens;       ///< [T] token ids
    std::span<const std::int32_t> positions;    ///< [T] positions
    std::span<const std::int32_t> kv_slots;     ///< [T] block * block_size + offset per token
    std::span<const SeqSlice> seqs;             ///< sequences, tokens contiguous and in order
    std::span<const std::int32_t> block_tables; ///< all block tables, concatenated
    std::span<const std::int32_t> output_rows;  ///< batch rows whose outputs are wanted
};

enum class RopeKind { normal, neox };

/// RoPE as llama.cpp defines it: theta_i = pos * base^(-2i / n_dims) / freq_factor_i, scaled by
/// freq_scale (linear scaling) and blended with YaRN's ramp when ext_factor != 0.
struct RopeParams {
    RopeKind kind = RopeKind::normal;
    int n_dims = 0; ///< rotated dimensions of each head (the rest pass through)
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;
    float ext_factor = 0.0f;
    float attn_factor = 1.0f;
    float beta_fast = 32.0f;
    float beta_slow = 1.0f;
    int n_ctx_orig = 0;
    std::span<const float> freq_factors; ///< n_dims / 2 divisors (llama3 rope_freqs), or empty
};

struct AttentionParams {
    int n_head = 0;
    int n_kv_head = 0;
    int head_dim = 0;
    float scale = 1.0f; ///< applied to q.k (1 / sqrt(head_dim) usually)
};

/// Shape of the paged KV cache a backend stores.
struct KvSpec {
    int n_layers = 0;
    int n_blocks = 0;
    int block_size = 16; ///< tokens per block; a multiple of 16
    int n_kv_heads = 0;
    int head_dim = 0;
    TensorType type = TensorType::f32; ///< f32 or f16
};

/// KV storage in a backend-specific layout (only that backend's ops read it).
class KvStorage {
public:
    virtual ~KvStorage() = default;
    [[nodiscard]] const KvSpec& spec() const noexcept { return spec_; }
    [[nodiscard]] virtual std::size_t bytes() const noexcept = 0;

protected:
    explicit KvStorage(const KvSpec& spec) : spec_(spec) {}

private:
    KvSpec spec_;
};
using KvStoragePtr = std::unique_ptr<KvStorage>;

/// One output of a matmul: out = x · weightᵀ (+ bias) (+ out if accumulate).
struct MatmulOut {
    const Tensor* weight = nullptr; ///< [n_out, k] of any supported weight type
    const Tensor* bias = nullptr;   ///< f32 [1, n_out] or null
    Tensor out;                     ///< f32 [T, n_out]
    bool accumulate = false;
};

enum class Op { embed, rms_norm, matmul, rope, kv_write, attention, swiglu, add, mul, softmax };

/// The sizes a model's forward passes will use, so a backend can allocate its own workspace up
/// front (where failure is an error value) instead of inside ops.
struct WorkspaceHint {
    int max_tokens = 0;     ///< rows per forward pass
    std::int64_t max_k = 0; ///< longest matmul input row
    std::int64_t max_n = 0; ///< most outputs of one matmul
    int n_head = 0;
    int n_kv_head = 0;
    int head_dim = 0;
    int rope_dims = 0;
    std::int32_t n_ctx = 0; ///< positions per sequence
    int kv_block_size = 16;
};

/// What `copy_kv_blocks` copies: every layer's K and V of block `src` into block `dst`.
struct BlockCopy {
    std::int32_t src = 0;
    std::int32_t dst = 0;
};

class Backend {
public:
    virtual ~Backend() = default;

    [[nodiscard]] virtual std::string_view name() const noexcept = 0;
    [[nodiscard]] virtual BackendKind kind() const noexcept = 0;
    /// A description of the compute path (e.g. "avx512, 2 threads").
    [[nodiscard]] virtual std::string detail() const = 0;
    [[nodiscard]] virtual MemoryInfo memory_info() const = 0;
    [[nodiscard]] virtual bool supports(Op op, TensorType type) const noexcept = 0;
    /// Alignment (bytes) weight tensors must start at in the imported model image.
    [[nodiscard]] virtual std::size_t weight_alignment() const noexcept { return 1; }

    /// Backend memory; host-visible when asked for (or when the backend has only host memory).
    [[nodiscard]] virtual base::Result<BufferPtr> alloc(std::size_t bytes, bool host_visible) = 0;
    /// Makes `bytes` of host memory (e.g. mmapped weights) readable by ops. Zero-copy where the
    /// backend can read host memory directly; the memory must outlive the returned buffer.
    [[nodiscard]] virtual base::Result<BufferPtr> import_host(const void* data,
                                                              std::size_t bytes) = 0;
    virtual void upload(Buffer& dst, std::size_t offset, std::span<const std::byte> src) = 0;
    virtual void download(const Buffer& src, std::size_t offset, std::span<std::byte> dst) = 0;
    /// Copies a float tensor's rows to host memory (after all queued ops).
    virtual void download_rows(const Tensor& src, std::span<float> dst) = 0;
    /// Waits for all queued ops.
    virtual void synchronize() = 0;

    [[nodiscard]] virtual base::Result<KvStoragePtr> alloc_kv(const KvSpec& spec) = 0;
    /// Allocates the backend's internal workspace for passes of the given sizes (called once by
    /// the engine before the first step); errc::device_oom when it does not fit.
    [[nodiscard]] virtual base::Result<void> reserve_workspace(const WorkspaceHint& /*hint*/) {
        return {};
    }

    // ---- ops ----
    virtual void set_step(const StepLayout& layout) = 0;
    /// out[t] = row tokens[t] of `table` as f32.
    virtual void embed(const Tensor& table, Tensor out) = 0;
    /// out = x / rms(x) * weight per row (weight f32 [1, cols]); x and out may alias.
    virtual void rms_norm(const Tensor& x, const Tensor& weight, float eps, Tensor out) = 0;
    /// Every output shares the input x (f32 [T, k]), so it is converted for the kernels once.
    virtual void matmul(const Tensor& x, std::span<const MatmulOut> outs) = 0;
    /// Rotates heads in place: x is [T, n_heads * head_dim].
    virtual void rope(Tensor x, int n_heads, int head_dim, const RopeParams& params) = 0;
    /// Stores K and V rows ([T, n_kv_heads * head_dim]) of `layer` at the step's kv_slots.
    virtual void kv_write(KvStorage& kv, int layer, const Tensor& k, const Tensor& v) = 0;
    /// Causal attention of q ([T, n_head * head_dim]) over each sequence's cached keys and
    /// values, grouped-query (head h reads KV head h / (n_head / n_kv_head)).
    virtual void attention(const KvStorage& kv, int layer, const Tensor& q,
                           const AttentionParams& params, Tensor out) = 0;
    virtual void copy_kv_blocks(KvStorage& kv, std::span<const BlockCopy> copies) = 0;
    /// out = silu(gate) * up.
    virtual void swiglu(const Tensor& gate, const Tensor& up, Tensor out) = 0;
    /// out = a + b / a * b, elementwise; b may be one row broadcast over a's rows.
    virtual void add(const Tensor& a, const Tensor& b, Tensor out) = 0;
    virtual void mul(const Tensor& a, const Tensor& b, Tensor out) = 0;
    /// Softmax of each row in place.
    virtual void softmax(Tensor x) = 0;
    /// out[i] = x[output_rows[i]] for the step's output rows.
    virtual void gather_rows(const Tensor& x, Tensor out) = 0;
};

struct BackendOptions {
    int n_threads = 0; ///< CPU: compute threads (0: all cores)
    int device = 0;    ///< device backends: which device (cuda:N)
};

/// Creates a backend of `kind`; errc::unsupported when this build or machine lacks it.
[[nodiscard]] base::Result<std::unique_ptr<Backend>> make_backend(BackendKind kind,
                                                                  const BackendOptions& options);

} // namespace agentd::inference::backend
