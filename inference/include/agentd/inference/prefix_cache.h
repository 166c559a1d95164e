#pragma once
/// The seam between the scheduler and a prefix cache over KV blocks (issue 5: a radix tree,
/// tenant-safe, turn-aware). The scheduler works without one; with one, it calls:
///
///   admission   match(ns, prompt)         -> cached blocks + token count; the sequence starts
///                                            on those blocks and prefills only the rest
///   end/preempt insert(ns, tokens, table)  -> the cache may keep the sequence's full blocks
///               release(match)              -> unpins what match() pinned
///   pressure    evict(n)                    -> frees unpinned cached blocks before preempting
///
/// Blocks are the KvBlockPool's (kv/kv_block_pool.h, through Engine::impl().kv->pool()); the
/// cache holds its own references (retain/release), so a block a sequence still uses is never
/// freed by eviction. Only whole blocks are inserted; a match may end inside its last block
/// (the sequence then copies that block before writing to it: KvCache copy-on-write). The
/// scheduler never asks to match the last prompt token (its logits must be computed).
///
/// Turn-aware retention: `hold(ns, key, tokens)` keeps the cached prefix of `tokens` pinned
/// under `key` (an agent session paused for a tool call) until `drop(key)`, the next hold under
/// the same key, the pin TTL, or the max_pinned_blocks bound (oldest holds go first). Holds
/// are soft: evict() takes unheld blocks first and drops holds only when that is not enough, and
/// evictable_blocks() counts held blocks as evictable.
///
/// Ownership: the Scheduler owns its PrefixCache and calls it only on the engine thread.
/// Thread affinity: engine thread only, except `stats()`, which is thread-safe.
/// Errors: none; a cache that cannot help returns an empty match or evicts nothing.

#include "agentd/inference/tokenizer.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace agentd::inference {

class Engine;

/// Counters and gauges for /metrics (read from any thread).
struct PrefixCacheStats {
    std::uint64_t lookups = 0;       ///< match() calls
    std::uint64_t hits = 0;          ///< match() calls that returned at least one block
    std::uint64_t lookup_tokens = 0; ///< tokens offered to match()
    std::uint64_t hit_tokens = 0;    ///< tokens match() returned
    std::uint64_t inserted_blocks = 0;
    std::uint64_t evicted_blocks = 0;
    std::int64_t tree_blocks = 0; ///< blocks the tree references now
    std::int64_t tree_nodes = 0;
    std::int64_t pinned_blocks = 0; ///< blocks on a pinned path (matches in use and holds)
    std::int64_t holds = 0;         ///< turn holds alive
};

struct PrefixCacheOptions {
    /// Blocks turn holds may keep pinned in total; beyond it the oldest hold is dropped.
    int max_pinned_blocks = 4096;
    /// A turn hold ends by itself after this long (ms).
    std::int64_t pin_ttl_ms = 60'000;
};

class PrefixCache {
public:
    virtual ~PrefixCache() = default;

    /// Called once by the scheduler before any other call: the engine whose KV pool the cache
    /// references (engine thread).
    virtual void attach(Engine& engine) = 0;

    struct Match {
        std::vector<std::int32_t> blocks; ///< KV blocks holding positions [0, tokens)
        std::int32_t tokens = 0;          ///< positions covered; the last block may be partly used
        std::uint64_t pin = 0;            ///< handle for release(); 0 when nothing was pinned
    };
    /// The longest cached prefix of `tokens` in namespace `ns`, pinned until release().
    [[nodiscard]] virtual Match match(std::string_view ns, std::span<const TokenId> tokens) = 0;
    /// Unpins a match.
    virtual void release(std::uint64_t pin) = 0;
    /// Offers the KV of `tokens` (positions [0, tokens.size())) held in `blocks`; the cache keeps
    /// references to the whole blocks it wants.
    virtual void insert(std::string_view ns, std::span<const TokenId> tokens,
                        std::span<const std::int32_t> blocks) = 0;
    /// Frees up to `n_blocks` unpinned blocks; returns how many returned to the pool.
    virtual int evict(int n_blocks) = 0;
    /// Blocks held only by the cache (what evict() could free now).
    [[nodiscard]] virtual int evictable_blocks() const = 0;

    /// Keeps the cached prefix of `tokens` in `ns` pinned under `key` (replacing key's previous
    /// hold) for at most the pin TTL.
    virtual void hold(std::string_view ns, std::string_view key,
                      std::span<const TokenId> tokens) = 0;
    /// Ends the hold under `key` (no effect when there is none).
    virtual void drop(std::string_view key) = 0;
    /// Thread-safe snapshot.
    [[nodiscard]] virtual PrefixCacheStats stats() const = 0;
};

/// The radix-tree prefix cache (inference/src/prefix/radix_prefix_cache.h): whole KV blocks
/// keyed by their tokens, one tree per namespace, LRU eviction of unpinned leaves.
[[nodiscard]] std::unique_ptr<PrefixCache>
make_radix_prefix_cache(const PrefixCacheOptions& options);

} // namespace agentd::inference
