// RadixPrefixCache on a real KvBlockPool: matching, splitting, pins, turn holds, LRU eviction,
// namespaces, and randomized operation sequences checked against a simple reference model
// (a set of cached block-aligned prefixes) with check_invariants() after every operation.
#include "kv/kv_block_pool.h"
#include "prefix/radix_prefix_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

namespace agentd::inference {
namespace {

constexpr int kBs = 4;

/// A "sequence": blocks taken from the pool for `tokens`, as the KV cache would hold them.
struct Seq {
    std::vector<TokenId> tokens;
    std::vector<kv::BlockId> blocks;
    std::uint64_t pin = 0;
    std::int32_t matched = 0;
};

class RadixPrefixCacheTest : public ::testing::Test {
protected:
    void SetUp() override { cache.attach(pool, kBs); }

    void check() {
        std::string why;
        ASSERT_TRUE(cache.check_invariants(&why)) << why;
        ASSERT_TRUE(pool.check_invariants(&why)) << why;
    }

    /// Starts a sequence on the cached prefix of `tokens` (as the scheduler does: the match
    /// never covers the last token) and allocates the rest.
    Seq start(std::string_view ns, std::vector<TokenId> tokens) {
        Seq s;
        auto m = cache.match(ns, std::span(tokens).first(tokens.size() - 1));
        s.pin = m.pin;
        s.matched = m.tokens;
        EXPECT_EQ(static_cast<int>(m.blocks.size()), (m.tokens + kBs - 1) / kBs);
        for (auto b : m.blocks) {
            pool.retain(b);
            s.blocks.push_back(b);
        }
        if (m.tokens % kBs != 0) {
            // The KV cache copies a shared, partly used last block before writing to it.
            pool.release(s.blocks.back());
            s.blocks.pop_back();
            EXPECT_TRUE(pool.allocate(1, s.blocks));
        }
        const int need =
            static_cast<int>((tokens.size() + kBs - 1) / kBs) - static_cast<int>(s.blocks.size());
        EXPECT_TRUE(pool.allocate(need, s.blocks));
        s.tokens = std::move(tokens);
        return s;
    }

    void end(std::string_view ns, Seq& s) {
        cache.insert(ns, s.tokens, s.blocks);
        if (s.pin != 0) {
            cache.release(s.pin);
        }
        for (auto b : s.blocks) {
            pool.release(b);
        }
        s.blocks.clear();
    }

