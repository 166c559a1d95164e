// CudaBackend execution: the step data upload (pinned staging -> one device buffer at fixed
// offsets), flushing recorded ops (as a decode graph when the step allows, else op by op), and
// the launches of each op: matrix products pick the matrix-vector kernel, the int8 tensor-core
// kernel or cuBLAS; attention splits its work into small and large items.
#include "agentd/base/check.h"

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_kv_storage.h"

#include <algorithm>
#include <cstring>

namespace agentd::inference::cuda {
namespace {

/// Offsets (in int32 units) of the step data sections for given capacities; the sections used
/// by every step come first so one copy of a prefix carries them.
struct StepOffsets {
    std::size_t tokens, positions, slots, out_rows, seqs, items, tables, end;
};

StepOffsets step_offsets(std::int64_t rows, std::int64_t tables, std::int64_t items) {
    StepOffsets o{};
    const auto r = static_cast<std::size_t>(rows);
    o.tokens = 0;
    o.positions = r;
    o.slots = 2 * r;
    o.out_rows = 3 * r;
    o.seqs = 4 * r;
    o.items = o.seqs + r * (sizeof(SeqDev) / sizeof(std::int32_t));
    o.tables =
        o.items + static_cast<std::size_t>(items) * (sizeof(AttnItem) / sizeof(std::int32_t));
    o.end = o.tables + static_cast<std::size_t>(tables);
    return o;
}

bool is_quantized(TensorType t) {
    return t == TensorType::q8_0 || t == TensorType::q4_0 || t == TensorType::q4_k ||
           t == TensorType::q6_k;
}

int act_block(TensorType t) {
    return t == TensorType::q4_k || t == TensorType::q6_k ? 256 : 32;
}

} // namespace

std::size_t CudaBackend::step_bytes(const StepCaps& c) {
    return step_offsets(c.rows, c.tables, c.items).end * sizeof(std::int32_t);
}

void CudaBackend::upload_step() {
    const bool padded = pad_rows_ > 0;
    const auto n_tok = static_cast<std::int64_t>(tokens_.size());
    const std::int64_t rows = padded ? pad_rows_ : n_tok;
    const auto n_seq = static_cast<std::int64_t>(seqs_.size());
    const std::int64_t seq_rows = padded ? pad_rows_ : n_seq;

    // Attention items for every (group, KV heads) the recorded ops need, plus those of earlier
    // flushes of this step (their pointers must stay valid).
    std::vector<std::pair<int, int>> keys;
    for (const ItemSet& s : item_sets_) {
        keys.emplace_back(s.group, s.n_kv);
    }
    for (const OpRecord& r : ops_) {
        if (r.kind == OpKind::attention) {
            const std::pair<int, int> k{r.i1,
                                        static_cast<const CudaKvStorage*>(r.kv)->spec().n_kv_heads};
            if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
                keys.push_back(k);
            }
        }
    }
    std::vector<std::int32_t> seq_tokens(static_cast<std::size_t>(seq_rows), 1);
    for (std::int64_t i = 0; i < n_seq; ++i) {
        seq_tokens[static_cast<std::size_t>(i)] = seqs_[static_cast<std::size_t>(i)].n_tokens;
    }
    std::vector<AttnPlan> plans;
    std::int64_t n_items = 0;
    for (const auto& [group, n_kv] : keys) {
        plans.push_back(plan_attention(seq_tokens, n_kv, group));
        n_items += static_cast<std::int64_t>(plans.back().small.size() + plans.back().large.size());
    }
    const auto n_tables = static_cast<std::int64_t>(tables_.size());
    if (rows > cap_rows_ || seq_rows > cap_rows_ || n_tables > cap_tables_ ||
        n_items > cap_items_) {
        // Past what reserve_workspace sized: grow (a failure here is out of memory mid-step).
        const auto r = size_step_buffer(std::max(rows, seq_rows), n_tables, n_items);
        AGENTD_CHECK(r.has_value(), "step data beyond reserve_workspace's sizes: out of memory");
    }
    const StepOffsets off = step_offsets(cap_rows_, cap_tables_, cap_items_);
    // The previous upload may still be reading the staging memory.
    AGENTD_CUDA_CHECK(cudaEventSynchronize(upload_done_.get()));
    auto* h = static_cast<std::int32_t*>(staging_.get());
    auto put = [&](std::size_t at, const std::vector<std::int32_t>& v, std::int64_t n, auto pad) {
        std::copy(v.begin(), v.end(), h + at);
        for (std::int64_t i = static_cast<std::int64_t>(v.size()); i < n; ++i) {
            h[at + static_cast<std::size_t>(i)] = pad(i);
        }
    };
    if (h != nullptr) {
        // Padded rows: token 0 at position 0, no KV slot, their own output row, and a sequence
        // of their own with no context (attention writes zeros for it).
        put(off.tokens, tokens_, rows, [](std::int64_t) { return 0; });
        put(off.positions, positions_, rows, [](std::int64_t) { return 0; });
        put(off.slots, kv_slots_, rows, [](std::int64_t) { return -1; });
        put(off.out_rows, out_rows_, rows,
            [](std::int64_t i) { return static_cast<std::int32_t>(i); });
        auto* sq = reinterpret_cast<SeqDev*>(h + off.seqs);
        for (std::int64_t i = 0; i < seq_rows; ++i) {
            if (i < n_seq) {
                const auto& s = seqs_[static_cast<std::size_t>(i)];
                sq[i] = {s.first_token, s.n_tokens, s.n_ctx, s.table_offset, s.table_len};
            } else {
                sq[i] = {static_cast<std::int32_t>(i), 1, 0, 0, 0};
            }
        }
        std::copy(tables_.begin(), tables_.end(), h + off.tables);
    }
    item_sets_.clear();
    auto* items_h = reinterpret_cast<AttnItem*>(h + off.items);
    auto* items_d =
        reinterpret_cast<const AttnItem*>(static_cast<std::int32_t*>(step_buf_.get()) + off.items);
    std::size_t at = 0;
    for (std::size_t g = 0; g < keys.size(); ++g) {
        const AttnPlan& p = plans[g];
        ItemSet set;
        set.group = keys[g].first;
        set.n_kv = keys[g].second;
        // Items are in sequence order, so the real sequences' items come first.
        for (const AttnItem& it : p.small) {
            set.n_small += it.seq < n_seq ? 1 : 0;
        }
        for (const AttnItem& it : p.large) {
            set.n_large += it.seq < n_seq ? 1 : 0;
        }
        set.n_small_padded = static_cast<int>(p.small.size());
        set.n_large_padded = static_cast<int>(p.large.size());
        set.small = items_d + at;
        std::copy(p.small.begin(), p.small.end(), items_h + at);
        at += p.small.size();
        set.large = items_d + at;
        std::copy(p.large.begin(), p.large.end(), items_h + at);
        at += p.large.size();
        item_sets_.push_back(set);
    }
    auto* d = static_cast<std::int32_t*>(step_buf_.get());
    if (d != nullptr) {
        const std::size_t prefix = off.items + at * (sizeof(AttnItem) / sizeof(std::int32_t));
        AGENTD_CUDA_CHECK(cudaMemcpyAsync(d, h, prefix * sizeof(std::int32_t),
                                          cudaMemcpyHostToDevice, stream_.get()));
        if (!tables_.empty()) {
            AGENTD_CUDA_CHECK(cudaMemcpyAsync(d + off.tables, h + off.tables,
                                              tables_.size() * sizeof(std::int32_t),
                                              cudaMemcpyHostToDevice, stream_.get()));
        }
        AGENTD_CUDA_CHECK(cudaEventRecord(upload_done_.get(), stream_.get()));
    }
    step_dev_.tokens = d + off.tokens;
    step_dev_.positions = d + off.positions;
    step_dev_.kv_slots = d + off.slots;
    step_dev_.out_rows = d + off.out_rows;
    step_dev_.seqs = reinterpret_cast<const SeqDev*>(d + off.seqs);
    step_dev_.tables = d + off.tables;
    step_uploaded_ = true;
}

