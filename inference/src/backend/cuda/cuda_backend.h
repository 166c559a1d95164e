#pragma once
/// The CUDA backend (docs/CUDA.md): the backend::Backend ops on one NVIDIA GPU.
///
/// Memory: weights are uploaded once (import_host copies the model file image to the device,
/// kept quantised); the KV pool and scratch are device buffers; out-of-memory is
/// errc::device_oom. `reserve_workspace` sizes the backend's own workspace (quantised
/// activations, attention partials, RoPE table, step data) before the first step, so no op
/// allocates.
///
/// Execution: ops are recorded (shape-checked on the host at the call) and run when their
/// results are needed (download_rows / download / synchronize), all on one stream. A decode step
/// (every sequence one token, every row an output, at most 128 rows) runs as a CUDA graph
/// captured per batch-size bucket: its rows are padded to the bucket (padded tokens write no KV
/// and attend to nothing) and the recorded ops are compared with the graph's; equal ops replay
/// the graph with one launch. Step data is uploaded once per step from pinned memory.
///
/// Ownership: buffers and KV storage it returns must not outlive it. Thread affinity: one thread
/// (the engine thread) drives it. Errors: allocation failures are errc::device_oom values;
/// CUDA failures after that are bugs or a lost device and abort (AGENTD_CUDA_CHECK).

#include "backend/backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace agentd::inference::cuda {

/// What the backend knows about its device.
struct DeviceProps {
    int index = 0;
    std::string name;
    int cc_major = 0;
    int cc_minor = 0;
    int sm_count = 0;
    std::size_t total_memory = 0;
    std::size_t smem_optin = 0; ///< largest dynamic shared memory a block may opt in to
    double bandwidth_gb_s = 0;  ///< peak memory bandwidth from the device attributes
};

/// Reads a device's properties; errc::unsupported when it cannot be used (no driver, no such
/// device, compute capability below 8.0).
[[nodiscard]] base::Result<DeviceProps> query_device(int index);

/// The ops a step records, run when a flush needs their results.
enum class OpKind : std::uint8_t {
    embed,
    rms_norm,
    matmul,
    rope,
    kv_write,
    attention,
    swiglu,
    add,
    mul,
    softmax,
    gather_rows,
};

/// RoPE parameters by value (freq_factors as the backend's device copy).
struct RopeKey {
    int kind = 0;
    int n_dims = 0;
    float freq_base = 0.0f;
    float freq_scale = 0.0f;
    float ext_factor = 0.0f;
    float attn_factor = 0.0f;
    float beta_fast = 0.0f;
    float beta_slow = 0.0f;
    int n_ctx_orig = 0;
    const float* factors = nullptr;

    bool operator==(const RopeKey&) const = default;
};

/// One recorded op; the meaning of the tensors and integers depends on the kind (see
/// cuda_record.cpp). Compared field by field to decide whether a captured graph still applies.
struct OpRecord {
    OpKind kind = OpKind::embed;
    DevTensor t0, t1, t2;
    float f = 0.0f;
    int i0 = 0;
    int i1 = 0;
    int i2 = 0;
    const void* kv = nullptr; ///< CudaKvStorage of kv_write / attention
    RopeKey rope;
    std::uint32_t mm_begin = 0; ///< matmul outputs in the backend's list
    std::uint32_t mm_count = 0;

    bool operator==(const OpRecord&) const = default;
};

/// One output of a recorded matmul.
struct MatmulRecord {
    DevTensor w;
    DevTensor bias; ///< data null when there is none
    DevTensor out;
    bool accumulate = false;

    bool operator==(const MatmulRecord&) const = default;
};

class CudaKvStorage;

class CudaBackend final : public backend::Backend {
public:
    /// A backend on device `index`: errc::unsupported (no usable device), errc::device_oom.
    [[nodiscard]] static base::Result<std::unique_ptr<CudaBackend>> create(int index);
    ~CudaBackend() override;
    CudaBackend(const CudaBackend&) = delete;
    CudaBackend& operator=(const CudaBackend&) = delete;

