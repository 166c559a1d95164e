#include "agentd/inference/errc.h"
#include "agentd/inference/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

namespace agentd::inference {
namespace {

Sampler make(SamplingParams p, std::int32_t n_vocab) {
    auto s = Sampler::create(p, n_vocab);
    EXPECT_TRUE(s) << s.error().what();
    return std::move(*s);
}

std::vector<float> log_probs(std::initializer_list<double> p) {
    std::vector<float> out;
    for (double x : p) {
        out.push_back(static_cast<float>(std::log(x)));
    }
    return out;
}

std::vector<double> frequencies(Sampler& s, const std::vector<float>& logits, int draws) {
    std::vector<double> f(logits.size(), 0.0);
    for (int i = 0; i < draws; ++i) {
        f[static_cast<std::size_t>(s.sample(logits).token)] += 1.0 / draws;
    }
    return f;
}

TEST(Sampler, GreedyTakesArgmaxWithLowestIdOnTies) {
    SamplingParams p;
    p.temperature = 0;
    Sampler s = make(p, 5);
    EXPECT_EQ(s.sample(std::vector<float>{1, 3, 2, 3, 0}).token, 1);
    p.top_k = 1; // top_k 1 is greedy too, whatever the temperature
    p.temperature = 5;
    Sampler k1 = make(p, 5);
    EXPECT_EQ(k1.sample(std::vector<float>{1, 3, 2, 3.5f, 0}).token, 3);
}

TEST(Sampler, LogitBiasAndMaskApplyBeforeGreedy) {
    SamplingParams p;
    p.temperature = 0;
    p.logit_bias = {{0, 10.0f}, {1, -100.0f}};
    Sampler s = make(p, 40);
    std::vector<float> logits(40, 0.0f);
    logits[1] = 50;
    logits[0] = 1;
    EXPECT_EQ(s.sample(logits).token, 0);
    // Mask: only token 33 (word 1, bit 1) allowed.
    std::vector<std::uint32_t> mask = {0u, 1u << 1};
    EXPECT_EQ(s.sample(logits, mask).token, 33);
    // An all-zero mask falls back to the unmasked choice instead of returning nothing.
    std::vector<std::uint32_t> none = {0u, 0u};
    EXPECT_EQ(s.sample(logits, none).token, 0);
}

TEST(Sampler, OpenAiPenaltiesAreExact) {
    SamplingParams p;
    p.temperature = 0;
    p.frequency_penalty = 0.5f;
    p.presence_penalty = 0.25f;
    Sampler s = make(p, 3);
    s.accept(0);
    s.accept(0);
    s.accept(1);
    // token 0: 2.0 - 2*0.5 - 0.25 = 0.75; token 1: 1.5 - 0.5 - 0.25 = 0.75; token 2: 0.8
    EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.5f, 0.8f}).token, 2);
    // token 2 at 0.7 loses to the tie at 0.75, broken towards the lower id.
    EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.5f, 0.7f}).token, 0);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
    SamplingParams p;
    p.temperature = 0;
    p.repetition_penalty = 2.0f;
    Sampler s = make(p, 3);
    s.accept(0);
    s.accept(1);
    // 0: 3.0 / 2 = 1.5 ; 1: -0.2 * 2 = -0.4 ; 2: 1.4 (unpenalised)
    EXPECT_EQ(s.sample(std::vector<float>{3.0f, -0.2f, 1.4f}).token, 0);
    EXPECT_EQ(s.sample(std::vector<float>{2.6f, -0.2f, 1.4f}).token, 2);
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
    SamplingParams p;
    p.temperature = 0;
    p.presence_penalty = 2.0f;
    p.penalty_last_n = 2;
    Sampler s = make(p, 3);
    std::vector<float> logits{1.0f, 0.0f, 0.5f};
    s.accept(0);
    EXPECT_EQ(s.sample(logits).token, 2); // 0 penalised to -1
    s.accept(1);
    s.accept(2); // window is now {1, 2}: token 0 no longer penalised
    EXPECT_EQ(s.sample(logits).token, 0);
}

TEST(Sampler, TemperatureOneReproducesTheDistribution) {
    SamplingParams p;
    p.seed = 42;
    Sampler s = make(p, 3);
    auto f = frequencies(s, log_probs({0.5, 0.3, 0.2}), 200000);
    EXPECT_NEAR(f[0], 0.5, 0.01);
    EXPECT_NEAR(f[1], 0.3, 0.01);
    EXPECT_NEAR(f[2], 0.2, 0.01);
}

