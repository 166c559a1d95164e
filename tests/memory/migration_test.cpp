#include "agentd/memory/errc.h"
#include "agentd/memory/memory_store.h"

#include "db/schema.h"
#include "memory_test_util.h"
#include "sqlite/connection.h"

#include <gtest/gtest.h>

namespace agentd::memory {
namespace {

std::unique_ptr<sqlite::Connection> raw_writer(const std::string& path) {
    sqlite::ConnectionSettings s;
    s.writer = true;
    auto c = sqlite::Connection::open(path, s);
    EXPECT_TRUE(c) << c.error().what();
    return c ? std::move(*c) : nullptr;
}

/// A version-1 file (before the keyword index existed) holding one memory.
void make_v1_file(const std::string& path) {
    auto c = raw_writer(path);
    ASSERT_TRUE(c);
    ASSERT_EQ(db::migrate(*c, 1).value(), 1);
    ASSERT_TRUE(c->exec("INSERT INTO tenants(id, created_at) VALUES ('t', 1);"
                        "INSERT INTO memories(tenant_id, text, created_at, updated_at) "
                        "VALUES ('t', 'written before the upgrade', 1, 1);"));
}

TEST(Migration, UpgradesAnOlderFileAndIndexesExistingRows) {
    test::TempDir dir("migrate-up");
    make_v1_file(dir.db_path());
    auto db = test::open_db(dir.db_path());
    ASSERT_TRUE(db);
    EXPECT_EQ(db->schema_version(), Database::latest_schema_version());
    SearchQuery q;
    q.text = "upgrade";
    auto hits = db->memories().search("t", q);
    ASSERT_TRUE(hits) << hits.error().what();
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_EQ(hits->front().memory->text, "written before the upgrade");
    EXPECT_EQ(db->integrity_check().value(), "ok");
}

TEST(Migration, RefusesANewerSchema) {
    test::TempDir dir("migrate-new");
    {
        auto db = test::open_db(dir.db_path());
        ASSERT_TRUE(db);
    }
    {
        auto c = raw_writer(dir.db_path());
        ASSERT_TRUE(c->exec("UPDATE schema_version SET version = 999"));
    }
    auto db = Database::open({.path = dir.db_path()});
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error().code, errc::schema_too_new);
    EXPECT_NE(db.error().message.find("999"), std::string::npos);
}

TEST(Migration, AFailedMigrationLeavesTheOldVersionIntact) {
    test::TempDir dir("migrate-fail");
    make_v1_file(dir.db_path());
    {
        // An object in the way of migration 2 makes it fail half-way through.
        auto c = raw_writer(dir.db_path());
        ASSERT_TRUE(c->exec("CREATE TABLE memories_fts(x)"));
    }
    auto db = Database::open({.path = dir.db_path()});
    ASSERT_FALSE(db);
    EXPECT_NE(db.error().message.find("migration to schema 2"), std::string::npos)
        << db.error().what();
    auto c = raw_writer(dir.db_path());
    EXPECT_EQ(db::read_schema_version(*c).value(), 1);
    auto stmt = c->prepare("SELECT count(*) FROM memories");
    ASSERT_TRUE(stmt->step().value());
    EXPECT_EQ(stmt->int64(0), 1);
    auto trig = c->prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'");
    ASSERT_TRUE(trig->step().value());
    EXPECT_EQ(trig->int64(0), 0); // nothing of migration 2 stuck
}

TEST(Migration, FreshFileRunsEveryMigrationOnce) {
    test::TempDir dir("migrate-fresh");
    auto c = raw_writer(dir.db_path());
    EXPECT_EQ(db::read_schema_version(*c).value(), 0);
    EXPECT_EQ(db::migrate(*c).value(), db::latest_schema_version());
    EXPECT_EQ(db::migrate(*c).value(), db::latest_schema_version()); // idempotent
}

} // namespace
} // namespace agentd::memory
