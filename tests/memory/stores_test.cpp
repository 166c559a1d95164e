#include "agentd/memory/errc.h"
#include "agentd/memory/memory_store.h"
#include "agentd/memory/message_store.h"
#include "agentd/memory/session_store.h"
#include "agentd/memory/task_store.h"
#include "agentd/memory/tool_store.h"

#include "memory_test_util.h"

#include <gtest/gtest.h>

#include <set>

namespace agentd::memory {
namespace {

class Stores : public ::testing::Test {
protected:
    void SetUp() override {
        db_ = test::open_db(dir_.db_path(), {.clock_ms = test::counting_clock()});
        ASSERT_TRUE(db_);
    }
    test::TempDir dir_{"stores"};
    std::unique_ptr<Database> db_;
};

TEST_F(Stores, SessionCreateGetUpdateListRemove) {
    auto& s = db_->sessions();
    auto a = s.create("t", {.id = "a", .agent = "helper", .title = "first"});
    ASSERT_TRUE(a) << a.error().what();
    EXPECT_EQ(a->agent, "helper");
    EXPECT_EQ(a->metadata_json, "{}");
    EXPECT_EQ(s.create("t", {.id = "a"}).error().code, errc::conflict);
    auto generated = s.create("t", {});
    ASSERT_TRUE(generated);
    EXPECT_EQ(generated->id.size(), 36u);
    auto u = s.update("t", "a", "renamed", R"({"k":1})");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->title, "renamed");
    EXPECT_GT(u->updated_at_ms, a->updated_at_ms);
    EXPECT_EQ(s.update("t", "zz", "x", "{}").error().code, errc::not_found);
    EXPECT_EQ(s.update("t", "a", "x", "[1]").error().code, errc::invalid_argument);
    EXPECT_EQ(s.count("t").value(), 2);
    EXPECT_TRUE(s.remove("t", "a").value());
    EXPECT_FALSE(s.remove("t", "a").value());
    EXPECT_EQ(s.get("t", "a").error().code, errc::not_found);
}

TEST_F(Stores, SessionListPagesNewestFirstWithoutGapsOrRepeats) {
    for (int i = 0; i < 25; ++i) {
        ASSERT_TRUE(db_->sessions().create(
            "t", {.id = "s" + std::to_string(i), .agent = i % 2 ? "odd" : "even"}));
    }
    std::vector<std::string> seen;
    PageRequest page{.limit = 7};
    for (;;) {
        auto p = db_->sessions().list("t", page);
        ASSERT_TRUE(p) << p.error().what();
        for (auto& s : p->items) {
            seen.push_back(s.id);
        }
        if (p->next_cursor.empty()) {
            break;
        }
        page.cursor = p->next_cursor;
    }
    ASSERT_EQ(seen.size(), 25u);
    EXPECT_EQ(seen.front(), "s24");
    EXPECT_EQ(seen.back(), "s0");
    EXPECT_EQ(db_->sessions().list("t", {}, "odd").value().items.size(), 12u);
    EXPECT_EQ(db_->sessions().list("t", {.cursor = "nothex"}).error().code, errc::invalid_argument);
}

TEST_F(Stores, SummaryIsAppendOnlyAndMonotonic) {
    ASSERT_TRUE(db_->sessions().create("t", {.id = "s"}));
    auto a = db_->sessions().append_summary("t", "s", "part one", 4);
    ASSERT_TRUE(a);
    auto b = db_->sessions().append_summary("t", "s", "part two", 9);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->summary, "part one\n\npart two");
    EXPECT_EQ(b->summary.rfind(a->summary, 0), 0u); // the old summary is a prefix
    EXPECT_EQ(b->summary_through, 9);
    EXPECT_EQ(db_->sessions().append_summary("t", "s", "x", 3).error().code,
              errc::invalid_argument);
    auto c = db_->sessions().replace_summary("t", "s", "compact", 9);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->summary, "compact");
}

