// REST tool registration through the real binary: /v1/tools (CONTRACT.md) with every error
// status, the registered tool served at once to MCP clients of both protocol generations and
// called against a real loopback HTTP server, and registrations surviving a restart.

#include "agentd/itest/agentd_process.h"

#include "../tools/loopback_http_server.h"
#include "mcp_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace agentd::itest::mcp {
namespace {

using tools::test::LoopbackHttpServer;

HttpResponse post_tool(std::uint16_t port, const std::string& body,
                       const std::string& content_type = "application/json") {
    return http_request(port,
                        make_request("POST", "/v1/tools", body, {{"Content-Type", content_type}}));
}

json add_tool(const LoopbackHttpServer& upstream, const std::string& name = "add") {
    return {{"name", name},
            {"description", "Adds a and b"},
            {"input_schema",
             {{"type", "object"},
              {"properties", {{"a", {{"type", "number"}}}, {"b", {{"type", "number"}}}}},
              {"required", {"a", "b"}}}},
            {"endpoint", {{"method", "POST"}, {"url", upstream.url("/add")}}},
            {"timeout_ms", 5000}};
}

std::string error_code(const HttpResponse& r) {
    return body_json(r).at("error").at("code").get<std::string>();
}

json modern_call(std::uint16_t port, const json& message) {
    return body_json(post(port, message, modern_headers(message)));
}

class ToolsHttpTest : public ::testing::Test {
protected:
    void SetUp() override { server_ = AgentdProcess::serve(); }
    void TearDown() override {
        if (server_) {
            EXPECT_EQ(server_->stop().exit_code, 0);
        }
    }
    [[nodiscard]] std::uint16_t port() const { return server_->port(); }

