// Sampler: greedy is argmax (lowest id on ties), seeded sampling is reproducible and follows the
// softmax at the temperature, top-k / top-p restrict the candidates.
#include "agentd/inference/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace agentd::inference {
namespace {

TEST(Sampler, GreedyIsArgmaxWithLowestIdOnTies) {
    const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f};
    Sampler s(SamplingParams{});
    EXPECT_EQ(s.sample(logits), 1);
    EXPECT_EQ(Sampler::argmax(logits), 1);
}

TEST(Sampler, SameSeedSameTokens) {
    std::vector<float> logits(100);
    for (std::size_t i = 0; i < logits.size(); ++i) {
        logits[i] = std::sin(static_cast<float>(i));
    }
    for (SamplingParams p :
         {SamplingParams{0.8f, 0, 1.0f, 42}, SamplingParams{1.2f, 10, 0.9f, 42}}) {
        Sampler a(p);
        Sampler b(p);
        for (int i = 0; i < 50; ++i) {
            ASSERT_EQ(a.sample(logits), b.sample(logits));
        }
    }
}

TEST(Sampler, FrequenciesFollowTheSoftmax) {
    const std::vector<float> logits = {0.0f, std::log(3.0f), -100.0f};
    Sampler s(SamplingParams{1.0f, 0, 1.0f, 7});
    std::map<TokenId, int> counts;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        ++counts[s.sample(logits)];
    }
    EXPECT_NEAR(counts[1] / static_cast<double>(n), 0.75, 0.02);
    EXPECT_NEAR(counts[0] / static_cast<double>(n), 0.25, 0.02);
    EXPECT_EQ(counts[2], 0);
}

TEST(Sampler, TopKAndTopPRestrictTheCandidates) {
    const std::vector<float> logits = {3.0f, 2.9f, 2.8f, 0.0f, -1.0f};
    Sampler k(SamplingParams{5.0f, 2, 1.0f, 3});
    Sampler p(SamplingParams{5.0f, 0, 0.3f, 3});
    for (int i = 0; i < 500; ++i) {
        EXPECT_LT(k.sample(logits), 2);
        EXPECT_LT(p.sample(logits), 2); // the first two already hold more than 30%
    }
}

} // namespace
} // namespace agentd::inference
