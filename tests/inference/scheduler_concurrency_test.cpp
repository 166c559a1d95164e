// The scheduler's engine thread under real load on stories260K: batched and chunked greedy
// outputs equal llama.cpp's single-sequence reference, no token is lost or duplicated, preemption
// and cancellation under KV pressure free every block, priorities, limits and error paths.
// Threaded (the engine thread plus the test's), hence the `concurrency` label (TSan runs it).
#include "agentd/inference/errc.h"
#include "agentd/inference/model.h"
#include "agentd/inference/scheduler.h"
#include "agentd/test/env.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

namespace agentd::inference {
namespace {

constexpr auto kWait = std::chrono::seconds(120);

/// Collects one request's updates; checks the sink contract as they arrive.
class Collector {
public:
    GenerationSink sink() {
        return [this](GenerationUpdate&& u) { on_update(std::move(u)); };
    }

    /// Waits (bounded) for the final update; false on timeout.
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
    std::string content() const {
        std::lock_guard lock(mutex_);
        return content_;
    }
    int updates_after_final() const {
        std::lock_guard lock(mutex_);
        return after_final_;
    }

    std::function<void(const GenerationUpdate&)> on_each; // engine thread, before recording

private:
    void on_update(GenerationUpdate&& u) {
        if (on_each) {
            on_each(u);
        }
        std::lock_guard lock(mutex_);
        if (final_) {
            ++after_final_;
            return;
        }
        for (const auto& t : u.tokens) {
            tokens_.push_back(t.token);
        }
        for (const auto& d : u.deltas) {
            if (d.kind == ChatDelta::Kind::content) {
                content_ += d.text;
            }
        }
        if (u.finish != FinishReason::none) {
            final_ = std::move(u);
            cv_.notify_all();
        }
    }

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<TokenId> tokens_;
    std::string content_;
    std::optional<GenerationUpdate> final_;
    int after_final_ = 0;
};

struct Case {
    std::vector<TokenId> prompt;
    std::vector<TokenId> completion;
};

class SchedulerTest : public ::testing::Test {
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
        for (const auto& c : ref["cases"]) {
            cases_.push_back({c["prompt_ids"].get<std::vector<TokenId>>(),
                              c["completion_ids"].get<std::vector<TokenId>>()});
        }
    }

    std::unique_ptr<Scheduler> make(SchedulerOptions opt, std::int64_t kv_tokens = 0,
                                    std::shared_ptr<SchedulerObserver> observer = {}) {
        EngineOptions eo;
        eo.n_threads = 1;
        eo.kv_tokens = kv_tokens;
        auto engine = Engine::create(model_, eo);
        EXPECT_TRUE(engine) << engine.error().what();
        auto s = Scheduler::create(std::move(*engine), opt, std::move(observer));
        if (!s) {
            ADD_FAILURE() << s.error().what();
            std::abort(); // the tests cannot go on without a scheduler
        }
        return std::move(*s);
    }

    static GenerationRequest greedy(const std::vector<TokenId>& prompt, int max_tokens,
                                    int priority = 0) {
        GenerationRequest r;
        r.prompt = prompt;
        r.decoder.sampling.temperature = 0.0f;
        r.decoder.max_tokens = max_tokens;
        r.priority = priority;
        return r;
    }

    /// Waits (bounded) until the scheduler holds no request and no KV block.
    static void expect_idle(Scheduler& s) {
        const auto deadline = std::chrono::steady_clock::now() + kWait;
        SchedulerStats st = s.stats();
        while ((st.running != 0 || st.waiting != 0 || st.kv_used_blocks != 0) &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
            st = s.stats();
        }
        EXPECT_EQ(st.running, 0);
        EXPECT_EQ(st.waiting, 0u);
        EXPECT_EQ(st.kv_used_blocks, 0) << "every KV block returns to the pool";
    }

