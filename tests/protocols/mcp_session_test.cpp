// The session revisions (2025-03-26, 2025-06-18, 2025-11-25) through a Connection.

#include "mcp_test_support.h"

#include <gtest/gtest.h>

#include <set>

namespace agentd::protocols::mcp::test {
namespace {

json notification(const std::string& method, json params = json::object()) {
    return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}

TEST(McpSession, InitializeNegotiatesTheVersion) {
    for (const auto& [asked, expected] :
         std::vector<std::pair<std::string, std::string>>{{"2025-03-26", "2025-03-26"},
                                                          {"2025-06-18", "2025-06-18"},
                                                          {"2025-11-25", "2025-11-25"},
                                                          {"2024-11-05", "2025-11-25"},
                                                          {"2026-07-28", "2025-11-25"},
                                                          {"garbage", "2025-11-25"}}) {
        Harness h;
        const json result = h.initialize(asked);
        EXPECT_EQ(result.at("protocolVersion"), expected) << asked;
        EXPECT_EQ(result.at("serverInfo").at("name"), "agentd");
        const json& caps = result.at("capabilities");
        EXPECT_EQ(caps.at("tools").at("listChanged"), true);
        EXPECT_EQ(caps.at("resources").at("subscribe"), true);
        EXPECT_TRUE(caps.contains("prompts"));
        EXPECT_TRUE(caps.contains("completions"));
        EXPECT_TRUE(caps.contains("logging"));
        EXPECT_FALSE(result.contains("resultType")); // a 2026-07-28 field only
    }
}

TEST(McpSession, InitializeRejectsBadParamsAndRepeats) {
    Harness h;
    EXPECT_EQ(h.send(request(1, "initialize", {{"capabilities", json::object()}}))->error_code(),
              -32602);
    EXPECT_EQ(
        h.send(request(1, "initialize", {{"protocolVersion", "2025-11-25"}, {"capabilities", 5}}))
            ->error_code(),
        -32602);
    EXPECT_EQ(h.send(request(1, "initialize", json::array()))->error_code(), -32602);
    EXPECT_FALSE(h.connection->session_version().has_value());
    h.initialize();
    auto again = h.send(request(
        2, "initialize", {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()}}));
    EXPECT_EQ(again->error_code(), -32600);
}

TEST(McpSession, OnlyPingBeforeInitialize) {
    Harness h;
    EXPECT_EQ(h.send(request(1, "ping"))->result().at("result"), json::object());
    auto early = h.send(request(2, "tools/list"));
    EXPECT_EQ(early->error_code(), -32600);
    EXPECT_EQ(early->status(), ResponseStatus::rejected);
}

TEST(McpSession, UnknownAndStatelessOnlyMethodsAreNotFound) {
    Harness h;
    h.initialize();
    for (const char* method : {"nope", "server/discover", "subscriptions/listen", "rpc.x"}) {
        auto ch = h.send(request(1, method));
        EXPECT_EQ(ch->error_code(), -32601) << method;
        EXPECT_EQ(ch->status(), ResponseStatus::method_not_found) << method;
    }
}

TEST(McpSession, InvalidMessagesGetInvalidRequestAndTheSessionKeepsServing) {
    Harness h;
    h.initialize();
    auto ch = h.send({{"jsonrpc", "2.0"}, {"id", 9}, {"method", 5}});
    EXPECT_EQ(ch->error_code(), -32600);
    EXPECT_EQ(ch->result().at("id"), 9);
    EXPECT_EQ(h.send(request(3, "tools/list", json::array()))->error_code(), -32602);
    EXPECT_EQ(h.send(request(4, "tools/list"))->error_code(), 0);
}

TEST(McpSession, ToolsListPaginatesWithOpaqueStableCursors) {
    ServerOptions options;
    options.page_size = 4;
    Harness h(options, false, 10);
    h.initialize();
    std::vector<std::string> names;
    json cursor;
    for (int page = 0; page < 20; ++page) {
        json params = json::object();
        if (!cursor.is_null()) {
            params["cursor"] = cursor;
        }
        const json result = h.send(request(page, "tools/list", params))->result().at("result");
        EXPECT_LE(result.at("tools").size(), 4u);
        for (const auto& t : result.at("tools")) {
            names.push_back(t.at("name"));
            EXPECT_TRUE(t.contains("inputSchema"));
            EXPECT_TRUE(t.contains("description"));
        }
        if (!result.contains("nextCursor")) {
            break;
        }
        cursor = result.at("nextCursor");
    }
    EXPECT_EQ(names.size(), 21u); // 11 fixed + 10 generated
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());

    EXPECT_EQ(h.send(request(1, "tools/list", {{"cursor", "bogus"}}))->error_code(), -32602);
    EXPECT_EQ(h.send(request(1, "tools/list", {{"cursor", 3}}))->error_code(), -32602);
}

