// CpuBackend KV ops: kv_write scatters each token's K (transposed) and V into its cache slot;
// attention hands out (sequence, KV head, tile of up to 4 query rows) items to the pool, each
// running the kernel table's online-softmax tile over the sequence's blocks.
#include "agentd/base/check.h"

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/cpu_kv_storage.h"
#include "quant/block_formats.h"

#include <algorithm>
#include <cstring>

namespace agentd::inference::cpu {
namespace {

struct KvView {
    std::uint8_t* k;
    std::uint8_t* v;
    std::size_t elem;
    int bs;
    int n_kv;
    int hd;
};

KvView view(const backend::KvStorage& kv, int layer) {
    const auto& s = static_cast<const CpuKvStorage&>(kv);
    return {s.k(layer),          s.v(layer),          s.elem_size(),
            s.spec().block_size, s.spec().n_kv_heads, s.spec().head_dim};
}

inline void store(std::uint8_t* base, std::size_t elem, std::size_t index, float value) {
    if (elem == 2) {
        reinterpret_cast<std::uint16_t*>(base)[index] = quant::float_to_half(value);
    } else {
        reinterpret_cast<float*>(base)[index] = value;
    }
}

} // namespace

void CpuBackend::kv_write(backend::KvStorage& kv, int layer, const backend::Tensor& k,
                          const backend::Tensor& v) {
    const KvView s = view(kv, layer);
    AGENTD_CHECK(k.rows == static_cast<std::int64_t>(kv_slots_.size()) && k.cols == s.n_kv * s.hd &&
                     v.rows == k.rows && v.cols == k.cols,
                 "kv_write shapes");
    const std::int64_t n_slots = static_cast<std::int64_t>(kv.spec().n_blocks) * s.bs;
    parallel_for(k.rows, k.cols * 2, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t t = b; t < e; ++t) {
            const std::int32_t slot = kv_slots_[static_cast<std::size_t>(t)];
            AGENTD_CHECK(slot >= 0 && slot < n_slots, "kv slot inside the pool");
            const std::size_t block = static_cast<std::size_t>(slot / s.bs);
            const std::size_t off = static_cast<std::size_t>(slot % s.bs);
            const float* kr = k.row<float>(t);
            const float* vr = v.row<float>(t);
            for (int g = 0; g < s.n_kv; ++g) {
                const std::size_t head = block * s.n_kv + static_cast<std::size_t>(g);
                for (int d = 0; d < s.hd; ++d) {
                    // K^T: [head][d][bs]; V: [head][bs][d]
                    store(s.k, s.elem, (head * s.hd + d) * s.bs + off, kr[g * s.hd + d]);
                    store(s.v, s.elem, (head * s.bs + off) * s.hd + d, vr[g * s.hd + d]);
                }
            }
        }
    });
}

