#pragma once
/// The CPU backend: ops run synchronously on a persistent thread pool with the best SIMD kernel
/// table this CPU supports (kernels.h). Weights are read in place from host memory (zero-copy
/// import_host). KV layout per layer and block: K transposed ([kv_head][head_dim][block_size])
/// so attention scores are plain FMAs over 16 keys, V as [kv_head][block_size][head_dim].
///
/// Ownership, threading and errors as backend::Backend; this class is internal to the engine.

#include "backend/backend.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/thread_pool.h"

#include <atomic>
#include <vector>

namespace agentd::inference::cpu {

class CpuBackend final : public backend::Backend {
public:
    /// `n_threads` <= 0: one per online CPU. `isa` chooses the kernel table.
    CpuBackend(int n_threads, Isa isa);
    ~CpuBackend() override;

    [[nodiscard]] std::string_view name() const noexcept override { return "cpu"; }
    [[nodiscard]] BackendKind kind() const noexcept override { return BackendKind::cpu; }
    [[nodiscard]] std::string detail() const override;
    [[nodiscard]] backend::MemoryInfo memory_info() const override;
    [[nodiscard]] bool supports(backend::Op op, TensorType type) const noexcept override;

    [[nodiscard]] base::Result<backend::BufferPtr> alloc(std::size_t bytes,
                                                         bool host_visible) override;
    [[nodiscard]] base::Result<backend::BufferPtr> import_host(const void* data,
                                                               std::size_t bytes) override;
    void upload(backend::Buffer& dst, std::size_t offset, std::span<const std::byte> src) override;
    void download(const backend::Buffer& src, std::size_t offset,
                  std::span<std::byte> dst) override;
    void download_rows(const backend::Tensor& src, std::span<float> dst) override;
    void synchronize() override {}

    [[nodiscard]] base::Result<backend::KvStoragePtr>
    alloc_kv(const backend::KvSpec& spec) override;

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

    [[nodiscard]] int n_threads() const noexcept { return pool_.size(); }
    [[nodiscard]] Isa isa() const noexcept { return isa_; }

private:
    /// Splits [0, n) into contiguous ranges, one per thread, and runs fn(begin, end) on each;
    /// runs inline when n * cost_per_item is too small to be worth waking the pool.
    template <class Fn>
    void parallel_for(std::int64_t n, std::int64_t cost_per_item, Fn&& fn);
    void build_rope_cache(const backend::RopeParams& params);

    ThreadPool pool_;
    Isa isa_;
    const KernelTable* kt_;

    // The current step (copied by set_step).
    std::vector<std::int32_t> tokens_;
    std::vector<std::int32_t> positions_;
    std::vector<std::int32_t> kv_slots_;
    std::vector<backend::SeqSlice> seqs_;
    std::vector<std::int32_t> block_tables_;
    std::vector<std::int32_t> output_rows_;

    // cos/sin per token and rotated pair, valid for rope_params_ of this step.
    std::vector<float> rope_cache_;
    backend::RopeParams rope_params_;
    std::vector<float> rope_factors_;
    bool rope_valid_ = false;

    // Matmul activations, one buffer per activation kind, and the work list of one call.
    std::vector<std::uint8_t> act_[kActKinds];
    struct MatmulItem {
        int out;
        std::int64_t r0, r1, t0, t1;
    };
    std::vector<MatmulItem> mm_items_;
    // Attention work list and per-thread chunk pointer scratch.
    struct AttnItem {
        std::int32_t seq;
        std::int32_t g;
        std::int32_t row0;
    };
    std::vector<AttnItem> attn_items_;
    std::vector<std::vector<const void*>> attn_chunks_;
};

} // namespace agentd::inference::cpu

namespace agentd::inference::cpu {

template <class Fn>
void CpuBackend::parallel_for(std::int64_t n, std::int64_t cost_per_item, Fn&& fn) {
    // Below ~20k element-operations a wake-up of the pool costs more than it saves.
    constexpr std::int64_t kMinParallelCost = 20000;
    const int threads = pool_.size();
    if (threads == 1 || n <= 1 || n * cost_per_item < kMinParallelCost) {
        fn(std::int64_t{0}, n);
        return;
    }
    pool_.run([&](const ThreadPool::Context& ctx) {
        const std::int64_t per = (n + ctx.count() - 1) / ctx.count();
        const std::int64_t begin = per * ctx.index();
        const std::int64_t end = begin + per < n ? begin + per : n;
        if (begin < end) {
            fn(begin, end);
        }
    });
}

} // namespace agentd::inference::cpu