    [[nodiscard]] std::string_view name() const noexcept override { return "cuda"; }
    [[nodiscard]] BackendKind kind() const noexcept override { return BackendKind::cuda; }
    [[nodiscard]] std::string detail() const override;
    [[nodiscard]] backend::MemoryInfo memory_info() const override;
    [[nodiscard]] bool supports(backend::Op op, TensorType type) const noexcept override;
    [[nodiscard]] std::size_t weight_alignment() const noexcept override { return 16; }

    [[nodiscard]] base::Result<backend::BufferPtr> alloc(std::size_t bytes,
                                                         bool host_visible) override;
    [[nodiscard]] base::Result<backend::BufferPtr> import_host(const void* data,
                                                               std::size_t bytes) override;
    void upload(backend::Buffer& dst, std::size_t offset, std::span<const std::byte> src) override;
    void download(const backend::Buffer& src, std::size_t offset,
                  std::span<std::byte> dst) override;
    void download_rows(const backend::Tensor& src, std::span<float> dst) override;
    void synchronize() override;

    [[nodiscard]] base::Result<backend::KvStoragePtr>
    alloc_kv(const backend::KvSpec& spec) override;
    [[nodiscard]] base::Result<void> reserve_workspace(const backend::WorkspaceHint& hint) override;

    void set_step(const backend::StepLayout& layout) override;
    void embed(const backend::Tensor& table, backend::Tensor out) override;
    void rms_norm(const backend::Tensor& x, const backend::Tensor& weight, float eps,
                  backend::Tensor out) override;
    void matmul(const backend::Tensor& x, std::span<const backend::MatmulOut> outs) override;
    void rope(backend::Tensor x, int n_heads, int head_dim,
              const backend::RopeParams& params) override;
    void kv_write(backend::KvStorage& kv, int layer, const backend::Tensor& k,
                  const backend::Tensor& v) override;
    void attention(const backend::KvStorage& kv, int layer, const backend::Tensor& q,
                   const backend::AttentionParams& params, backend::Tensor out) override;
    void copy_kv_blocks(backend::KvStorage& kv,
                        std::span<const backend::BlockCopy> copies) override;
    void swiglu(const backend::Tensor& gate, const backend::Tensor& up,
                backend::Tensor out) override;
    void add(const backend::Tensor& a, const backend::Tensor& b, backend::Tensor out) override;
    void mul(const backend::Tensor& a, const backend::Tensor& b, backend::Tensor out) override;
    void softmax(backend::Tensor x) override;
    void gather_rows(const backend::Tensor& x, backend::Tensor out) override;

    /// Decode graphs on (the default) or off; off runs every step op by op.
    void set_graphs_enabled(bool on);
    /// Counters for tests and docs/CUDA.md: graph replays, captures and op-by-op flushes.
    struct Stats {
        std::uint64_t graph_replays = 0;
        std::uint64_t graph_captures = 0;
        std::uint64_t eager_flushes = 0;
    };
    [[nodiscard]] Stats stats() const noexcept { return stats_; }
    [[nodiscard]] const DeviceProps& props() const noexcept { return props_; }

    /// Buffer bookkeeping (device_buffer.cpp): every live device allocation of this backend, so
    /// a padded decode view can be checked to stay inside the allocation it points into.
    void register_allocation(const void* p, std::size_t bytes);
    void unregister_allocation(const void* p) noexcept;

private:
    explicit CudaBackend(DeviceProps props);
    [[nodiscard]] base::Result<void> init();
    [[nodiscard]] bool view_fits(const DevTensor& t) const;

    // ---- recording (cuda_record.cpp) ----
    void record(const OpRecord& r);
    [[nodiscard]] const float* device_rope_factors(std::span<const float> factors);
    void check_kv_tables(const CudaKvStorage& kv);

