// The tool registry: Tool::create checks, snapshots, ordering, pagination, tenant isolation,
// shared tools, atomic edits, listeners.
#include "agentd/tools/errc.h"
#include "agentd/tools/tool_registry.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

namespace agentd::tools {
namespace {

/// A real (trivial) tool implementation: answers with the number of arguments it got.
class CountArguments final : public ToolExecutor {
public:
    void invoke(ToolInvocation invocation, ToolCallback done) const override {
        done(ToolResult::text(std::to_string(invocation.arguments->size())));
    }
};

ToolPtr make_tool(const std::string& name, ToolSource source = ToolSource::rest) {
    ToolDefinition d;
    d.name = name;
    d.description = "tool " + name;
    d.input_schema = share_json({{"type", "object"}});
    d.source = source;
    auto tool = Tool::create(std::move(d), std::make_shared<CountArguments>());
    EXPECT_TRUE(tool.has_value()) << (tool ? "" : tool.error().message);
    return *tool;
}

std::vector<std::string> names(const CatalogPtr& c) {
    std::vector<std::string> out;
    for (const auto& t : c->tools()) {
        out.push_back(t->name());
    }
    return out;
}

TEST(Tool, CreateChecksNameAndSchemas) {
    ToolDefinition d;
    d.name = "bad name";
    d.input_schema = share_json({{"type", "object"}});
    auto exec = std::make_shared<CountArguments>();
    auto r = Tool::create(d, exec);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_argument);
    d.name = std::string(129, 'a');
    EXPECT_FALSE(Tool::create(d, exec));
    d.name = std::string(128, 'a');
    EXPECT_TRUE(Tool::create(d, exec));
    d.name = "ok.name-1_x";
    EXPECT_TRUE(Tool::create(d, exec));

    d.input_schema = share_json({{"type", "string"}});
    r = Tool::create(d, exec);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid_schema);
    EXPECT_NE(r.error().message.find("input_schema: the root must be"), std::string::npos);
    d.input_schema = share_json(true);
    EXPECT_FALSE(Tool::create(d, exec));
    d.input_schema = nullptr;
    EXPECT_FALSE(Tool::create(d, exec));
    d.input_schema = share_json({{"type", "object"}, {"properties", {{"a", {{"type", "x"}}}}}});
    r = Tool::create(d, exec);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message.rfind("input_schema: /properties/a/type: unknown type", 0), 0U)
        << r.error().message;

    d.input_schema = share_json({{"type", "object"}});
    d.output_schema = share_json({{"type", "array"}});
    r = Tool::create(d, exec);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("output_schema:"), std::string::npos);
    d.output_schema = share_json({{"type", "object"}, {"required", {"x"}}});
    ASSERT_TRUE(Tool::create(d, exec));
    EXPECT_NE((*Tool::create(d, exec))->output_validator(), nullptr);
    EXPECT_FALSE(Tool::create(d, nullptr));
}

TEST(Tool, McpShapes) {
    ToolDefinition d;
    d.name = "t";
    d.title = "T";
    d.description = "does t";
    d.input_schema = share_json({{"type", "object"}});
    d.annotations = share_json({{"readOnlyHint", true}});
    const auto j = to_mcp_tool(d);
    EXPECT_EQ(j.dump(), R"({"annotations":{"readOnlyHint":true},"description":"does t",)"
                        R"("inputSchema":{"type":"object"},"name":"t","title":"T"})");
    ToolResult r = ToolResult::error("boom");
    r.structured_content = share_json({{"a", 1}});
    EXPECT_EQ(to_call_tool_result(r).dump(),
              R"({"content":[{"text":"boom","type":"text"}],"isError":true,)"
              R"("structuredContent":{"a":1}})");
    EXPECT_EQ(to_string(ToolSource::mcp_upstream), "mcp-upstream");
    EXPECT_EQ(parse_tool_source("a2a-peer"), ToolSource::a2a_peer);
    EXPECT_FALSE(parse_tool_source("nope"));
}