const CudaBackend::ItemSet& CudaBackend::item_set(const OpRecord& r) const {
    const int n_kv = static_cast<const CudaKvStorage*>(r.kv)->spec().n_kv_heads;
    for (const ItemSet& s : item_sets_) {
        if (s.group == r.i1 && s.n_kv == n_kv) {
            return s;
        }
    }
    AGENTD_UNREACHABLE("attention items are planned at upload");
}

void CudaBackend::flush() {
    if (ops_.empty()) {
        return;
    }
    bool upload = !step_uploaded_;
    for (const OpRecord& r : ops_) {
        if (upload || r.kind != OpKind::attention) {
            continue;
        }
        const int n_kv = static_cast<const CudaKvStorage*>(r.kv)->spec().n_kv_heads;
        upload = std::none_of(item_sets_.begin(), item_sets_.end(),
                              [&](const ItemSet& s) { return s.group == r.i1 && s.n_kv == n_kv; });
    }
    if (upload) {
        upload_step();
    }
    const bool try_graph = graph_pending_;
    graph_pending_ = false;
    if (!(try_graph && run_graph())) {
        const Exec x{false, &mm_};
        prepare(ops_, mm_, x);
        for (const OpRecord& r : ops_) {
            execute(r, x);
        }
        ++stats_.eager_flushes;
    }
    ops_.clear();
    mm_.clear();
}

