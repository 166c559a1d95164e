#include "agentd/memory/context_builder.h"
#include "agentd/memory/errc.h"

#include <gtest/gtest.h>

namespace agentd::memory {
namespace {

/// One token per whitespace-separated word (deterministic, easy to reason about).
std::size_t words(std::string_view s) {
    std::size_t n = 0;
    bool in = false;
    for (char c : s) {
        const bool space = c == ' ' || c == '\n';
        if (!space && !in) {
            ++n;
        }
        in = !space;
    }
    return n;
}

std::string w(std::size_t n, const std::string& word = "w") {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += (i ? " " : "") + word;
    }
    return s;
}

ContextInputs sample() {
    ContextInputs in;
    in.system_prompt = "You are helpful.";          // 3 words
    in.tool_catalogue = "tools: search run_python"; // 3 words
    in.pinned = {{1, w(5, "pin")}, {2, w(5, "pin2")}};
    in.retrieved = {{10, w(4, "r1")}, {11, w(50, "big")}, {12, w(4, "r3")}};
    in.summary = "first part\n\nsecond part";
    in.summary_through = 2;
    for (int i = 1; i <= 8; ++i) {
        in.turns.push_back({i, i % 2 ? "user" : "assistant", w(10, "t" + std::to_string(i)), 0});
    }
    return in;
}

std::vector<SegmentKind> kinds(const BuiltContext& c) {
    std::vector<SegmentKind> k;
    for (const auto& s : c.segments) {
        k.push_back(s.kind);
    }
    return k;
}

TEST(ContextBuilder, OrdersPrefixMemoriesSummaryThenTurns) {
    ContextPolicy p{.budget_tokens = 1000, .per_segment_overhead = 0};
    auto c = build_context(p, sample(), words).value();
    using K = SegmentKind;
    const std::vector<K> expect{K::system,
                                K::tools,
                                K::pinned_memory,
                                K::pinned_memory,
                                K::retrieved_memory,
                                K::retrieved_memory,
                                K::retrieved_memory,
                                K::summary,
                                K::turn,
                                K::turn,
                                K::turn,
                                K::turn,
                                K::turn,
                                K::turn};
    EXPECT_EQ(kinds(c), expect);
    EXPECT_EQ(c.segments[0].text, "You are helpful.");
    EXPECT_EQ(c.segments.back().source_id, 8);
    EXPECT_EQ(c.segments[8].source_id, 3); // turns 1-2 are covered by the summary
    EXPECT_EQ(c.summarize_through, 0);
    std::size_t sum = 0;
    for (const auto& s : c.segments) {
        sum += s.tokens;
    }
    EXPECT_EQ(sum, c.total_tokens);
}

TEST(ContextBuilder, StaysWithinBudgetAndKeepsTheNewestTurns) {
    for (std::size_t budget = 30; budget <= 200; budget += 7) {
        ContextPolicy p{.budget_tokens = budget,
                        .max_pinned_tokens = 10,
                        .max_retrieved_tokens = 10,
                        .max_summary_tokens = 10,
                        .min_recent_turns = 1,
                        .per_segment_overhead = 2};
        auto c = build_context(p, sample(), words);
        ASSERT_TRUE(c) << budget << ": " << c.error().what();
        EXPECT_LE(c->total_tokens, budget);
        EXPECT_EQ(c->segments.back().source_id, 8);
        // The kept turns are a contiguous newest run; anything older is reported for summary.
        std::int64_t prev = 0;
        for (const auto& s : c->segments) {
            if (s.kind == SegmentKind::turn) {
                if (prev != 0) {
                    EXPECT_EQ(s.source_id, prev + 1);
                } else if (s.source_id > 3) {
                    EXPECT_EQ(c->summarize_through, s.source_id - 1);
                }
                prev = s.source_id;
            }
        }
    }
}

TEST(ContextBuilder, PrefixIsByteStableAsTurnsAndSummaryGrow) {
    ContextPolicy p{.budget_tokens = 400, .per_segment_overhead = 1};
    auto in = sample();
    auto first = build_context(p, in, words).value();
    in.turns.push_back({9, "user", "another question", 0});
    in.summary += "\n\nthird part"; // appended, never rewritten
    auto second = build_context(p, in, words).value();
    // Everything before the summary is identical, and the old summary is a prefix of the new.
    std::size_t i = 0;
    for (; first.segments[i].kind != SegmentKind::summary; ++i) {
        EXPECT_EQ(first.segments[i].text, second.segments[i].text);
    }
    EXPECT_EQ(second.segments[i].text.rfind(first.segments[i].text, 0), 0u);
}

TEST(ContextBuilder, MemoriesGiveWayInPriorityOrder) {
    ContextPolicy p{.budget_tokens = 1000,
                    .max_pinned_tokens = 7,
                    .max_retrieved_tokens = 12,
                    .max_summary_tokens = 3,
                    .per_segment_overhead = 0};
    auto c = build_context(p, sample(), words).value();
    EXPECT_EQ(c.dropped_pinned, 1u);    // the second pinned memory does not fit in 7
    EXPECT_EQ(c.dropped_retrieved, 1u); // the 50-word one is skipped, the later small one kept
    EXPECT_TRUE(c.summary_trimmed);     // only the newest paragraph fits
    for (const auto& s : c.segments) {
        if (s.kind == SegmentKind::summary) {
            EXPECT_EQ(s.text, "second part");
        }
        if (s.kind == SegmentKind::retrieved_memory) {
            EXPECT_NE(s.source_id, 11);
        }
    }
}

TEST(ContextBuilder, RetrievedNextToTheLastUserTurnWhenAsked) {
    ContextPolicy p{.budget_tokens = 1000,
                    .per_segment_overhead = 0,
                    .retrieved_placement = RetrievedPlacement::before_last_user};
    auto in = sample();
    in.turns.push_back({9, "assistant", "answer", 0});
    auto c = build_context(p, in, words).value();
    const auto& s = c.segments;
    // ... summary, turns 3..6, retrieved x3, turn 7 (last user), turns 8, 9.
    std::size_t last_user = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i].kind == SegmentKind::turn && s[i].source_id == 7) {
            last_user = i;
        }
    }
    ASSERT_GT(last_user, 3u);
    EXPECT_EQ(s[last_user - 1].kind, SegmentKind::retrieved_memory);
    EXPECT_EQ(s[last_user - 3].kind, SegmentKind::retrieved_memory);
    EXPECT_EQ(s[last_user - 4].kind, SegmentKind::turn);
}