TEST(ToolRegistry, CatalogIsSortedAndPaginates) {
    ToolRegistry registry;
    std::vector<std::string> all;
    for (int i = 0; i < 50; ++i) {
        all.push_back("tool_" + std::to_string(i));
    }
    auto shuffled = all;
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
    for (const auto& n : shuffled) {
        ASSERT_TRUE(registry.add("t1", make_tool(n)));
    }
    std::sort(all.begin(), all.end());
    const auto catalog = registry.catalog("t1");
    EXPECT_EQ(names(catalog), all);

    std::vector<std::string> paged;
    std::string cursor;
    for (int pages = 0; pages < 100; ++pages) {
        const auto page = catalog->page_after(cursor, 7);
        if (page.empty()) {
            break;
        }
        for (const auto& t : page) {
            paged.push_back(t->name());
        }
        cursor = page.back()->name();
    }
    EXPECT_EQ(paged, all);
    EXPECT_TRUE(catalog->page_after(all.back(), 10).empty());
    EXPECT_EQ(catalog->page_after("", 0).size(), 0U);
    EXPECT_EQ(catalog->page_after("tool_10x", 2).front()->name(), "tool_11");
}

TEST(ToolRegistry, SnapshotsAreImmutable) {
    ToolRegistry registry;
    ASSERT_TRUE(registry.add("t", make_tool("a")));
    const auto before = registry.catalog("t");
    ASSERT_TRUE(registry.add("t", make_tool("b")));
    ASSERT_TRUE(registry.remove("t", "a"));
    EXPECT_EQ(names(before), std::vector<std::string>{"a"});
    EXPECT_NE(before->find("a"), nullptr);
    EXPECT_EQ(names(registry.catalog("t")), std::vector<std::string>{"b"});
    EXPECT_GT(registry.catalog("t")->version(), before->version());
}

TEST(ToolRegistry, TenantsAreIsolated) {
    ToolRegistry registry;
    ASSERT_TRUE(registry.add("alice", make_tool("search")));
    ASSERT_TRUE(registry.add("bob", make_tool("search")));
    ASSERT_TRUE(registry.add("bob", make_tool("bob_only")));
    EXPECT_EQ(registry.find("alice", "bob_only"), nullptr);
    EXPECT_NE(registry.find("bob", "bob_only"), nullptr);
    EXPECT_NE(registry.find("alice", "search"), registry.find("bob", "search"));
    EXPECT_EQ(registry.catalog("carol")->size(), 0U);
    auto removed = registry.remove("alice", "bob_only");
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error().code, errc::not_found);
    EXPECT_NE(registry.find("bob", "bob_only"), nullptr);
}

TEST(ToolRegistry, ConflictsAndLimits) {
    RegistryLimits limits;
    limits.max_tools_per_tenant = 3;
    ToolRegistry registry(limits);
    ASSERT_TRUE(registry.add("t", make_tool("a")));
    auto dup = registry.add("t", make_tool("a"));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, errc::conflict);
    EXPECT_EQ(dup.error().message, "a tool named \"a\" already exists");
    ASSERT_TRUE(registry.add("t", make_tool("b")));
    ASSERT_TRUE(registry.add("t", make_tool("c")));
    auto full = registry.add("t", make_tool("d"));
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, errc::limit_exceeded);
    EXPECT_EQ(registry.catalog("t")->size(), 3U);
}

TEST(ToolRegistry, SharedToolsReachEveryTenant) {
    ToolRegistry registry;
    ASSERT_TRUE(registry.add("t1", make_tool("mine")));
    ASSERT_TRUE(registry.add_shared(make_tool("sandbox_run", ToolSource::sandbox)));
    EXPECT_EQ(names(registry.catalog("t1")), (std::vector<std::string>{"mine", "sandbox_run"}));
    EXPECT_EQ(names(registry.catalog("t2")), (std::vector<std::string>{"sandbox_run"}));
    auto clash = registry.add("t2", make_tool("sandbox_run"));
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().code, errc::conflict);
    EXPECT_NE(clash.error().message.find("built-in"), std::string::npos);
    auto shared_clash = registry.add_shared(make_tool("mine"));
    ASSERT_FALSE(shared_clash);
    EXPECT_NE(shared_clash.error().message.find("tenant \"t1\""), std::string::npos);
    EXPECT_FALSE(registry.remove("t1", "sandbox_run"));
    ASSERT_TRUE(registry.remove_shared("sandbox_run"));
    EXPECT_EQ(names(registry.catalog("t1")), std::vector<std::string>{"mine"});
    EXPECT_FALSE(registry.remove_shared("sandbox_run"));
}