    std::int64_t now_ms = 0;
    kv::KvBlockPool pool{64};
    RadixPrefixCache cache{PrefixCacheOptions{.max_pinned_blocks = 8, .pin_ttl_ms = 1000},
                           [this] { return now_ms; }};
};

std::vector<TokenId> seq_tokens(std::initializer_list<int> blocks_of_value, int tail = 0) {
    std::vector<TokenId> t;
    for (int v : blocks_of_value) {
        for (int i = 0; i < kBs; ++i) {
            t.push_back(v * 10 + i);
        }
    }
    for (int i = 0; i < tail; ++i) {
        t.push_back(900 + i);
    }
    return t;
}

TEST_F(RadixPrefixCacheTest, EmptyCacheMissesAndHitsAfterInsert) {
    auto a = start("t", seq_tokens({1, 2, 3}, 2));
    EXPECT_EQ(a.pin, 0u);
    EXPECT_EQ(a.blocks.size(), 4u);
    end("t", a);
    check();
    EXPECT_EQ(cache.stats().tree_blocks, 3); // the partial last block is not cached
    EXPECT_EQ(pool.used(), 3);
    auto b = start("t", seq_tokens({1, 2, 3, 4}, 1));
    EXPECT_NE(b.pin, 0u);
    EXPECT_EQ(pool.refcount(b.blocks[0]), 2);
    EXPECT_EQ(cache.stats().hit_tokens, 3u * kBs);
    end("t", b);
    check();
    EXPECT_EQ(cache.stats().tree_blocks, 4);
}

TEST_F(RadixPrefixCacheTest, MatchEndsInsideABlockThatIsCopiedOnWrite) {
    auto a = start("t", seq_tokens({1, 2}));
    end("t", a);
    // Exactly the cached two blocks as a prompt: the last token must be computed, so the match
    // covers the first block and 3 of the 4 tokens of the second.
    auto b = start("t", seq_tokens({1, 2}));
    EXPECT_EQ(b.matched, 2 * kBs - 1);
    EXPECT_EQ(b.blocks.size(), 2u);
    EXPECT_EQ(pool.refcount(b.blocks[0]), 2);
    EXPECT_EQ(pool.refcount(b.blocks[1]), 1); // its own copy
    end("t", b);
    check();
    // New tokens starting inside a cached block: the shared part of that block counts.
    auto tokens = seq_tokens({1});
    tokens.insert(tokens.end(), {20, 21, 77, 78, 79});
    auto c = start("t", tokens);
    EXPECT_EQ(c.matched, kBs + 2);
    end("t", c);
    check();
    EXPECT_EQ(cache.stats().tree_nodes, 3); // {1} -> {2} | {20,21,77,78}
}

TEST_F(RadixPrefixCacheTest, PartialMatchSplitsANode) {
    auto a = start("t", seq_tokens({1, 2, 3, 4}, 1));
    end("t", a);
    EXPECT_EQ(cache.stats().tree_nodes, 1);
    auto b = start("t", seq_tokens({1, 2, 7}, 1));
    EXPECT_EQ(cache.stats().tree_nodes, 2); // split after {1,2}
    end("t", b);
    check();
    EXPECT_EQ(cache.stats().tree_nodes, 3); // {1,2} -> {3,4} | {7}
    auto prefixes = cache.cached_prefixes("t");
    EXPECT_EQ(prefixes.size(), 5u);
}

TEST_F(RadixPrefixCacheTest, NamespacesNeverShare) {
    auto a = start("tenant-a", seq_tokens({1, 2, 3}, 1));
    end("tenant-a", a);
    auto b = start("tenant-b", seq_tokens({1, 2, 3}, 1));
    EXPECT_EQ(b.pin, 0u);
    for (auto blk : b.blocks) {
        EXPECT_EQ(pool.refcount(blk), 1);
    }
    end("tenant-b", b);
    check();
    EXPECT_EQ(cache.cached_prefixes("tenant-a").size(), 3u);
    EXPECT_EQ(cache.cached_prefixes("tenant-b").size(), 3u);
}

TEST_F(RadixPrefixCacheTest, EvictionFreesOldestUnpinnedLeavesAndSparesUsedBlocks) {
    auto a = start("t", seq_tokens({1, 2}, 1));
    end("t", a);
    auto b = start("t", seq_tokens({5, 6}, 1));
    end("t", b);
    auto live = start("t", seq_tokens({5, 6, 7}, 1)); // uses {5,6}; pinned
    EXPECT_EQ(cache.evictable_blocks(), 2);           // {1,2} only
    EXPECT_EQ(cache.evict(1), 1);                     // tail block of {1,2}
    check();
    EXPECT_EQ(cache.cached_prefixes("t").size(), 3u);
    EXPECT_EQ(cache.evict(100), 1);
    check();
    EXPECT_EQ(cache.evict(100), 0); // the live sequence's blocks stay
    cache.release(live.pin);
    live.pin = 0;
    EXPECT_EQ(cache.evict(100), 0); // unpinned but still referenced by the sequence
    end("t", live);
    EXPECT_EQ(cache.evictable_blocks(), 3);
    EXPECT_EQ(cache.evict(100), 3);
    check();
    EXPECT_EQ(pool.used(), 0);
    EXPECT_EQ(cache.stats().tree_nodes, 0);
}

TEST_F(RadixPrefixCacheTest, LruOrderDecidesWhichLeafGoes) {
    auto a = start("t", seq_tokens({1}, 1));
    end("t", a);
    auto b = start("t", seq_tokens({2}, 1));
    end("t", b);
    auto again = start("t", seq_tokens({1}, 1)); // touches {1}
    end("t", again);
    EXPECT_EQ(cache.evict(1), 1);
    auto left = cache.cached_prefixes("t");
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0], seq_tokens({1}));
}