    LoopbackHttpServer upstream_;
    std::unique_ptr<AgentdProcess> server_;
};

TEST_F(ToolsHttpTest, RegisteredToolIsListedAndCalledOverMcp) {
    const auto created = post_tool(port(), add_tool(upstream_).dump());
    ASSERT_EQ(created.status, 201U) << created.body;
    EXPECT_EQ(body_json(created).at("name"), "add");
    EXPECT_EQ(body_json(created).at("source"), "rest");

    // 2026-07-28 (stateless).
    const json list = modern_call(port(), modern_request(1, "tools/list"));
    ASSERT_EQ(list.at("result").at("tools").size(), 1U) << list.dump();
    EXPECT_EQ(list.at("result").at("tools")[0].at("name"), "add");
    EXPECT_EQ(list.at("result").at("tools")[0].at("inputSchema").at("required"),
              json::array({"a", "b"}));
    const json call = modern_call(
        port(),
        modern_request(2, "tools/call", {{"name", "add"}, {"arguments", {{"a", 2}, {"b", 40}}}}));
    ASSERT_FALSE(call.at("result").value("isError", false)) << call.dump();
    EXPECT_EQ(call.at("result").at("content")[0].at("text"), R"({"sum":42.0})");
    ASSERT_TRUE(upstream_.wait_for("/add", std::chrono::seconds(5)));
    EXPECT_EQ(upstream_.requests().back().body, R"({"a":2,"b":40})");

    // A session revision sees the same catalogue; arguments are validated before any request.
    const std::string session = open_session(port());
    const auto headers = session_headers(session);
    const json session_list = body_json(post(port(), request(3, "tools/list"), headers));
    EXPECT_EQ(session_list.at("result").at("tools")[0].at("name"), "add");
    const json bad = body_json(post(
        port(), request(4, "tools/call", {{"name", "add"}, {"arguments", {{"a", "x"}}}}), headers));
    const std::size_t before = upstream_.requests().size();
    ASSERT_TRUE(bad.contains("result") || bad.contains("error")) << bad.dump();
    if (bad.contains("result")) {
        EXPECT_TRUE(bad.at("result").at("isError").get<bool>()) << bad.dump();
    }
    EXPECT_EQ(upstream_.requests().size(), before);
}

TEST_F(ToolsHttpTest, EveryBadRegistrationHasItsStatus) {
    ASSERT_EQ(post_tool(port(), add_tool(upstream_).dump()).status, 201U);

    const auto duplicate = post_tool(port(), add_tool(upstream_).dump());
    EXPECT_EQ(duplicate.status, 409U) << duplicate.body;
    EXPECT_EQ(error_code(duplicate), "tool_exists");

    json bad_name = add_tool(upstream_, "bad name!");
    const auto r_name = post_tool(port(), bad_name.dump());
    EXPECT_EQ(r_name.status, 400U) << r_name.body;
    EXPECT_EQ(error_code(r_name), "invalid_tool");

    json bad_schema = add_tool(upstream_, "bad_schema");
    bad_schema["input_schema"] = {{"type", 12}};
    EXPECT_EQ(post_tool(port(), bad_schema.dump()).status, 400U);

    json metadata = add_tool(upstream_, "metadata");
    metadata["endpoint"]["url"] = "http://169.254.169.254/latest/meta-data/";
    const auto r_meta = post_tool(port(), metadata.dump());
    EXPECT_EQ(r_meta.status, 400U) << r_meta.body;
    EXPECT_EQ(error_code(r_meta), "forbidden_endpoint");

    json scheme = add_tool(upstream_, "scheme");
    scheme["endpoint"]["url"] = "file:///etc/passwd";
    EXPECT_EQ(post_tool(port(), scheme.dump()).status, 400U);

    const auto not_json = post_tool(port(), "{\"name\":", "application/json");
    EXPECT_EQ(not_json.status, 400U) << not_json.body;
    EXPECT_EQ(post_tool(port(), "name=x", "application/x-www-form-urlencoded").status, 415U);

    const auto missing = http_get(port(), "/v1/tools/nope");
    EXPECT_EQ(missing.status, 404U);
    EXPECT_EQ(error_code(missing), "tool_not_found");
    EXPECT_EQ(http_request(port(), make_request("DELETE", "/v1/tools/nope")).status, 404U);

    // Nothing rejected was stored.
    const json listed = body_json(http_get(port(), "/v1/tools"));
    ASSERT_EQ(listed.at("tools").size(), 1U) << listed.dump();
    EXPECT_EQ(listed.at("tools")[0].at("name"), "add");
}

TEST_F(ToolsHttpTest, UpstreamFailuresAreToolErrors) {
    const auto register_at = [&](const std::string& name, const std::string& url) {
        json body = add_tool(upstream_, name);
        body["input_schema"] = {{"type", "object"}};
        body["endpoint"]["url"] = url;
        body["timeout_ms"] = 300;
        const auto r = post_tool(port(), body.dump());
        ASSERT_EQ(r.status, 201U) << r.body;
    };
    register_at("status", upstream_.url("/status/503"));
    register_at("html", upstream_.url("/text"));
    register_at("stall", upstream_.url("/stall-headers"));
    register_at("garbage", upstream_.url("/garbage"));

    const std::vector<std::pair<std::string, std::string>> cases = {
        {"status", "HTTP 503"},
        {"html", "JSON"},
        {"stall", "did not answer within 300 ms"},
        {"garbage", "malformed HTTP response"}};
    int id = 1;
    for (const auto& [name, expected] : cases) {
        const json call = modern_call(
            port(), modern_request(id++, "tools/call", {{"name", name}, {"arguments", {}}}));
        ASSERT_TRUE(call.contains("result")) << name << ": " << call.dump();
        EXPECT_TRUE(call.at("result").value("isError", false)) << name << ": " << call.dump();
        const std::string text = call.at("result").at("content")[0].at("text");
        EXPECT_NE(text.find(expected), std::string::npos) << name << ": " << text;
        EXPECT_NE(text.find(upstream_.url("/")), std::string::npos) << name << ": " << text;
    }
    // The server keeps serving after every failure class.
    EXPECT_EQ(http_get(port(), "/healthz").status, 200U);
}

TEST_F(ToolsHttpTest, SessionStreamsHearListChanged) {
    const std::string session = open_session(port());
    HttpRequest get;
    get.target = "/mcp";
    get.headers = session_headers(session);
    get.headers.emplace_back("Accept", "text/event-stream");
    HttpConnection stream(port());
    stream.send(get);
    ASSERT_EQ(stream.read_head().status, 200U);
    SseReader reader(stream);
    const auto next_method = [&reader]() -> std::string {
        while (auto event = reader.next()) {
            if (!event->data.empty()) {
                return json::parse(event->data).value("method", "");
            }
        }
        return "(stream ended)";
    };

    ASSERT_EQ(post_tool(port(), add_tool(upstream_).dump()).status, 201U);
    EXPECT_EQ(next_method(), "notifications/tools/list_changed");
    EXPECT_EQ(http_request(port(), make_request("DELETE", "/v1/tools/add")).status, 204U);
    EXPECT_EQ(next_method(), "notifications/tools/list_changed");
    // A rejected registration changes nothing and announces nothing: the next event is the one
    // of the following successful registration.
    EXPECT_EQ(post_tool(port(), add_tool(upstream_, "bad name").dump()).status, 400U);
    ASSERT_EQ(post_tool(port(), add_tool(upstream_, "again").dump()).status, 201U);
    EXPECT_EQ(next_method(), "notifications/tools/list_changed");
    const json list = body_json(post(port(), request(1, "tools/list"), session_headers(session)));
    ASSERT_EQ(list.at("result").at("tools").size(), 1U) << list.dump();
    EXPECT_EQ(list.at("result").at("tools")[0].at("name"), "again");
}

TEST_F(ToolsHttpTest, CancelledCallsCloseTheUpstreamExchange) {
    json stall = add_tool(upstream_, "stall");
    stall["input_schema"] = {{"type", "object"}};
    stall["endpoint"]["url"] = upstream_.url("/stall-headers");
    stall["timeout_ms"] = 120000; // only the cancellation can end these calls in time
    ASSERT_EQ(post_tool(port(), stall.dump()).status, 201U);

    // Session revision: notifications/cancelled.
    const std::string session = open_session(port());
    HttpConnection c(port());
    c.send(post_request(request("slow", "tools/call", {{"name", "stall"}, {"arguments", {}}}),
                        session_headers(session)));
    ASSERT_TRUE(upstream_.wait_for("/stall-headers", std::chrono::seconds(10)));
    EXPECT_EQ(post(port(), notification("notifications/cancelled", {{"requestId", "slow"}}),
                   session_headers(session))
                  .status,
              202U);
    EXPECT_TRUE(upstream_.wait_abandoned(1, std::chrono::seconds(10)));

    // 2026-07-28: the client closes its connection.
    {
        const json call =
            modern_request(7, "tools/call", {{"name", "stall"}, {"arguments", json::object()}});
        HttpConnection modern(port());
        modern.send(post_request(call, modern_headers(call)));
        ASSERT_TRUE(upstream_.wait_for_count("/stall-headers", 2, std::chrono::seconds(10)));
        modern.close();
    }
    EXPECT_TRUE(upstream_.wait_abandoned(2, std::chrono::seconds(10)));
    EXPECT_EQ(body_json(post(port(), request(2, "ping"), session_headers(session))).at("result"),
              json::object());
}

TEST_F(ToolsHttpTest, HostileBodiesAndQueries) {
    const auto deep = post_tool(port(), std::string(100000, '[') + std::string(100000, ']'));
    EXPECT_EQ(deep.status, 400U) << deep.body;
    EXPECT_EQ(error_code(deep), "invalid_json");
    for (const char* body : {"[]", "{}", "null", "\"add\"", R"({"name": 5})"}) {
        const auto r = post_tool(port(), body);
        EXPECT_EQ(r.status, 400U) << body << ": " << r.body;
        EXPECT_EQ(error_code(r), "invalid_tool") << body;
    }
    json huge_schema = add_tool(upstream_, "huge");
    huge_schema["description"] = std::string(1U << 20U, 'd');
    const auto too_long = post_tool(port(), huge_schema.dump());
    EXPECT_EQ(too_long.status, 400U) << too_long.body.substr(0, 200);
    EXPECT_NE(body_json(too_long).at("error").at("message").get<std::string>().find("description"),
              std::string::npos);
    const auto no_type = http_request(port(), make_request("POST", "/v1/tools", "{}"));
    EXPECT_EQ(no_type.status, 415U) << no_type.body;
    for (const char* query : {"?limit=0", "?limit=1001", "?limit=x", "?limit=-1", "?limit=1e3"}) {
        const auto r = http_get(port(), std::string("/v1/tools") + query);
        EXPECT_EQ(r.status, 400U) << query << ": " << r.body;
    }
    // Nothing was stored and the server still serves.
    EXPECT_TRUE(body_json(http_get(port(), "/v1/tools")).at("tools").empty());
    EXPECT_EQ(http_get(port(), "/healthz").status, 200U);
}

TEST_F(ToolsHttpTest, ManyToolsPageInBothApis) {
    constexpr int count = 150; // more than one MCP page (100)
    for (int i = 0; i < count; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "t%03d", i);
        ASSERT_EQ(post_tool(port(), add_tool(upstream_, name).dump()).status, 201U) << name;
    }
    std::vector<std::string> rest_names;
    std::string cursor;
    do {
        const auto page = body_json(
            http_get(port(), "/v1/tools?limit=40" + (cursor.empty() ? "" : "&cursor=" + cursor)));
        for (const auto& tool : page.at("tools")) {
            rest_names.push_back(tool.at("name"));
        }
        cursor = page.value("next_cursor", "");
    } while (!cursor.empty());
    std::vector<std::string> mcp_names;
    json params = json::object();
    int id = 1;
    do {
        const json page = modern_call(port(), modern_request(id++, "tools/list", params));
        for (const auto& tool : page.at("result").at("tools")) {
            mcp_names.push_back(tool.at("name"));
        }
        params = json::object();
        if (page.at("result").contains("nextCursor")) {
            params["cursor"] = page.at("result").at("nextCursor");
        }
    } while (!params.empty() && id < 10);
    ASSERT_EQ(rest_names.size(), static_cast<std::size_t>(count));
    EXPECT_EQ(mcp_names, rest_names);
    EXPECT_TRUE(std::is_sorted(rest_names.begin(), rest_names.end()));
}