TEST(ToolRegistry, EditsAreAtomic) {
    ToolRegistry registry;
    ASSERT_TRUE(registry.add("t", make_tool("a")));
    int notifications = 0;
    const auto sub = registry.watch([&](const CatalogChange&) { ++notifications; });
    CatalogEdit bad;
    bad.remove = {"a"};
    bad.add = {make_tool("b"), make_tool("b")};
    EXPECT_FALSE(registry.apply("t", bad));
    EXPECT_EQ(names(registry.catalog("t")), std::vector<std::string>{"a"});
    EXPECT_EQ(notifications, 0);
    CatalogEdit missing;
    missing.remove = {"zz"};
    EXPECT_EQ(registry.apply("t", missing).error().code, errc::not_found);
    CatalogEdit good;
    good.remove = {"a"};
    good.add = {make_tool("a"), make_tool("b")};
    ASSERT_TRUE(registry.apply("t", good));
    EXPECT_EQ(names(registry.catalog("t")), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(notifications, 1);
}

TEST(ToolRegistry, ListenersHearChangesUntilUnsubscribed) {
    ToolRegistry registry;
    std::vector<CatalogChange> seen;
    std::size_t size_seen_inside = 0;
    auto sub = registry.watch([&](const CatalogChange& c) {
        seen.push_back(c);
        size_seen_inside = registry.catalog(c.tenant)->size();
    });
    ASSERT_TRUE(registry.add("t1", make_tool("a")));
    ASSERT_TRUE(registry.add("t2", make_tool("b")));
    ASSERT_TRUE(registry.add_shared(make_tool("c")));
    ASSERT_EQ(seen.size(), 3U);
    EXPECT_EQ(seen[0].tenant, "t1");
    EXPECT_EQ(seen[1].tenant, "t2");
    EXPECT_EQ(seen[2].tenant, "");
    EXPECT_LT(seen[0].version, seen[1].version);
    EXPECT_EQ(size_seen_inside, 1U); // the shared catalogue, published before listeners run
    sub.reset();
    ASSERT_TRUE(registry.add("t1", make_tool("d")));
    EXPECT_EQ(seen.size(), 3U);
}

TEST(ToolRegistry, ListenerMayUnsubscribeItselfAndOutliveTheRegistry) {
    Subscription keep;
    int calls = 0;
    {
        ToolRegistry registry;
        Subscription self;
        self = registry.watch([&](const CatalogChange&) {
            ++calls;
            self.reset();
        });
        ASSERT_TRUE(registry.add("t", make_tool("a")));
        ASSERT_TRUE(registry.add("t", make_tool("b")));
        keep = registry.watch([](const CatalogChange&) {});
    }
    EXPECT_EQ(calls, 1);
    keep.reset(); // registry already gone: must not crash
}

TEST(ToolRegistry, ConcurrentWritersAndReaders) {
    ToolRegistry registry;
    std::atomic<bool> stop{false};
    std::atomic<int> bad_snapshots{0};
    std::atomic<int> notifications{0};
    const auto sub = registry.watch([&](const CatalogChange&) { ++notifications; });
    std::vector<std::thread> threads;
    for (int w = 0; w < 2; ++w) {
        threads.emplace_back([&, w] {
            for (int i = 0; i < 300; ++i) {
                const std::string name = "w" + std::to_string(w) + "_" + std::to_string(i % 20);
                if (!registry.add("t", make_tool(name))) {
                    (void)registry.remove("t", name);
                }
            }
        });
    }
    threads.emplace_back([&] {
        while (!stop) {
            const auto c = registry.catalog("t");
            if (!std::is_sorted(
                    c->tools().begin(), c->tools().end(),
                    [](const ToolPtr& a, const ToolPtr& b) { return a->name() < b->name(); })) {
                ++bad_snapshots;
            }
        }
    });
    threads[0].join();
    threads[1].join();
    stop = true;
    threads[2].join();
    EXPECT_EQ(bad_snapshots.load(), 0);
    EXPECT_EQ(notifications.load(), 600);
}

} // namespace
} // namespace agentd::tools