TEST(McpSession, ToolResultsAreShapedAndErrorsAreTyped) {
    Harness h;
    h.initialize();
    auto call = [&](const std::string& name, json args = json::object()) {
        return h.send(request(1, "tools/call", {{"name", name}, {"arguments", args}}));
    };
    EXPECT_EQ(call("echo", {{"text", "hi"}})->result().at("result").at("content")[0].at("text"),
              "echo: hi");
    const json structured = call("structured")->result().at("result");
    EXPECT_EQ(structured.at("structuredContent").at("n"), 3);
    EXPECT_EQ(json::parse(structured.at("content")[0].at("text").get<std::string>()).at("n"), 3);
    EXPECT_EQ(call("no_structured")->result().at("result").at("isError"), true);
    EXPECT_EQ(call("missing")->error_code(), -32602);
    EXPECT_EQ(h.send(request(1, "tools/call", {{"name", "echo"}, {"arguments", 1}}))->error_code(),
              -32602);
    EXPECT_EQ(h.send(request(1, "tools/call", {{"arguments", json::object()}}))->error_code(),
              -32602);
    EXPECT_EQ(call("throws")->error_code(), -32603);
    EXPECT_EQ(call("bad_result")->error_code(), -32603);
    // Omitted arguments are an empty object.
    EXPECT_EQ(h.send(request(1, "tools/call", {{"name", "echo"}}))->error_code(), 0);
}

TEST(McpSession, ProgressIsIncreasingAndPrecedesTheResponse) {
    Harness h;
    h.initialize();
    auto ch = h.send(
        request(1, "tools/call", {{"name", "progress"}, {"_meta", {{"progressToken", "tok"}}}}));
    const auto related = ch->related();
    ASSERT_EQ(related.size(), 2u);
    EXPECT_EQ(related[0].at("method"), "notifications/progress");
    EXPECT_EQ(related[0].at("params").at("progressToken"), "tok");
    EXPECT_EQ(related[0].at("params").at("progress"), 1);
    EXPECT_EQ(related[1].at("params").at("progress"), 2);
    EXPECT_EQ(related[1].at("params").at("message"), "done");
    EXPECT_EQ(ch->error_code(), 0);

    EXPECT_TRUE(h.send(request(2, "tools/call", {{"name", "progress"}}))->related().empty());
    EXPECT_EQ(h.send(request(3, "tools/call",
                             {{"name", "progress"}, {"_meta", {{"progressToken", 1.5}}}}))
                  ->error_code(),
              -32602);
}

TEST(McpSession, LoggingFollowsTheSessionLevel) {
    Harness h;
    h.initialize();
    EXPECT_EQ(h.send(request(1, "tools/call", {{"name", "log"}}))->related().size(), 3u);
    EXPECT_EQ(h.send(request(2, "logging/setLevel", {{"level", "error"}}))->result().at("result"),
              json::object());
    auto ch = h.send(request(3, "tools/call", {{"name", "log"}}));
    ASSERT_EQ(ch->related().size(), 1u);
    EXPECT_EQ(ch->related()[0].at("params").at("level"), "error");
    EXPECT_EQ(ch->related()[0].at("params").at("logger"), "test");
    EXPECT_EQ(h.send(request(4, "logging/setLevel", {{"level", "loud"}}))->error_code(), -32602);
}

TEST(McpSession, CancelledRequestsStopAndSendNothing) {
    Harness h;
    h.initialize();
    auto ch = h.send(request("c1", "tools/call", {{"name", "slow"}}));
    ASSERT_EQ(h.tools->slow_calls().size(), 1u);
    EXPECT_EQ(h.connection->in_flight(), 1u);
    (void)h.send(notification("notifications/cancelled", {{"requestId", "c1"}, {"reason", "x"}}));
    EXPECT_TRUE(ch->ended_without_response());
    EXPECT_EQ(h.tools->cancellations(), 1);
    EXPECT_TRUE(h.tools->slow_calls()[0]->cancelled());
    EXPECT_EQ(h.connection->in_flight(), 0u);
    // A late completion is ignored; unknown and malformed cancellations are harmless.
    h.tools->slow_calls()[0]->complete({{"content", json::array()}});
    EXPECT_FALSE(ch->response().has_value());
    (void)h.send(notification("notifications/cancelled", {{"requestId", "unknown"}}));
    (void)h.send(notification("notifications/cancelled", {{"requestId", json::object()}}));
    EXPECT_EQ(h.send(request(2, "ping"))->error_code(), 0);
}