TEST_F(ToolsHttpTest, DeletedToolLeavesMcpAndCallsFail) {
    ASSERT_EQ(post_tool(port(), add_tool(upstream_).dump()).status, 201U);
    EXPECT_EQ(http_request(port(), make_request("DELETE", "/v1/tools/add")).status, 204U);
    EXPECT_EQ(http_get(port(), "/v1/tools/add").status, 404U);
    const json list = modern_call(port(), modern_request(1, "tools/list"));
    EXPECT_TRUE(list.at("result").at("tools").empty()) << list.dump();
    const json call =
        modern_call(port(), modern_request(2, "tools/call",
                                           {{"name", "add"}, {"arguments", {{"a", 1}, {"b", 1}}}}));
    EXPECT_TRUE(call.contains("error") || call.at("result").value("isError", false)) << call.dump();
}

TEST_F(ToolsHttpTest, RegistrationsSurviveARestart) {
    ASSERT_EQ(post_tool(port(), add_tool(upstream_).dump()).status, 201U);
    const std::filesystem::path data = server_->data_dir();
    const auto copy = std::filesystem::temp_directory_path() /
                      ("agentd-tools-restart-" + std::to_string(server_->pid()));
    ASSERT_EQ(server_->stop().exit_code, 0);
    std::filesystem::remove_all(copy);
    std::filesystem::copy(data, copy, std::filesystem::copy_options::recursive);
    server_.reset();

    AgentdProcess::Options options;
    options.add_data = false;
    options.args = {"--data", copy.string()};
    server_ = AgentdProcess::start(options);
    const auto got = http_get(port(), "/v1/tools/add");
    EXPECT_EQ(got.status, 200U) << got.body;
    const json call =
        modern_call(port(), modern_request(1, "tools/call",
                                           {{"name", "add"}, {"arguments", {{"a", 1}, {"b", 2}}}}));
    EXPECT_EQ(call.at("result").at("content")[0].at("text"), R"({"sum":3.0})") << call.dump();
    EXPECT_EQ(server_->stop().exit_code, 0);
    server_.reset();
    std::filesystem::remove_all(copy);
}

} // namespace
} // namespace agentd::itest::mcp