void CudaBackend::prepare(const std::vector<OpRecord>& ops, const std::vector<MatmulRecord>& mms,
                          const Exec& x) {
    for (const OpRecord& r : ops) {
        if (r.kind == OpKind::matmul) {
            const std::int64_t t = r.t0.rows;
            const std::int64_t k = r.t0.cols;
            for (std::uint32_t i = r.mm_begin; i < r.mm_begin + r.mm_count; ++i) {
                const TensorType type = mms[i].w.type;
                if (is_quantized(type)) {
                    const int block = act_block(type);
                    ensure(block == 32 ? act_q8_ : act_q8k_,
                           block == 32 ? act_q8_cap_ : act_q8k_cap_,
                           act_q8_layout(t, k, block).bytes);
                } else if (type != TensorType::f32) {
                    ensure(act_half_, act_half_cap_, static_cast<std::size_t>(t * k) * 2);
                }
            }
        } else if (r.kind == OpKind::attention) {
            const ItemSet& s = item_set(r);
            const int n_small = x.padded ? s.n_small_padded : s.n_small;
            const int splits = attention_splits(n_small, props_.sm_count);
            if (splits > 1) {
                const int hd = static_cast<const CudaKvStorage*>(r.kv)->spec().head_dim;
                ensure(partials_, partials_cap_,
                       attention_partial_floats(n_small, splits, hd) * sizeof(float));
            }
        } else if (r.kind == OpKind::rope) {
            ensure(rope_table_, rope_table_cap_,
                   static_cast<std::size_t>(r.t0.rows) * static_cast<std::size_t>(r.rope.n_dims) *
                       sizeof(float));
        }
    }
}

void CudaBackend::execute(const OpRecord& r, const Exec& x) {
    cudaStream_t s = stream_.get();
    switch (r.kind) {
    case OpKind::embed:
        launch_embed(r.t0, r.t1, step_dev_.tokens, s);
        break;
    case OpKind::rms_norm:
        launch_rms_norm(r.t0, static_cast<const float*>(r.t1.data), r.f, r.t2, s);
        break;
    case OpKind::matmul:
        run_matmul(r, x);
        break;
    case OpKind::rope:
        run_rope(r);
        break;
    case OpKind::kv_write:
        launch_kv_write(static_cast<const CudaKvStorage*>(r.kv)->layer(r.i0), r.t0, r.t1,
                        step_dev_.kv_slots, s);
        break;
    case OpKind::attention:
        run_attention(r, x);
        break;
    case OpKind::swiglu:
        launch_swiglu(r.t0, r.t1, r.t2, s);
        break;
    case OpKind::add:
        launch_binary(BinaryOp::add, r.t0, r.t1, r.t2, s);
        break;
    case OpKind::mul:
        launch_binary(BinaryOp::mul, r.t0, r.t1, r.t2, s);
        break;
    case OpKind::softmax:
        launch_softmax(r.t0, s);
        break;
    case OpKind::gather_rows:
        launch_gather_rows(r.t0, r.t1, step_dev_.out_rows, s);
        break;
    }
}

void CudaBackend::run_rope(const OpRecord& r) {
    const RopeKey& k = r.rope;
    if (r.i2 != 0) {
        const dev::RopeConsts c =
            make_rope_consts(k.n_dims, k.freq_base, k.freq_scale, k.ext_factor, k.attn_factor,
                             k.beta_fast, k.beta_slow, k.n_ctx_orig);
        launch_rope_table(step_dev_.positions, static_cast<int>(r.t0.rows), c, k.factors,
                          static_cast<float*>(rope_table_.get()), stream_.get());
    }
    launch_rope(r.t0, r.i0, r.i1, k.kind == 1, k.n_dims,
                static_cast<const float*>(rope_table_.get()), stream_.get());
}