    /// Runs every reference case at once and checks each output token for token.
    void run_reference_cases(Scheduler& s, int copies) {
        std::vector<std::unique_ptr<Collector>> out;
        std::vector<std::size_t> which;
        for (int k = 0; k < copies; ++k) {
            for (std::size_t i = 0; i < cases_.size(); ++i) {
                out.push_back(std::make_unique<Collector>());
                which.push_back(i);
                auto id = s.submit(greedy(cases_[i].prompt, 64), out.back()->sink());
                ASSERT_TRUE(id) << id.error().what();
            }
        }
        for (std::size_t j = 0; j < out.size(); ++j) {
            ASSERT_TRUE(out[j]->wait()) << "request " << j << " did not finish";
            const auto& c = cases_[which[j]];
            EXPECT_EQ(out[j]->tokens(), c.completion) << "case " << which[j] << " copy " << j;
            const auto fin = out[j]->final_update();
            EXPECT_EQ(fin.finish, FinishReason::length);
            EXPECT_FALSE(fin.error);
            EXPECT_EQ(fin.usage.completion_tokens, 64);
            EXPECT_EQ(fin.usage.prompt_tokens, static_cast<std::int32_t>(c.prompt.size()));
            EXPECT_EQ(out[j]->updates_after_final(), 0);
        }
    }