TEST_F(Stores, MessagesAppendInOrderAndTruncate) {
    ASSERT_TRUE(db_->sessions().create("t", {.id = "s"}));
    auto& m = db_->messages();
    std::vector<NewMessage> batch;
    for (int i = 0; i < 5; ++i) {
        batch.push_back({.role = i % 2 ? "assistant" : "user",
                         .content_json = "\"msg " + std::to_string(i) + "\"",
                         .token_count = 3 + i});
    }
    auto seqs = m.append("t", "s", batch);
    ASSERT_TRUE(seqs) << seqs.error().what();
    EXPECT_EQ(*seqs, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(m.append("t", "s", NewMessage{.role = "tool", .content_json = R"({"x":1})"}).value(),
              6);
    auto all = m.list("t", "s");
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 6u);
    EXPECT_EQ((*all)[2].content_json, "\"msg 2\"");
    EXPECT_EQ((*all)[2].token_count, 5);
    auto recent = m.recent("t", "s", 2);
    ASSERT_TRUE(recent);
    ASSERT_EQ(recent->size(), 2u);
    EXPECT_EQ((*recent)[0].seq, 5);
    EXPECT_EQ((*recent)[1].seq, 6);
    EXPECT_EQ(m.list("t", "s", 4).value().size(), 2u);
    EXPECT_EQ(m.truncate_after("t", "s", 3).value(), 3);
    EXPECT_EQ(m.count("t", "s").value(), 3);
    EXPECT_EQ(m.append("t", "s", NewMessage{.role = "user", .content_json = "\"x\""}).value(), 4);
    // Errors: unknown session, bad role, bad JSON; a failed batch writes nothing.
    EXPECT_EQ(m.append("t", "nope", NewMessage{.role = "user", .content_json = "1"}).error().code,
              errc::not_found);
    EXPECT_EQ(m.append("t", "s", NewMessage{.role = "User!", .content_json = "1"}).error().code,
              errc::invalid_argument);
    std::vector<NewMessage> bad{{.role = "user", .content_json = "1"},
                                {.role = "user", .content_json = "{oops"}};
    EXPECT_EQ(m.append("t", "s", bad).error().code, errc::invalid_argument);
    EXPECT_EQ(m.count("t", "s").value(), 4);
    // Deleting the session deletes its messages.
    ASSERT_TRUE(db_->sessions().remove("t", "s").value());
    EXPECT_EQ(m.list("t", "s").error().code, errc::not_found);
}

