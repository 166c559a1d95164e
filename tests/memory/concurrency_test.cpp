// Many readers and writers at once (run under TSan in CI): readers never see another tenant's
// rows, never see a half-applied write, and the vector mirror ends in sync with the table.
#include "agentd/memory/memory_store.h"
#include "agentd/memory/message_store.h"
#include "agentd/memory/session_store.h"

#include "memory_test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace agentd::memory {
namespace {

TEST(Concurrency, ReadersAndWritersInterleaveSafely) {
    test::TempDir dir("concurrency");
    auto db = test::open_db(dir.db_path(),
                            {.readers = 3, .durability = Durability::normal, .search_threads = 2});
    ASSERT_TRUE(db);
    constexpr int kWriters = 4;
    constexpr int kPerWriter = 150;
    std::atomic<int> writers_done{0};
    std::atomic<long> reads{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            std::mt19937 rng(static_cast<unsigned>(w));
            const std::string tenant = "tenant" + std::to_string(w % 2);
            const std::string session = "s" + std::to_string(w);
            if (!db->sessions().create(tenant, {.id = session})) {
                failed = true;
            }
            std::vector<std::int64_t> mine;
            for (int i = 0; i < kPerWriter; ++i) {
                NewMemory m{.ns = "w" + std::to_string(w),
                            .text = "writer words " + std::to_string(i),
                            .metadata_json = R"({"w":)" + std::to_string(w) + "}",
                            .embedding = test::random_vector(rng, 24),
                            .model = "m"};
                auto id = db->memories().put(tenant, m);
                if (!id) {
                    failed = true;
                    continue;
                }
                mine.push_back(*id);
                if (!db->messages().append(tenant, session,
                                           NewMessage{.role = "user", .content_json = "1"})) {
                    failed = true;
                }
                if (i % 5 == 4) { // delete some again
                    auto removed = db->memories().remove(tenant, mine[mine.size() - 3]);
                    if (!removed || !*removed) {
                        failed = true;
                    }
                }
            }
            ++writers_done;
        });
    }
    for (int r = 0; r < 4; ++r) {
        threads.emplace_back([&, r] {
            std::mt19937 rng(static_cast<unsigned>(100 + r));
            const std::string tenant = "tenant" + std::to_string(r % 2);
            while (writers_done.load() < kWriters) {
                SearchQuery q{.text = "words",
                              .embedding = test::random_vector(rng, 24),
                              .model = "m",
                              .int8 = (r % 2) == 1,
                              .k = 20};
                auto hits = db->memories().search(tenant, q);
                if (!hits) {
                    failed = true;
                    break;
                }
                for (const auto& h : *hits) {
                    // Namespaces w0/w2 belong to tenant0, w1/w3 to tenant1.
                    const int w = h.memory->ns.back() - '0';
                    if (w % 2 != r % 2) {
                        failed = true;
                    }
                }
                auto count = db->memories().count(tenant);
                if (!count || *count < 0) {
                    failed = true;
                }
                ++reads;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_FALSE(failed.load());
    EXPECT_GT(reads.load(), 0);
    const std::int64_t per_writer = kPerWriter - kPerWriter / 5;
    EXPECT_EQ(db->memories().count("tenant0").value(), 2 * per_writer);
    EXPECT_EQ(db->memories().count("tenant1").value(), 2 * per_writer);
    EXPECT_EQ(db->stats().vectors, static_cast<std::size_t>(4 * per_writer));
    EXPECT_EQ(db->messages().count("tenant0", "s0").value(), kPerWriter);
}

TEST(Concurrency, ParallelSearchesOfALargeCollectionAgree) {
    test::TempDir dir("concurrency-big");
    auto db = test::open_db(dir.db_path(), {.durability = Durability::normal, .search_threads = 2});
    ASSERT_TRUE(db);
    std::mt19937 rng(1);
    std::vector<NewMemory> batch;
    for (int i = 0; i < 40000; ++i) { // above the parallel-scan threshold
        batch.push_back({.embedding = test::random_vector(rng, 16), .model = "m"});
    }
    ASSERT_TRUE(db->memories().put_many("t", batch));
    const SearchQuery q{
        .embedding = test::random_vector(rng, 16), .model = "m", .k = 10, .fetch_rows = false};
    const auto expect = db->memories().search("t", q).value();
    std::atomic<bool> same{true};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5; ++i) {
                auto got = db->memories().search("t", q).value();
                if (got.size() != expect.size()) {
                    same = false;
                    continue;
                }
                for (std::size_t j = 0; j < got.size(); ++j) {
                    same = same && got[j].id == expect[j].id;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_TRUE(same.load());
}

} // namespace
} // namespace agentd::memory
