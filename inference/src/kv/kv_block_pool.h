#pragma once
/// Fixed-size KV blocks: a free list and a reference count per block (STYLE.md 2.8, layer 1).
///
/// A block holds `block_size` token positions of every layer's K and V (the storage itself is a
/// backend::KvStorage; this class only does the bookkeeping). A block is free exactly when its
/// count is 0. Sequences (KvCache) and, later, the prefix cache each hold their own references.
///
/// Ownership: plain value owned by KvCache. Thread affinity: engine thread only. Errors:
/// allocation that cannot be satisfied returns false and changes nothing; retain/release of a
/// free or out-of-range block is a bug (AGENTD_CHECK).

#include <cstdint>
#include <string>
#include <vector>

namespace agentd::inference::kv {

using BlockId = std::int32_t;

class KvBlockPool {
public:
    explicit KvBlockPool(int n_blocks);

    [[nodiscard]] int total() const noexcept { return static_cast<int>(refs_.size()); }
    [[nodiscard]] int free_count() const noexcept { return static_cast<int>(free_.size()); }
    [[nodiscard]] int used() const noexcept { return total() - free_count(); }
    [[nodiscard]] int refcount(BlockId b) const;

    /// Appends `n` fresh blocks (count 1) to `out`, or returns false (and appends nothing) when
    /// fewer than n are free.
    [[nodiscard]] bool allocate(int n, std::vector<BlockId>& out);
    void retain(BlockId b);
    /// Drops one reference; the block returns to the free list at 0.
    void release(BlockId b);

    /// Free list and counts agree (free + used == total, free blocks have count 0 and appear
    /// once). On failure `why` says what is wrong.
    [[nodiscard]] bool check_invariants(std::string* why = nullptr) const;

private:
    std::vector<std::int32_t> refs_;
    std::vector<BlockId> free_; // a stack; the next allocation pops the back
};

} // namespace agentd::inference::kv
