#include "agentd/memory/errc.h"
#include "agentd/memory/memory_store.h"
#include "agentd/memory/session_store.h"
#include "agentd/memory/tool_store.h"

#include "memory_test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <thread>

namespace agentd::memory {
namespace {

using test::open_db;
using test::TempDir;

TEST(Database, CreatesFileWithLatestSchemaAndReopens) {
    TempDir dir("db-open");
    {
        auto db = open_db(dir.db_path());
        ASSERT_TRUE(db);
        EXPECT_EQ(db->schema_version(), Database::latest_schema_version());
        ASSERT_TRUE(db->sessions().create("t1", {.id = "s1"}));
    }
    auto db = open_db(dir.db_path());
    ASSERT_TRUE(db);
    auto s = db->sessions().get("t1", "s1");
    ASSERT_TRUE(s) << s.error().what();
    EXPECT_EQ(s->id, "s1");
    EXPECT_EQ(db->integrity_check().value(), "ok");
}

TEST(Database, OpenFailsClearlyForMissingDirectory) {
    TempDir dir("db-missing");
    auto db = Database::open({.path = (dir.path() / "no" / "such" / "agentd.db").string()});
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error().code, errc::io_error);
    EXPECT_NE(db.error().message.find("open"), std::string::npos);
}

TEST(Database, OpenRejectsEmptyPathAndNonDatabaseFile) {
    EXPECT_EQ(Database::open({}).error().code, errc::invalid_argument);
    TempDir dir("db-garbage");
    {
        std::ofstream f(dir.db_path(), std::ios::binary);
        f << std::string(8192, 'x');
    }
    auto db = Database::open({.path = dir.db_path()});
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error().code, errc::corrupt) << db.error().what();
}

TEST(Database, ConcurrentWritesShareCommits) {
    TempDir dir("db-group");
    auto db = open_db(dir.db_path());
    ASSERT_TRUE(db);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                NewMemory m;
                m.text = "note " + std::to_string(t) + " " + std::to_string(i);
                EXPECT_TRUE(db->memories().put("tenant", m));
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(db->memories().count("tenant").value(), 200);
    const auto stats = db->stats();
    EXPECT_EQ(stats.write_jobs, 200u);
    EXPECT_LE(stats.commits, stats.write_jobs);
}

TEST(Database, DiskFullIsAnErrorAndKeepsEarlierWrites) {
    TempDir dir("db-full");
    auto db = open_db(dir.db_path(), {.max_db_bytes = 512 * 1024});
    ASSERT_TRUE(db);
    std::vector<std::int64_t> acked;
    base::Error last;
    for (int i = 0; i < 10000; ++i) {
        NewMemory m;
        m.text = std::string(2000, static_cast<char>('a' + i % 26)) + std::to_string(i);
        auto id = db->memories().put("t", m);
        if (!id) {
            last = id.error();
            break;
        }
        acked.push_back(*id);
    }
    ASSERT_FALSE(acked.empty());
    EXPECT_EQ(last.code, errc::disk_full) << last.what();
    // The database keeps working: reads succeed, nothing acknowledged is lost, and a failed
    // write leaves no trace.
    EXPECT_EQ(db->memories().count("t").value(), static_cast<std::int64_t>(acked.size()));
    EXPECT_EQ(db->integrity_check().value(), "ok");
    db.reset();
    auto again = open_db(dir.db_path()); // no cap: writes work again
    ASSERT_TRUE(again);
    EXPECT_EQ(again->memories().count("t").value(), static_cast<std::int64_t>(acked.size()));
    EXPECT_TRUE(again->memories().put("t", {.text = "after the disk had room again"}));
    for (auto id : acked) {
        ASSERT_TRUE(again->memories().get("t", id)) << id;
    }
}

TEST(Database, PurgeLeavesNoDeletedTextInTheFiles) {
    TempDir dir("db-purge");
    auto db = open_db(dir.db_path());
    ASSERT_TRUE(db);
    const std::string secret = "zebracorn-secret-4711";
    NewMemory m;
    m.text = "the password is " + secret;
    m.metadata_json = R"({"note":")" + secret + R"("})";
    const auto id = db->memories().put("t", m).value();
    NewMemory other;
    other.text = "unrelated text stays";
    ASSERT_TRUE(db->memories().put("t", other));
    ASSERT_TRUE(db->memories().remove("t", id).value());
    ASSERT_TRUE(db->purge());
    auto contains = [&](const std::filesystem::path& p) {
        std::ifstream f(p, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), {});
        return bytes.find(secret) != std::string::npos;
    };
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        EXPECT_FALSE(contains(entry.path())) << entry.path();
    }
    SearchQuery q;
    q.text = "zebracorn";
    EXPECT_TRUE(db->memories().search("t", q).value().empty());
}

} // namespace
} // namespace agentd::memory