TEST(McpSession, DuplicateIdsAndTheInFlightBound) {
    ServerOptions options;
    options.max_in_flight = 2;
    Harness h(options);
    h.initialize();
    (void)h.send(request(1, "tools/call", {{"name", "slow"}}));
    EXPECT_EQ(h.send(request(1, "tools/call", {{"name", "slow"}}))->error_code(), -32600);
    (void)h.send(request(2, "tools/call", {{"name", "slow"}}));
    auto busy = h.send(request(3, "tools/call", {{"name", "slow"}}));
    EXPECT_EQ(busy->status(), ResponseStatus::busy);
    h.tools->slow_calls()[0]->complete({{"content", json::array()}});
    EXPECT_EQ(h.connection->in_flight(), 1u);
    h.connection->close();
    EXPECT_EQ(h.connection->in_flight(), 0u);
    EXPECT_TRUE(h.tools->slow_calls()[1]->cancelled());
}

TEST(McpSession, SamplingRoundTripRunsTheToolAgainWithTheAnswer) {
    Harness h;
    h.initialize("2025-11-25", {{"sampling", json::object()}});
    auto ch = h.send(request(5, "tools/call", {{"name", "ask"}}));
    auto related = ch->related();
    ASSERT_EQ(related.size(), 1u);
    const json& sampling = related[0];
    EXPECT_EQ(sampling.at("method"), "sampling/createMessage");
    EXPECT_EQ(sampling.at("params").at("maxTokens"), 100);
    ASSERT_TRUE(sampling.contains("id"));
    EXPECT_FALSE(ch->response().has_value());
    EXPECT_EQ(h.timers->pending(), 1u);
    (void)h.send({{"jsonrpc", "2.0"},
                  {"id", sampling.at("id")},
                  {"result",
                   {{"role", "assistant"},
                    {"content", {{"type", "text"}, {"text", "Paris"}}},
                    {"model", "m"}}}});
    EXPECT_EQ(ch->result().at("result").at("content")[0].at("text"),
              "LLM said: Paris state=round-1");
    EXPECT_EQ(h.timers->pending(), 0u);
    // A second answer to the same request id is ignored.
    (void)h.send({{"jsonrpc", "2.0"}, {"id", sampling.at("id")}, {"result", json::object()}});
}

TEST(McpSession, SamplingNeedsTheCapabilityAndTimesOut) {
    {
        Harness h;
        h.initialize();
        auto ch = h.send(request(1, "tools/call", {{"name", "ask"}}));
        EXPECT_EQ(ch->error_code(), -32021);
        EXPECT_TRUE(
            ch->result().at("error").at("data").at("requiredCapabilities").contains("sampling"));
    }
    {
        ServerOptions options;
        options.client_request_timeout = std::chrono::milliseconds(1000);
        Harness h(options);
        h.initialize("2025-11-25", {{"sampling", json::object()}});
        auto ch = h.send(request(1, "tools/call", {{"name", "ask"}}));
        h.timers->advance(std::chrono::milliseconds(999));
        EXPECT_FALSE(ch->response().has_value());
        h.timers->advance(std::chrono::milliseconds(1));
        EXPECT_EQ(ch->error_code(), -32603);
        const auto related = ch->related();
        ASSERT_EQ(related.size(), 2u);
        EXPECT_EQ(related[1].at("method"), "notifications/cancelled");
        EXPECT_EQ(related[1].at("params").at("requestId"), related[0].at("id"));
    }
    {
        Harness h;
        h.initialize("2025-11-25", {{"sampling", json::object()}});
        auto ch = h.send(request(1, "tools/call", {{"name", "ask"}}));
        const json id = ch->related()[0].at("id");
        (void)h.send({{"jsonrpc", "2.0"},
                      {"id", id},
                      {"error", {{"code", -1}, {"message", "user rejected"}}}});
        EXPECT_EQ(ch->error_code(), -32603);
        EXPECT_NE(ch->result().at("error").at("message").get<std::string>().find("user rejected"),
                  std::string::npos);
    }
}

