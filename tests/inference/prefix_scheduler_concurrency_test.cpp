// The scheduler with the radix prefix cache on stories260K: greedy outputs are identical with
// the cache on and off (warm waves that hit, eviction pressure with preemption, many requests
// at once), cached tokens are reported, turn holds pin and are dropped, and every block
// returns. Threaded (the engine thread plus the test's), hence the `concurrency` label.
#include "agentd/inference/model.h"
#include "agentd/inference/scheduler.h"
#include "agentd/test/env.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

namespace agentd::inference {
namespace {

constexpr auto kWait = std::chrono::seconds(120);

class Result {
public:
    GenerationSink sink() {
        return [this](GenerationUpdate&& u) {
            std::lock_guard lock(mutex_);
            for (const auto& t : u.tokens) {
                tokens_.push_back(t.token);
            }
            if (u.finish != FinishReason::none) {
                final_ = std::move(u);
                cv_.notify_all();
            }
        };
    }
    bool wait() {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, kWait, [&] { return final_.has_value(); });
    }
    std::vector<TokenId> tokens() const {
        std::lock_guard lock(mutex_);
        return tokens_;
    }
    GenerationUpdate final_update() const {
        std::lock_guard lock(mutex_);
        return *final_;
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<TokenId> tokens_;
    std::optional<GenerationUpdate> final_;
};

class PrefixSchedulerTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto model_file = test::shared_file("models/stories260K.gguf");
        const auto ref_file = test::shared_file("models/reference/stories260K.greedy.json");
        if (!model_file || !ref_file) {
            if (test::running_in_ci()) {
                FAIL() << "shared data missing under CI";
            }
            GTEST_SKIP() << "shared data not found";
        }
        auto model = Model::load(*model_file);
        ASSERT_TRUE(model) << model.error().what();
        model_ = *model;
        std::ifstream in(*ref_file);
        const auto ref = nlohmann::json::parse(in);
        // Prompts that share long prefixes: each reference prompt followed by growing parts of
        // its greedy completion (an agent's growing history), in two namespaces.
        for (const auto& c : ref["cases"]) {
            auto prompt = c["prompt_ids"].get<std::vector<TokenId>>();
            const auto completion = c["completion_ids"].get<std::vector<TokenId>>();
            for (std::size_t k : {0u, 13u, 29u, 40u, 57u}) {
                auto p = prompt;
                p.insert(p.end(), completion.begin(),
                         completion.begin() + static_cast<std::ptrdiff_t>(k));
                prompts_.push_back(std::move(p));
            }
        }
    }

    std::unique_ptr<Scheduler> make(bool cached, SchedulerOptions opt, std::int64_t kv_tokens = 0) {
        EngineOptions eo;
        eo.n_threads = 1;
        eo.kv_tokens = kv_tokens;
        auto engine = Engine::create(model_, eo);
        EXPECT_TRUE(engine) << engine.error().what();
        auto s = Scheduler::create(std::move(*engine), opt, {},
                                   cached ? make_radix_prefix_cache({}) : nullptr);
        if (!s) {
            ADD_FAILURE() << s.error().what();
            std::abort(); // the tests cannot go on without a scheduler
        }
        return std::move(*s);
    }

    static GenerationRequest greedy(const std::vector<TokenId>& prompt, std::string ns) {
        GenerationRequest r;
        r.prompt = prompt;
        r.decoder.sampling.temperature = 0.0f;
        r.decoder.max_tokens = 24;
        r.cache_namespace = std::move(ns);
        return r;
    }

    /// Runs `indices` of prompts_ at once; returns each output.
    std::vector<GenerationUpdate> run(Scheduler& s, const std::vector<std::size_t>& indices,
                                      std::vector<std::vector<TokenId>>& outputs,
                                      const std::string& ns = "tenant\x1fmodel") {
        std::vector<std::unique_ptr<Result>> rs;
        for (std::size_t i : indices) {
            rs.push_back(std::make_unique<Result>());
            auto id = s.submit(greedy(prompts_[i], ns), rs.back()->sink());
            EXPECT_TRUE(id) << id.error().what();
        }
        std::vector<GenerationUpdate> finals;
        for (std::size_t j = 0; j < rs.size(); ++j) {
            EXPECT_TRUE(rs[j]->wait()) << "request " << j << " did not finish";
            outputs[indices[j]] = rs[j]->tokens();
            finals.push_back(rs[j]->final_update());
            EXPECT_FALSE(finals.back().error);
        }
        return finals;
    }

    /// Outputs of every prompt without a cache (the reference for the cached runs).
    std::vector<std::vector<TokenId>> uncached() {
        SchedulerOptions opt;
        auto s = make(false, opt);
        std::vector<std::vector<TokenId>> out(prompts_.size());
        std::vector<std::size_t> all(prompts_.size());
        for (std::size_t i = 0; i < all.size(); ++i) {
            all[i] = i;
        }
        run(*s, all, out);
        return out;
    }

    /// Waits (bounded) until nothing runs and the only used blocks are the cache's.
    static void expect_idle(Scheduler& s) {
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        SchedulerStats st = s.stats();
        while ((st.running != 0 || st.waiting != 0 || st.kv_used_blocks != 0) &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
            st = s.stats();
        }
        EXPECT_EQ(st.running, 0);
        EXPECT_EQ(st.kv_used_blocks, 0) << "every block is free or evictable";
    }