TEST_F(RadixPrefixCacheTest, TurnHoldPinsUntilDropTtlOrBound) {
    auto a = start("t", seq_tokens({1, 2}, 1));
    end("t", a);
    cache.hold("t", "session-1", seq_tokens({1, 2}, 1));
    EXPECT_EQ(cache.stats().pinned_blocks, 2);
    EXPECT_EQ(cache.stats().holds, 1);
    cache.drop("session-1");
    EXPECT_EQ(cache.stats().pinned_blocks, 0);
    EXPECT_EQ(cache.stats().holds, 0);
    // A held prefix outlives LRU eviction of everything unheld, even when it is the oldest.
    cache.hold("t", "session-1", seq_tokens({1, 2}));
    auto other = start("t", seq_tokens({3, 4}, 1));
    end("t", other);
    EXPECT_EQ(cache.evictable_blocks(), 4); // holds are soft: all of it could go
    EXPECT_EQ(cache.evict(2), 2);
    check();
    EXPECT_EQ(cache.cached_prefixes("t").size(), 2u);
    EXPECT_EQ(cache.stats().holds, 1);
    now_ms += 999;
    EXPECT_EQ(cache.stats().holds, 1);
    now_ms += 1;
    EXPECT_EQ(cache.evict(1), 1); // the TTL ended the hold; nothing else was dropped for it
    check();
    EXPECT_EQ(cache.stats().holds, 0);
    // Under pressure a hold is dropped rather than refusing the space.
    cache.hold("t", "session-2", seq_tokens({1, 2}));
    EXPECT_EQ(cache.stats().holds, 1);
    EXPECT_EQ(cache.evict(100), 1);
    EXPECT_EQ(cache.stats().holds, 0);
    check();
    // The bound: holds beyond max_pinned_blocks (8) push out the oldest.
    std::vector<Seq> seqs;
    for (int i = 0; i < 5; ++i) {
        auto s = start("t", seq_tokens({10 + i, 20 + i, 30 + i}, 1));
        end("t", s);
        cache.hold("t", "s" + std::to_string(i), seq_tokens({10 + i, 20 + i, 30 + i}));
        check();
    }
    EXPECT_EQ(cache.stats().holds, 2);
    EXPECT_EQ(cache.stats().pinned_blocks, 6);
}

TEST_F(RadixPrefixCacheTest, DestructionReturnsEveryBlock) {
    {
        kv::KvBlockPool p(16);
        {
            RadixPrefixCache c(PrefixCacheOptions{});
            c.attach(p, kBs);
            std::vector<kv::BlockId> blocks;
            ASSERT_TRUE(p.allocate(3, blocks));
            const auto t = seq_tokens({1, 2, 3});
            c.insert("t", t, blocks);
            for (auto b : blocks) {
                p.release(b);
            }
            EXPECT_EQ(p.used(), 3);
        }
        EXPECT_EQ(p.used(), 0);
    }
}

