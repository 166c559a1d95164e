#include "kv/kv_block_pool.h"

#include "agentd/base/check.h"

namespace agentd::inference::kv {

KvBlockPool::KvBlockPool(int n_blocks)
    : refs_(static_cast<std::size_t>(n_blocks < 0 ? 0 : n_blocks), 0) {
    free_.reserve(refs_.size());
    // Lowest ids first out, which keeps early sequences in one region of the storage.
    for (int b = total() - 1; b >= 0; --b) {
        free_.push_back(b);
    }
}

int KvBlockPool::refcount(BlockId b) const {
    AGENTD_CHECK(b >= 0 && b < total(), "block id inside the pool");
    return refs_[static_cast<std::size_t>(b)];
}

bool KvBlockPool::allocate(int n, std::vector<BlockId>& out) {
    if (n < 0 || n > free_count()) {
        return false;
    }
    for (int i = 0; i < n; ++i) {
        const BlockId b = free_.back();
        free_.pop_back();
        refs_[static_cast<std::size_t>(b)] = 1;
        out.push_back(b);
    }
    return true;
}

void KvBlockPool::retain(BlockId b) {
    AGENTD_CHECK(b >= 0 && b < total(), "block id inside the pool");
    AGENTD_CHECK(refs_[static_cast<std::size_t>(b)] > 0, "retain of a free block");
    ++refs_[static_cast<std::size_t>(b)];
}

void KvBlockPool::release(BlockId b) {
    AGENTD_CHECK(b >= 0 && b < total(), "block id inside the pool");
    auto& r = refs_[static_cast<std::size_t>(b)];
    AGENTD_CHECK(r > 0, "release of a free block");
    if (--r == 0) {
        free_.push_back(b);
    }
}

bool KvBlockPool::check_invariants(std::string* why) const {
    auto fail = [&](std::string msg) {
        if (why != nullptr) {
            *why = std::move(msg);
        }
        return false;
    };
    std::vector<char> seen(refs_.size(), 0);
    for (BlockId b : free_) {
        if (b < 0 || b >= total()) {
            return fail("free list holds an out-of-range block");
        }
        if (seen[static_cast<std::size_t>(b)] != 0) {
            return fail("block " + std::to_string(b) + " is twice on the free list");
        }
        seen[static_cast<std::size_t>(b)] = 1;
        if (refs_[static_cast<std::size_t>(b)] != 0) {
            return fail("free block " + std::to_string(b) + " has references");
        }
    }
    int used_blocks = 0;
    for (std::size_t b = 0; b < refs_.size(); ++b) {
        if (refs_[b] < 0) {
            return fail("negative reference count");
        }
        if (refs_[b] > 0) {
            ++used_blocks;
        } else if (seen[b] == 0) {
            return fail("block " + std::to_string(b) + " is unreferenced but not free");
        }
    }
    if (used_blocks + free_count() != total()) {
        return fail("free + used != total");
    }
    return true;
}

} // namespace agentd::inference::kv