    std::shared_ptr<const Model> model_;
    std::vector<Case> cases_;
};

TEST_F(SchedulerTest, BatchedGreedyEqualsSingleSequenceReference) {
    auto s = make({});
    run_reference_cases(*s, 1);
    expect_idle(*s);
}

TEST_F(SchedulerTest, ChunkedPrefillUnderSmallBudgetEqualsReference) {
    SchedulerOptions opt;
    opt.max_sequences = 4;
    opt.token_budget = 6; // prompts of up to 19 tokens prefill in chunks beside decodes
    auto s = make(opt);
    run_reference_cases(*s, 2);
    EXPECT_GT(s->stats().steps, 64u);
    expect_idle(*s);
}

class CountingObserver : public SchedulerObserver {
public:
    void on_step(int, int, int, double) override { steps.fetch_add(1); }
    void on_first_token(double) override { first.fetch_add(1); }
    void on_inter_token(double) override { inter.fetch_add(1); }
    void on_preemption() override { preemptions.fetch_add(1); }
    std::atomic<int> steps{0}, first{0}, inter{0}, preemptions{0};
};

TEST_F(SchedulerTest, PreemptionUnderKvPressureKeepsOutputsExact) {
    // 8 blocks of 16 tokens: one case needs up to 83 positions (6 blocks), so 24 concurrent
    // requests keep running out of blocks and are preempted and recomputed again and again.
    auto observer = std::make_shared<CountingObserver>();
    SchedulerOptions opt;
    opt.max_sequences = 8;
    opt.token_budget = 64;
    auto s = make(opt, 128, observer);
    run_reference_cases(*s, 3);
    EXPECT_GT(s->stats().preemptions, 0u);
    EXPECT_EQ(observer->preemptions.load(), static_cast<int>(s->stats().preemptions));
    EXPECT_EQ(observer->first.load(), 24) << "one first token per request, preempted or not";
    EXPECT_EQ(observer->inter.load(), 24 * 63);
    expect_idle(*s);
}

TEST_F(SchedulerTest, CancellationUnderLoadFreesEverySequence) {
    SchedulerOptions opt;
    opt.max_sequences = 6;
    opt.token_budget = 32;
    auto s = make(opt, 256);
    constexpr int kRequests = 32;
    std::vector<std::unique_ptr<Collector>> out;
    std::vector<RequestId> ids;
    for (int i = 0; i < kRequests; ++i) {
        out.push_back(std::make_unique<Collector>());
        const auto& c = cases_[static_cast<std::size_t>(i) % cases_.size()];
        auto id = s->submit(greedy(c.prompt, 64), out.back()->sink());
        ASSERT_TRUE(id) << id.error().what();
        ids.push_back(*id);
    }
    // Cancel every other request: some still waiting, some running, some already done.
    for (int i = 0; i < kRequests; i += 2) {
        s->cancel(ids[static_cast<std::size_t>(i)]);
    }
    s->cancel(999'999); // unknown ids are ignored
    for (int i = 0; i < kRequests; ++i) {
        ASSERT_TRUE(out[static_cast<std::size_t>(i)]->wait());
        const auto fin = out[static_cast<std::size_t>(i)]->final_update();
        const auto toks = out[static_cast<std::size_t>(i)]->tokens();
        const auto& want = cases_[static_cast<std::size_t>(i) % cases_.size()].completion;
        // Whatever was delivered is a prefix of the exact output; nothing is duplicated.
        ASSERT_LE(toks.size(), want.size());
        EXPECT_TRUE(std::equal(toks.begin(), toks.end(), want.begin())) << "request " << i;
        EXPECT_EQ(fin.usage.completion_tokens, static_cast<std::int32_t>(toks.size()));
        if (i % 2 == 1) {
            EXPECT_EQ(fin.finish, FinishReason::length);
            EXPECT_EQ(toks, want);
        } else {
            EXPECT_TRUE(fin.finish == FinishReason::cancelled ||
                        fin.finish == FinishReason::length);
        }
    }
    expect_idle(*s);
}

TEST_F(SchedulerTest, CancelFromTheSinkStopsWithinOneStep) {
    auto s = make({});
    Collector c;
    std::promise<RequestId> id_promise;
    std::shared_future<RequestId> id = id_promise.get_future().share();
    Scheduler* sched = s.get();
    c.on_each = [&](const GenerationUpdate& u) {
        if (!u.tokens.empty() && u.usage.completion_tokens == 3) {
            sched->cancel(id.get()); // e.g. the client went away
        }
    };
    auto r = s->submit(greedy(cases_[0].prompt, 64), c.sink());
    ASSERT_TRUE(r);
    id_promise.set_value(*r);
    ASSERT_TRUE(c.wait());
    EXPECT_EQ(c.final_update().finish, FinishReason::cancelled);
    // Cancellations are applied before the next step is planned: no token after the third.
    EXPECT_EQ(c.tokens().size(), 3u);
    EXPECT_EQ(c.tokens(),
              std::vector<TokenId>(cases_[0].completion.begin(), cases_[0].completion.begin() + 3));
    expect_idle(*s);
}

TEST_F(SchedulerTest, HigherPriorityPreemptsAndFinishesFirst) {
    SchedulerOptions opt;
    opt.max_sequences = 1;
    opt.token_budget = 16;
    auto s = make(opt);
    Collector low;
    Collector high;
    std::mutex order_mutex;
    std::vector<char> finished;
    Scheduler* sched = s.get();
    bool submitted = false;
    low.on_each = [&](const GenerationUpdate& u) {
        if (!submitted && u.usage.completion_tokens == 2) {
            submitted = true; // the low-priority request is running now
            auto r = sched->submit(greedy(cases_[3].prompt, 64, /*priority=*/5), high.sink());
            EXPECT_TRUE(r);
        }
        if (u.finish != FinishReason::none) {
            std::lock_guard lock(order_mutex);
            finished.push_back('L');
        }
    };
    high.on_each = [&](const GenerationUpdate& u) {
        if (u.finish != FinishReason::none) {
            std::lock_guard lock(order_mutex);
            finished.push_back('H');
        }
    };
    ASSERT_TRUE(s->submit(greedy(cases_[0].prompt, 64, /*priority=*/0), low.sink()));
    ASSERT_TRUE(low.wait());
    ASSERT_TRUE(high.wait());
    EXPECT_EQ(finished, (std::vector<char>{'H', 'L'}));
    EXPECT_EQ(low.tokens(), cases_[0].completion) << "the preempted request resumes exactly";
    EXPECT_EQ(high.tokens(), cases_[3].completion);
    EXPECT_GE(s->stats().preemptions, 1u);
    expect_idle(*s);
}

TEST_F(SchedulerTest, SubmitErrorsAreValues) {
    SchedulerOptions opt;
    opt.max_sequences = 1;
    opt.max_waiting = 1;
    auto s = make(opt, 64);
    Collector sink;
    GenerationRequest empty;
    auto r = s->submit(std::move(empty), sink.sink());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(errc::invalid_argument));

    auto too_long = greedy(std::vector<TokenId>(65, 5), 4);
    r = s->submit(std::move(too_long), sink.sink());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(errc::context_overflow));

