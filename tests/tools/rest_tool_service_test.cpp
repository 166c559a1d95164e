// RestToolService on a real SQLite file (memory's ToolStore) and a real loopback endpoint:
// store and registry stay in step on every success and failure, registrations come back after
// the database is reopened (title, annotations and secret headers included), and start-up
// loading skips rows the current policy refuses without deleting them.
#include "agentd/memory/database.h"
#include "agentd/memory/tool_store.h"
#include "agentd/test/env.h"
#include "agentd/tools/errc.h"
#include "agentd/tools/rest_tool_service.h"
#include "agentd/tools/tool_call.h"

#include "http_client/beast_http_client.h"
#include "loopback_http_server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

namespace agentd::tools::test {
namespace {

namespace net = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

/// A tool that answers "builtin" (a real executor: the registry only sees the interface).
class FixedAnswer final : public ToolExecutor {
public:
    void invoke(ToolInvocation, ToolCallback done) const override {
        done(ToolResult::text("builtin"));
    }
};

class RestToolServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = agentd::test::make_temp_dir(std::string("rest-service-") + info->name());
        io_thread_ = std::thread([this] { io_.run(); });
        open();
    }
    void TearDown() override {
        close();
        work_.reset();
        io_.stop();
        io_thread_.join();
        std::filesystem::remove_all(dir_);
    }

    /// Opens the database and a fresh registry + service (a process start).
    void open(RegistryLimits limits = {}) {
        memory::DatabaseOptions options;
        options.path = (dir_ / "agentd.db").string();
        options.durability = memory::Durability::normal; // reopening, not power loss, is tested
        auto db = memory::Database::open(std::move(options));
        ASSERT_TRUE(db) << db.error().what();
        db_ = std::move(*db);
        registry_ = std::make_unique<ToolRegistry>(limits);
        service_ = std::make_unique<RestToolService>(*registry_, db_->tools(), client_, policy_);
    }
    void close() {
        service_.reset();
        registry_.reset();
        db_.reset();
    }
    void reopen(RegistryLimits limits = {}) {
        close();
        open(limits);
    }

    json registration(const std::string& name, const std::string& path = "/echo") const {
        return {{"name", name},
                {"description", "echoes"},
                {"input_schema", {{"type", "object"}}},
                {"endpoint", {{"url", upstream_.url(path)}, {"method", "POST"}}}};
    }

    std::size_t stored(const std::string& tenant) {
        auto n = db_->tools().count(tenant);
        EXPECT_TRUE(n) << n.error().what();
        return n ? static_cast<std::size_t>(*n) : 0;
    }

    ToolResult call(const std::string& tenant, const std::string& name, const json& args) {
        const ToolPtr tool = registry_->find(tenant, name);
        if (!tool) {
            ADD_FAILURE() << "no tool " << name;
            return ToolResult::error("no tool");
        }
        ToolInvocation invocation;
        invocation.tenant = tenant;
        invocation.arguments = share_json(args);
        auto promise = std::make_shared<std::promise<ToolResult>>();
        auto future = promise->get_future();
        call_tool(tool, std::move(invocation),
                  [promise](ToolResult r) { promise->set_value(std::move(r)); });
        if (future.wait_for(30s) != std::future_status::ready) {
            ADD_FAILURE() << "no answer within 30 s";
            return ToolResult::error("no answer");
        }
        return future.get();
    }

    LoopbackHttpServer upstream_;
    std::filesystem::path dir_;
    net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
    std::thread io_thread_;
    std::shared_ptr<HttpClient> client_ = gateway::http_client::make_beast_http_client(io_);
    RestToolPolicy policy_;
    std::unique_ptr<memory::Database> db_;
    std::unique_ptr<ToolRegistry> registry_;
    std::unique_ptr<RestToolService> service_;
};