void CpuBackend::attention(const backend::KvStorage& kv, int layer, const backend::Tensor& q,
                           const backend::AttentionParams& p, backend::Tensor out) {
    const KvView s = view(kv, layer);
    AGENTD_CHECK(p.n_kv_head == s.n_kv && p.head_dim == s.hd && p.n_head % p.n_kv_head == 0,
                 "attention heads match the KV cache");
    AGENTD_CHECK(q.cols == static_cast<std::int64_t>(p.n_head) * p.head_dim && out.rows == q.rows &&
                     out.cols == q.cols,
                 "attention shapes");
    const int group = p.n_head / p.n_kv_head;
    const AttnFn fn = kv.spec().type == TensorType::f16 ? kt_->attn_f16 : kt_->attn_f32;

    // Items: (sequence, KV head, first query row); a row is (token, head within the group).
    std::vector<AttnItem>& items = attn_items_;
    items.clear();
    std::int32_t max_chunks = 0;
    for (std::int32_t si = 0; si < static_cast<std::int32_t>(seqs_.size()); ++si) {
        const auto& sq = seqs_[static_cast<std::size_t>(si)];
        const std::int32_t rows = sq.n_tokens * group;
        max_chunks = std::max(max_chunks, (sq.n_ctx + kAttnChunk - 1) / kAttnChunk);
        for (std::int32_t g = 0; g < p.n_kv_head; ++g) {
            for (std::int32_t r = 0; r < rows; r += kAttnRows) {
                items.push_back({si, g, r});
            }
        }
    }
    std::atomic<std::size_t> next{0};
    if (attn_chunks_.size() < static_cast<std::size_t>(pool_.size())) {
        attn_chunks_.resize(static_cast<std::size_t>(pool_.size()));
    }
    for (auto& c : attn_chunks_) {
        if (c.size() < 2 * static_cast<std::size_t>(max_chunks)) {
            c.resize(2 * static_cast<std::size_t>(max_chunks));
        }
    }
    auto body = [&](const ThreadPool::Context& ctx) {
        auto& chunk_ptrs = attn_chunks_[static_cast<std::size_t>(ctx.index())];
        const void** kt = chunk_ptrs.data();
        const void** vv = chunk_ptrs.data() + max_chunks;
        std::int32_t built_seq = -1;
        std::int32_t built_g = -1;
        for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < items.size();
             i = next.fetch_add(1, std::memory_order_relaxed)) {
            const AttnItem& it = items[i];
            const auto& sq = seqs_[static_cast<std::size_t>(it.seq)];
            const std::int32_t chunks = (sq.n_ctx + kAttnChunk - 1) / kAttnChunk;
            if (it.seq != built_seq || it.g != built_g) {
                // Chunk c (positions 16c..16c+15) lives in block table[16c / bs] at 16c % bs.
                for (std::int32_t c = 0; c < chunks; ++c) {
                    const std::int32_t pos = c * kAttnChunk;
                    AGENTD_CHECK(pos / s.bs < sq.table_len, "block table covers the context");
                    const std::int64_t block =
                        block_tables_[static_cast<std::size_t>(sq.table_offset + pos / s.bs)];
                    const std::int64_t off = pos % s.bs;
                    const std::int64_t head = block * s.n_kv + it.g;
                    kt[static_cast<std::size_t>(c)] =
                        s.k + static_cast<std::size_t>(head * s.hd * s.bs + off) * s.elem;
                    vv[static_cast<std::size_t>(c)] =
                        s.v + static_cast<std::size_t>((head * s.bs + off) * s.hd) * s.elem;
                }
                built_seq = it.seq;
                built_g = it.g;
            }
            AttnTile t;
            t.head_dim = p.head_dim;
            t.scale = p.scale;
            t.n_keys = sq.n_ctx;
            t.kt = kt;
            t.v = vv;
            t.kt_stride = s.bs;
            t.v_stride = s.hd;
            const std::int32_t rows = sq.n_tokens * group;
            t.n_rows = std::min(kAttnRows, rows - it.row0);
            for (int r = 0; r < t.n_rows; ++r) {
                const std::int32_t row = it.row0 + r;
                const std::int64_t token = sq.first_token + row / group;
                const std::int64_t head = static_cast<std::int64_t>(it.g) * group + row % group;
                t.q[r] = q.row<float>(token) + head * p.head_dim;
                t.out[r] = out.row<float>(token) + head * p.head_dim;
                t.pos[r] = positions_[static_cast<std::size_t>(token)];
            }
            fn(t);
        }
    };
    const std::int64_t work = static_cast<std::int64_t>(items.size()) * max_chunks * 16 * s.hd;
    if (pool_.size() == 1 || work < 20000) {
        body(ThreadPool::Context::single());
    } else {
        pool_.run(body);
    }
}

void CpuBackend::copy_kv_blocks(backend::KvStorage& kv,
                                std::span<const backend::BlockCopy> copies) {
    const auto& spec = kv.spec();
    for (int layer = 0; layer < spec.n_layers; ++layer) {
        const KvView s = view(kv, layer);
        const std::size_t block_bytes = static_cast<std::size_t>(s.n_kv) * s.hd * s.bs * s.elem;
        for (const auto& c : copies) {
            AGENTD_CHECK(c.src >= 0 && c.src < spec.n_blocks && c.dst >= 0 && c.dst < spec.n_blocks,
                         "copied blocks inside the pool");
            std::memcpy(s.k + c.dst * block_bytes, s.k + c.src * block_bytes, block_bytes);
            std::memcpy(s.v + c.dst * block_bytes, s.v + c.src * block_bytes, block_bytes);
        }
    }
}

} // namespace agentd::inference::cpu
