#pragma once
/// A fresh database in a temp directory per test, removed afterwards.

#include "agentd/memory/database.h"
#include "agentd/test/env.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <vector>

namespace agentd::memory::test {

class TempDir {
public:
    explicit TempDir(const std::string& tag) : path_(agentd::test::make_temp_dir(tag)) {}
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] std::string db_path() const { return (path_ / "agentd.db").string(); }

private:
    std::filesystem::path path_;
};

inline std::unique_ptr<Database> open_db(const std::string& path, DatabaseOptions o = {}) {
    o.path = path;
    auto db = Database::open(std::move(o));
    if (!db) {
        ADD_FAILURE() << "open failed: " << db.error().what();
        return nullptr;
    }
    return std::move(*db);
}

/// Deterministic test clock: every call returns the next millisecond.
inline std::function<std::int64_t()> counting_clock(std::int64_t start = 1'700'000'000'000) {
    auto t = std::make_shared<std::int64_t>(start);
    auto m = std::make_shared<std::mutex>();
    return [t, m] {
        std::lock_guard lock(*m);
        return (*t)++;
    };
}

inline std::vector<float> random_vector(std::mt19937& rng, std::size_t dim) {
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(dim);
    for (auto& x : v) {
        x = u(rng);
    }
    return v;
}

} // namespace agentd::memory::test