void CudaBackend::run_matmul(const OpRecord& r, const Exec& xc) {
    const DevTensor& x = r.t0;
    const std::int64_t t = x.rows;
    const std::int64_t k = x.cols;
    cudaStream_t s = stream_.get();
    // Each activation format is made once per call (the outputs share the input).
    bool have_q8 = false;
    bool have_q8k = false;
    TensorType have_half = TensorType::i32;
    auto act_for = [&](int block) {
        DeviceMem& buf = block == 32 ? act_q8_ : act_q8k_;
        const ActQ8Layout l = act_q8_layout(t, k, block);
        auto* base = static_cast<std::uint8_t*>(buf.get());
        return ActQ8{reinterpret_cast<std::int8_t*>(base + l.qs),
                     reinterpret_cast<float*>(base + l.d),
                     reinterpret_cast<std::int32_t*>(base + l.sums), k, block};
    };
    for (std::uint32_t i = r.mm_begin; i < r.mm_begin + r.mm_count; ++i) {
        const MatmulRecord& m = (*xc.mm)[i];
        const TensorType type = m.w.type;
        if (is_quantized(type)) {
            const int block = act_block(type);
            const ActQ8 act = act_for(block);
            bool& have = block == 32 ? have_q8 : have_q8k;
            if (!have) {
                launch_quantize_q8(x, act, s);
                have = true;
            }
            MatOut o;
            o.w = static_cast<const std::uint8_t*>(m.w.data);
            o.w_stride = m.w.stride;
            o.type = type;
            o.n = m.w.rows;
            o.bias = static_cast<const float*>(m.bias.data);
            o.out = static_cast<float*>(m.out.data);
            o.out_stride = static_cast<std::int64_t>(m.out.stride / sizeof(float));
            o.accumulate = m.accumulate;
            if (t <= kMmvMaxRows) {
                launch_mmv(o, act, static_cast<int>(t), s);
            } else {
                launch_mmq(o, act, static_cast<int>(t), s);
            }
            continue;
        }
        // Float weights: cuBLAS, with activations rounded to the weight's format (as ggml's
        // vec_dot_type) and full-FP32 products for F32.
        const void* b = x.data;
        std::int64_t ldb = static_cast<std::int64_t>(x.stride / sizeof(float));
        cudaDataType dt = CUDA_R_32F;
        cublasComputeType_t compute = CUBLAS_COMPUTE_32F_PEDANTIC;
        std::size_t elem = 4;
        if (type != TensorType::f32) {
            if (have_half != type) {
                launch_convert_half(x, act_half_.get(), type == TensorType::f16, s);
                have_half = type;
            }
            b = act_half_.get();
            ldb = k;
            dt = type == TensorType::f16 ? CUDA_R_16F : CUDA_R_16BF;
            compute = CUBLAS_COMPUTE_32F;
            elem = 2;
        }
        const float alpha = 1.0f;
        const float beta = m.accumulate ? 1.0f : 0.0f;
        const auto ldc = static_cast<int>(m.out.stride / sizeof(float));
        AGENTD_CUDA_CHECK(
            cublasGemmEx(cublas_.get(), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m.w.rows),
                         static_cast<int>(t), static_cast<int>(k), &alpha, m.w.data, dt,
                         static_cast<int>(m.w.stride / elem), b, dt, static_cast<int>(ldb), &beta,
                         m.out.data, CUDA_R_32F, ldc, compute, CUBLAS_GEMM_DEFAULT));
        if (m.bias.data != nullptr) {
            launch_add_bias(static_cast<float*>(m.out.data), ldc, t, m.w.rows,
                            static_cast<const float*>(m.bias.data), s);
        }
    }
}

void CudaBackend::run_attention(const OpRecord& r, const Exec& x) {
    const auto* kv = static_cast<const CudaKvStorage*>(r.kv);
    const ItemSet& set = item_set(r);
    AttnArgs a;
    a.q = static_cast<const float*>(r.t0.data);
    a.q_stride = static_cast<std::int64_t>(r.t0.stride / sizeof(float));
    a.out = static_cast<float*>(r.t1.data);
    a.out_stride = static_cast<std::int64_t>(r.t1.stride / sizeof(float));
    a.kv = kv->layer(r.i0);
    a.step = step_dev_;
    a.group = r.i1;
    a.scale = r.f;
    const int n_small = x.padded ? set.n_small_padded : set.n_small;
    const int n_large = x.padded ? set.n_large_padded : set.n_large;
    const int splits = attention_splits(n_small, props_.sm_count);
    launch_attention_small(a, set.small, n_small, splits, static_cast<float*>(partials_.get()),
                           stream_.get());
    launch_attention_large(a, set.large, n_large, stream_.get());
}

} // namespace agentd::inference::cuda