    auto bad_token = greedy({1, 100000}, 4);
    r = s->submit(std::move(bad_token), sink.sink());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(errc::invalid_argument));

    auto bad_sampling = greedy({1, 5}, 4);
    bad_sampling.decoder.sampling.top_p = 0.0f;
    r = s->submit(std::move(bad_sampling), sink.sink());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(errc::invalid_argument));

    // A full waiting queue: hold the engine thread in the first request's sink.
    std::mutex gate_mutex;
    std::condition_variable gate_cv;
    bool open = false;
    bool entered = false;
    Collector first;
    first.on_each = [&](const GenerationUpdate&) {
        std::unique_lock lock(gate_mutex);
        if (!entered) {
            entered = true;
            gate_cv.notify_all();
            gate_cv.wait(lock, [&] { return open; });
        }
    };
    ASSERT_TRUE(s->submit(greedy(cases_[0].prompt, 8), first.sink()));
    {
        std::unique_lock lock(gate_mutex);
        ASSERT_TRUE(gate_cv.wait_for(lock, kWait, [&] { return entered; }));
    }
    Collector second;
    Collector third;
    ASSERT_TRUE(s->submit(greedy(cases_[1].prompt, 8), second.sink()));
    r = s->submit(greedy(cases_[2].prompt, 8), third.sink());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(errc::overloaded));
    {
        std::lock_guard lock(gate_mutex);
        open = true;
    }
    gate_cv.notify_all();
    ASSERT_TRUE(first.wait());
    ASSERT_TRUE(second.wait());
    EXPECT_EQ(second.final_update().finish, FinishReason::length);
    expect_idle(*s);
}

TEST_F(SchedulerTest, ShutdownEndsEveryRequestAndRefusesNewOnes) {
    SchedulerOptions opt;
    opt.max_sequences = 2;
    auto s = make(opt);
    std::vector<std::unique_ptr<Collector>> out;
    for (int i = 0; i < 6; ++i) {
        out.push_back(std::make_unique<Collector>());
        ASSERT_TRUE(s->submit(greedy(cases_[0].prompt, 2000), out.back()->sink()));
    }
    s->shutdown();
    for (auto& c : out) {
        ASSERT_TRUE(c->wait());
        const auto fin = c->final_update();
        EXPECT_EQ(fin.finish, FinishReason::cancelled);
        ASSERT_TRUE(fin.error);
        EXPECT_EQ(fin.error->code, make_error_code(errc::cancelled));
    }
    Collector late;
    auto r = s->submit(greedy(cases_[0].prompt, 4), late.sink());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, make_error_code(errc::cancelled));
    s->shutdown(); // idempotent
}

