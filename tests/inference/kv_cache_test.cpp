// KV block pool and per-sequence block tables: plan/commit, copy-on-write, rewinds, errors as
// values, and a randomized run checked against a plain model after every operation.
#include "agentd/inference/errc.h"

#include "kv/kv_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace agentd::inference::kv {
namespace {

void expect_ok(const KvCache& c) {
    std::string why;
    ASSERT_TRUE(c.check_invariants(&why)) << why;
}

std::vector<BlockCopyOp> append(KvCache& c, SeqId s, std::int32_t pos0, std::int32_t n) {
    const KvAppend a{s, pos0, n};
    auto plan = c.plan(std::span(&a, 1));
    EXPECT_TRUE(plan) << plan.error().what();
    return c.commit(*plan);
}

TEST(KvBlockPool, AllocateRetainRelease) {
    KvBlockPool p(4);
    std::vector<BlockId> got;
    ASSERT_TRUE(p.allocate(3, got));
    EXPECT_EQ(got, (std::vector<BlockId>{0, 1, 2}));
    EXPECT_FALSE(p.allocate(2, got)); // all or nothing
    EXPECT_EQ(got.size(), 3u);
    p.retain(1);
    p.release(1);
    EXPECT_EQ(p.refcount(1), 1);
    p.release(1);
    EXPECT_EQ(p.free_count(), 2);
    EXPECT_TRUE(p.check_invariants());
}

TEST(KvCache, AppendsFillBlocksAndMapSlots) {
    KvCache c(8, 16, 1024);
    ASSERT_TRUE(c.add_sequence(7));
    EXPECT_TRUE(append(c, 7, 0, 20).empty());
    EXPECT_EQ(c.length(7), 20);
    ASSERT_EQ(c.block_table(7).size(), 2u);
    EXPECT_EQ(c.slot(7, 17), c.block_table(7)[1] * 16 + 1);
    append(c, 7, 20, 12); // fills block 1 exactly
    EXPECT_EQ(c.block_table(7).size(), 2u);
    append(c, 7, 32, 1);
    EXPECT_EQ(c.block_table(7).size(), 3u);
    EXPECT_EQ(c.free_blocks(), 5);
    expect_ok(c);
    EXPECT_TRUE(c.remove_sequence(7));
    EXPECT_FALSE(c.remove_sequence(7));
    EXPECT_EQ(c.free_blocks(), 8);
    expect_ok(c);
}

TEST(KvCache, ForkSharesBlocksAndCopiesThePartialOneOnWrite) {
    KvCache c(8, 16, 1024);
    ASSERT_TRUE(c.add_sequence(1));
    append(c, 1, 0, 24); // blocks A (full) and B (8 used)
    ASSERT_TRUE(c.fork(1, 2, 24));
    EXPECT_EQ(c.free_blocks(), 6);
    const auto a = c.block_table(1)[0];
    const auto b = c.block_table(1)[1];
    EXPECT_EQ(c.pool().refcount(b), 2);
    const auto copies = append(c, 2, 24, 4);
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].src, b);
    EXPECT_EQ(c.block_table(2)[0], a); // full block stays shared
    EXPECT_NE(c.block_table(2)[1], b);
    EXPECT_EQ(copies[0].dst, c.block_table(2)[1]);
    EXPECT_EQ(c.pool().refcount(b), 1);
    // The original appends into its own block without a copy now.
    EXPECT_TRUE(append(c, 1, 24, 4).empty());
    expect_ok(c);
}

TEST(KvCache, RewindReleasesBlocksAndRewrites) {
    KvCache c(4, 16, 1024);
    ASSERT_TRUE(c.add_sequence(1));
    append(c, 1, 0, 40);
    EXPECT_EQ(c.free_blocks(), 1);
    append(c, 1, 10, 3); // rewind to 10, write 3
    EXPECT_EQ(c.length(1), 13);
    EXPECT_EQ(c.free_blocks(), 3);
    ASSERT_TRUE(c.truncate(1, 0));
    EXPECT_EQ(c.free_blocks(), 4);
    expect_ok(c);
}

