// Engine::step: validates a batch, reserves its KV blocks in one plan/commit, then runs it as one
// or more forward passes of at most max_batch_tokens rows and collects the requested outputs.
#include "agentd/base/check.h"
#include "agentd/inference/engine.h"
#include "agentd/inference/errc.h"

#include "engine/engine_impl.h"
#include "model/model_impl.h"

#include <algorithm>
#include <cstring>

namespace agentd::inference {
namespace {

/// Where a pass's output row goes.
struct OutMap {
    std::size_t entry;
    bool logits;
    std::int32_t dest; ///< destination row (logits or embeddings); -1: add to the entry's mean
};

/// A run of consecutive tokens of one entry inside a pass.
struct Part {
    std::size_t entry;
    std::int32_t off;
    std::int32_t count;
};

struct Pass {
    std::vector<std::int32_t> tokens, positions, slots, tables, out_rows;
    std::vector<backend::SeqSlice> seqs;
    std::vector<OutMap> map;
    void clear() {
        tokens.clear();
        positions.clear();
        slots.clear();
        tables.clear();
        out_rows.clear();
        seqs.clear();
        map.clear();
    }
};

bool wants_logits(OutputKind k) {
    return k == OutputKind::logits_last || k == OutputKind::logits_all;
}
bool wants_embedding(OutputKind k) {
    return k == OutputKind::embedding_last || k == OutputKind::embedding_mean;
}

} // namespace

base::Result<StepOutput> Engine::step(std::span<const BatchEntry> batch) {
    Impl& m = *impl_;
    const model::HParams& hp = m.model->impl().hp;
    if (batch.empty()) {
        return base::fail(errc::invalid_argument, "empty batch");
    }
    std::vector<kv::KvAppend> appends;
    appends.reserve(batch.size());
    for (const BatchEntry& e : batch) {
        if (!m.kv->has(e.seq)) {
            return base::fail(errc::invalid_argument, "unknown sequence " + std::to_string(e.seq));
        }
        if (e.tokens.empty() || e.tokens.size() > static_cast<std::size_t>(m.n_ctx)) {
            return base::fail(errc::invalid_argument, "an entry needs 1 to n_ctx tokens");
        }
        for (TokenId t : e.tokens) {
            if (t < 0 || t >= hp.n_vocab) {
                return base::fail(errc::invalid_argument,
                                  "token id " + std::to_string(t) + " is outside the vocabulary");
            }
        }
        const std::int32_t pos0 = e.pos0 < 0 ? m.kv->length(e.seq) : e.pos0;
        appends.push_back({e.seq, pos0, static_cast<std::int32_t>(e.tokens.size())});
    }
    auto plan = m.kv->plan(appends);
    if (!plan) {
        return plan.error();
    }
    const auto copies = m.kv->commit(*plan);
    if (!copies.empty()) {
        std::vector<backend::BlockCopy> bc;
        for (const auto& c : copies) {
            bc.push_back({c.src, c.dst});
        }
        m.backend->copy_kv_blocks(*m.kv_storage, bc);
    }

    // Output rows of the whole step.
    m.logit_rows.assign(batch.size(), {});
    m.embedding_rows.assign(batch.size(), {});
    std::int32_t n_logits = 0;
    std::int32_t n_emb = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto n = static_cast<std::int32_t>(batch[i].tokens.size());
        if (wants_logits(batch[i].output)) {
            const std::int32_t c = batch[i].output == OutputKind::logits_all ? n : 1;
            m.logit_rows[i] = {n_logits, c};
            n_logits += c;
        } else if (wants_embedding(batch[i].output)) {
            m.embedding_rows[i] = {n_emb, 1};
            n_emb += 1;
        }
    }
    m.logits.resize(static_cast<std::size_t>(n_logits) * hp.n_vocab);
    m.embeddings.assign(static_cast<std::size_t>(n_emb) * hp.n_embd, 0.0f);
    m.pool_sums.assign(static_cast<std::size_t>(n_emb) * hp.n_embd, 0.0);