TEST_F(SchedulerTest, SameSeedSameTokensInsideOneBatch) {
    auto s = make({});
    std::vector<std::unique_ptr<Collector>> out;
    for (int i = 0; i < 6; ++i) {
        GenerationRequest r;
        r.prompt = cases_[1].prompt;
        r.decoder.sampling.temperature = 0.9f;
        r.decoder.sampling.top_p = 0.95f;
        r.decoder.sampling.seed = i < 3 ? 42 : 7;
        r.decoder.max_tokens = 48;
        out.push_back(std::make_unique<Collector>());
        ASSERT_TRUE(s->submit(std::move(r), out.back()->sink()));
    }
    for (auto& c : out) {
        ASSERT_TRUE(c->wait());
    }
    EXPECT_EQ(out[0]->tokens(), out[1]->tokens());
    EXPECT_EQ(out[0]->tokens(), out[2]->tokens());
    EXPECT_EQ(out[3]->tokens(), out[4]->tokens());
    EXPECT_EQ(out[3]->tokens(), out[5]->tokens());
    EXPECT_NE(out[0]->tokens(), out[3]->tokens());
    expect_idle(*s);
}

TEST_F(SchedulerTest, StopStringsAndMaxTokensEndRequests) {
    auto s = make({});
    Collector c;
    auto r = greedy(cases_[0].prompt, 64);
    r.decoder.stop = {"Lily"};
    ASSERT_TRUE(s->submit(std::move(r), c.sink()));
    ASSERT_TRUE(c.wait());
    EXPECT_EQ(c.final_update().finish, FinishReason::stop);
    EXPECT_EQ(c.content().find("Lily"), std::string::npos);
    EXPECT_LT(c.tokens().size(), 64u);

    Collector d;
    ASSERT_TRUE(s->submit(greedy(cases_[0].prompt, 5), d.sink()));
    ASSERT_TRUE(d.wait());
    EXPECT_EQ(d.tokens().size(), 5u);
    EXPECT_EQ(d.final_update().finish, FinishReason::length);
    expect_idle(*s);
}

TEST_F(SchedulerTest, EmbeddingsAreNormalisedAndBatchIndependent) {
    SchedulerOptions opt;
    opt.max_sequences = 4;
    opt.token_budget = 8; // inputs longer than the budget run as one entry of their own
    auto s = make(opt);
    std::vector<std::unique_ptr<Collector>> out;
    for (int i = 0; i < 4; ++i) {
        out.push_back(std::make_unique<Collector>());
        EmbeddingRequest e;
        e.tokens = cases_[static_cast<std::size_t>(i % 2 == 0 ? 1 : 2)].prompt;
        ASSERT_TRUE(s->submit(std::move(e), out.back()->sink()));
    }
    Collector gen;
    ASSERT_TRUE(s->submit(greedy(cases_[0].prompt, 16), gen.sink()));
    for (auto& c : out) {
        ASSERT_TRUE(c->wait());
    }
    ASSERT_TRUE(gen.wait());
    const auto a = out[0]->final_update().embedding;
    const auto b = out[2]->final_update().embedding;
    const auto other = out[1]->final_update().embedding;
    ASSERT_EQ(a.size(), static_cast<std::size_t>(model_->info().n_embd));
    double norm = 0;
    for (float v : a) {
        norm += static_cast<double>(v) * v;
    }
    EXPECT_NEAR(norm, 1.0, 1e-5);
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_NEAR(a[i], b[i], 1e-6);
    }
    EXPECT_NE(a, other);
    EXPECT_EQ(out[0]->final_update().usage.prompt_tokens,
              static_cast<std::int32_t>(cases_[1].prompt.size()));
    expect_idle(*s);
}

TEST_F(SchedulerTest, OptionsAreValidated) {
    EngineOptions eo;
    eo.n_threads = 1;
    for (auto bad :
         {SchedulerOptions{0, 1, 1}, SchedulerOptions{4, 0, 8}, SchedulerOptions{8, 1, 4}}) {
        auto engine = Engine::create(model_, eo);
        ASSERT_TRUE(engine);
        auto s = Scheduler::create(std::move(*engine), bad);
        ASSERT_FALSE(s);
        EXPECT_EQ(s.error().code, make_error_code(errc::invalid_argument));
    }
}

} // namespace
} // namespace agentd::inference
