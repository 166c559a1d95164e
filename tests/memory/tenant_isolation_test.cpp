// Tenant A can never read, search, count, update or delete tenant B's rows — through every API.
#include "agentd/memory/errc.h"
#include "agentd/memory/memory_store.h"
#include "agentd/memory/message_store.h"
#include "agentd/memory/session_store.h"
#include "agentd/memory/task_store.h"
#include "agentd/memory/tool_store.h"

#include "memory_test_util.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace agentd::memory {
namespace {

class TenantIsolation : public ::testing::Test {
protected:
    void SetUp() override {
        db_ = test::open_db(dir_.db_path());
        ASSERT_TRUE(db_);
        // Tenant B owns one of everything, under ids tenant A will guess.
        ASSERT_TRUE(db_->sessions().create("B", {.id = "s"}));
        ASSERT_TRUE(db_->messages().append(
            "B", "s", NewMessage{.role = "user", .content_json = "\"b secret\""}));
        ASSERT_TRUE(db_->tasks().create("B", {.id = "task", .context_id = "ctx"}, R"({"m":1})"));
        ASSERT_TRUE(
            db_->tasks().put_push_config("B", {.task_id = "task", .id = "p", .config_json = "{}"}));
        ASSERT_TRUE(db_->tools().create(
            "B", {.name = "tool", .input_schema_json = "{}", .endpoint_json = "{}"}));
        b_memory_ = db_->memories()
                        .put("B", {.ns = "n",
                                   .text = "bravo secret words",
                                   .metadata_json = R"({"k":"v"})",
                                   .embedding = {1, 0, 0},
                                   .model = "m",
                                   .pinned = true})
                        .value();
        // Tenant A has its own, similar rows.
        ASSERT_TRUE(db_->memories().put(
            "A", {.ns = "n", .text = "alpha words", .embedding = {0, 1, 0}, .model = "m"}));
    }

    void expect_b_intact() {
        EXPECT_TRUE(db_->sessions().get("B", "s"));
        EXPECT_EQ(db_->messages().count("B", "s").value(), 1);
        EXPECT_TRUE(db_->tasks().get("B", "task"));
        EXPECT_TRUE(db_->tasks().get_push_config("B", "task", "p"));
        EXPECT_TRUE(db_->tools().get("B", "tool"));
        auto m = db_->memories().get("B", b_memory_);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->text, "bravo secret words");
    }

    test::TempDir dir_{"isolation"};
    std::unique_ptr<Database> db_;
    std::int64_t b_memory_ = 0;
};

TEST_F(TenantIsolation, ReadsAndCountsSeeNothingOfTheOtherTenant) {
    EXPECT_EQ(db_->sessions().get("A", "s").error().code, errc::not_found);
    EXPECT_TRUE(db_->sessions().list("A", {}).value().items.empty());
    EXPECT_EQ(db_->sessions().count("A").value(), 0);
    EXPECT_EQ(db_->messages().list("A", "s").error().code, errc::not_found);
    EXPECT_EQ(db_->messages().recent("A", "s", 10).error().code, errc::not_found);
    EXPECT_EQ(db_->messages().count("A", "s").value(), 0);
    EXPECT_EQ(db_->tasks().get("A", "task").error().code, errc::not_found);
    EXPECT_TRUE(db_->tasks().list("A", {}).value().items.empty());
    EXPECT_TRUE(db_->tasks().list("A", {.context_id = "ctx"}).value().items.empty());
    EXPECT_EQ(db_->tasks().count("A").value(), 0);
    EXPECT_EQ(db_->tasks().get_push_config("A", "task", "p").error().code, errc::not_found);
    EXPECT_EQ(db_->tasks().list_push_configs("A", "task").error().code, errc::not_found);
    EXPECT_EQ(db_->tools().get("A", "tool").error().code, errc::not_found);
    EXPECT_TRUE(db_->tools().list("A", {}).value().items.empty());
    EXPECT_EQ(db_->tools().count("A").value(), 0);
    EXPECT_EQ(db_->memories().get("A", b_memory_).error().code, errc::not_found);
    EXPECT_EQ(db_->memories().count("A").value(), 1);
    EXPECT_TRUE(db_->memories().pinned("A", {}).value().empty());
    for (const auto& m : db_->memories().list("A", {}).value().items) {
        EXPECT_NE(m.id, b_memory_);
    }
}

TEST_F(TenantIsolation, SearchesNeverReturnTheOtherTenantsMemories) {
    SearchQuery q;
    q.text = "bravo secret";
    EXPECT_TRUE(db_->memories().search("A", q).value().empty());
    q.keyword_syntax = KeywordSyntax::fts5;
    q.text = "bravo OR secret OR words";
    for (const auto& h : db_->memories().search("A", q).value()) {
        EXPECT_NE(h.id, b_memory_);
    }
    SearchQuery v;
    v.embedding = {1, 0, 0}; // B's exact vector
    v.model = "m";
    v.k = 100;
    for (bool int8 : {false, true}) {
        v.int8 = int8;
        auto hits = db_->memories().search("A", v).value();
        ASSERT_EQ(hits.size(), 1u);
        EXPECT_NE(hits[0].id, b_memory_);
    }
    v.filter_json = R"({"k":"v"})";
    EXPECT_TRUE(db_->memories().search("A", v).value().empty());
}