TEST(KvCache, FullPoolIsAnErrorAndChangesNothing) {
    KvCache c(2, 16, 1024);
    ASSERT_TRUE(c.add_sequence(1));
    ASSERT_TRUE(c.add_sequence(2));
    append(c, 1, 0, 16);
    const KvAppend batch[] = {{1, 16, 1}, {2, 0, 17}};
    auto plan = c.plan(batch);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().code, make_error_code(errc::kv_cache_full));
    EXPECT_EQ(c.length(1), 16);
    EXPECT_EQ(c.length(2), 0);
    EXPECT_EQ(c.free_blocks(), 1);
    // A rewind that frees the block it needs fits.
    const KvAppend rewind{1, 0, 16};
    EXPECT_TRUE(c.plan(std::span(&rewind, 1)));
    expect_ok(c);
}

TEST(KvCache, BadAppendsAreRejected) {
    KvCache c(4, 16, 32);
    ASSERT_TRUE(c.add_sequence(1));
    EXPECT_FALSE(c.add_sequence(1));
    const KvAppend unknown{9, 0, 1};
    EXPECT_EQ(c.plan(std::span(&unknown, 1)).error().code, make_error_code(errc::invalid_argument));
    const KvAppend gap{1, 3, 1};
    EXPECT_EQ(c.plan(std::span(&gap, 1)).error().code, make_error_code(errc::invalid_argument));
    const KvAppend empty{1, 0, 0};
    EXPECT_FALSE(c.plan(std::span(&empty, 1)));
    const KvAppend too_long{1, 0, 33};
    EXPECT_EQ(c.plan(std::span(&too_long, 1)).error().code,
              make_error_code(errc::context_overflow));
    const KvAppend twice[] = {{1, 0, 1}, {1, 1, 1}};
    EXPECT_FALSE(c.plan(twice));
    EXPECT_FALSE(c.fork(1, 2, 5));
    EXPECT_FALSE(c.truncate(1, 1));
    const BlockId bogus[] = {3};
    EXPECT_FALSE(c.add_sequence(5, bogus, 4)); // block 3 is not allocated
    expect_ok(c);
}

TEST(KvCache, RandomOperationsKeepInvariants) {
    std::mt19937 rng(42);
    KvCache c(64, 16, 300);
    std::map<SeqId, std::int32_t> model;
    SeqId next = 1;
    for (int step = 0; step < 4000; ++step) {
        const int op = static_cast<int>(rng() % 10);
        if (op == 0 || model.empty()) {
            ASSERT_TRUE(c.add_sequence(next));
            model[next++] = 0;
        } else {
            auto it = model.begin();
            std::advance(it, static_cast<long>(rng() % model.size()));
            const SeqId s = it->first;
            if (op == 1) {
                c.remove_sequence(s);
                model.erase(it);
            } else if (op == 2) {
                const std::int32_t n = static_cast<std::int32_t>(rng() % (it->second + 1));
                ASSERT_TRUE(c.fork(s, next, n));
                model[next++] = n;
            } else if (op == 3) {
                const std::int32_t n = static_cast<std::int32_t>(rng() % (it->second + 1));
                ASSERT_TRUE(c.truncate(s, n));
                it->second = n;
            } else {
                const std::int32_t pos0 = static_cast<std::int32_t>(rng() % (it->second + 1));
                const std::int32_t n = 1 + static_cast<std::int32_t>(rng() % 40);
                const KvAppend a{s, pos0, n};
                auto plan = c.plan(std::span(&a, 1));
                if (plan) {
                    c.commit(*plan);
                    it->second = pos0 + n;
                } else {
                    ASSERT_TRUE(plan.error().code == make_error_code(errc::kv_cache_full) ||
                                plan.error().code == make_error_code(errc::context_overflow));
                }
            }
        }
        for (const auto& [s, len] : model) {
            ASSERT_EQ(c.length(s), len);
        }
        std::string why;
        ASSERT_TRUE(c.check_invariants(&why)) << "step " << step << ": " << why;
    }
}

} // namespace
} // namespace agentd::inference::kv