TEST(Sampler, TemperatureFlattensAndSharpens) {
    SamplingParams p;
    p.seed = 7;
    p.temperature = 2.0f;
    Sampler hot = make(p, 2);
    // p ∝ p^(1/T): sqrt(0.8), sqrt(0.2) → 2/3, 1/3
    auto f = frequencies(hot, log_probs({0.8, 0.2}), 100000);
    EXPECT_NEAR(f[0], 2.0 / 3.0, 0.01);
    p.temperature = 0.5f;
    Sampler cold = make(p, 2);
    f = frequencies(cold, log_probs({0.8, 0.2}), 100000);
    EXPECT_NEAR(f[0], 0.64 / 0.68, 0.01);
}

TEST(Sampler, TopKTopPMinPTruncateAndRenormalise) {
    auto logits = log_probs({0.4, 0.3, 0.2, 0.1});
    SamplingParams p;
    p.seed = 1;
    p.top_k = 2;
    Sampler k = make(p, 4);
    auto f = frequencies(k, logits, 100000);
    EXPECT_NEAR(f[0], 0.4 / 0.7, 0.01);
    EXPECT_EQ(f[2] + f[3], 0.0);

    p = {};
    p.seed = 2;
    p.top_p = 0.65f; // smallest head reaching 0.65: {0.4, 0.3}
    Sampler tp = make(p, 4);
    f = frequencies(tp, logits, 100000);
    EXPECT_NEAR(f[1], 0.3 / 0.7, 0.01);
    EXPECT_EQ(f[2] + f[3], 0.0);

    p = {};
    p.seed = 3;
    p.min_p = 0.5f; // keep p >= 0.2: {0.4, 0.3, 0.2}
    Sampler mp = make(p, 4);
    f = frequencies(mp, logits, 100000);
    EXPECT_NEAR(f[2], 0.2 / 0.9, 0.01);
    EXPECT_EQ(f[3], 0.0);
}

TEST(Sampler, NucleusOnALargeVocabularyMatchesANaiveSort) {
    const int n = 150000;
    std::mt19937 gen(5);
    std::normal_distribution<float> dist(0.0f, 3.0f);
    std::vector<float> logits(n);
    for (auto& l : logits) {
        l = dist(gen);
    }
    SamplingParams p;
    p.seed = 9;
    p.top_p = 0.9f;
    p.temperature = 0.8f;
    Sampler s = make(p, n);
    // Naive nucleus: sort everything by tempered probability.
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return logits[static_cast<std::size_t>(a)] > logits[static_cast<std::size_t>(b)];
    });
    double mx = logits[static_cast<std::size_t>(order[0])];
    double total = 0;
    for (float l : logits) {
        total += std::exp((l - mx) / 0.8);
    }
    std::set<int> nucleus;
    double cum = 0;
    for (int id : order) {
        if (cum >= 0.9 * total) {
            break;
        }
        cum += std::exp((logits[static_cast<std::size_t>(id)] - mx) / 0.8);
        nucleus.insert(id);
    }
    for (int i = 0; i < 100; ++i) {
        int t = s.sample(logits).token;
        ASSERT_TRUE(nucleus.count(t)) << t << " outside the nucleus of " << nucleus.size();
    }
}

TEST(Sampler, SameSeedSameTokensWhateverIsInterleaved) {
    SamplingParams p;
    p.seed = 1234;
    p.temperature = 1.3f;
    p.top_p = 0.95f;
    std::mt19937 gen(3);
    std::normal_distribution<float> dist(0.0f, 2.0f);
    std::vector<std::vector<float>> steps(50, std::vector<float>(1000));
    for (auto& step : steps) {
        for (auto& l : step) {
            l = dist(gen);
        }
    }
    Sampler alone = make(p, 1000);
    std::vector<int> solo;
    for (const auto& step : steps) {
        int t = alone.sample(step).token;
        alone.accept(t);
        solo.push_back(t);
    }
    // Same request batched with another one (own seed, own sampler) in between every step.
    Sampler a = make(p, 1000);
    SamplingParams other = p;
    other.seed = 99;
    Sampler b = make(other, 1000);
    std::vector<int> batched;
    std::vector<int> other_tokens;
    for (const auto& step : steps) {
        other_tokens.push_back(b.sample(step).token);
        int t = a.sample(step).token;
        a.accept(t);
        batched.push_back(t);
    }
    EXPECT_EQ(solo, batched);
    EXPECT_NE(solo, other_tokens);
}