TEST_F(Stores, TaskLifecycleHistoryArtifactsAndPushConfigs) {
    auto& ts = db_->tasks();
    auto t = ts.create("t", {.id = "task1", .context_id = "ctx", .agent = "a"},
                       R"({"role":"user","parts":[{"kind":"text","text":"hi"}]})");
    ASSERT_TRUE(t) << t.error().what();
    EXPECT_EQ(t->state, TaskState::submitted);
    ASSERT_EQ(t->history_json.size(), 1u);
    EXPECT_EQ(ts.create("t", {.id = "task1"}).error().code, errc::conflict);

    auto w = ts.set_status("t", "task1", TaskState::working, R"({"role":"agent","parts":[]})");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->state, TaskState::working);
    EXPECT_EQ(ts.append_history("t", "task1", R"({"role":"agent","parts":[]})").value(), 2);
    EXPECT_EQ(ts.append_history("t", "nope", "{}").error().code, errc::not_found);

    Artifact a{
        .artifact_id = "out", .name = "result", .parts_json = R"([{"kind":"text","text":"a"}])"};
    ASSERT_TRUE(ts.put_artifact("t", "task1", a, false));
    a.parts_json = R"([{"kind":"text","text":"b"}])";
    a.name.clear();
    auto appended = ts.put_artifact("t", "task1", a, true);
    ASSERT_TRUE(appended) << appended.error().what();
    EXPECT_EQ(appended->name, "result");
    EXPECT_EQ(appended->parts_json, R"([{"kind":"text","text":"a"},{"kind":"text","text":"b"}])");
    ASSERT_TRUE(
        ts.put_artifact("t", "task1", {.artifact_id = "second", .parts_json = "[]"}, false));
    EXPECT_EQ(
        ts.put_artifact("t", "task1", {.artifact_id = "x", .parts_json = "{}"}, false).error().code,
        errc::invalid_argument);

    auto full = ts.get("t", "task1");
    ASSERT_TRUE(full);
    EXPECT_EQ(full->history_json.size(), 2u);
    ASSERT_EQ(full->artifacts.size(), 2u);
    EXPECT_EQ(full->artifacts[0].artifact_id, "out");
    EXPECT_EQ(ts.get("t", "task1", {.history_length = 1}).value().history_json.size(), 1u);
    EXPECT_TRUE(ts.get("t", "task1", {.history_length = 0, .include_artifacts = false})
                    .value()
                    .artifacts.empty());

    // Cancel only from a non-terminal state.
    const std::vector<TaskState> live{TaskState::submitted, TaskState::working,
                                      TaskState::input_required, TaskState::auth_required};
    ASSERT_TRUE(ts.set_status("t", "task1", TaskState::completed, ""));
    auto cancel = ts.set_status("t", "task1", TaskState::canceled, "", live);
    EXPECT_EQ(cancel.error().code, errc::conflict);

    auto pc = ts.put_push_config("t", {.task_id = "task1", .config_json = R"({"url":"http://x"})"});
    ASSERT_TRUE(pc) << pc.error().what();
    EXPECT_FALSE(pc->id.empty());
    EXPECT_EQ(ts.list_push_configs("t", "task1").value().size(), 1u);
    EXPECT_EQ(ts.get_push_config("t", "task1", pc->id).value().config_json,
              R"({"url":"http://x"})");
    EXPECT_EQ(ts.put_push_config("t", {.task_id = "nope", .config_json = "{}"}).error().code,
              errc::not_found);
    EXPECT_TRUE(ts.remove_push_config("t", "task1", pc->id).value());
    EXPECT_EQ(ts.get_push_config("t", "task1", pc->id).error().code, errc::not_found);

    EXPECT_TRUE(ts.remove("t", "task1").value());
    EXPECT_EQ(ts.get("t", "task1").error().code, errc::not_found);
}

TEST_F(Stores, TaskListFiltersAndRecovery) {
    auto& ts = db_->tasks();
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(ts.create(i < 7 ? "t" : "u", {.id = "k" + std::to_string(i),
                                                  .context_id = i % 2 ? "odd" : "even"}));
    }
    ASSERT_TRUE(ts.set_status("t", "k0", TaskState::completed, ""));
    ASSERT_TRUE(ts.set_status("t", "k1", TaskState::working, ""));
    EXPECT_EQ(ts.list("t", {}).value().items.size(), 7u);
    EXPECT_EQ(ts.list("t", {.context_id = "odd"}).value().items.size(), 3u);
    EXPECT_EQ(ts.list("t", {.state = TaskState::working}).value().items.front().id, "k1");
    auto first = ts.list("t", {}).value().items.front();
    EXPECT_EQ(first.id, "k1"); // most recently updated
    std::set<std::string> pages;
    TaskListQuery q;
    q.page.limit = 3;
    for (;;) {
        auto p = ts.list("t", q).value();
        for (auto& t : p.items) {
            EXPECT_TRUE(pages.insert(t.id).second);
        }
        if (p.next_cursor.empty()) {
            break;
        }
        q.page.cursor = p.next_cursor;
    }
    EXPECT_EQ(pages.size(), 7u);
    // Recovery spans tenants and skips terminal tasks.
    std::set<std::string> in_flight;
    PageRequest page{.limit = 4};
    for (;;) {
        auto p = ts.list_in_flight(page).value();
        for (auto& t : p.items) {
            in_flight.insert(t.tenant + "/" + t.id);
        }
        if (p.next_cursor.empty()) {
            break;
        }
        page.cursor = p.next_cursor;
    }
    EXPECT_EQ(in_flight.size(), 9u);
    EXPECT_EQ(in_flight.count("t/k0"), 0u);
    EXPECT_EQ(in_flight.count("u/k9"), 1u);
}

TEST_F(Stores, ToolsCrudAndValidation) {
    auto& tools = db_->tools();
    ToolRecord t{.name = "weather",
                 .description = "Weather by city",
                 .input_schema_json = R"({"type":"object"})",
                 .endpoint_json = R"({"url":"http://127.0.0.1:1/x","method":"POST"})",
                 .timeout_ms = 5000};
    auto created = tools.create("t", t);
    ASSERT_TRUE(created) << created.error().what();
    EXPECT_GT(created->created_at_ms, 0);
    EXPECT_EQ(tools.create("t", t).error().code, errc::conflict);
    t.description = "changed";
    auto up = tools.upsert("t", t);
    ASSERT_TRUE(up);
    EXPECT_EQ(up->description, "changed");
    EXPECT_EQ(up->created_at_ms, created->created_at_ms);
    EXPECT_TRUE(tools.get("t", "weather").value().output_schema_json.empty());
    for (int i = 0; i < 5; ++i) {
        t.name = "tool" + std::to_string(i);
        ASSERT_TRUE(tools.create("t", t));
    }
    auto p1 = tools.list("t", {.limit = 4}).value();
    ASSERT_EQ(p1.items.size(), 4u);
    EXPECT_EQ(p1.items[0].name, "tool0");
    auto p2 = tools.list("t", {.limit = 4, .cursor = p1.next_cursor}).value();
    ASSERT_EQ(p2.items.size(), 2u);
    EXPECT_EQ(p2.items.back().name, "weather");
    EXPECT_TRUE(p2.next_cursor.empty());
    EXPECT_EQ(tools.count("t").value(), 6);
    t.name = "bad name";
    EXPECT_EQ(tools.create("t", t).error().code, errc::invalid_argument);
    t.name = "ok";
    t.input_schema_json = "not json";
    auto bad = tools.create("t", t);
    EXPECT_EQ(bad.error().code, errc::invalid_argument);
    EXPECT_NE(bad.error().message.find("input_schema"), std::string::npos);
    t.input_schema_json = "{}";
    t.timeout_ms = 0;
    EXPECT_EQ(tools.create("t", t).error().code, errc::invalid_argument);
    EXPECT_TRUE(tools.remove("t", "weather").value());
    EXPECT_FALSE(tools.remove("t", "weather").value());
    EXPECT_EQ(tools.get("t", "weather").error().code, errc::not_found);
}

TEST_F(Stores, MemoriesCrudUpdateAndPinned) {
    auto& ms = db_->memories();
    NewMemory m{.ns = "notes",
                .text = "alpha beta",
                .metadata_json = R"({"kind":"fact"})",
                .embedding = {1, 0, 0},
                .model = "m",
                .pinned = true,
                .provenance_json = R"({"session":"s1"})"};
    const auto id = ms.put("t", m).value();
    auto got = ms.get("t", id, true);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->ns, "notes");
    EXPECT_EQ(got->embedding, (std::vector<float>{1, 0, 0}));
    EXPECT_EQ(got->dim, 3u);
    EXPECT_EQ(got->provenance_json, R"({"session":"s1"})");
    EXPECT_TRUE(ms.get("t", id).value().embedding.empty());
    EXPECT_EQ(ms.pinned("t", {}).value().size(), 1u);

    auto u = ms.update(
        "t", id, {.text = "gamma", .pinned = false, .embedding = std::vector<float>{0, 1, 0}});
    ASSERT_TRUE(u) << u.error().what();
    EXPECT_EQ(u->text, "gamma");
    EXPECT_TRUE(ms.pinned("t", {}).value().empty());
    SearchQuery kw;
    kw.text = "alpha";
    EXPECT_TRUE(ms.search("t", kw).value().empty()); // the old text left the index
    kw.text = "gamma";
    EXPECT_EQ(ms.search("t", kw).value().size(), 1u);
    SearchQuery vq;
    vq.embedding = {0, 1, 0};
    vq.model = "m";
    auto hits = ms.search("t", vq).value();
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_NEAR(*hits[0].vector_score, 1.0f, 1e-6);
    // Removing the embedding removes the vector.
    ASSERT_TRUE(ms.update("t", id, {.embedding = std::vector<float>{}}));
    EXPECT_TRUE(ms.search("t", vq).value().empty());
    EXPECT_EQ(ms.update("t", 999999, {.text = "x"}).error().code, errc::not_found);

    // Validation.
    EXPECT_EQ(ms.put("t", NewMemory{}).error().code, errc::invalid_argument);
    EXPECT_EQ(ms.put("t", {.text = "x", .embedding = {1, 2}}).error().code,
              errc::invalid_argument); // no model
    EXPECT_EQ(ms.put("t", {.embedding = {1, std::numeric_limits<float>::quiet_NaN()}, .model = "m"})
                  .error()
                  .code,
              errc::invalid_argument);
    EXPECT_EQ(ms.put("t", {.text = "\xff\xfe"}).error().code, errc::invalid_argument);
    EXPECT_EQ(ms.put("t", {.text = "x", .metadata_json = "[1]"}).error().code,
              errc::invalid_argument);
    EXPECT_EQ(
        ms.put("t", {.text = "x", .metadata_json = std::string(100, '[') + std::string(100, ']')})
            .error()
            .code,
        errc::invalid_argument);
}

