#pragma once
/// RadixPrefixCache: the PrefixCache (agentd/inference/prefix_cache.h) as a radix tree over
/// whole KV blocks, one tree per namespace (SGLang's RadixAttention idea on a paged pool).
///
/// Each non-root node holds a run of one or more whole blocks and their tokens
/// (block_size tokens per block); children are keyed by the tokens of their first block, so
/// siblings always differ in their first block. A node is split when a match or an insert
/// stops inside it. The tree holds one pool reference per block it contains. Only whole
/// blocks are inserted: a sequence's partly filled last block is never inserted, so a cached
/// block is always full and final. A match may end inside a cached block (the prompt shares
/// only the block's first tokens, e.g. where the new part of a prompt starts): that block is
/// returned as the last one and Match::tokens is not a multiple of the block size; the
/// sequence's KvCache copies it before writing (copy-on-write), so it is never written.
///
/// Pins: match() pins the node its match ends on (which protects the whole path, since only
/// leaves are evicted); release() unpins it. Turn holds are pins with a TTL and a block bound.
/// Eviction frees the least recently used unpinned leaves, tail block first, and only blocks
/// no sequence references (pool refcount 1), so a running sequence's blocks are never freed.
/// Holds are soft: a held prefix outlives LRU eviction of everything unheld, but when that is
/// not enough, evict() drops holds (oldest first) rather than let new work wait or be refused;
/// evictable_blocks() counts what it could free that way.
///
/// Ownership: owned by the Scheduler (or a test); references the pool it is attached to,
/// which must outlive it. Thread affinity: engine thread, except stats(). Errors: none
/// (see PrefixCache); broken invariants are bugs, checked after every operation in debug
/// builds (AGENTD_ASSERT) and by check_invariants() in tests.

#include "agentd/inference/prefix_cache.h"

#include "kv/kv_block_pool.h"

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace agentd::inference {

class RadixPrefixCache final : public PrefixCache {
public:
    /// Milliseconds of a monotonic clock (tests pass their own).
    using NowMs = std::function<std::int64_t()>;

    explicit RadixPrefixCache(const PrefixCacheOptions& options, NowMs now = {});
    ~RadixPrefixCache() override;
    RadixPrefixCache(const RadixPrefixCache&) = delete;
    RadixPrefixCache& operator=(const RadixPrefixCache&) = delete;

    void attach(Engine& engine) override;
    /// Attaches to a pool directly (tests, or layers without an Engine).
    void attach(kv::KvBlockPool& pool, int block_size);

    [[nodiscard]] Match match(std::string_view ns, std::span<const TokenId> tokens) override;
    void release(std::uint64_t pin) override;
    void insert(std::string_view ns, std::span<const TokenId> tokens,
                std::span<const std::int32_t> blocks) override;
    int evict(int n_blocks) override;
    [[nodiscard]] int evictable_blocks() const override;
    void hold(std::string_view ns, std::string_view key, std::span<const TokenId> tokens) override;
    void drop(std::string_view key) override;
    [[nodiscard]] PrefixCacheStats stats() const override;

    /// Tree structure, pins, holds and pool references agree. On failure `why` says what.
    [[nodiscard]] bool check_invariants(std::string* why = nullptr) const;
    /// The block-aligned token prefixes cached in `ns`, one per cached block (tests).
    [[nodiscard]] std::vector<std::vector<TokenId>> cached_prefixes(std::string_view ns) const;

private:
    struct Node {
        Node* parent = nullptr;
        std::vector<TokenId> tokens; ///< blocks.size() * block_size tokens
        std::vector<kv::BlockId> blocks;
        std::map<std::vector<TokenId>, std::unique_ptr<Node>> children;
        int pins = 0; ///< match pins and hold pins
        int held = 0; ///< hold pins among `pins`
        std::uint64_t last_use = 0;
        std::string ns; ///< roots only
    };
    struct Hold {
        std::string key;
        std::uint64_t pin = 0;
        int blocks = 0;
        std::int64_t deadline_ms = 0;
    };

    [[nodiscard]] std::vector<TokenId> block_key(std::span<const TokenId> tokens,
                                                 std::size_t block) const;
    [[nodiscard]] bool block_equal(const Node& n, std::size_t nb, std::span<const TokenId> tokens,
                                   std::size_t tb) const;
    Node* split(Node* n, std::size_t k);
    Node* partial_child(const Node& n, std::span<const TokenId> rest, std::size_t& shared) const;
    void touch(Node* n);
    Match match_impl(std::string_view ns, std::span<const TokenId> tokens);
    void unpin(std::uint64_t pin);
    void unhold(const Hold& h);
    int evict_unpinned(int n_blocks);
    void remove_leaf(Node* leaf, const std::vector<TokenId>& key);
    void expire_holds();
    void after_change();
    int freeable(const Node& n, bool& whole) const;

    PrefixCacheOptions options_;
    NowMs now_;
    kv::KvBlockPool* pool_ = nullptr;
    int block_size_ = 0;
    std::unordered_map<std::string, std::unique_ptr<Node>> roots_;
    std::unordered_map<std::uint64_t, Node*> pins_;
    std::deque<Hold> holds_; ///< oldest first
    int held_blocks_ = 0;
    std::uint64_t tick_ = 0;
    std::uint64_t next_pin_ = 1;

    std::atomic<std::uint64_t> lookups_{0};
    std::atomic<std::uint64_t> hits_{0};
    std::atomic<std::uint64_t> lookup_tokens_{0};
    std::atomic<std::uint64_t> hit_tokens_{0};
    std::atomic<std::uint64_t> inserted_blocks_{0};
    std::atomic<std::uint64_t> evicted_blocks_{0};
    std::atomic<std::int64_t> tree_blocks_{0};
    std::atomic<std::int64_t> tree_nodes_{0};
    std::atomic<std::int64_t> pinned_blocks_{0};
    std::atomic<std::int64_t> holds_count_{0};
};

} // namespace agentd::inference