TEST(Sampler, LogprobsAreTheRawModelDistribution) {
    SamplingParams p;
    p.seed = 3;
    p.temperature = 3.0f;          // must not change the reported log-probabilities
    p.logit_bias = {{2, -100.0f}}; // nor must the bias
    p.logprobs = true;
    p.top_logprobs = 3;
    Sampler s = make(p, 4);
    std::vector<float> logits{1.0f, 2.0f, 3.0f, 0.0f};
    double z = 0;
    for (float l : logits) {
        z += std::exp(l);
    }
    SampledToken t = s.sample(logits);
    EXPECT_NE(t.token, 2);
    EXPECT_NEAR(t.logprob, logits[static_cast<std::size_t>(t.token)] - std::log(z), 1e-5);
    ASSERT_EQ(t.top.size(), 3u);
    EXPECT_EQ(t.top[0].token, 2);
    EXPECT_EQ(t.top[1].token, 1);
    EXPECT_EQ(t.top[2].token, 0);
    EXPECT_NEAR(t.top[0].logprob, 3.0 - std::log(z), 1e-5);
}

TEST(Sampler, RejectsInvalidParameters) {
    auto bad = [](auto mutate) {
        SamplingParams p;
        mutate(p);
        auto s = Sampler::create(p, 100);
        EXPECT_FALSE(s);
        if (!s) {
            EXPECT_EQ(s.error().code, make_error_code(errc::invalid_argument));
        }
    };
    bad([](SamplingParams& p) { p.temperature = -1; });
    bad([](SamplingParams& p) { p.temperature = std::nanf(""); });
    bad([](SamplingParams& p) { p.top_p = 0; });
    bad([](SamplingParams& p) { p.top_p = 1.5f; });
    bad([](SamplingParams& p) { p.min_p = 1; });
    bad([](SamplingParams& p) { p.top_k = -2; });
    bad([](SamplingParams& p) { p.repetition_penalty = 0; });
    bad([](SamplingParams& p) { p.presence_penalty = 3; });
    bad([](SamplingParams& p) { p.frequency_penalty = -3; });
    bad([](SamplingParams& p) { p.penalty_last_n = -5; });
    bad([](SamplingParams& p) { p.top_logprobs = 21; });
    bad([](SamplingParams& p) { p.logit_bias = {{100, 1.0f}}; });
    bad([](SamplingParams& p) { p.logit_bias = {{1, 101.0f}}; });
    EXPECT_FALSE(Sampler::create(SamplingParams{}, 0));
}

TEST(StopMatcher, MatchesAcrossTokenBoundariesAndHoldsBackPrefixes) {
    StopMatcher m({"</answer>", "STOP"});
    auto a = m.feed("The result is 4</ans");
    EXPECT_EQ(a.text, "The result is 4");
    EXPECT_FALSE(a.stopped);
    auto b = m.feed("w");
    EXPECT_EQ(b.text, ""); // "</answ" may still become "</answer>"
    auto c = m.feed("er</");
    EXPECT_EQ(c.text, "</answer"); // "</answer<" cannot: released, "</" held
    auto d = m.feed("answer> trailing");
    EXPECT_TRUE(d.stopped);
    EXPECT_EQ(d.text, "");
    EXPECT_EQ(d.matched, "</answer>");
    EXPECT_TRUE(m.feed("more").stopped);
    EXPECT_EQ(m.finish(), "");
}

TEST(StopMatcher, EarliestStopWinsAndFinishReturnsHeldText) {
    StopMatcher m({"bc", "abcd"});
    auto r = m.feed("xabcd");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "x");
    EXPECT_EQ(r.matched, "abcd");

    StopMatcher tail({"###"});
    EXPECT_EQ(tail.feed("a#").text, "a");
    EXPECT_EQ(tail.feed("#").text, "");
    EXPECT_EQ(tail.finish(), "##");
}

TEST(StopMatcher, HoldsIncompleteUtf8AndEveryByteSplitWorks) {
    const std::string text = "h\xC3\xA9llo \xE2\x82\xAC wo\xF0\x9F\x98\x80rld<|end|>ignored";
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        StopMatcher m({"<|end|>"});
        std::string shown;
        bool stopped = false;
        for (std::string_view part :
             {std::string_view(text).substr(0, cut), std::string_view(text).substr(cut)}) {
            for (char ch : part) {
                auto o = m.feed(std::string_view(&ch, 1));
                shown += o.text;
                stopped = stopped || o.stopped;
                // Never show half a code point.
                EXPECT_EQ(o.text.empty() ||
                              (static_cast<unsigned char>(o.text.back()) & 0xC0) != 0xC0,
                          true);
            }
        }
        EXPECT_TRUE(stopped);
        EXPECT_EQ(shown, "h\xC3\xA9llo \xE2\x82\xAC wo\xF0\x9F\x98\x80rld");
    }
    StopMatcher none({});
    EXPECT_EQ(none.feed("ab\xE2\x82").text, "ab");
    EXPECT_EQ(none.feed("\xAC").text, "\xE2\x82\xAC");
}

} // namespace
} // namespace agentd::inference
