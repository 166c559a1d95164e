// MCP protocol revision 2026-07-28 over Streamable HTTP against the real binary, written from the
// spec: per-request `_meta`, mirrored headers, status codes, multi round-trip requests,
// subscriptions/listen, cancellation by closing the stream, no sessions.

#include "agentd/itest/agentd_process.h"

#include "mcp_support.h"

#include <gtest/gtest.h>

#include <memory>

namespace agentd::itest::mcp {
namespace {

class McpStatelessTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = AgentdProcess::serve({"--conformance-fixtures"}); }
    static void TearDownTestSuite() {
        EXPECT_EQ(server_->stop().exit_code, 0);
        server_.reset();
    }
    static std::uint16_t port() { return server_->port(); }

    static HttpResponse send(const json& message, Headers extra = {}) {
        Headers headers = modern_headers(message);
        for (auto& h : extra) {
            headers.push_back(std::move(h));
        }
        return post(port(), message, headers);
    }

    static std::unique_ptr<AgentdProcess> server_;
};

std::unique_ptr<AgentdProcess> McpStatelessTest::server_;

int error_code(const HttpResponse& r) {
    return body_json(r).at("error").at("code").get<int>();
}

TEST_F(McpStatelessTest, DiscoverWithoutASession) {
    auto r = send(modern_request("d", "server/discover"), {{"Mcp-Session-Id", "stale"}});
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_FALSE(r.has_header("Mcp-Session-Id")) << "no session ids in 2026-07-28";
    const json result = body_json(r).at("result");
    EXPECT_EQ(result.at("resultType"), "complete");
    EXPECT_EQ(result.at("supportedVersions")[0], "2026-07-28");
    EXPECT_EQ(result.at("_meta").at("io.modelcontextprotocol/serverInfo").at("name"), "agentd");
    EXPECT_TRUE(result.contains("ttlMs"));
    EXPECT_EQ(result.at("cacheScope"), "public");
}

TEST_F(McpStatelessTest, CallsAndLists) {
    const json call = body_json(send(
        modern_request(1, "tools/call", {{"name", "echo"}, {"arguments", {{"message", "m"}}}})));
    EXPECT_EQ(call.at("result").at("content")[0].at("text"), "Echo: m");
    EXPECT_EQ(call.at("result").at("resultType"), "complete");
    const json list = body_json(send(modern_request(2, "tools/list")));
    EXPECT_EQ(list.at("result").at("cacheScope"), "private");
    const json read =
        body_json(send(modern_request(3, "resources/read", {{"uri", "test://template/9/data"}})));
    EXPECT_EQ(read.at("result").at("contents")[0].at("mimeType"), "application/json");
    const json prompt =
        body_json(send(modern_request(4, "prompts/get", {{"name", "test_simple_prompt"}})));
    EXPECT_EQ(prompt.at("result").at("resultType"), "complete");
    // Base64-sentinel Mcp-Name ("echo").
    json m = modern_request(5, "tools/call", {{"name", "echo"}, {"arguments", {{"message", "x"}}}});
    Headers h = modern_headers(m);
    h.back().second = "=?base64?ZWNobw==?=";
    EXPECT_EQ(post(port(), m, h).status, 200u);
}