TEST_F(TenantIsolation, WritesAndDeletesCannotReachTheOtherTenant) {
    EXPECT_EQ(db_->sessions().update("A", "s", "x", "{}").error().code, errc::not_found);
    EXPECT_EQ(db_->sessions().append_summary("A", "s", "x", 1).error().code, errc::not_found);
    EXPECT_FALSE(db_->sessions().remove("A", "s").value());
    EXPECT_EQ(db_->messages()
                  .append("A", "s", NewMessage{.role = "user", .content_json = "1"})
                  .error()
                  .code,
              errc::not_found);
    EXPECT_EQ(db_->messages().truncate_after("A", "s", 0).value(), 0);
    EXPECT_EQ(db_->tasks().set_status("A", "task", TaskState::canceled, "").error().code,
              errc::not_found);
    EXPECT_EQ(db_->tasks().set_metadata("A", "task", "{}").error().code, errc::not_found);
    EXPECT_EQ(db_->tasks().append_history("A", "task", "{}").error().code, errc::not_found);
    EXPECT_EQ(db_->tasks().put_artifact("A", "task", {.artifact_id = "x"}, false).error().code,
              errc::not_found);
    EXPECT_EQ(
        db_->tasks().put_push_config("A", {.task_id = "task", .config_json = "{}"}).error().code,
        errc::not_found);
    EXPECT_FALSE(db_->tasks().remove_push_config("A", "task", "p").value());
    EXPECT_FALSE(db_->tasks().remove("A", "task").value());
    EXPECT_FALSE(db_->tools().remove("A", "tool").value());
    // A creating the same names makes A's own rows, not B's.
    ASSERT_TRUE(db_->sessions().create("A", {.id = "s"}));
    ASSERT_TRUE(db_->tasks().create("A", {.id = "task"}));
    ASSERT_TRUE(db_->tools().create(
        "A", {.name = "tool", .input_schema_json = "{}", .endpoint_json = "{}"}));
    EXPECT_EQ(db_->memories().update("A", b_memory_, {.text = "pwned"}).error().code,
              errc::not_found);
    EXPECT_FALSE(db_->memories().remove("A", b_memory_).value());
    EXPECT_EQ(db_->memories().remove_many("A", std::vector<std::int64_t>{b_memory_}).value(), 0);
    EXPECT_EQ(db_->memories().remove_where("A", {}, "").value(), 1); // only A's own memory
    expect_b_intact();
}

TEST_F(TenantIsolation, WipeRemovesEverythingOfOneTenantOnly) {
    ASSERT_TRUE(db_->memories().put("A", {.text = "keep me"}));
    EXPECT_TRUE(db_->wipe_tenant("B").value());
    EXPECT_FALSE(db_->wipe_tenant("B").value());
    EXPECT_EQ(db_->sessions().count("B").value(), 0);
    EXPECT_EQ(db_->messages().count("B", "s").value(), 0);
    EXPECT_EQ(db_->tasks().count("B").value(), 0);
    EXPECT_EQ(db_->tools().count("B").value(), 0);
    EXPECT_EQ(db_->memories().count("B").value(), 0);
    SearchQuery q;
    q.text = "bravo";
    EXPECT_TRUE(db_->memories().search("B", q).value().empty());
    SearchQuery v{.embedding = {1, 0, 0}, .model = "m"};
    EXPECT_TRUE(db_->memories().search("B", v).value().empty());
    EXPECT_EQ(db_->stats().vectors, 1u); // A's vector only
    EXPECT_EQ(db_->memories().count("A").value(), 2);
    // Nothing of B is left in any table.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open_v2(dir_.db_path().c_str(), &raw, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    for (const char* table : {"tenants", "sessions", "messages", "tasks", "task_history",
                              "artifacts", "push_configs", "tools", "memories"}) {
        const std::string sql =
            std::string("SELECT count(*) FROM ") + table +
            (std::string(table) == "tenants" ? " WHERE id = 'B'" : " WHERE tenant_id = 'B'");
        sqlite3_stmt* stmt = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << table;
        ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
        EXPECT_EQ(sqlite3_column_int64(stmt, 0), 0) << table;
        sqlite3_finalize(stmt);
    }
    sqlite3_close(raw);
    // The reopened mirror agrees.
    db_.reset();
    db_ = test::open_db(dir_.db_path());
    EXPECT_EQ(db_->stats().vectors, 1u);
}

} // namespace
} // namespace agentd::memory
