#pragma once
/// Per-sequence block tables over a KvBlockPool (STYLE.md 2.8, layer 2).
///
/// A sequence's token at position p lives in block table[p / block_size] at slot
/// p % block_size. Blocks may be shared between sequences (fork, or a prefix handed in by the
/// prefix cache); a shared block is copied before it is written (copy-on-write).
///
/// Allocation is two-phase: `plan` checks a whole batch of appends and computes what it needs
/// without changing anything, returning errc::kv_cache_full / context_overflow /
/// invalid_argument as values; `commit` then applies the plan (it cannot fail) and returns the
/// block copies the backend must perform before the forward pass writes the new K/V.
///
/// Ownership: owned by the engine. Thread affinity: engine thread only. Errors: as above;
/// misuse (committing a stale plan, unknown ids in accessors) is a bug (AGENTD_CHECK).

#include "agentd/base/result.h"

#include "kv/kv_block_pool.h"

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace agentd::inference::kv {

using SeqId = std::uint64_t;

/// Writes positions [pos0, pos0 + n_tokens) of `seq`; pos0 <= its length (pos0 < length
/// rewinds the sequence to pos0 first).
struct KvAppend {
    SeqId seq = 0;
    std::int32_t pos0 = 0;
    std::int32_t n_tokens = 0;
};

struct BlockCopyOp {
    BlockId src = 0;
    BlockId dst = 0;
};

/// The result of KvCache::plan; consumed by commit.
class KvPlan {
public:
    [[nodiscard]] int new_blocks() const noexcept { return new_blocks_; }

private:
    friend class KvCache;
    struct Entry {
        SeqId seq;
        std::int32_t pos0;
        std::int32_t end;
        int keep;   // blocks kept after rewinding to pos0
        int append; // fresh blocks appended
        bool cow;   // the last kept block is shared and must be copied
    };
    std::vector<Entry> entries_;
    int new_blocks_ = 0;
    std::uint64_t generation_ = 0;
};

class KvCache {
public:
    /// `max_seq_len`: positions per sequence (the model context).
    KvCache(int n_blocks, int block_size, std::int32_t max_seq_len);

    [[nodiscard]] int block_size() const noexcept { return block_size_; }
    [[nodiscard]] std::int32_t max_seq_len() const noexcept { return max_seq_len_; }
    [[nodiscard]] int free_blocks() const noexcept { return pool_.free_count(); }
    [[nodiscard]] int total_blocks() const noexcept { return pool_.total(); }
    [[nodiscard]] std::size_t n_sequences() const noexcept { return seqs_.size(); }
    /// The pool, for layers above (the prefix cache) that hold their own block references.
    [[nodiscard]] KvBlockPool& pool() noexcept { return pool_; }

    /// A new empty sequence, or one that starts with the first `prefix_tokens` positions held
    /// in `prefix` (blocks of another sequence or of the prefix cache; each gets a reference).
    [[nodiscard]] base::Result<void> add_sequence(SeqId seq, std::span<const BlockId> prefix = {},
                                                  std::int32_t prefix_tokens = 0);
    /// Drops the sequence and its block references; false when it does not exist.
    bool remove_sequence(SeqId seq);
    /// `dst` (new) shares the first `n_tokens` positions of `src`.
    [[nodiscard]] base::Result<void> fork(SeqId src, SeqId dst, std::int32_t n_tokens);
    /// Shortens a sequence to `n_tokens` positions.
    [[nodiscard]] base::Result<void> truncate(SeqId seq, std::int32_t n_tokens);

    [[nodiscard]] bool has(SeqId seq) const { return seqs_.count(seq) != 0; }
    [[nodiscard]] std::int32_t length(SeqId seq) const;
    [[nodiscard]] std::span<const BlockId> block_table(SeqId seq) const;
    /// The storage slot (block * block_size + offset) of position `pos` of `seq`.
    [[nodiscard]] std::int32_t slot(SeqId seq, std::int32_t pos) const;

    /// Checks a batch of appends; changes nothing.
    [[nodiscard]] base::Result<KvPlan> plan(std::span<const KvAppend> appends) const;
    /// Applies a plan made against the current state; returns the blocks to copy (CoW).
    std::vector<BlockCopyOp> commit(const KvPlan& plan);

    /// Block tables, lengths and the pool agree. On failure `why` says what is wrong.
    [[nodiscard]] bool check_invariants(std::string* why = nullptr) const;

private:
    struct Seq {
        std::vector<BlockId> blocks;
        std::int32_t len = 0;
    };
    [[nodiscard]] int blocks_for(std::int32_t tokens) const noexcept {
        return (tokens + block_size_ - 1) / block_size_;
    }
    void shrink(Seq& s, std::int32_t n_tokens);

    KvBlockPool pool_;
    int block_size_;
    std::int32_t max_seq_len_;
    std::unordered_map<SeqId, Seq> seqs_;
    std::uint64_t generation_ = 0;
};

} // namespace agentd::inference::kv