TEST(McpSession, ResourcesReadListAndSubscriptions) {
    Harness h;
    h.initialize();
    EXPECT_EQ(h.send(request(1, "resources/list"))->result().at("result").at("resources").size(),
              2u);
    EXPECT_EQ(h.send(request(1, "resources/templates/list"))
                  ->result()
                  .at("result")
                  .at("resourceTemplates")[0]
                  .at("uriTemplate"),
              "test://t/{id}");
    EXPECT_EQ(h.send(request(1, "resources/read", {{"uri", "test://t/123"}}))
                  ->result()
                  .at("result")
                  .at("contents")[0]
                  .at("text"),
              "123");
    for (const char* uri : {"test://t/missing", "other://x"}) {
        auto ch = h.send(request(1, "resources/read", {{"uri", uri}}));
        EXPECT_EQ(ch->error_code(), -32002) << uri;
        EXPECT_EQ(ch->result().at("error").at("data").at("uri"), uri);
    }
    EXPECT_EQ(h.send(request(1, "resources/read", {{"uri", 4}}))->error_code(), -32602);

    EXPECT_EQ(
        h.send(request(2, "resources/subscribe", {{"uri", "test://a"}}))->result().at("result"),
        json::object());
    h.resources->fire({ChangeEvent::Kind::resource_updated, "", "test://a"});
    h.resources->fire({ChangeEvent::Kind::resource_updated, "", "test://b"});
    h.resources->fire({ChangeEvent::Kind::resource_updated, "other-tenant", "test://a"});
    (void)h.send(request(3, "resources/unsubscribe", {{"uri", "test://a"}}));
    h.resources->fire({ChangeEvent::Kind::resource_updated, "", "test://a"});
    h.tools->fire({ChangeEvent::Kind::tools_list_changed, "local", ""});
    const auto sent = h.sink->messages();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].at("method"), "notifications/resources/updated");
    EXPECT_EQ(sent[0].at("params").at("uri"), "test://a");
    EXPECT_EQ(sent[1].at("method"), "notifications/tools/list_changed");
}

TEST(McpSession, PromptsAndCompletion) {
    Harness h;
    h.initialize();
    EXPECT_EQ(h.send(request(1, "prompts/list"))
                  ->result()
                  .at("result")
                  .at("prompts")[0]
                  .at("arguments")[0]
                  .at("required"),
              true);
    EXPECT_EQ(
        h.send(request(1, "prompts/get", {{"name", "greet"}, {"arguments", {{"name", "Bo"}}}}))
            ->result()
            .at("result")
            .at("messages")[0]
            .at("content")
            .at("text"),
        "Hello Bo");
    EXPECT_EQ(h.send(request(1, "prompts/get", {{"name", "greet"}}))->error_code(), -32602);
    EXPECT_EQ(h.send(request(1, "prompts/get", {{"name", "greet"}, {"arguments", {{"name", 1}}}}))
                  ->error_code(),
              -32602);
    EXPECT_EQ(h.send(request(1, "prompts/get", {{"name", "nope"}}))->error_code(), -32602);

    const json capped = h.send(request(1, "completion/complete",
                                       {{"ref", {{"type", "ref/prompt"}, {"name", "greet"}}},
                                        {"argument", {{"name", "name"}, {"value", "x"}}}}))
                            ->result()
                            .at("result")
                            .at("completion");
    EXPECT_EQ(capped.at("values").size(), 100u);
    EXPECT_EQ(capped.at("hasMore"), true);
    const json templ =
        h.send(request(1, "completion/complete",
                       {{"ref", {{"type", "ref/resource"}, {"uri", "test://t/{id}"}}},
                        {"argument", {{"name", "id"}, {"value", "al"}}}}))
            ->result()
            .at("result")
            .at("completion");
    EXPECT_EQ(templ.at("values"), json({"alpha", "alps"}));
    EXPECT_EQ(h.send(request(1, "completion/complete",
                             {{"ref", {{"type", "ref/prompt"}, {"name", "none"}}},
                              {"argument", {{"name", "a"}, {"value", ""}}}}))
                  ->error_code(),
              -32602);
    EXPECT_EQ(h.send(request(1, "completion/complete",
                             {{"ref", {{"type", "ref/other"}}}, {"argument", {{"name", "a"}}}}))
                  ->error_code(),
              -32602);
}

TEST(McpSession, BatchesOnlyIn20250326) {
    {
        Harness h;
        h.initialize("2025-03-26");
        auto ch = h.send(json::array({request(1, "ping"),
                                      notification("notifications/x"),
                                      request(2, "tools/list"),
                                      {{"jsonrpc", "2.0"}, {"id", 3}}}));
        const json responses = ch->result();
        ASSERT_TRUE(responses.is_array());
        ASSERT_EQ(responses.size(), 3u);
        std::set<int> ids;
        for (const auto& r : responses) {
            ids.insert(r.at("id").get<int>());
        }
        EXPECT_EQ(ids, (std::set<int>{1, 2, 3}));
        auto only = h.send(json::array({notification("notifications/x")}));
        EXPECT_TRUE(only->ended_without_response());
        auto init = h.send(json::array({request(9, "initialize")}));
        EXPECT_EQ(init->result()[0].at("error").at("code"), -32600);
    }
    {
        Harness h;
        h.initialize("2025-06-18");
        auto ch = h.send(json::array({request(1, "ping")}));
        EXPECT_EQ(ch->error_code(), -32600);
        EXPECT_EQ(ch->status(), ResponseStatus::rejected);
    }
}

} // namespace
} // namespace agentd::protocols::mcp::test
