// Exact k-NN against a brute-force double-precision oracle, for every metric, every kernel
// level the CPU has, serial and parallel scans, int8 with re-scoring, and filtered queries.
#include "agentd/memory/memory_store.h"

#include "memory_test_util.h"
#include "vector/kernels.h"
#include "vector/partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace agentd::memory {
namespace {

struct Row {
    std::int64_t id;
    std::vector<float> v;
    int group;
};

/// The oracle: ids of the k best rows (double precision), best first.
std::vector<std::int64_t> oracle(const std::vector<Row>& rows, const std::vector<float>& q,
                                 Metric metric, std::size_t k,
                                 const std::function<bool(const Row&)>& keep = nullptr) {
    std::vector<std::pair<double, std::int64_t>> scored;
    double qn = 0;
    for (float x : q) {
        qn += double{x} * x;
    }
    for (const auto& r : rows) {
        if (keep && !keep(r)) {
            continue;
        }
        double dot = 0, rn = 0;
        for (std::size_t i = 0; i < q.size(); ++i) {
            dot += double{q[i]} * r.v[i];
            rn += double{r.v[i]} * r.v[i];
        }
        double score = dot;
        if (metric == Metric::cosine) {
            score = dot / std::sqrt(qn * rn);
        } else if (metric == Metric::l2) {
            score = -(rn - 2 * dot + qn);
        }
        scored.emplace_back(-score, r.id);
    }
    std::sort(scored.begin(), scored.end());
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < std::min(k, scored.size()); ++i) {
        out.push_back(scored[i].second);
    }
    return out;
}

std::vector<std::int64_t> ids_of(const std::vector<SearchHit>& hits) {
    std::vector<std::int64_t> out;
    for (const auto& h : hits) {
        out.push_back(h.id);
    }
    return out;
}

double recall(const std::vector<std::int64_t>& got, const std::vector<std::int64_t>& truth) {
    const std::set<std::int64_t> t(truth.begin(), truth.end());
    std::size_t hit = 0;
    for (auto id : got) {
        hit += t.count(id);
    }
    return truth.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(truth.size());
}

TEST(VectorKernels, EveryLevelMatchesTheScalarReference) {
    const vector::Kernels* levels[8];
    const std::size_t n_levels = vector::supported_kernels(levels, 8);
    ASSERT_GE(n_levels, 1u);
    std::mt19937 rng(7);
    for (std::size_t dim : {1u, 15u, 16u, 17u, 100u, 384u, 769u}) {
        const std::size_t stride_f = (dim + 15) / 16 * 16;
        const std::size_t stride_q = (dim + 63) / 64 * 64;
        const std::size_t n = 13; // not a multiple of the 4-row unroll
        vector::AlignedArray<float> rows, q;
        rows.reserve(n * stride_f, 0);
        q.reserve(stride_f, 0);
        vector::AlignedArray<std::int8_t> rows8, q8;
        rows8.reserve(n * stride_q, 0);
        q8.reserve(stride_q, 0);
        std::vector<std::int32_t> sums(n);
        auto qv = test::random_vector(rng, dim);
        std::copy(qv.begin(), qv.end(), q.data());
        std::int32_t qsum = 0;
        vector::quantize_int8(q.data(), dim, q8.data(), &qsum);
        std::vector<double> expect(n);
        for (std::size_t i = 0; i < n; ++i) {
            auto rv = test::random_vector(rng, dim);
            std::copy(rv.begin(), rv.end(), rows.data() + i * stride_f);
            vector::quantize_int8(rv.data(), dim, rows8.data() + i * stride_q, &sums[i]);
            for (std::size_t d = 0; d < dim; ++d) {
                expect[i] += double{qv[d]} * rv[d];
            }
        }
        std::vector<std::int32_t> ref8(n);
        levels[0]->dot_i8_rows(q8.data(), rows8.data(), stride_q, n, sums.data(), ref8.data());
        for (std::size_t l = 0; l < n_levels; ++l) {
            std::vector<float> out(n);
            levels[l]->dot_f32_rows(q.data(), rows.data(), stride_f, n, out.data());
            std::vector<std::int32_t> out8(n);
            levels[l]->dot_i8_rows(q8.data(), rows8.data(), stride_q, n, sums.data(), out8.data());
            for (std::size_t i = 0; i < n; ++i) {
                EXPECT_NEAR(out[i], expect[i], 1e-4 * std::max(1.0, std::sqrt(double(dim))))
                    << levels[l]->name << " dim " << dim;
                EXPECT_EQ(out8[i], ref8[i]) << levels[l]->name << " dim " << dim;
            }
        }
    }
}