TEST_F(RestToolServiceTest, RegistrationIsStoredThenPublished) {
    std::atomic<int> changes{0};
    const auto subscription = registry_->watch([&](const CatalogChange& change) {
        EXPECT_EQ(change.tenant, "acme");
        // The row is committed before anyone hears of the tool.
        EXPECT_TRUE(db_->tools().get("acme", "echo"));
        ++changes;
    });
    auto tool = service_->register_tool("acme", registration("echo"));
    ASSERT_TRUE(tool) << tool.error().message;
    EXPECT_EQ((*tool)->definition().source, ToolSource::rest);
    EXPECT_EQ(changes.load(), 1);
    EXPECT_EQ(registry_->find("acme", "echo"), *tool);
    EXPECT_EQ(stored("acme"), 1U);
    EXPECT_EQ(stored("other"), 0U);
    EXPECT_EQ(registry_->find("other", "echo"), nullptr);

    const auto result = call("acme", "echo", {{"q", "hi"}});
    ASSERT_FALSE(result.is_error) << result.joined_text();
    EXPECT_EQ(result.structured_content->at("body"), json({{"q", "hi"}}));
}

TEST_F(RestToolServiceTest, RefusalsLeaveNoRowAndNoTool) {
    ASSERT_TRUE(service_->register_tool("acme", registration("echo")));
    const auto duplicate = service_->register_tool("acme", registration("echo"));
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().code, errc::conflict);
    EXPECT_EQ(duplicate.error().message, "a tool named \"echo\" already exists");

    json bad_schema = registration("bad_schema");
    bad_schema["input_schema"] = {{"type", "object"}, {"properties", {{"a", {{"minimum", "x"}}}}}};
    const auto schema = service_->register_tool("acme", bad_schema);
    ASSERT_FALSE(schema);
    EXPECT_EQ(schema.error().code, errc::invalid_schema) << schema.error().message;

    json metadata = registration("metadata");
    metadata["endpoint"]["url"] = "http://169.254.169.254/latest/meta-data/";
    const auto forbidden = service_->register_tool("acme", metadata);
    ASSERT_FALSE(forbidden);
    EXPECT_EQ(forbidden.error().code, errc::forbidden) << forbidden.error().message;

    EXPECT_FALSE(service_->register_tool("acme", json::array()));
    EXPECT_EQ(stored("acme"), 1U);
    EXPECT_EQ(registry_->catalog("acme")->size(), 1U);
}

TEST_F(RestToolServiceTest, RegistryRefusalRollsTheRowBack) {
    RegistryLimits limits;
    limits.max_tools_per_tenant = 1;
    reopen(limits);
    ASSERT_TRUE(service_->register_tool("acme", registration("first")));
    const auto second = service_->register_tool("acme", registration("second"));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, errc::limit_exceeded) << second.error().message;
    EXPECT_EQ(stored("acme"), 1U);
    EXPECT_FALSE(db_->tools().get("acme", "second"));

    // A shared (built-in) tool's name is taken for every tenant, and it is not deletable here.
    ToolDefinition builtin;
    builtin.name = "clock";
    builtin.description = "built in";
    builtin.input_schema = share_json({{"type", "object"}});
    auto tool = Tool::create(std::move(builtin), std::make_shared<FixedAnswer>());
    ASSERT_TRUE(tool);
    ASSERT_TRUE(registry_->add_shared(*tool));
    const auto clash = service_->register_tool("beta", registration("clock"));
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().code, errc::conflict);
    EXPECT_EQ(stored("beta"), 0U);
    const auto removed = service_->unregister("beta", "clock");
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error().code, errc::conflict) << removed.error().message;
}

TEST_F(RestToolServiceTest, UnregisterRemovesBoth) {
    ASSERT_TRUE(service_->register_tool("acme", registration("echo")));
    const auto other = service_->unregister("beta", "echo");
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, errc::not_found);
    ASSERT_TRUE(service_->unregister("acme", "echo"));
    EXPECT_EQ(stored("acme"), 0U);
    EXPECT_EQ(registry_->find("acme", "echo"), nullptr);
    EXPECT_EQ(service_->unregister("acme", "echo").error().code, errc::not_found);
    // The name is free again.
    EXPECT_TRUE(service_->register_tool("acme", registration("echo")));
}