TEST(ContextBuilder, DropsAnOrphanToolResultAtTheWindowStart) {
    ContextInputs in;
    in.turns = {{1, "user", w(5), 0},
                {2, "assistant", w(5), 0},
                {3, "tool", w(5), 0},
                {4, "assistant", w(5), 0},
                {5, "user", w(5), 0}};
    ContextPolicy p{.budget_tokens = 15, .min_recent_turns = 1, .per_segment_overhead = 0};
    auto c = build_context(p, in, words).value();
    ASSERT_FALSE(c.segments.empty());
    EXPECT_NE(c.segments.front().role, "tool");
    EXPECT_EQ(c.segments.front().source_id, 4);
    EXPECT_EQ(c.summarize_through, 3);
}

TEST(ContextBuilder, ErrorsWhenTheMandatoryPartsDoNotFit) {
    ContextPolicy p{.budget_tokens = 10, .min_recent_turns = 2, .per_segment_overhead = 0};
    auto c = build_context(p, sample(), words);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, errc::budget_exceeded);
    p.max_recent_turns = 1;
    EXPECT_EQ(build_context(p, sample(), words).error().code, errc::invalid_argument);
    EXPECT_EQ(build_context({}, sample(), nullptr).error().code, errc::invalid_argument);
}

TEST(ContextBuilder, UsesGivenTokenCountsInsteadOfCounting) {
    ContextInputs in;
    in.turns = {{1, "user", "x", 100}, {2, "user", "y", 0}};
    ContextPolicy p{.budget_tokens = 50, .per_segment_overhead = 0};
    auto c = build_context(p, in, words).value();
    ASSERT_EQ(c.segments.size(), 1u);
    EXPECT_EQ(c.segments[0].source_id, 2);
    EXPECT_EQ(c.summarize_through, 1);
}

} // namespace
} // namespace agentd::memory