TEST_F(McpStatelessTest, ValidationFailuresAre400WithModernErrors) {
    const json call = modern_request(1, "tools/call", {{"name", "echo"}});
    Headers no_method = modern_headers(call);
    no_method.erase(no_method.begin() + 1);
    auto r = post(port(), call, no_method);
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(error_code(r), -32020);
    Headers wrong_name = modern_headers(call);
    wrong_name.back().second = "other";
    EXPECT_EQ(error_code(post(port(), call, wrong_name)), -32020);
    Headers wrong_version = modern_headers(call);
    wrong_version.front().second = "2025-11-25";
    EXPECT_EQ(post(port(), call, wrong_version).status, 400u);

    json old = modern_request(2, "tools/list");
    old["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "1900-01-01";
    Headers old_headers = modern_headers(old);
    old_headers.front().second = "1900-01-01";
    auto unsupported = post(port(), old, old_headers);
    EXPECT_EQ(unsupported.status, 400u);
    const json error = body_json(unsupported).at("error");
    EXPECT_EQ(error.at("code"), -32022);
    EXPECT_EQ(error.at("data").at("requested"), "1900-01-01");
    EXPECT_EQ(error.at("data").at("supported")[0], "2026-07-28");

    json no_caps = modern_request(3, "tools/list");
    no_caps["params"]["_meta"].erase("io.modelcontextprotocol/clientCapabilities");
    auto missing = send(no_caps);
    EXPECT_EQ(missing.status, 400u);
    EXPECT_EQ(error_code(missing), -32602);

    auto unknown = send(modern_request(4, "ping"));
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_EQ(error_code(unknown), -32601);

    json batch = json::array({modern_request(5, "tools/list")});
    EXPECT_EQ(post(port(), batch, {{"MCP-Protocol-Version", "2026-07-28"}}).status, 400u);
    EXPECT_EQ(post(port(), {{"jsonrpc", "2.0"}, {"id", 1}, {"result", json::object()}},
                   {{"MCP-Protocol-Version", "2026-07-28"}})
                  .status,
              400u);
    // A notification POST is accepted.
    EXPECT_EQ(post(port(), notification("notifications/cancelled", {{"requestId", 1}}),
                   {{"MCP-Protocol-Version", "2026-07-28"}})
                  .status,
              202u);
}

TEST_F(McpStatelessTest, GetAndDeleteAre405) {
    for (const char* method : {"GET", "DELETE"}) {
        HttpRequest r;
        r.method = method;
        r.target = "/mcp";
        r.headers = {{"MCP-Protocol-Version", "2026-07-28"}, {"Accept", "text/event-stream"}};
        EXPECT_EQ(http_request(port(), r).status, 405u) << method;
    }
}

TEST_F(McpStatelessTest, LogMessagesOnlyWhenRequested) {
    auto quiet = send(modern_request(1, "tools/call", {{"name", "test_tool_with_logging"}}));
    EXPECT_NE(quiet.header("Content-Type").find("application/json"), std::string::npos);
    auto loud =
        send(modern_request(2, "tools/call", {{"name", "test_tool_with_logging"}}, json::object(),
                            {{"io.modelcontextprotocol/logLevel", "info"}}));
    const json messages = body_json(loud);
    ASSERT_EQ(messages.size(), 4u) << loud.body;
    EXPECT_EQ(messages[0].at("params").at("data"), "Tool execution started");
    EXPECT_EQ(messages[3].at("id"), 2);
}

TEST_F(McpStatelessTest, SamplingIsAMultiRoundTripRequest) {
    const json caps = {{"sampling", json::object()}};
    const json first = body_json(send(modern_request(
        1, "tools/call", {{"name", "test_sampling"}, {"arguments", {{"prompt", "hi"}}}}, caps)));
    const json& interim = first.at("result");
    ASSERT_EQ(interim.at("resultType"), "input_required") << first;
    const json& input = interim.at("inputRequests").at("sampling");
    EXPECT_EQ(input.at("method"), "sampling/createMessage");
    EXPECT_EQ(input.at("params").at("maxTokens"), 100);
    const json retry = modern_request(2, "tools/call",
                                      {{"name", "test_sampling"},
                                       {"arguments", {{"prompt", "hi"}}},
                                       {"inputResponses",
                                        {{"sampling",
                                          {{"role", "assistant"},
                                           {"content", {{"type", "text"}, {"text", "hello"}}},
                                           {"model", "m"}}}}},
                                       {"requestState", interim.at("requestState")}},
                                      caps);
    const json done = body_json(send(retry));
    EXPECT_EQ(done.at("result").at("content")[0].at("text"), "LLM response: hello");

    auto no_caps = send(modern_request(
        3, "tools/call", {{"name", "test_sampling"}, {"arguments", {{"prompt", "hi"}}}}));
    EXPECT_EQ(no_caps.status, 400u);
    EXPECT_EQ(error_code(no_caps), -32021);
    json forged = retry;
    forged["params"]["requestState"] = "s1.forged.state";
    EXPECT_EQ(error_code(send(forged)), -32602);
}

TEST_F(McpStatelessTest, ClosingTheStreamCancels) {
    HttpConnection c(port());
    const json m = modern_request(1, "tools/call",
                                  {{"name", "trigger-long-running-operation"},
                                   {"arguments", {{"duration", 30}, {"steps", 300}}}},
                                  json::object(), {{"progressToken", "t"}});
    c.send(post_request(m, modern_headers(m)));
    auto head = c.read_head();
    ASSERT_EQ(head.status, 200u);
    EXPECT_NE(head.header("Content-Type").find("text/event-stream"), std::string::npos);
    SseReader reader(c);
    auto first = reader.next();
    ASSERT_TRUE(first.has_value());
    EXPECT_TRUE(first->id.empty()) << "no resumable ids in 2026-07-28";
    EXPECT_EQ(json::parse(first->data).at("method"), "notifications/progress");
    c.close();
    EXPECT_TRUE(server_->wait_for_err(
        "mcp fixture operation cancelled tool=trigger-long-running-operation"));
}

TEST(McpStatelessListen, ListenStreamsAcknowledgeAndEndGracefullyAtShutdown) {
    auto p = AgentdProcess::serve({"--conformance-fixtures"});
    const json m = modern_request(
        "sub", "subscriptions/listen",
        {{"notifications",
          {{"toolsListChanged", true}, {"resourceSubscriptions", {"test://watched-resource"}}}}});
    HttpConnection c(p->port());
    c.send(post_request(m, modern_headers(m)));
    auto head = c.read_head();
    ASSERT_EQ(head.status, 200u);
    SseReader reader(c);
    auto ack = reader.next();
    ASSERT_TRUE(ack.has_value());
    const json a = json::parse(ack->data);
    EXPECT_EQ(a.at("method"), "notifications/subscriptions/acknowledged");
    EXPECT_EQ(a.at("params").at("_meta").at("io.modelcontextprotocol/subscriptionId"), "sub");
    EXPECT_EQ(a.at("params").at("notifications").at("toolsListChanged"), true);
    p->signal(15);
    auto end = reader.next();
    ASSERT_TRUE(end.has_value());
    const json e = json::parse(end->data);
    EXPECT_EQ(e.at("id"), "sub");
    EXPECT_EQ(e.at("result").at("_meta").at("io.modelcontextprotocol/subscriptionId"), "sub");
    EXPECT_FALSE(reader.next().has_value());
    EXPECT_EQ(p->wait().exit_code, 0);
}

} // namespace
} // namespace agentd::itest::mcp