class VectorSearch : public ::testing::Test {
protected:
    void fill(std::size_t n, std::size_t dim, unsigned seed) {
        db_ = test::open_db(dir_.db_path(), {.durability = Durability::normal});
        ASSERT_TRUE(db_);
        ASSERT_TRUE(db_->wipe_tenant("t")); // a previous fill of the same file
        std::mt19937 rng(seed);
        std::vector<NewMemory> batch;
        for (std::size_t i = 0; i < n; ++i) {
            const int group = static_cast<int>(i % 10);
            batch.push_back({.ns = group < 3 ? "small" : "big",
                             .metadata_json = R"({"g":)" + std::to_string(group) + "}",
                             .embedding = test::random_vector(rng, dim),
                             .model = "m"});
            if (batch.size() == 10000 || i + 1 == n) {
                auto ids = db_->memories().put_many("t", batch);
                ASSERT_TRUE(ids) << ids.error().what();
                for (std::size_t j = 0; j < batch.size(); ++j) {
                    const int g = static_cast<int>((rows_.size()) % 10);
                    rows_.push_back({(*ids)[j], std::move(batch[j].embedding), g});
                }
                batch.clear();
            }
        }
        queries_.clear();
        for (int i = 0; i < 5; ++i) {
            queries_.push_back(test::random_vector(rng, dim));
        }
    }

    std::vector<std::int64_t> search(const std::vector<float>& q, Metric metric, std::size_t k,
                                     bool int8 = false, std::string filter = {},
                                     std::vector<std::string> ns = {}) {
        SearchQuery s;
        s.embedding = q;
        s.model = "m";
        s.metric = metric;
        s.k = k;
        s.int8 = int8;
        s.filter_json = std::move(filter);
        s.namespaces = std::move(ns);
        s.fetch_rows = false;
        auto hits = db_->memories().search("t", s);
        EXPECT_TRUE(hits) << hits.error().what();
        return hits ? ids_of(*hits) : std::vector<std::int64_t>{};
    }

    test::TempDir dir_{"vector"};
    std::unique_ptr<Database> db_;
    std::vector<Row> rows_;
    std::vector<std::vector<float>> queries_;
};

TEST_F(VectorSearch, ExactMatchesTheOracleForEveryMetricSmallAndParallel) {
    for (std::size_t n : {std::size_t{300}, std::size_t{40000}}) { // 40000 takes the parallel path
        rows_.clear();
        db_.reset();
        fill(n, 48, 11);
        for (Metric metric : {Metric::cosine, Metric::dot, Metric::l2}) {
            for (const auto& q : queries_) {
                EXPECT_EQ(search(q, metric, 10), oracle(rows_, q, metric, 10))
                    << "n " << n << " metric " << static_cast<int>(metric);
            }
        }
    }
}

TEST_F(VectorSearch, Int8WithRescoringKeepsRecall) {
    fill(20000, 64, 3);
    double total = 0;
    for (Metric metric : {Metric::cosine, Metric::l2}) {
        for (const auto& q : queries_) {
            total += recall(search(q, metric, 10, true), oracle(rows_, q, metric, 10));
        }
    }
    EXPECT_GE(total / (2.0 * static_cast<double>(queries_.size())), 0.98);
}

TEST_F(VectorSearch, FiltersApplyInsideTheSearch) {
    fill(5000, 32, 5);
    for (const auto& q : queries_) {
        // 10% selectivity: the filtered top 10 is still the true top 10 of the subset.
        EXPECT_EQ(search(q, Metric::cosine, 10, false, R"({"g":7})"),
                  oracle(rows_, q, Metric::cosine, 10, [](const Row& r) { return r.group == 7; }));
        EXPECT_EQ(search(q, Metric::l2, 10, false, R"({"g":{"$in":[1,2]}})", {"small"}),
                  oracle(rows_, q, Metric::l2, 10,
                         [](const Row& r) { return r.group == 1 || r.group == 2; }));
        EXPECT_EQ(search(q, Metric::dot, 10, true, R"({"g":{"$gte":8}})"),
                  oracle(rows_, q, Metric::dot, 10, [](const Row& r) { return r.group >= 8; }));
    }
    EXPECT_TRUE(search(queries_[0], Metric::cosine, 10, false, {}, {"no-such-ns"}).empty());
    EXPECT_TRUE(search(queries_[0], Metric::cosine, 10, false, R"({"g":99})").empty());
}

TEST_F(VectorSearch, DeletesAndReopenKeepTheMirrorInSyncWithTheTable) {
    fill(2000, 16, 9);
    const auto& q = queries_[0];
    auto before = search(q, Metric::cosine, 5);
    ASSERT_EQ(before.size(), 5u);
    ASSERT_TRUE(db_->memories().remove("t", before[0]).value());
    std::erase_if(rows_, [&](const Row& r) { return r.id == before[0]; });
    auto after = search(q, Metric::cosine, 5);
    EXPECT_EQ(after, oracle(rows_, q, Metric::cosine, 5));
    db_.reset();
    db_ = test::open_db(dir_.db_path());
    ASSERT_TRUE(db_);
    EXPECT_EQ(db_->stats().vectors, rows_.size());
    EXPECT_EQ(search(q, Metric::cosine, 5), after);
    // Other models and dimensions are separate collections.
    SearchQuery other{.embedding = q, .model = "other-model"};
    EXPECT_TRUE(db_->memories().search("t", other).value().empty());
    SearchQuery shorter{.embedding = std::vector<float>(q.begin(), q.begin() + 8), .model = "m"};
    EXPECT_TRUE(db_->memories().search("t", shorter).value().empty());
}

} // namespace
} // namespace agentd::memory