TEST_F(RestToolServiceTest, RegistrationsSurviveReopening) {
    json full = registration("full");
    full["title"] = "Full";
    full["annotations"] = {{"readOnlyHint", true}};
    full["output_schema"] = {{"type", "object"}, {"required", {"method"}}};
    full["endpoint"]["headers"] = {{"Authorization", "Bearer s3cret"}, {"X-Plain", "p"}};
    full["timeout_ms"] = 4321;
    auto registered = service_->register_tool("acme", full);
    ASSERT_TRUE(registered) << registered.error().message;
    const json details = *(*registered)->details();
    ASSERT_TRUE(service_->register_tool("acme", registration("plain")));
    ASSERT_TRUE(service_->register_tool("beta", registration("plain")));

    reopen();
    EXPECT_EQ(registry_->catalog("acme")->size(), 0U); // nothing until loaded
    auto acme = service_->load_tenant("acme");
    ASSERT_TRUE(acme) << acme.error().message;
    EXPECT_EQ(acme->loaded, 2U);
    EXPECT_TRUE(acme->skipped.empty());
    EXPECT_EQ(registry_->catalog("beta")->size(), 0U);
    ASSERT_TRUE(service_->load_tenant("beta"));
    EXPECT_EQ(registry_->catalog("beta")->size(), 1U);

    const ToolPtr loaded = registry_->find("acme", "full");
    ASSERT_NE(loaded, nullptr);
    EXPECT_EQ(*loaded->details(), details);
    EXPECT_EQ(loaded->definition().title, "Full");
    EXPECT_EQ(details.at("endpoint").at("headers").at("Authorization"), "<redacted>");
    // The secret itself was stored and is sent.
    const auto result = call("acme", "full", json::object());
    ASSERT_FALSE(result.is_error) << result.joined_text();
    EXPECT_EQ(result.structured_content->at("headers").at("authorization"), "Bearer s3cret");
    EXPECT_EQ(result.structured_content->at("headers").at("x-plain"), "p");
}

TEST_F(RestToolServiceTest, LoadingSkipsRowsThePolicyNowRefuses) {
    ASSERT_TRUE(service_->register_tool("acme", registration("local")));
    // A row that passed the store's shape checks but is no valid tool (written by an older or
    // damaged installation).
    memory::ToolRecord broken;
    broken.name = "broken";
    broken.description = "d";
    broken.input_schema_json = R"({"type": 12})";
    broken.endpoint_json = R"({"url": "http://127.0.0.1:1/x", "method": "POST"})";
    ASSERT_TRUE(db_->tools().create("acme", broken));

    policy_.net.allow_loopback = false;
    reopen();
    auto report = service_->load_tenant("acme");
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->loaded, 0U);
    ASSERT_EQ(report->skipped.size(), 2U);
    EXPECT_EQ(report->skipped[0].rfind("broken: ", 0), 0U) << report->skipped[0];
    EXPECT_EQ(report->skipped[1].rfind("local: ", 0), 0U) << report->skipped[1];
    EXPECT_NE(report->skipped[1].find("loopback"), std::string::npos) << report->skipped[1];
    EXPECT_EQ(registry_->catalog("acme")->size(), 0U);
    // Skipped rows are kept: a later policy may accept them again.
    EXPECT_EQ(stored("acme"), 2U);

    policy_.net.allow_loopback = true;
    reopen();
    report = service_->load_tenant("acme");
    ASSERT_TRUE(report);
    EXPECT_EQ(report->loaded, 1U);
    EXPECT_EQ(report->skipped.size(), 1U);
}

TEST_F(RestToolServiceTest, ManyToolsLoadAcrossPages) {
    constexpr int count = 1203; // more than two load pages
    RegistryLimits limits;
    limits.max_tools_per_tenant = 2000;
    reopen(limits);
    for (int i = 0; i < count; ++i) {
        ASSERT_TRUE(service_->register_tool("acme", registration("t" + std::to_string(i))));
    }
    reopen(limits);
    const auto report = service_->load_tenant("acme");
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->loaded, static_cast<std::size_t>(count));
    EXPECT_EQ(registry_->catalog("acme")->size(), static_cast<std::size_t>(count));
}

} // namespace
} // namespace agentd::tools::test
