#include "agentd/memory/memory_store.h"

#include "memory_test_util.h"

#include <gtest/gtest.h>

namespace agentd::memory {
namespace {

class Hybrid : public ::testing::Test {
protected:
    void SetUp() override {
        db_ = test::open_db(dir_.db_path());
        ASSERT_TRUE(db_);
    }
    std::int64_t put(std::string text, std::vector<float> e, std::string ns = "",
                     std::string meta = "{}") {
        NewMemory m{.ns = std::move(ns),
                    .text = std::move(text),
                    .metadata_json = std::move(meta),
                    .embedding = std::move(e)};
        if (!m.embedding.empty()) {
            m.model = "m";
        }
        return db_->memories().put("t", m).value();
    }
    test::TempDir dir_{"hybrid"};
    std::unique_ptr<Database> db_;
};

TEST_F(Hybrid, KeywordOnlyWorksWithoutAnyEmbeddings) {
    const auto a = put("the quick brown fox jumps", {});
    const auto b = put("a lazy dog sleeps", {});
    const auto c = put("fox fox fox everywhere", {});
    SearchQuery q;
    q.text = "fox";
    auto hits = db_->memories().search("t", q).value();
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].id, c); // more occurrences in a shorter text: higher BM25
    EXPECT_EQ(hits[1].id, a);
    EXPECT_EQ(*hits[0].keyword_rank, 1u);
    EXPECT_FALSE(hits[0].vector_rank);
    EXPECT_GT(*hits[0].keyword_score, *hits[1].keyword_score);
    EXPECT_EQ(hits[0].memory->text, "fox fox fox everywhere");
    q.text = "Dog";
    EXPECT_EQ(db_->memories().search("t", q).value().front().id, b);
    q.text = "cat";
    EXPECT_TRUE(db_->memories().search("t", q).value().empty());
    q.text = "sleeping";
    EXPECT_TRUE(db_->memories().search("t", q).value().empty()); // no stemming
    q.text = "fox";
    q.keyword_syntax = KeywordSyntax::fts5;
    q.text = "qu*";
    EXPECT_EQ(db_->memories().search("t", q).value().front().id, a);
}

TEST_F(Hybrid, ReciprocalRankFusionOrdersByTheSumOfBothRanks) {
    // Vector ranks for query (1,0): v1 > v2 > v3 > v4. Keyword ranks for "apple": k3 > k2 > ...
    const auto m1 = put("banana", {1.0f, 0.0f});
    const auto m2 = put("apple pie recipe with apple and more apple", {0.9f, 0.1f});
    const auto m3 = put("apple apple apple", {0.5f, 0.5f});
    const auto m4 = put("cherry", {0.0f, 1.0f});
    SearchQuery q;
    q.text = "apple";
    q.embedding = {1.0f, 0.0f};
    q.model = "m";
    q.k = 4;
    q.rrf_k = 60;
    auto hits = db_->memories().search("t", q).value();
    ASSERT_EQ(hits.size(), 4u);
    // m2: vector 2 + keyword r; m3: vector 3 + keyword r'; m1: vector 1 only; m4: vector 4 only.
    std::map<std::int64_t, double> expect;
    for (const auto& h : hits) {
        double s = 0;
        if (h.vector_rank) {
            s += 1.0 / (60.0 + static_cast<double>(*h.vector_rank));
        }
        if (h.keyword_rank) {
            s += 1.0 / (60.0 + static_cast<double>(*h.keyword_rank));
        }
        EXPECT_DOUBLE_EQ(h.score, s);
        expect[h.id] = s;
    }
    EXPECT_TRUE(hits[0].id == m2 || hits[0].id == m3); // found by both parts
    EXPECT_TRUE(hits[1].id == m2 || hits[1].id == m3);
    EXPECT_EQ(hits[2].id, m1);
    EXPECT_EQ(hits[3].id, m4);
    for (std::size_t i = 1; i < hits.size(); ++i) {
        EXPECT_GE(hits[i - 1].score, hits[i].score);
    }
    EXPECT_EQ(*hits[2].vector_rank, 1u);
    EXPECT_FALSE(hits[2].keyword_rank);
}

TEST_F(Hybrid, FiltersAndNamespacesApplyToBothParts) {
    put("shared words alpha", {1, 0}, "a", R"({"lang":"en"})");
    const auto b = put("shared words beta", {1, 0}, "b", R"({"lang":"de"})");
    put("shared words gamma", {0.9f, 0.1f}, "b", R"({"lang":"en"})");
    SearchQuery q;
    q.text = "shared";
    q.embedding = {1, 0};
    q.model = "m";
    q.namespaces = {"b"};
    q.filter_json = R"({"lang":"de"})";
    auto hits = db_->memories().search("t", q).value();
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].id, b);
    EXPECT_TRUE(hits[0].vector_rank && hits[0].keyword_rank);
}

TEST_F(Hybrid, DeletedMemoriesDisappearFromBothParts) {
    const auto a = put("needle in a haystack", {1, 0});
    put("just hay", {0, 1});
    ASSERT_TRUE(db_->memories().remove("t", a).value());
    SearchQuery q;
    q.text = "needle";
    q.embedding = {1, 0};
    q.model = "m";
    for (const auto& h : db_->memories().search("t", q).value()) {
        EXPECT_NE(h.id, a);
    }
}

} // namespace
} // namespace agentd::memory