    // ---- execution (cuda_exec.cpp) ----
    /// What one flush runs with: padded (a decode graph's bucket rows) or the step as given.
    struct Exec {
        bool padded = false;
        const std::vector<MatmulRecord>* mm = nullptr; ///< the matmul outputs records index
    };
    struct ItemSet;
    void flush();
    void upload_step();
    [[nodiscard]] const ItemSet& item_set(const OpRecord& r) const;
    /// Grows the workspace the ops need (before a capture: nothing may allocate inside one).
    void prepare(const std::vector<OpRecord>& ops, const std::vector<MatmulRecord>& mms,
                 const Exec& x);
    void execute(const OpRecord& r, const Exec& x);
    void run_matmul(const OpRecord& r, const Exec& x);
    void run_attention(const OpRecord& r, const Exec& x);
    void run_rope(const OpRecord& r);

    // ---- decode graphs (cuda_graph.cpp) ----
    [[nodiscard]] bool pad_records(std::vector<OpRecord>& ops,
                                   std::vector<MatmulRecord>& mms) const;
    [[nodiscard]] bool run_graph();
    void clear_graphs() noexcept;

    /// Grows a device workspace buffer to `bytes` (start-up sizing happens in
    /// reserve_workspace; growth past it clears captured graphs, whose pointers it changes).
    void ensure(DeviceMem& buf, std::size_t& cap, std::size_t bytes);

    /// Capacities of the step data and its byte size (sections at fixed offsets, so captured
    /// graphs keep pointing at the right places while the capacities stay).
    struct StepCaps {
        std::int64_t rows;
        std::int64_t tables;
        std::int64_t items;
    };
    [[nodiscard]] static std::size_t step_bytes(const StepCaps& c);
    [[nodiscard]] base::Result<void> size_step_buffer(std::int64_t rows, std::int64_t tables,
                                                      std::int64_t items);
    DeviceProps props_;
    StreamPtr stream_;
    DeviceMem cublas_workspace_; // outlives the handle that uses it
    CublasPtr cublas_;
    EventPtr upload_done_;
    std::map<std::uintptr_t, std::size_t> allocations_;

    // The current step as the host sees it (set_step) and what was uploaded.
    std::vector<std::int32_t> tokens_, positions_, kv_slots_, tables_, out_rows_;
    std::vector<backend::SeqSlice> seqs_;
    int pad_rows_ = 0;           ///< decode bucket of this step (0: not a graph step)
    bool graph_pending_ = false; ///< the step's first flush may still run as a graph
    bool step_uploaded_ = false;
    const CudaKvStorage* tables_checked_ = nullptr; ///< block tables validated against it
    StepDev step_dev_;
    HostMem staging_; ///< pinned copy of the step data (same layout as step_buf_)
    DeviceMem step_buf_;
    std::int64_t cap_rows_ = 0;   ///< tokens (and sequences, output rows) the step data holds
    std::int64_t cap_tables_ = 0; ///< block-table entries
    std::int64_t cap_items_ = 0;  ///< attention items (all group sizes of a step)
    // Attention work items of this step per GQA group size (uploaded with the step data).
    struct ItemSet {
        int group = 0;
        int n_kv = 0;
        int n_small = 0; ///< items of the step's own sequences
        int n_large = 0;
        int n_small_padded = 0; ///< with the padded sequences of a decode graph
        int n_large_padded = 0;
        const AttnItem* small = nullptr; ///< device
        const AttnItem* large = nullptr;
    };
    std::vector<ItemSet> item_sets_;

    // Recorded ops awaiting a flush.
    std::vector<OpRecord> ops_;
    std::vector<MatmulRecord> mm_;
    bool rope_table_valid_ = false;
    RopeKey rope_table_key_;

    // Workspace.
    DeviceMem act_q8_, act_q8k_, act_half_, partials_, rope_table_;
    std::size_t act_q8_cap_ = 0, act_q8k_cap_ = 0, act_half_cap_ = 0, partials_cap_ = 0,
                rope_table_cap_ = 0;
    std::vector<std::pair<std::vector<float>, DeviceMem>> rope_factors_;
    HostMem download_staging_;
    std::size_t download_cap_ = 0;

    // Decode graphs by bucket.
    struct Graph {
        std::vector<OpRecord> ops;
        std::vector<MatmulRecord> mm;
        GraphExecPtr exec;
    };
    std::map<int, Graph> graphs_;
    bool graphs_enabled_ = true;
    Stats stats_;
};

} // namespace agentd::inference::cuda