TEST_F(Stores, MemoryListFiltersAndBulkDelete) {
    auto& ms = db_->memories();
    std::vector<NewMemory> batch;
    for (int i = 0; i < 30; ++i) {
        batch.push_back({.ns = i % 3 == 0 ? "a" : "b",
                         .text = "item " + std::to_string(i),
                         .metadata_json = R"({"i":)" + std::to_string(i) + "}",
                         .embedding = {static_cast<float>(i), 1},
                         .model = "m"});
    }
    auto ids = ms.put_many("t", batch);
    ASSERT_TRUE(ids);
    ASSERT_EQ(ids->size(), 30u);
    EXPECT_EQ(ms.count("t").value(), 30);
    const std::vector<std::string> a{"a"};
    EXPECT_EQ(ms.count("t", a).value(), 10);
    auto listed = ms.list("t", {.namespaces = a, .filter_json = R"({"i":{"$gte":15}})"}).value();
    ASSERT_EQ(listed.items.size(), 5u);
    EXPECT_EQ(listed.items.front().text, "item 15");
    std::vector<std::int64_t> seen;
    MemoryListQuery q{.page = {.limit = 8}};
    for (;;) {
        auto p = ms.list("t", q).value();
        for (auto& m : p.items) {
            seen.push_back(m.id);
        }
        if (p.next_cursor.empty()) {
            break;
        }
        q.page.cursor = p.next_cursor;
    }
    EXPECT_EQ(seen, *ids);
    EXPECT_EQ(ms.remove_where("t", a, R"({"i":{"$lt":10}})").value(), 4); // 0,3,6,9
    EXPECT_EQ(ms.count("t").value(), 26);
    EXPECT_EQ(ms.remove_many("t", std::vector<std::int64_t>{(*ids)[1], (*ids)[2], 424242}).value(),
              2);
    EXPECT_EQ(db_->stats().vectors, 24u);
    EXPECT_EQ(ms.list("t", {.filter_json = R"({"$bogus":1})"}).error().code,
              errc::invalid_argument);
}

} // namespace
} // namespace agentd::memory
