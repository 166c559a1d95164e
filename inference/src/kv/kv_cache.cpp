#include "kv/kv_cache.h"

#include "agentd/base/check.h"
#include "agentd/inference/errc.h"

#include <unordered_set>

namespace agentd::inference::kv {

KvCache::KvCache(int n_blocks, int block_size, std::int32_t max_seq_len)
    : pool_(n_blocks), block_size_(block_size), max_seq_len_(max_seq_len) {
    AGENTD_CHECK(block_size > 0 && max_seq_len > 0, "KV cache geometry is validated by the engine");
}

base::Result<void> KvCache::add_sequence(SeqId seq, std::span<const BlockId> prefix,
                                         std::int32_t prefix_tokens) {
    if (has(seq)) {
        return base::fail(errc::invalid_argument,
                          "sequence " + std::to_string(seq) + " already exists");
    }
    if (prefix_tokens < 0 || prefix_tokens > max_seq_len_ ||
        static_cast<int>(prefix.size()) != blocks_for(prefix_tokens)) {
        return base::fail(errc::invalid_argument, "prefix blocks do not cover the prefix tokens");
    }
    for (BlockId b : prefix) {
        if (b < 0 || b >= pool_.total() || pool_.refcount(b) == 0) {
            return base::fail(errc::invalid_argument, "prefix block is not an allocated block");
        }
    }
    Seq s;
    s.blocks.assign(prefix.begin(), prefix.end());
    s.len = prefix_tokens;
    for (BlockId b : s.blocks) {
        pool_.retain(b);
    }
    seqs_.emplace(seq, std::move(s));
    ++generation_;
    AGENTD_ASSERT(check_invariants(), "KV cache consistent after add_sequence");
    return {};
}

bool KvCache::remove_sequence(SeqId seq) {
    auto it = seqs_.find(seq);
    if (it == seqs_.end()) {
        return false;
    }
    for (BlockId b : it->second.blocks) {
        pool_.release(b);
    }
    seqs_.erase(it);
    ++generation_;
    AGENTD_ASSERT(check_invariants(), "KV cache consistent after remove_sequence");
    return true;
}

base::Result<void> KvCache::fork(SeqId src, SeqId dst, std::int32_t n_tokens) {
    auto it = seqs_.find(src);
    if (it == seqs_.end()) {
        return base::fail(errc::invalid_argument, "fork of an unknown sequence");
    }
    if (n_tokens < 0 || n_tokens > it->second.len) {
        return base::fail(errc::invalid_argument, "fork past the end of the source sequence");
    }
    const std::vector<BlockId> prefix(it->second.blocks.begin(),
                                      it->second.blocks.begin() + blocks_for(n_tokens));
    return add_sequence(dst, prefix, n_tokens);
}

void KvCache::shrink(Seq& s, std::int32_t n_tokens) {
    const int keep = blocks_for(n_tokens);
    while (static_cast<int>(s.blocks.size()) > keep) {
        pool_.release(s.blocks.back());
        s.blocks.pop_back();
    }
    s.len = n_tokens;
}

base::Result<void> KvCache::truncate(SeqId seq, std::int32_t n_tokens) {
    auto it = seqs_.find(seq);
    if (it == seqs_.end()) {
        return base::fail(errc::invalid_argument, "truncate of an unknown sequence");
    }
    if (n_tokens < 0 || n_tokens > it->second.len) {
        return base::fail(errc::invalid_argument, "truncate past the end of the sequence");
    }
    shrink(it->second, n_tokens);
    ++generation_;
    AGENTD_ASSERT(check_invariants(), "KV cache consistent after truncate");
    return {};
}

std::int32_t KvCache::length(SeqId seq) const {
    auto it = seqs_.find(seq);
    AGENTD_CHECK(it != seqs_.end(), "length of a known sequence");
    return it->second.len;
}

std::span<const BlockId> KvCache::block_table(SeqId seq) const {
    auto it = seqs_.find(seq);
    AGENTD_CHECK(it != seqs_.end(), "block table of a known sequence");
    return it->second.blocks;
}

std::int32_t KvCache::slot(SeqId seq, std::int32_t pos) const {
    const auto table = block_table(seq);
    AGENTD_CHECK(pos >= 0 && pos / block_size_ < static_cast<std::int32_t>(table.size()),
                 "position inside the sequence's blocks");
    return table[static_cast<std::size_t>(pos / block_size_)] * block_size_ + pos % block_size_;
}

base::Result<KvPlan> KvCache::plan(std::span<const KvAppend> appends) const {
    KvPlan p;
    p.generation_ = generation_;
    int freed = 0;
    std::unordered_set<SeqId> seen;
    for (const KvAppend& a : appends) {
        auto it = seqs_.find(a.seq);
        if (it == seqs_.end()) {
            return base::fail(errc::invalid_argument,
                              "append to unknown sequence " + std::to_string(a.seq));
        }
        if (!seen.insert(a.seq).second) {
            return base::fail(errc::invalid_argument,
                              "sequence " + std::to_string(a.seq) + " appears twice in one batch");
        }
        const Seq& s = it->second;
        if (a.n_tokens <= 0 || a.pos0 < 0 || a.pos0 > s.len) {
            return base::fail(errc::invalid_argument,
                              "append must continue the sequence (position " +
                                  std::to_string(a.pos0) + ", length " + std::to_string(s.len) +
                                  ")");
        }
        if (a.n_tokens > max_seq_len_ - a.pos0) {
            return base::fail(errc::context_overflow,
                              "sequence would grow to " +
                                  std::to_string(std::int64_t{a.pos0} + a.n_tokens) +
                                  " tokens; the context holds " + std::to_string(max_seq_len_));
        }
        KvPlan::Entry e{a.seq, a.pos0, a.pos0 + a.n_tokens, blocks_for(a.pos0), 0, false};
        // Blocks dropped by a rewind come back to the pool when we hold their last reference.
        for (std::size_t b = static_cast<std::size_t>(e.keep); b < s.blocks.size(); ++b) {
            freed += pool_.refcount(s.blocks[b]) == 1 ? 1 : 0;
        }
        e.append = blocks_for(e.end) - e.keep;
        // Writing into a partly filled block that others share: copy it first.
        e.cow = a.pos0 % block_size_ != 0 &&
                pool_.refcount(s.blocks[static_cast<std::size_t>(e.keep - 1)]) > 1;
        p.new_blocks_ += e.append + (e.cow ? 1 : 0);
        p.entries_.push_back(e);
    }
    if (p.new_blocks_ > pool_.free_count() + freed) {
        return base::fail(errc::kv_cache_full,
                          "the batch needs " + std::to_string(p.new_blocks_) + " KV blocks; " +
                              std::to_string(pool_.free_count() + freed) + " are free");
    }
    return p;
}

std::vector<BlockCopyOp> KvCache::commit(const KvPlan& plan) {
    AGENTD_CHECK(plan.generation_ == generation_,
                 "a plan is committed against the state it was made for");
    std::vector<BlockCopyOp> copies;
    // Rewinds first, so the blocks they free are available to every entry.
    for (const auto& e : plan.entries_) {
        shrink(seqs_.at(e.seq), e.pos0);
    }
    std::vector<BlockId> fresh;
    for (const auto& e : plan.entries_) {
        Seq& s = seqs_.at(e.seq);
        if (e.cow) {
            fresh.clear();
            AGENTD_CHECK(pool_.allocate(1, fresh), "plan reserved the copy-on-write block");
            BlockId& last = s.blocks[static_cast<std::size_t>(e.keep - 1)];
            copies.push_back({last, fresh[0]});
            pool_.release(last);
            last = fresh[0];
        }
        fresh.clear();
        AGENTD_CHECK(pool_.allocate(e.append, fresh), "plan reserved the appended blocks");
        s.blocks.insert(s.blocks.end(), fresh.begin(), fresh.end());
        s.len = e.end;
    }
    ++generation_;
    AGENTD_ASSERT(check_invariants(), "KV cache consistent after commit");
    return copies;
}

bool KvCache::check_invariants(std::string* why) const {
    if (!pool_.check_invariants(why)) {
        return false;
    }
    auto fail = [&](std::string msg) {
        if (why != nullptr) {
            *why = std::move(msg);
        }
        return false;
    };
    std::vector<int> refs(static_cast<std::size_t>(pool_.total()), 0);
    for (const auto& [id, s] : seqs_) {
        if (s.len < 0 || s.len > max_seq_len_) {
            return fail("sequence " + std::to_string(id) + " length out of range");
        }
        if (static_cast<int>(s.blocks.size()) != blocks_for(s.len)) {
            return fail("sequence " + std::to_string(id) +
                        " block table does not match its length");
        }
        for (BlockId b : s.blocks) {
            if (b < 0 || b >= pool_.total()) {
                return fail("block table holds an out-of-range block");
            }
            ++refs[static_cast<std::size_t>(b)];
        }
    }
    for (int b = 0; b < pool_.total(); ++b) {
        if (pool_.refcount(b) < refs[static_cast<std::size_t>(b)]) {
            return fail("block " + std::to_string(b) +
                        " has fewer references than tables using it");
        }
    }
    return true;
}

} // namespace agentd::inference::kv