    std::shared_ptr<const Model> model_;
    std::vector<std::vector<TokenId>> prompts_;
};

TEST_F(PrefixSchedulerTest, WarmWavesHitAndMatchTheUncachedOutputs) {
    const auto expected = uncached();
    SchedulerOptions opt;
    auto s = make(true, opt);
    std::vector<std::vector<TokenId>> got(prompts_.size());
    // Wave k runs the k-th history length of every case: each wave extends the previous one.
    std::int64_t cached = 0;
    for (std::size_t k = 0; k < 5; ++k) {
        std::vector<std::size_t> wave;
        for (std::size_t c = 0; c < prompts_.size() / 5; ++c) {
            wave.push_back(c * 5 + k);
        }
        for (const auto& fin : run(*s, wave, got)) {
            EXPECT_LT(fin.usage.cached_tokens, fin.usage.prompt_tokens);
            cached += fin.usage.cached_tokens;
        }
    }
    EXPECT_EQ(got, expected);
    EXPECT_GT(cached, 0);
    const auto st = s->stats();
    EXPECT_TRUE(st.prefix_cache);
    EXPECT_GT(st.prefix.hits, 0u);
    EXPECT_EQ(st.prefix.hit_tokens, static_cast<std::uint64_t>(cached));
    expect_idle(*s);
}

TEST_F(PrefixSchedulerTest, EvictionPressureAndPreemptionKeepOutputsIdentical) {
    const auto expected = uncached();
    SchedulerOptions opt;
    opt.max_sequences = 8;
    opt.token_budget = 64;
    auto s = make(true, opt, 192); // 12 blocks for 40 requests of up to 81 positions
    std::vector<std::vector<TokenId>> got(prompts_.size());
    std::vector<std::size_t> all(prompts_.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        all[i] = i;
    }
    for (int round = 0; round < 2; ++round) {
        run(*s, all, got);
        EXPECT_EQ(got, expected) << "round " << round;
    }
    const auto st = s->stats();
    EXPECT_GT(st.preemptions, 0u);
    EXPECT_GT(st.prefix.evicted_blocks, 0u);
    EXPECT_GT(st.prefix.hits, 0u);
    expect_idle(*s);
}

TEST_F(PrefixSchedulerTest, RequestsInFlightTogetherShareComputedChunks) {
    const auto expected = uncached();
    SchedulerOptions opt;
    opt.max_sequences = 2;
    opt.token_budget = 16; // prompts are read 16 tokens a step
    auto s = make(true, opt);
    std::vector<std::vector<TokenId>> got(prompts_.size());
    // Two histories of one conversation submitted together: the shorter one is admitted while
    // the longer one is still reading its prompt (62 tokens, 16 a step), and reuses the chunks
    // computed so far.
    const auto finals = run(*s, {4, 3}, got);
    EXPECT_EQ(got[3], expected[3]);
    EXPECT_EQ(got[4], expected[4]);
    EXPECT_EQ(finals[0].usage.cached_tokens, 0);
    EXPECT_GE(finals[1].usage.cached_tokens, 32);
    expect_idle(*s);
}

TEST_F(PrefixSchedulerTest, NamespacesDoNotShare) {
    SchedulerOptions opt;
    auto s = make(true, opt);
    std::vector<std::vector<TokenId>> got(prompts_.size());
    const std::vector<std::size_t> longest = {4};
    run(*s, longest, got, "tenant-a\x1fm");
    EXPECT_EQ(run(*s, longest, got, "tenant-b\x1fm")[0].usage.cached_tokens, 0);
    EXPECT_GT(run(*s, longest, got, "tenant-a\x1fm")[0].usage.cached_tokens, 0);
    expect_idle(*s);
}

TEST_F(PrefixSchedulerTest, TurnHoldPinsUntilDropped) {
    SchedulerOptions opt;
    auto s = make(true, opt);
    Result r;
    auto req = greedy(prompts_[4], "t");
    req.cache_hold = "session-1";
    ASSERT_TRUE(s->submit(std::move(req), r.sink()));
    ASSERT_TRUE(r.wait());
    auto wait_for = [&](auto pred) {
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        while (!pred(s->stats()) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
        return pred(s->stats());
    };
    EXPECT_TRUE(wait_for([](const SchedulerStats& st) { return st.prefix.holds == 1; }));
    const auto held = s->stats().prefix.pinned_blocks;
    EXPECT_GT(held, 0);
    // The continuation (the same prefix + more) hits all of the held blocks.
    Result next;
    auto longer = prompts_[4];
    const auto generated = r.tokens();
    longer.insert(longer.end(), generated.begin(), generated.end());
    longer.push_back(longer.front());
    ASSERT_TRUE(s->submit(greedy(longer, "t"), next.sink()));
    ASSERT_TRUE(next.wait());
    EXPECT_GE(next.final_update().usage.cached_tokens, held * 16);
    s->drop_cache_hold("session-1");
    EXPECT_TRUE(wait_for([](const SchedulerStats& st) {
        return st.prefix.holds == 0 && st.prefix.pinned_blocks == 0 && st.kv_used_blocks == 0;
    }));
}

} // namespace
} // namespace agentd::inference
