// Protocol revision 2026-07-28: stateless requests with per-request `_meta`, mirrored HTTP
// headers, multi round-trip requests, subscriptions/listen, and the same over stdio.

#include "mcp_test_support.h"

#include <gtest/gtest.h>

namespace agentd::protocols::mcp::test {
namespace {

std::shared_ptr<RecordingChannel> send_modern(Harness& h, const json& message) {
    return h.send_stateless(message, mirror_of(message));
}

TEST(McpStateless, DiscoverAdvertisesVersionsCapabilitiesAndIdentity) {
    Harness h;
    const json result = send_modern(h, modern_request(1, "server/discover"))->result().at("result");
    EXPECT_EQ(result.at("resultType"), "complete");
    EXPECT_EQ(result.at("supportedVersions"),
              json({"2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"}));
    EXPECT_TRUE(result.at("capabilities").contains("tools"));
    EXPECT_EQ(result.at("_meta").at("io.modelcontextprotocol/serverInfo").at("name"), "agentd");
    EXPECT_EQ(result.at("cacheScope"), "public");
    EXPECT_GE(result.at("ttlMs").get<int>(), 0);
}

TEST(McpStateless, MalformedMetaIsInvalidParams) {
    Harness h;
    json no_meta = request(1, "tools/list");
    auto a = h.send_stateless(no_meta, mirror_of(no_meta));
    EXPECT_EQ(a->error_code(), -32602);
    EXPECT_EQ(a->status(), ResponseStatus::rejected);

    json no_caps = modern_request(1, "tools/list");
    no_caps["params"]["_meta"].erase("io.modelcontextprotocol/clientCapabilities");
    EXPECT_EQ(send_modern(h, no_caps)->error_code(), -32602);

    json bad_level = modern_request(1, "tools/list", json::object(), json::object(),
                                    {{"io.modelcontextprotocol/logLevel", "chatty"}});
    EXPECT_EQ(send_modern(h, bad_level)->error_code(), -32602);
}

TEST(McpStateless, UnsupportedVersionsListWhatIsSupported) {
    Harness h;
    for (const char* version : {"1900-01-01", "2025-06-18"}) {
        json m = modern_request(1, "tools/list");
        m["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = version;
        MirroredHeaders headers = mirror_of(m);
        headers.protocol_version = version;
        auto ch = h.send_stateless(m, headers);
        EXPECT_EQ(ch->error_code(), -32022) << version;
        EXPECT_EQ(ch->status(), ResponseStatus::rejected);
        const json data = ch->result().at("error").at("data");
        EXPECT_EQ(data.at("requested"), version);
        EXPECT_EQ(data.at("supported")[0], "2026-07-28");
    }
}

TEST(McpStateless, MirroredHeadersMustMatchTheBody) {
    Harness h;
    const json call = modern_request(1, "tools/call", {{"name", "echo"}});
    auto expect_mismatch = [&](MirroredHeaders headers) {
        auto ch = h.send_stateless(call, headers);
        EXPECT_EQ(ch->error_code(), -32020);
        EXPECT_EQ(ch->status(), ResponseStatus::rejected);
    };
    MirroredHeaders good = mirror_of(call);
    EXPECT_EQ(h.send_stateless(call, good)->error_code(), 0);

    MirroredHeaders h1 = good;
    h1.protocol_version.reset();
    expect_mismatch(h1);
    MirroredHeaders h2 = good;
    h2.protocol_version = "2025-11-25";
    expect_mismatch(h2);
    MirroredHeaders h3 = good;
    h3.method = "tools/list";
    expect_mismatch(h3);
    MirroredHeaders h4 = good;
    h4.method.reset();
    expect_mismatch(h4);
    MirroredHeaders h5 = good;
    h5.name = "other";
    expect_mismatch(h5);
    MirroredHeaders h6 = good;
    h6.name.reset();
    expect_mismatch(h6);
    MirroredHeaders h7 = good;
    h7.name = std::string("ec\x01ho");
    expect_mismatch(h7);
    MirroredHeaders h8 = good;
    h8.name = "=?base64?ZWNobw==?="; // "echo"
    EXPECT_EQ(h.send_stateless(call, h8)->error_code(), 0);
}

TEST(McpStateless, ParamHeadersFollowXMcpHeaderAnnotations) {
    Harness h;
    auto call = [&](json args, std::vector<std::pair<std::string, std::string>> params) {
        json m = modern_request(1, "tools/call", {{"name", "region"}, {"arguments", args}});
        MirroredHeaders headers = mirror_of(m);
        headers.params = std::move(params);
        return h.send_stateless(m, headers)->error_code();
    };
    EXPECT_EQ(call(json::object(), {}), 0);
    EXPECT_EQ(call({{"region", "us-west1"}}, {{"region", "us-west1"}}), 0);
    EXPECT_EQ(call({{"region", "us-west1"}}, {}), -32020);
    EXPECT_EQ(call({{"region", "us-west1"}}, {{"region", "eu"}}), -32020);
    EXPECT_EQ(call(json::object(), {{"region", "eu"}}), -32020);
    EXPECT_EQ(call({{"region", nullptr}}, {}), 0);
    EXPECT_EQ(call({{"region", "Hello, 世界"}}, {{"region", "=?base64?SGVsbG8sIOS4lueVjA==?="}}),
              0);
    EXPECT_EQ(call({{"opts", {{"count", 42}}}}, {{"count", "42.0"}}), 0);
    EXPECT_EQ(call({{"opts", {{"count", 42}}}}, {{"count", "41"}}), -32020);
    EXPECT_EQ(call({{"opts", {{"count", 42}}}}, {}), -32020);
    // Unrecognised Mcp-Param headers are ignored.
    EXPECT_EQ(call(json::object(), {{"unrelated", "x"}}), 0);
}

TEST(McpStateless, ResultsCarryResultTypeServerInfoAndCacheHints) {
    Harness h;
    const json list = send_modern(h, modern_request(1, "tools/list"))->result().at("result");
    EXPECT_EQ(list.at("resultType"), "complete");
    EXPECT_EQ(list.at("cacheScope"), "private");
    EXPECT_TRUE(list.contains("ttlMs"));
    EXPECT_TRUE(list.at("_meta").contains("io.modelcontextprotocol/serverInfo"));
    const json call =
        send_modern(h, modern_request(2, "tools/call", {{"name", "echo"}}))->result().at("result");
    EXPECT_EQ(call.at("resultType"), "complete");
    EXPECT_FALSE(call.contains("ttlMs"));
    const json read = send_modern(h, modern_request(3, "resources/read", {{"uri", "test://a"}}))
                          ->result()
                          .at("result");
    EXPECT_TRUE(read.contains("ttlMs"));
}

TEST(McpStateless, SessionMethodsAreNotFound) {
    Harness h;
    for (const char* method : {"ping", "logging/setLevel", "resources/subscribe", "initialize"}) {
        auto ch = send_modern(h, modern_request(1, method));
        EXPECT_EQ(ch->error_code(), -32601) << method;
        EXPECT_EQ(ch->status(), ResponseStatus::method_not_found) << method;
    }
}

TEST(McpStateless, ResourceNotFoundIsInvalidParams) {
    Harness h;
    auto ch = send_modern(h, modern_request(1, "resources/read", {{"uri", "test://t/missing"}}));
    EXPECT_EQ(ch->error_code(), -32602);
    EXPECT_EQ(ch->result().at("error").at("data").at("uri"), "test://t/missing");
}

TEST(McpStateless, LogMessagesOnlyWhenTheRequestAsks) {
    Harness h;
    EXPECT_TRUE(
        send_modern(h, modern_request(1, "tools/call", {{"name", "log"}}))->related().empty());
    auto ch = send_modern(h, modern_request(1, "tools/call", {{"name", "log"}}, json::object(),
                                            {{"io.modelcontextprotocol/logLevel", "info"}}));
    const auto related = ch->related();
    ASSERT_EQ(related.size(), 2u);
    EXPECT_EQ(related[0].at("params").at("level"), "info");
    EXPECT_EQ(related[1].at("params").at("level"), "error");
}

TEST(McpStateless, InputRequiredRoundTripWithSealedState) {
    Harness h;
    const json caps = {{"sampling", json::object()}};
    const json first =
        send_modern(h, modern_request(1, "tools/call", {{"name", "ask"}}, caps))->result();
    const json& interim = first.at("result");
    EXPECT_EQ(interim.at("resultType"), "input_required");
    EXPECT_EQ(interim.at("inputRequests").at("llm").at("method"), "sampling/createMessage");
    ASSERT_TRUE(interim.at("requestState").is_string());
    const std::string state = interim.at("requestState");
    EXPECT_EQ(state.find("round-1"), std::string::npos); // sealed, not plain text

    const json answer = {
        {"role", "assistant"}, {"content", {{"type", "text"}, {"text", "Paris"}}}, {"model", "m"}};
    auto retry = [&](const std::string& tool, const json& s) {
        return send_modern(
            h, modern_request(
                   2, "tools/call",
                   {{"name", tool}, {"inputResponses", {{"llm", answer}}}, {"requestState", s}},
                   caps));
    };
    const json done = retry("ask", state)->result().at("result");
    EXPECT_EQ(done.at("resultType"), "complete");
    EXPECT_EQ(done.at("content")[0].at("text"), "LLM said: Paris state=round-1");

    std::string tampered = state;
    tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
    EXPECT_EQ(retry("ask", tampered)->error_code(), -32602);
    EXPECT_EQ(retry("echo", state)->error_code(), -32602); // bound to another tool
    EXPECT_EQ(retry("ask", 7)->error_code(), -32602);
    EXPECT_EQ(
        send_modern(h, modern_request(3, "tools/call",
                                      {{"name", "ask"}, {"inputResponses", {{"llm", 1}}}}, caps))
            ->error_code(),
        -32602);
}

TEST(McpStateless, InputRequestsNeedDeclaredCapabilities) {
    Harness h;
    auto ch = send_modern(h, modern_request(1, "tools/call", {{"name", "ask"}}));
    EXPECT_EQ(ch->error_code(), -32021);
    EXPECT_EQ(ch->status(), ResponseStatus::rejected);
    EXPECT_TRUE(
        ch->result().at("error").at("data").at("requiredCapabilities").contains("sampling"));
    auto url = send_modern(h, modern_request(2, "tools/call", {{"name", "ask_url"}},
                                             {{"elicitation", {{"form", json::object()}}}}));
    EXPECT_EQ(url->error_code(), -32021);
    EXPECT_TRUE(url->result()
                    .at("error")
                    .at("data")
                    .at("requiredCapabilities")
                    .at("elicitation")
                    .contains("url"));
}

TEST(McpStateless, ClosingTheStreamCancels) {
    Harness h;
    const json m = modern_request(1, "tools/call", {{"name", "slow"}});
    auto channel = std::make_shared<RecordingChannel>();
    auto frame = jsonrpc::parse(m.dump());
    auto cancel =
        h.server->handle_stateless(frame.messages.front(), Caller{}, mirror_of(m), channel);
    ASSERT_EQ(h.tools->slow_calls().size(), 1u);
    cancel();
    EXPECT_TRUE(channel->ended_without_response());
    EXPECT_EQ(h.tools->cancellations(), 1);
    cancel(); // idempotent
}

TEST(McpStateless, ListenAcknowledgesThenDeliversTaggedNotifications) {
    Harness h;
    auto ch =
        send_modern(h, modern_request("sub-1", "subscriptions/listen",
                                      {{"notifications",
                                        {{"toolsListChanged", true},
                                         {"promptsListChanged", false},
                                         {"resourceSubscriptions", {"test://a", "test://a"}}}}}));
    h.tools->fire({ChangeEvent::Kind::tools_list_changed, "", ""});
    h.tools->fire({ChangeEvent::Kind::prompts_list_changed, "", ""});
    h.resources->fire({ChangeEvent::Kind::resource_updated, "", "test://a"});
    h.resources->fire({ChangeEvent::Kind::resource_updated, "", "test://b"});
    h.tools->fire({ChangeEvent::Kind::tools_list_changed, "another-tenant", ""});
    const auto related = ch->related();
    ASSERT_EQ(related.size(), 3u);
    EXPECT_EQ(related[0].at("method"), "notifications/subscriptions/acknowledged");
    EXPECT_EQ(related[0].at("params").at("notifications"),
              json({{"toolsListChanged", true}, {"resourceSubscriptions", {"test://a"}}}));
    EXPECT_EQ(related[1].at("method"), "notifications/tools/list_changed");
    EXPECT_EQ(related[2].at("method"), "notifications/resources/updated");
    for (const auto& n : related) {
        EXPECT_EQ(n.at("params").at("_meta").at("io.modelcontextprotocol/subscriptionId"), "sub-1");
    }
    EXPECT_FALSE(ch->response().has_value());
    h.server->shutdown();
    const json end = ch->result();
    EXPECT_EQ(end.at("id"), "sub-1");
    EXPECT_EQ(end.at("result").at("resultType"), "complete");
    EXPECT_EQ(end.at("result").at("_meta").at("io.modelcontextprotocol/subscriptionId"), "sub-1");
    // After shutdown new requests are refused.
    EXPECT_EQ(send_modern(h, modern_request(2, "tools/list"))->status(), ResponseStatus::busy);
}

TEST(McpStateless, ListenRejectsMalformedFilters) {
    Harness h;
    EXPECT_EQ(send_modern(h, modern_request(1, "subscriptions/listen"))->error_code(), -32602);
    EXPECT_EQ(send_modern(h, modern_request(1, "subscriptions/listen",
                                            {{"notifications", {{"toolsListChanged", "yes"}}}}))
                  ->error_code(),
              -32602);
    EXPECT_EQ(send_modern(h, modern_request(1, "subscriptions/listen",
                                            {{"notifications", {{"resourceSubscriptions", 3}}}}))
                  ->error_code(),
              -32602);
}

TEST(McpStdio, ServesBothErasOnOneConnection) {
    Harness h(ServerOptions{}, /*stdio=*/true);
    // A 2026-07-28 request needs no initialize on stdio.
    EXPECT_EQ(h.send(modern_request(1, "tools/call", {{"name", "echo"}}))
                  ->result()
                  .at("result")
                  .at("resultType"),
              "complete");
    // A legacy request before initialize is refused; after it, served as the session revision.
    EXPECT_EQ(h.send(request(2, "tools/list"))->error_code(), -32600);
    h.initialize("2025-06-18");
    EXPECT_FALSE(h.send(request(3, "tools/list"))->result().at("result").contains("resultType"));
    // notifications/cancelled cancels a stateless request too.
    auto slow = h.send(modern_request("s", "tools/call", {{"name", "slow"}}));
    (void)h.send({{"jsonrpc", "2.0"},
                  {"method", "notifications/cancelled"},
                  {"params", {{"requestId", "s"}}}});
    EXPECT_TRUE(slow->ended_without_response());
}

TEST(McpStdio, ShutdownEndsListenWithResultThenCancellation) {
    Harness h(ServerOptions{}, /*stdio=*/true);
    auto ch = h.send(modern_request(7, "subscriptions/listen",
                                    {{"notifications", {{"toolsListChanged", true}}}}));
    ASSERT_EQ(ch->related().size(), 1u);
    h.server->shutdown();
    EXPECT_EQ(ch->result().at("id"), 7);
    const auto sink = h.sink->messages();
    ASSERT_EQ(sink.size(), 1u);
    EXPECT_EQ(sink[0].at("method"), "notifications/cancelled");
    EXPECT_EQ(sink[0].at("params").at("requestId"), 7);
}

} // namespace
} // namespace agentd::protocols::mcp::test
