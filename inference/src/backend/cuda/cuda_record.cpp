// CudaBackend's op entry points: each checks its shapes against the step (AGENTD_CHECK: the
// forward pass and the engine guarantee them) and records the op; cuda_exec.cpp runs the
// records when their results are needed. Operand slots of an OpRecord by kind:
//   embed        t0 table, t1 out
//   rms_norm     t0 x, t1 weight, t2 out, f eps
//   matmul       t0 x, outputs mm_[mm_begin, mm_begin + mm_count)
//   rope         t0 x, i0 heads, i1 head size, i2 1 when the angle table must be built first
//   kv_write     t0 k, t1 v, i0 layer, kv storage
//   attention    t0 q, t1 out, i0 layer, i1 GQA group, f scale, kv storage
//   swiglu       t0 gate, t1 up, t2 out;   add / mul: t0 a, t1 b, t2 out
//   softmax      t0 x;                     gather_rows: t0 x, t1 out
#include "agentd/base/check.h"

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_kv_storage.h"

#include <cstring>

namespace agentd::inference::cuda {
namespace {

DevTensor dev_tensor(const backend::Tensor& t) {
    return {t.data, t.type, t.rows, t.cols, t.stride};
}

bool is_f32(const backend::Tensor& t) {
    return t.type == TensorType::f32 && t.stride >= static_cast<std::size_t>(t.cols) * 4 &&
           t.stride % 4 == 0;
}

const CudaKvStorage& cuda_kv(const backend::KvStorage& kv) {
    const auto* s = dynamic_cast<const CudaKvStorage*>(&kv);
    AGENTD_CHECK(s != nullptr, "KV storage allocated by this CUDA backend");
    return *s;
}

} // namespace

void CudaBackend::record(const OpRecord& r) {
    ops_.push_back(r);
}

void CudaBackend::set_step(const backend::StepLayout& layout) {
    flush(); // anything of the previous step nobody waited for
    const auto n = static_cast<std::int64_t>(layout.tokens.size());
    AGENTD_CHECK(layout.positions.size() == layout.tokens.size() &&
                     layout.kv_slots.size() == layout.tokens.size(),
                 "one position and slot per token");
    std::int64_t covered = 0;
    for (const backend::SeqSlice& s : layout.seqs) {
        AGENTD_CHECK(s.first_token == covered && s.n_tokens > 0 && s.n_tokens <= s.n_ctx &&
                         s.table_offset >= 0 && s.table_len >= 0 &&
                         static_cast<std::size_t>(s.table_offset) + s.table_len <=
                             layout.block_tables.size(),
                     "sequences cover the batch in order, with their block tables");
        covered += s.n_tokens;
    }
    AGENTD_CHECK(covered == n, "sequences cover every token");
    AGENTD_CHECK(layout.output_rows.size() <= layout.tokens.size(), "at most one output per row");
    for (std::int32_t r : layout.output_rows) {
        AGENTD_CHECK(r >= 0 && r < n, "output row inside the batch");
    }
    tokens_.assign(layout.tokens.begin(), layout.tokens.end());
    positions_.assign(layout.positions.begin(), layout.positions.end());
    kv_slots_.assign(layout.kv_slots.begin(), layout.kv_slots.end());
    seqs_.assign(layout.seqs.begin(), layout.seqs.end());
    tables_.assign(layout.block_tables.begin(), layout.block_tables.end());
    out_rows_.assign(layout.output_rows.begin(), layout.output_rows.end());

    // A decode step (one token per sequence, every row an output in order) can run as a graph.
    pad_rows_ = 0;
    if (graphs_enabled_ && n > 0 && static_cast<std::int64_t>(seqs_.size()) == n &&
        static_cast<std::int64_t>(out_rows_.size()) == n) {
        bool decode = true;
        for (std::int64_t i = 0; i < n && decode; ++i) {
            decode = seqs_[static_cast<std::size_t>(i)].n_tokens == 1 &&
                     out_rows_[static_cast<std::size_t>(i)] == i;
        }
        pad_rows_ = decode ? decode_bucket(static_cast<int>(n)) : 0;
    }
    graph_pending_ = pad_rows_ > 0;
    step_uploaded_ = false;
    tables_checked_ = nullptr;
    item_sets_.clear();
    rope_table_valid_ = false;
}

void CudaBackend::check_kv_tables(const CudaKvStorage& kv) {
    if (tables_checked_ == &kv) {
        return;
    }
    const auto& spec = kv.spec();
    const std::int64_t n_slots = static_cast<std::int64_t>(spec.n_blocks) * spec.block_size;
    for (const backend::SeqSlice& s : seqs_) {
        AGENTD_CHECK(static_cast<std::int64_t>(s.table_len) * spec.block_size >= s.n_ctx,
                     "block table covers the context");
        for (std::int32_t i = 0; i < s.table_len; ++i) {
            const std::int32_t b = tables_[static_cast<std::size_t>(s.table_offset + i)];
            AGENTD_CHECK(b >= 0 && b < spec.n_blocks, "block inside the KV pool");
        }
        for (std::int32_t t = 0; t < s.n_tokens; ++t) {
            const auto i = static_cast<std::size_t>(s.first_token + t);
            AGENTD_CHECK(positions_[i] >= 0 && positions_[i] < s.n_ctx,
                         "token position inside its sequence's context");
        }
    }
    for (std::int32_t slot : kv_slots_) {
        AGENTD_CHECK(slot >= 0 && slot < n_slots, "KV slot inside the pool");
    }
    tables_checked_ = &kv;
}

void CudaBackend::embed(const backend::Tensor& table, backend::Tensor out) {
    AGENTD_CHECK(is_f32(out) && out.rows == static_cast<std::int64_t>(tokens_.size()) &&
                     out.cols == table.cols && supports(backend::Op::embed, table.type),
                 "embed shapes");
    for (std::int32_t id : tokens_) {
        AGENTD_CHECK(id >= 0 && id < table.rows, "token id validated by the engine");
    }
    OpRecord r;
    r.kind = OpKind::embed;
    r.t0 = dev_tensor(table);
    r.t1 = dev_tensor(out);
    record(r);
}

void CudaBackend::rms_norm(const backend::Tensor& x, const backend::Tensor& weight, float eps,
                           backend::Tensor out) {
    AGENTD_CHECK(is_f32(x) && is_f32(out) && weight.type == TensorType::f32 &&
                     x.cols == weight.cols && out.rows == x.rows && out.cols == x.cols,
                 "rms_norm shapes");
    OpRecord r;
    r.kind = OpKind::rms_norm;
    r.t0 = dev_tensor(x);
    r.t1 = dev_tensor(weight);
    r.t2 = dev_tensor(out);
    r.f = eps;
    record(r);
}

void CudaBackend::matmul(const backend::Tensor& x, std::span<const backend::MatmulOut> outs) {
    AGENTD_CHECK(is_f32(x), "matmul input is f32");
    if (x.rows == 0 || outs.empty()) {
        return;
    }
    OpRecord r;
    r.kind = OpKind::matmul;
    r.t0 = dev_tensor(x);
    r.mm_begin = static_cast<std::uint32_t>(mm_.size());
    r.mm_count = static_cast<std::uint32_t>(outs.size());
    for (const auto& o : outs) {
        AGENTD_CHECK(o.weight != nullptr && o.weight->cols == x.cols &&
                         supports(backend::Op::matmul, o.weight->type),
                     "matmul weight shape and type");
        AGENTD_CHECK(is_f32(o.out) && o.out.rows == x.rows && o.out.cols == o.weight->rows,
                     "matmul output shape");
        AGENTD_CHECK(o.bias == nullptr ||
                         (o.bias->type == TensorType::f32 && o.bias->cols == o.weight->rows),
                     "matmul bias shape");
        AGENTD_CHECK(o.weight->rows < (std::int64_t{1} << 31) && x.cols < (std::int64_t{1} << 31),
                     "matmul sizes fit the kernels' int arithmetic");
        mm_.push_back({dev_tensor(*o.weight), o.bias != nullptr ? dev_tensor(*o.bias) : DevTensor{},
                       dev_tensor(o.out), o.accumulate});
    }
    record(r);
}

const float* CudaBackend::device_rope_factors(std::span<const float> factors) {
    if (factors.empty()) {
        return nullptr;
    }
    for (const auto& [host, dev] : rope_factors_) {
        if (host.size() == factors.size() &&
            std::memcmp(host.data(), factors.data(), factors.size_bytes()) == 0) {
            return static_cast<const float*>(dev.get());
        }
    }
    // A new set (once per model in practice): its own buffer, never overwritten, so ops already
    // recorded keep reading the factors they were given.
    void* p = nullptr;
    AGENTD_CHECK(cudaMalloc(&p, factors.size_bytes()) == cudaSuccess,
                 "device memory for the RoPE frequency factors");
    DeviceMem mem(p);
    AGENTD_CUDA_CHECK(cudaMemcpyAsync(p, factors.data(), factors.size_bytes(),
                                      cudaMemcpyHostToDevice, stream_.get()));
    AGENTD_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
    rope_factors_.emplace_back(std::vector<float>(factors.begin(), factors.end()), std::move(mem));
    return static_cast<const float*>(p);
}

void CudaBackend::rope(backend::Tensor x, int n_heads, int head_dim,
                       const backend::RopeParams& params) {
    AGENTD_CHECK(is_f32(x) && x.rows == static_cast<std::int64_t>(positions_.size()) &&
                     x.cols == static_cast<std::int64_t>(n_heads) * head_dim && params.n_dims > 0 &&
                     params.n_dims <= head_dim && params.n_dims % 2 == 0,
                 "rope shapes");
    AGENTD_CHECK(params.freq_factors.empty() ||
                     params.freq_factors.size() == static_cast<std::size_t>(params.n_dims / 2),
                 "one RoPE frequency factor per rotated pair");
    RopeKey key;
    key.kind = params.kind == backend::RopeKind::neox ? 1 : 0;
    key.n_dims = params.n_dims;
    key.freq_base = params.freq_base;
    key.freq_scale = params.freq_scale;
    key.ext_factor = params.ext_factor;
    key.attn_factor = params.attn_factor;
    key.beta_fast = params.beta_fast;
    key.beta_slow = params.beta_slow;
    key.n_ctx_orig = params.n_ctx_orig;
    key.factors = device_rope_factors(params.freq_factors);
    OpRecord r;
    r.kind = OpKind::rope;
    r.t0 = dev_tensor(x);
    r.i0 = n_heads;
    r.i1 = head_dim;
    // The angles depend on the step's positions and these parameters only: built by the first
    // rope of a step (q), reused by the next (k).
    r.i2 = rope_table_valid_ && rope_table_key_ == key ? 0 : 1;
    r.rope = key;
    rope_table_valid_ = true;
    rope_table_key_ = key;
    record(r);
}

void CudaBackend::kv_write(backend::KvStorage& kv, int layer, const backend::Tensor& k,
                           const backend::Tensor& v) {
    const CudaKvStorage& s = cuda_kv(kv);
    const auto& spec = s.spec();
    AGENTD_CHECK(layer >= 0 && layer < spec.n_layers, "KV layer");
    AGENTD_CHECK(is_f32(k) && is_f32(v) && k.rows == static_cast<std::int64_t>(kv_slots_.size()) &&
                     k.cols == static_cast<std::int64_t>(spec.n_kv_heads) * spec.head_dim &&
                     v.rows == k.rows && v.cols == k.cols,
                 "kv_write shapes");
    check_kv_tables(s);
    OpRecord r;
    r.kind = OpKind::kv_write;
    r.t0 = dev_tensor(k);
    r.t1 = dev_tensor(v);
    r.i0 = layer;
    r.kv = &s;
    record(r);
}

void CudaBackend::attention(const backend::KvStorage& kv, int layer, const backend::Tensor& q,
                            const backend::AttentionParams& p, backend::Tensor out) {
    const CudaKvStorage& s = cuda_kv(kv);
    const auto& spec = s.spec();
    AGENTD_CHECK(layer >= 0 && layer < spec.n_layers && p.n_kv_head == spec.n_kv_heads &&
                     p.head_dim == spec.head_dim && p.n_head > 0 && p.n_head % p.n_kv_head == 0,
                 "attention heads match the KV cache");
    AGENTD_CHECK(is_f32(q) && is_f32(out) && q.rows == static_cast<std::int64_t>(tokens_.size()) &&
                     q.cols == static_cast<std::int64_t>(p.n_head) * p.head_dim &&
                     out.rows == q.rows && out.cols == q.cols,
                 "attention shapes");
    check_kv_tables(s);
    OpRecord r;
    r.kind = OpKind::attention;
    r.t0 = dev_tensor(q);
    r.t1 = dev_tensor(out);
    r.i0 = layer;
    r.i1 = p.n_head / p.n_kv_head;
    r.f = p.scale;
    r.kv = &s;
    record(r);
}

void CudaBackend::copy_kv_blocks(backend::KvStorage& kv,
                                 std::span<const backend::BlockCopy> copies) {
    const CudaKvStorage& s = cuda_kv(kv);
    const auto& spec = s.spec();
    flush(); // ordered after the ops recorded so far
    const std::size_t bb = s.block_bytes();
    for (const auto& c : copies) {
        AGENTD_CHECK(c.src >= 0 && c.src < spec.n_blocks && c.dst >= 0 && c.dst < spec.n_blocks,
                     "copied blocks inside the pool");
    }
    for (int layer = 0; layer < spec.n_layers; ++layer) {
        const KvDev l = s.layer(layer);
        for (const auto& c : copies) {
            for (void* base : {l.k, l.v}) {
                auto* b = static_cast<std::uint8_t*>(base);
                AGENTD_CUDA_CHECK(cudaMemcpyAsync(b + static_cast<std::size_t>(c.dst) * bb,
                                                  b + static_cast<std::size_t>(c.src) * bb, bb,
                                                  cudaMemcpyDeviceToDevice, stream_.get()));
            }
        }
    }
}

void CudaBackend::swiglu(const backend::Tensor& gate, const backend::Tensor& up,
                         backend::Tensor out) {
    AGENTD_CHECK(is_f32(gate) && is_f32(up) && is_f32(out) && gate.rows == up.rows &&
                     gate.cols == up.cols && out.rows == gate.rows && out.cols == gate.cols,
                 "swiglu shapes");
    OpRecord r;
    r.kind = OpKind::swiglu;
    r.t0 = dev_tensor(gate);
    r.t1 = dev_tensor(up);
    r.t2 = dev_tensor(out);
    record(r);
}

void CudaBackend::add(const backend::Tensor& a, const backend::Tensor& b, backend::Tensor out) {
    AGENTD_CHECK(is_f32(a) && is_f32(b) && is_f32(out) && a.cols == b.cols &&
                     (b.rows == a.rows || b.rows == 1) && out.rows == a.rows && out.cols == a.cols,
                 "add shapes");
    OpRecord r;
    r.kind = OpKind::add;
    r.t0 = dev_tensor(a);
    r.t1 = dev_tensor(b);
    r.t2 = dev_tensor(out);
    record(r);
}

void CudaBackend::mul(const backend::Tensor& a, const backend::Tensor& b, backend::Tensor out) {
    AGENTD_CHECK(is_f32(a) && is_f32(b) && is_f32(out) && a.cols == b.cols &&
                     (b.rows == a.rows || b.rows == 1) && out.rows == a.rows && out.cols == a.cols,
                 "mul shapes");
    OpRecord r;
    r.kind = OpKind::mul;
    r.t0 = dev_tensor(a);
    r.t1 = dev_tensor(b);
    r.t2 = dev_tensor(out);
    record(r);
}

void CudaBackend::softmax(backend::Tensor x) {
    AGENTD_CHECK(is_f32(x), "softmax of f32 rows");
    OpRecord r;
    r.kind = OpKind::softmax;
    r.t0 = dev_tensor(x);
    record(r);
}

void CudaBackend::gather_rows(const backend::Tensor& x, backend::Tensor out) {
    AGENTD_CHECK(is_f32(x) && is_f32(out) &&
                     out.rows == static_cast<std::int64_t>(out_rows_.size()) && out.cols == x.cols,
                 "gather_rows shapes");
    for (std::int32_t row : out_rows_) {
        AGENTD_CHECK(row < x.rows, "output row inside the batch");
    }
    // Rows are copied in parallel, so the source and destination must not overlap.
    const auto xb = reinterpret_cast<std::uintptr_t>(x.data);
    const auto xe = xb + static_cast<std::uintptr_t>(x.rows) * x.stride;
    const auto ob = reinterpret_cast<std::uintptr_t>(out.data);
    const auto oe = ob + static_cast<std::uintptr_t>(out.rows) * out.stride;
    AGENTD_CHECK(out.rows == 0 || x.rows == 0 || oe <= xb || xe <= ob,
                 "gather_rows source and destination apart");
    OpRecord r;
    r.kind = OpKind::gather_rows;
    r.t0 = dev_tensor(x);
    r.t1 = dev_tensor(out);
    record(r);
}

} // namespace agentd::inference::cuda