/// Random operations against a reference model: the set of cached prefixes per namespace,
/// with the block each prefix's last block lives in.
TEST_F(RadixPrefixCacheTest, RandomOperationsAgreeWithReferenceModel) {
    std::mt19937 rng(12345);
    const std::vector<std::string> spaces = {"a", "b"};
    std::map<std::string, std::map<std::vector<TokenId>, kv::BlockId>> model;
    std::vector<std::pair<std::string, Seq>> live;
    auto random_tokens = [&] {
        // A few shared stems so that prefixes overlap, diverge and split.
        std::vector<TokenId> t;
        const int n_blocks = 1 + static_cast<int>(rng() % 6);
        const int stem = static_cast<int>(rng() % 3);
        for (int b = 0; b < n_blocks; ++b) {
            const int v = b < 3 ? stem * 3 + b : static_cast<int>(rng() % 4) + 100;
            for (int i = 0; i < kBs; ++i) {
                t.push_back(v * 10 + i);
            }
        }
        const int tail = static_cast<int>(rng() % kBs);
        for (int i = 0; i < tail; ++i) {
            t.push_back(5000 + static_cast<int>(rng() % 3));
        }
        if (t.size() < 2) {
            t.push_back(1);
        }
        return t;
    };
    for (int step = 0; step < 4000; ++step) {
        const int op = static_cast<int>(rng() % 10);
        const std::string& ns = spaces[rng() % spaces.size()];
        auto& m = model[ns];
        if (op < 4 && live.size() < 6) {
            auto tokens = random_tokens();
            // Expected match from the model: the longest cached whole-block prefix.
            const std::size_t limit = (tokens.size() - 1) / kBs;
            std::vector<kv::BlockId> expect;
            for (std::size_t b = 1; b <= limit; ++b) {
                auto it = m.find(std::vector<TokenId>(tokens.begin(), tokens.begin() + b * kBs));
                if (it == m.end()) {
                    break;
                }
                expect.push_back(it->second);
            }
            if (pool.free_count() < static_cast<int>(tokens.size() / kBs) + 1) {
                cache.evict(static_cast<int>(tokens.size() / kBs) + 1);
                check();
                // Evicted prefixes leave the model.
                const auto left = cache.cached_prefixes(ns);
                std::erase_if(m, [&](const auto& kv_pair) {
                    return std::find(left.begin(), left.end(), kv_pair.first) == left.end();
                });
                for (const auto& other : spaces) {
                    const auto l = cache.cached_prefixes(other);
                    std::erase_if(model[other], [&](const auto& kv_pair) {
                        return std::find(l.begin(), l.end(), kv_pair.first) == l.end();
                    });
                }
                expect.clear();
                for (std::size_t b = 1; b <= limit; ++b) {
                    auto it =
                        m.find(std::vector<TokenId>(tokens.begin(), tokens.begin() + b * kBs));
                    if (it == m.end()) {
                        break;
                    }
                    expect.push_back(it->second);
                }
                if (pool.free_count() < static_cast<int>(tokens.size() / kBs) + 1) {
                    continue;
                }
            }
            Seq s = start(ns, tokens);
            check();
            ASSERT_GE(s.blocks.size(), expect.size());
            EXPECT_EQ(std::vector<kv::BlockId>(s.blocks.begin(),
                                               s.blocks.begin() +
                                                   static_cast<std::ptrdiff_t>(expect.size())),
                      expect);
            EXPECT_GE(s.matched, static_cast<std::int32_t>(expect.size()) * kBs);
            EXPECT_LT(s.matched, static_cast<std::int32_t>(expect.size() + 1) * kBs);
            if (!expect.empty()) {
                EXPECT_NE(s.pin, 0u);
            }
            live.emplace_back(ns, std::move(s));
        } else if (op < 7 && !live.empty()) {
            const std::size_t i = rng() % live.size();
            auto& [sns, s] = live[i];
            auto& sm = model[sns];
            for (std::size_t b = 1; b <= s.tokens.size() / kBs; ++b) {
                sm.emplace(std::vector<TokenId>(s.tokens.begin(), s.tokens.begin() + b * kBs),
                           s.blocks[b - 1]);
            }
            end(sns, s);
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
            check();
        } else if (op < 9) {
            const int before = static_cast<int>(cache.stats().tree_blocks);
            const int evictable = cache.evictable_blocks();
            const int want = 1 + static_cast<int>(rng() % 4);
            const int freed = cache.evict(want);
            check();
            EXPECT_EQ(freed, std::min(want, evictable));
            EXPECT_EQ(cache.stats().tree_blocks, before - freed);
            std::size_t model_total = 0;
            for (const auto& other : spaces) {
                const auto l = cache.cached_prefixes(other);
                for (const auto& p : l) {
                    // Whatever remains was inserted, with the block first inserted for it.
                    ASSERT_EQ(model[other].count(p), 1u);
                }
                std::erase_if(model[other], [&](const auto& kv_pair) {
                    return std::find(l.begin(), l.end(), kv_pair.first) == l.end();
                });
                model_total += model[other].size();
            }
            EXPECT_EQ(static_cast<std::int64_t>(model_total), cache.stats().tree_blocks);
            // Blocks of live sequences are still referenced.
            for (const auto& [lns, s] : live) {
                for (auto b : s.blocks) {
                    ASSERT_GE(pool.refcount(b), 1);
                }
            }
        } else {
            auto tokens = random_tokens();
            cache.hold(ns, "k" + std::to_string(rng() % 3), tokens);
            if (rng() % 2 == 0) {
                cache.drop("k" + std::to_string(rng() % 3));
            }
            now_ms += static_cast<std::int64_t>(rng() % 300);
            check();
        }
    }
    for (auto& [ns, s] : live) {
        end(ns, s);
    }
    for (int k = 0; k < 3; ++k) {
        cache.drop("k" + std::to_string(k));
    }
    check();
    EXPECT_EQ(cache.evictable_blocks(), cache.stats().tree_blocks);
    const int used = pool.used();
    EXPECT_EQ(cache.evict(1 << 20), used);
    EXPECT_EQ(pool.used(), 0);
    check();
    // The run exercised what it claims to.
    const auto st = cache.stats();
    EXPECT_GT(st.hits, 200u);
    EXPECT_GT(st.evicted_blocks, 200u);
    EXPECT_GT(st.lookups, st.hits);
}

} // namespace
} // namespace agentd::inference
