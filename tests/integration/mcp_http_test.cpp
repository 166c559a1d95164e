// MCP Streamable HTTP, session revisions (2025-03-26/06-18/11-25), against the real binary:
// sessions, transport checks, SSE with event ids and priming, resumption with Last-Event-ID,
// the standalone GET stream, cancellation, batches, tenants, and bad input at every layer.

#include "agentd/itest/agentd_process.h"
#include "agentd/test/env.h"

#include "mcp_support.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <regex>

namespace agentd::itest::mcp {
namespace {

class McpHttpTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = AgentdProcess::serve({"--conformance-fixtures"}); }
    static void TearDownTestSuite() {
        const auto result = server_->stop();
        EXPECT_EQ(result.exit_code, 0) << result.err;
        server_.reset();
    }
    static std::uint16_t port() { return server_->port(); }
    static AgentdProcess& server() { return *server_; }

    static std::unique_ptr<AgentdProcess> server_;
};

std::unique_ptr<AgentdProcess> McpHttpTest::server_;

int error_code(const json& message) {
    return message.at("error").at("code").get<int>();
}

TEST_F(McpHttpTest, InitializeMintsASessionThatRequestsMustCarry) {
    auto init = post(port(), request(1, "initialize",
                                     {{"protocolVersion", "2025-11-25"},
                                      {"capabilities", json::object()},
                                      {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
    ASSERT_EQ(init.status, 200u) << init.body;
    EXPECT_NE(init.header("Content-Type").find("application/json"), std::string::npos);
    const std::string session = init.header("Mcp-Session-Id");
    EXPECT_TRUE(std::regex_match(session, std::regex("[0-9a-f]{32}"))) << session;
    EXPECT_EQ(body_json(init).at("result").at("protocolVersion"), "2025-11-25");

    auto list = post(port(), request(2, "tools/list"), session_headers(session));
    ASSERT_EQ(list.status, 200u);
    EXPECT_GE(body_json(list).at("result").at("tools").size(), 15u);

    auto missing = post(port(), request(3, "tools/list"));
    EXPECT_EQ(missing.status, 400u);
    EXPECT_EQ(error_code(body_json(missing)), -32600);
    auto unknown = post(port(), request(3, "tools/list"), session_headers(std::string(32, 'a')));
    EXPECT_EQ(unknown.status, 404u);

    HttpRequest del;
    del.method = "DELETE";
    del.target = "/mcp";
    del.headers = session_headers(session);
    EXPECT_EQ(http_request(port(), del).status, 200u);
    EXPECT_EQ(post(port(), request(4, "tools/list"), session_headers(session)).status, 404u);
    EXPECT_EQ(http_request(port(), del).status, 404u);
}

TEST_F(McpHttpTest, FailedInitializeMintsNoSession) {
    auto r = post(port(), request(1, "initialize", {{"capabilities", json::object()}}));
    EXPECT_EQ(r.status, 400u);
    EXPECT_FALSE(r.has_header("Mcp-Session-Id"));
    EXPECT_EQ(error_code(body_json(r)), -32602);
}

TEST_F(McpHttpTest, TransportChecksAnswerPreciselyAndTheServerKeepsServing) {
    const std::string session = open_session(port());
    const auto headers = session_headers(session);
    const std::string ping = request(1, "ping").dump();

    auto no_sse = post_request(ping, headers);
    no_sse.headers[1].second = "application/json";
    EXPECT_EQ(http_request(port(), no_sse).status, 406u);
    auto text = post_request(ping, headers);
    text.headers[0].second = "text/plain";
    EXPECT_EQ(http_request(port(), text).status, 415u);
    auto latin = post_request(ping, headers);
    latin.headers[0].second = "application/json; charset=latin1";
    EXPECT_EQ(http_request(port(), latin).status, 415u);
    auto star = post_request(ping, headers);
    star.headers[1].second = "*/*";
    EXPECT_EQ(http_request(port(), star).status, 200u);

    auto bad_json = http_request(port(), post_request(std::string("{\"jsonrpc\":"), headers));
    EXPECT_EQ(bad_json.status, 400u);
    EXPECT_EQ(error_code(body_json(bad_json)), -32700);
    EXPECT_TRUE(body_json(bad_json).at("id").is_null());
    auto not_rpc =
        http_request(port(), post_request(std::string(R"({"id":7,"method":"ping"})"), headers));
    EXPECT_EQ(not_rpc.status, 400u);
    EXPECT_EQ(error_code(body_json(not_rpc)), -32600);
    EXPECT_EQ(body_json(not_rpc).at("id"), 7);
    auto deep = http_request(
        port(), post_request(std::string(5000, '[') + std::string(5000, ']'), headers));
    EXPECT_EQ(deep.status, 400u);

    auto bad_version = post(port(), request(2, "ping"),
                            {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", "1999-01-01"}});
    EXPECT_EQ(bad_version.status, 400u);
    EXPECT_EQ(error_code(body_json(bad_version)), -32022);
    // Another supported version than the negotiated one is accepted (clients do send it).
    EXPECT_EQ(post(port(), request(3, "ping"), session_headers(session, "2025-03-26")).status,
              200u);
    // Without the header the negotiated version applies.
    EXPECT_EQ(post(port(), request(4, "ping"), {{"Mcp-Session-Id", session}}).status, 200u);

    auto evil = post_request(ping, headers);
    evil.headers.emplace_back("Origin", "http://evil.example.com");
    EXPECT_EQ(http_request(port(), evil).status, 403u);
    auto local = post_request(ping, headers);
    local.headers.emplace_back("Origin", "http://localhost:1234");
    EXPECT_EQ(http_request(port(), local).status, 200u);

    EXPECT_EQ(post(port(), request(5, "nope"), headers).status, 200u); // -32601 in the body
    const auto pong = post(port(), request(6, "ping"), headers);
    EXPECT_EQ(pong.status, 200u);
    EXPECT_EQ(body_json(pong).at("result"), json::object());
}

TEST_F(McpHttpTest, NotificationsAndAnswersGet202) {
    const std::string session = open_session(port());
    const auto headers = session_headers(session);
    EXPECT_EQ(post(port(), notification("notifications/roots/list_changed"), headers).status, 202u);
    EXPECT_EQ(
        post(port(), {{"jsonrpc", "2.0"}, {"id", 99}, {"result", json::object()}}, headers).status,
        202u);
    EXPECT_EQ(
        post(port(), notification("notifications/cancelled", {{"requestId", "none"}}), headers)
            .status,
        202u);
}

TEST_F(McpHttpTest, BatchesOnlyIn20250326Sessions) {
    const std::string old_session = open_session(port(), "2025-03-26");
    auto batch = post(port(),
                      json::array({request(1, "ping"), request(2, "tools/list"),
                                   notification("notifications/x")}),
                      session_headers(old_session, "2025-03-26"));
    ASSERT_EQ(batch.status, 200u);
    const json responses = body_json(batch);
    ASSERT_TRUE(responses.is_array());
    EXPECT_EQ(responses.size(), 2u);
    EXPECT_EQ(post(port(), json::array({notification("notifications/x")}),
                   session_headers(old_session, "2025-03-26"))
                  .status,
              202u);

    const std::string session = open_session(port(), "2025-11-25");
    auto refused = post(port(), json::array({request(1, "ping")}), session_headers(session));
    EXPECT_EQ(refused.status, 400u);
    EXPECT_EQ(error_code(body_json(refused)), -32600);
    EXPECT_EQ(post(port(), json::array(), session_headers(session)).status, 400u);
}

TEST_F(McpHttpTest, NotificationsSwitchTheResponseToSseWithIdsAndPriming) {
    for (const std::string version : {"2025-11-25", "2025-06-18"}) {
        const std::string session = open_session(port(), version);
        HttpConnection c(port());
        c.send(post_request(
            request(7, "tools/call",
                    {{"name", "test_tool_with_progress"}, {"_meta", {{"progressToken", "p"}}}}),
            session_headers(session, version)));
        auto head = c.read_head();
        ASSERT_EQ(head.status, 200u);
        EXPECT_NE(head.header("Content-Type").find("text/event-stream"), std::string::npos);
        EXPECT_EQ(head.header("Mcp-Session-Id"), session);
        SseReader reader(c);
        auto events = reader.rest();
        if (version == "2025-11-25") {
            ASSERT_FALSE(events.empty());
            EXPECT_TRUE(events.front().data.empty()) << "priming event first";
            EXPECT_FALSE(events.front().id.empty());
            events.erase(events.begin());
        }
        ASSERT_EQ(events.size(), 4u) << version;
        std::string previous;
        for (std::size_t i = 0; i < events.size(); ++i) {
            EXPECT_FALSE(events[i].id.empty());
            EXPECT_NE(events[i].id, previous);
            previous = events[i].id;
            const json m = json::parse(events[i].data);
            if (i < 3) {
                EXPECT_EQ(m.at("method"), "notifications/progress");
                EXPECT_EQ(m.at("params").at("progress"), 50 * static_cast<int>(i));
            } else {
                EXPECT_EQ(m.at("id"), 7);
                EXPECT_TRUE(m.contains("result"));
            }
        }
    }
}

TEST_F(McpHttpTest, ABrokenStreamResumesWithLastEventId) {
    const std::string session = open_session(port());
    std::string last_id;
    {
        HttpConnection c(port());
        c.send(post_request(request(8, "tools/call",
                                    {{"name", "trigger-long-running-operation"},
                                     {"arguments", {{"duration", 0.8}, {"steps", 4}}},
                                     {"_meta", {{"progressToken", 8}}}}),
                            session_headers(session)));
        ASSERT_EQ(c.read_head().status, 200u);
        SseReader reader(c);
        while (auto e = reader.next()) {
            last_id = e->id;
            if (!e->data.empty()) {
                break; // the first progress notification: now lose the connection
            }
        }
        c.close();
    }
    ASSERT_FALSE(last_id.empty());
    // Disconnection is not cancellation on these revisions: the work goes on; the client
    // resumes the stream and gets what it missed, then the response.
    HttpConnection c(port());
    HttpRequest get;
    get.target = "/mcp";
    get.headers = session_headers(session);
    get.headers.emplace_back("Accept", "text/event-stream");
    get.headers.emplace_back("Last-Event-ID", last_id);
    c.send(get);
    auto head = c.read_head();
    ASSERT_EQ(head.status, 200u);
    SseReader reader(c);
    std::vector<int> steps;
    json response;
    for (const auto& e : reader.rest()) {
        const json m = json::parse(e.data);
        if (m.contains("method")) {
            steps.push_back(m.at("params").at("progress").get<int>());
        } else {
            response = m;
        }
    }
    EXPECT_EQ(steps, (std::vector<int>{2, 3, 4}));
    EXPECT_EQ(response.at("id"), 8);
    EXPECT_NE(
        response.at("result").at("content")[0].at("text").get<std::string>().find("completed"),
        std::string::npos);

    HttpRequest bad = get;
    bad.headers.back().second = "not-an-id";
    EXPECT_EQ(http_request(port(), bad).status, 400u);
}

TEST_F(McpHttpTest, StandaloneGetStream) {
    const std::string session = open_session(port());
    HttpRequest get;
    get.target = "/mcp";
    get.headers = session_headers(session);
    get.headers.emplace_back("Accept", "text/event-stream");
    HttpConnection stream(port());
    stream.send(get);
    auto head = stream.read_head();
    ASSERT_EQ(head.status, 200u);
    EXPECT_NE(head.header("Content-Type").find("text/event-stream"), std::string::npos);

    EXPECT_EQ(http_request(port(), get).status, 409u); // one standalone stream per session
    HttpRequest no_accept = get;
    no_accept.headers.back().second = "application/json";
    EXPECT_EQ(http_request(port(), no_accept).status, 406u);
    HttpRequest no_session;
    no_session.target = "/mcp";
    no_session.headers = {{"Accept", "text/event-stream"}};
    EXPECT_EQ(http_request(port(), no_session).status, 400u);

    // Ending the session ends its stream.
    HttpRequest del;
    del.method = "DELETE";
    del.target = "/mcp";
    del.headers = session_headers(session);
    EXPECT_EQ(http_request(port(), del).status, 200u);
    SseReader reader(stream);
    EXPECT_TRUE(reader.rest().empty());
}

TEST_F(McpHttpTest, CancellationStopsTheToolAndTheSessionKeepsServing) {
    const std::string session = open_session(port());
    HttpConnection c(port());
    c.send(post_request(request("long", "tools/call",
                                {{"name", "trigger-long-running-operation"},
                                 {"arguments", {{"duration", 30}, {"steps", 300}}},
                                 {"_meta", {{"progressToken", 1}}}}),
                        session_headers(session)));
    ASSERT_EQ(c.read_head().status, 200u);
    SseReader reader(c);
    while (auto e = reader.next()) {
        if (!e->data.empty()) {
            break; // the tool is running
        }
    }
    EXPECT_EQ(
        post(port(),
             notification("notifications/cancelled", {{"requestId", "long"}, {"reason", "test"}}),
             session_headers(session))
            .status,
        202u);
    EXPECT_TRUE(server().wait_for_err("mcp fixture operation cancelled"));
    EXPECT_EQ(body_json(post(port(), request(2, "ping"), session_headers(session))).at("result"),
              json::object());
}

TEST_F(McpHttpTest, CancellationBeforeAnyEventEndsTheResponseEmpty) {
    const std::string session = open_session(port());
    HttpConnection c(port());
    c.send(post_request(request("slow", "tools/call",
                                {{"name", "trigger-long-running-operation"},
                                 {"arguments", {{"duration", 30}, {"steps", 3}}}}),
                        session_headers(session)));
    // The request is in flight once a second request on the session has been answered after it
    // was sent on its own connection; retry the cancellation until the server logs it.
    for (int attempt = 0; attempt < 100; ++attempt) {
        (void)post(port(), notification("notifications/cancelled", {{"requestId", "slow"}}),
                   session_headers(session));
        if (server().wait_for_err("completed_steps=0 steps=3", 100ms)) {
            break;
        }
    }
    HttpResponse head;
    const auto messages = read_messages(c, &head);
    EXPECT_EQ(head.status, 200u);
    EXPECT_TRUE(messages.empty()) << "no response for a cancelled request";
}

TEST_F(McpHttpTest, SamplingRoundTripOverTheRequestStream) {
    const std::string session = open_session(port(), "2025-11-25", {{"sampling", json::object()}});
    HttpConnection c(port());
    c.send(post_request(
        request(5, "tools/call", {{"name", "test_sampling"}, {"arguments", {{"prompt", "2+2?"}}}}),
        session_headers(session)));
    ASSERT_EQ(c.read_head().status, 200u);
    SseReader reader(c);
    json sampling;
    while (auto e = reader.next()) {
        if (!e->data.empty()) {
            sampling = json::parse(e->data);
            break;
        }
    }
    ASSERT_EQ(sampling.at("method"), "sampling/createMessage");
    EXPECT_EQ(sampling.at("params").at("messages")[0].at("content").at("text"), "2+2?");
    EXPECT_EQ(post(port(),
                   {{"jsonrpc", "2.0"},
                    {"id", sampling.at("id")},
                    {"result",
                     {{"role", "assistant"},
                      {"content", {{"type", "text"}, {"text", "4"}}},
                      {"model", "m"}}}},
                   session_headers(session))
                  .status,
              202u);
    auto rest = reader.rest();
    ASSERT_EQ(rest.size(), 1u);
    EXPECT_EQ(json::parse(rest[0].data).at("result").at("content")[0].at("text"),
              "LLM response: 4");
}

TEST(McpHttpTenants, SessionsAreInvisibleToOtherTenants) {
    const auto config = write_temp_file("keys.json", R"({"auth": {"keys": [
        {"id": "a", "tenant": "alpha", "scopes": ["mcp"], "key": "alpha-key-0123456789abcdef"},
        {"id": "b", "tenant": "beta", "scopes": ["mcp"], "key": "beta-key-0123456789abcdef"},
        {"id": "c", "tenant": "beta", "scopes": ["metrics"], "key": "gamma-key-0123456789abcdef"}]}})");
    auto p = AgentdProcess::serve({"--config", config.string(), "--conformance-fixtures"});
    const Headers alpha = {{"Authorization", "Bearer alpha-key-0123456789abcdef"}};
    auto init = post(p->port(),
                     request(1, "initialize",
                             {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()}}),
                     alpha);
    ASSERT_EQ(init.status, 200u);
    const std::string session = init.header("Mcp-Session-Id");
    Headers as_alpha = alpha;
    as_alpha.emplace_back("Mcp-Session-Id", session);
    EXPECT_EQ(post(p->port(), request(2, "ping"), as_alpha).status, 200u);
    Headers as_beta = {{"Authorization", "Bearer beta-key-0123456789abcdef"},
                       {"Mcp-Session-Id", session}};
    EXPECT_EQ(post(p->port(), request(2, "ping"), as_beta).status, 404u);
    EXPECT_EQ(post(p->port(), request(2, "ping"), {{"Mcp-Session-Id", session}}).status, 401u);
    EXPECT_EQ(
        post(p->port(), request(2, "ping"),
             {{"Authorization", "Bearer gamma-key-0123456789abcdef"}, {"Mcp-Session-Id", session}})
            .status,
        403u);
    EXPECT_EQ(p->stop().exit_code, 0);
    std::filesystem::remove_all(config.parent_path());
}

TEST(McpHttpFixtures, FixturesAreOffByDefault) {
    auto p = AgentdProcess::serve();
    auto init = post(
        p->port(), request(1, "initialize",
                           {{"protocolVersion", "2025-11-25"}, {"capabilities", json::object()}}));
    ASSERT_EQ(init.status, 200u);
    const std::string session = init.header("Mcp-Session-Id");
    const json caps = body_json(init).at("result").at("capabilities");
    if (caps.contains("tools")) {
        const json list =
            body_json(post(p->port(), request(2, "tools/list"), session_headers(session)));
        for (const auto& tool : list.at("result").at("tools")) {
            EXPECT_NE(tool.at("name"), "test_simple_text");
        }
    }
    auto call = post(p->port(), request(3, "tools/call", {{"name", "test_simple_text"}}),
                     session_headers(session));
    EXPECT_TRUE(body_json(call).contains("error")) << call.body;
    EXPECT_EQ(p->stop().exit_code, 0);
}

} // namespace
} // namespace agentd::itest::mcp