    const std::int32_t bs = m.kv->block_size();
    const auto max_rows = static_cast<std::int32_t>(m.forward->max_tokens());
    Pass pass;
    std::vector<Part> parts;
    std::size_t entry = 0;
    std::int32_t off = 0;
    while (entry < batch.size()) {
        // Fill one pass.
        parts.clear();
        std::int32_t rows = 0;
        while (entry < batch.size() && rows < max_rows) {
            const auto n = static_cast<std::int32_t>(batch[entry].tokens.size());
            const std::int32_t take = std::min(n - off, max_rows - rows);
            parts.push_back({entry, off, take});
            rows += take;
            off += take;
            if (off == n) {
                ++entry;
                off = 0;
            }
        }
        pass.clear();
        bool pass_logits = false;
        bool pass_hidden = false;
        for (const Part& p : parts) {
            const BatchEntry& e = batch[p.entry];
            const std::int32_t pos0 = appends[p.entry].pos0;
            const std::int32_t n = static_cast<std::int32_t>(e.tokens.size());
            const auto first = static_cast<std::int32_t>(pass.tokens.size());
            const auto table = m.kv->block_table(e.seq);
            const std::int32_t n_ctx = pos0 + p.off + p.count;
            const std::int32_t table_len = (n_ctx + bs - 1) / bs;
            pass.seqs.push_back(
                {first, p.count, n_ctx, static_cast<std::int32_t>(pass.tables.size()), table_len});
            pass.tables.insert(pass.tables.end(), table.begin(), table.begin() + table_len);
            for (std::int32_t i = 0; i < p.count; ++i) {
                const std::int32_t pos = pos0 + p.off + i;
                pass.tokens.push_back(e.tokens[static_cast<std::size_t>(p.off + i)]);
                pass.positions.push_back(pos);
                pass.slots.push_back(m.kv->slot(e.seq, pos));
                const bool last_token = p.off + i == n - 1;
                const std::int32_t row = first + i;
                switch (e.output) {
                case OutputKind::logits_all:
                    pass.out_rows.push_back(row);
                    pass.map.push_back(
                        {p.entry, true, m.logit_rows[p.entry].first_row + p.off + i});
                    pass_logits = true;
                    break;
                case OutputKind::logits_last:
                    if (last_token) {
                        pass.out_rows.push_back(row);
                        pass.map.push_back({p.entry, true, m.logit_rows[p.entry].first_row});
                        pass_logits = true;
                    }
                    break;
                case OutputKind::embedding_last:
                    if (last_token) {
                        pass.out_rows.push_back(row);
                        pass.map.push_back({p.entry, false, m.embedding_rows[p.entry].first_row});
                        pass_hidden = true;
                    }
                    break;
                case OutputKind::embedding_mean:
                    pass.out_rows.push_back(row);
                    pass.map.push_back({p.entry, false, -1});
                    pass_hidden = true;
                    break;
                case OutputKind::none:
                    break;
                }
            }
        }
        const std::size_t n_out = pass.out_rows.size();
        m.pass_logits.resize(pass_logits ? n_out * hp.n_vocab : 0);
        m.pass_hidden.resize(pass_hidden ? n_out * hp.n_embd : 0);
        const backend::StepLayout layout{pass.tokens, pass.positions, pass.slots,
                                         pass.seqs,   pass.tables,    pass.out_rows};
        m.forward->run(layout, m.pass_logits, m.pass_hidden);
        for (std::size_t r = 0; r < n_out; ++r) {
            const OutMap& om = pass.map[r];
            if (om.logits) {
                std::memcpy(m.logits.data() + static_cast<std::size_t>(om.dest) * hp.n_vocab,
                            m.pass_logits.data() + r * hp.n_vocab, sizeof(float) * hp.n_vocab);
                continue;
            }
            const float* h = m.pass_hidden.data() + r * hp.n_embd;
            const std::size_t dest =
                static_cast<std::size_t>(m.embedding_rows[om.entry].first_row) * hp.n_embd;
            if (om.dest >= 0) {
                std::memcpy(m.embeddings.data() + dest, h, sizeof(float) * hp.n_embd);
            } else {
                for (std::int32_t d = 0; d < hp.n_embd; ++d) {
                    m.pool_sums[dest + static_cast<std::size_t>(d)] += h[d];
                }
            }
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].output == OutputKind::embedding_mean) {
            const std::size_t dest =
                static_cast<std::size_t>(m.embedding_rows[i].first_row) * hp.n_embd;
            const double n = static_cast<double>(batch[i].tokens.size());
            for (std::int32_t d = 0; d < hp.n_embd; ++d) {
                m.embeddings[dest + static_cast<std::size_t>(d)] =
                    static_cast<float>(m.pool_sums[dest + static_cast<std::size_t>(d)] / n);
            }
        }
    }
    StepOutput out;
    out.logits = m.logits;
    out.embeddings = m.embeddings;
    out.logit_rows = m.logit_rows;
    out.embedding_rows = m.embedding_rows;
    out.n_vocab = hp.n_vocab;
    out.n_embd = hp.n_embd;
    return out;
}

} // namespace agentd::inference
