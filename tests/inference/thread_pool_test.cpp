// The CPU backend's persistent thread pool: every thread runs every job, barriers order phases,
// and idle (blocked) workers wake for the next job.
#include "backend/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

namespace agentd::inference::cpu {
namespace {

TEST(ThreadPool, EveryThreadRunsEveryJob) {
    for (int n : {1, 2, 3, 5}) {
        ThreadPool pool(n);
        EXPECT_EQ(pool.size(), n);
        for (int job = 0; job < 200; ++job) {
            std::vector<int> hits(static_cast<std::size_t>(n), 0);
            pool.run([&](const ThreadPool::Context& ctx) {
                EXPECT_EQ(ctx.count(), n);
                ++hits[static_cast<std::size_t>(ctx.index())];
            });
            for (int h : hits) {
                ASSERT_EQ(h, 1);
            }
        }
    }
}

TEST(ThreadPool, BarrierSeparatesPhases) {
    ThreadPool pool(4);
    for (int job = 0; job < 200; ++job) {
        std::atomic<int> phase1{0};
        std::atomic<int> wrong{0};
        pool.run([&](const ThreadPool::Context& ctx) {
            phase1.fetch_add(1);
            ctx.barrier();
            if (phase1.load() != ctx.count()) {
                wrong.fetch_add(1);
            }
            ctx.barrier();
            ctx.barrier();
        });
        ASSERT_EQ(wrong.load(), 0);
    }
}

TEST(ThreadPool, WorkersWakeAfterBlocking) {
    ThreadPool pool(3);
    std::atomic<int> total{0};
    for (int round = 0; round < 3; ++round) {
        // Give workers time to pass their spin phase and block (this is not a synchronisation:
        // the result is the same whether they blocked or not).
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        pool.run([&](const ThreadPool::Context&) { total.fetch_add(1); });
    }
    EXPECT_EQ(total.load(), 9);
}

} // namespace
} // namespace agentd::inference::cpu
