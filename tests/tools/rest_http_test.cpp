// REST tools end to end against a real loopback HTTP server, through the gateway's Beast client:
// every success and failure class, SSRF checks at call time, limits, cancellation, TLS.
#include "agentd/tools/errc.h"
#include "agentd/tools/rest_tool.h"
#include "agentd/tools/tool_call.h"

#include "http_client/beast_http_client.h"
#include "loopback_http_server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string_view>
#include <thread>

namespace agentd::tools::test {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

/// An io_context on two threads, as the gateway runs it.
class IoThreads {
public:
    IoThreads() : work_(net::make_work_guard(io_)) {
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { io_.run(); });
        }
    }
    ~IoThreads() {
        work_.reset();
        io_.stop();
        for (auto& t : threads_) {
            t.join();
        }
    }
    net::io_context& io() { return io_; }

private:
    net::io_context io_;
    net::executor_work_guard<net::io_context::executor_type> work_;
    std::vector<std::thread> threads_;
};

class RestHttpTest : public ::testing::Test {
protected:
    ToolPtr tool(const std::string& url, const std::string& method = "POST",
                 nlohmann::json extra = nlohmann::json::object()) {
        nlohmann::json body = {{"name", "t"},
                               {"description", "test tool"},
                               {"input_schema", {{"type", "object"}}},
                               {"endpoint", {{"url", url}, {"method", method}}},
                               {"timeout_ms", 3000}};
        body.update(extra, true);
        auto spec = parse_rest_registration(body, policy);
        EXPECT_TRUE(spec) << (spec ? "" : spec.error().message);
        auto t = make_rest_tool(std::move(*spec), client, policy);
        EXPECT_TRUE(t) << (t ? "" : t.error().message);
        return *t;
    }

    ToolResult call(const ToolPtr& t, const std::string& args = "{}",
                    std::shared_ptr<CancellationSignal> cancel = nullptr) {
        ToolInvocation inv;
        inv.arguments = share_json(nlohmann::json::parse(args));
        inv.cancel = std::move(cancel);
        auto promise = std::make_shared<std::promise<ToolResult>>();
        auto future = promise->get_future();
        call_tool(t, std::move(inv), [promise](ToolResult r) { promise->set_value(std::move(r)); });
        if (future.wait_for(30s) != std::future_status::ready) {
            ADD_FAILURE() << "no answer within 30 s";
            return ToolResult::error("no answer");
        }
        return future.get();
    }

    RestToolPolicy policy;
    IoThreads io;
    LoopbackHttpServer server;
    std::shared_ptr<HttpClient> client = gateway::http_client::make_beast_http_client(io.io());
};

TEST_F(RestHttpTest, PostSendsArgumentsAndMapsAJsonObject) {
    nlohmann::json extra;
    extra["output_schema"] = {
        {"type", "object"}, {"properties", {{"sum", {{"type", "number"}}}}}, {"required", {"sum"}}};
    const auto r = call(tool(server.url("/add"), "POST", extra), R"({"a":2,"b":40})");
    ASSERT_FALSE(r.is_error) << r.joined_text();
    EXPECT_EQ(r.structured_content->at("sum"), 42.0);
    EXPECT_EQ(r.joined_text(), R"({"sum":42.0})");
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1U);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].body, R"({"a":2,"b":40})");
}

TEST_F(RestHttpTest, RequestCarriesHeadersAndGetUsesTheQuery) {
    nlohmann::json extra;
    extra["endpoint"] = {{"url", server.url("/echo?fixed=1")},
                         {"method", "GET"},
                         {"headers", {{"Authorization", "Bearer abc"}, {"X-Extra", "yes"}}}};
    const auto echo =
        call(tool(server.url("/echo?fixed=1"), "GET", extra), R"({"city":"New York","n":2})");
    ASSERT_FALSE(echo.is_error) << echo.joined_text();
    const auto& e = *echo.structured_content;
    EXPECT_EQ(e["method"], "GET");
    EXPECT_EQ(e["target"], "/echo?fixed=1&city=New%20York&n=2");
    EXPECT_EQ(e["headers"]["authorization"], "Bearer abc");
    EXPECT_EQ(e["headers"]["x-extra"], "yes");
    EXPECT_EQ(e["headers"]["host"], "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_EQ(e["headers"]["accept"], "application/json");
    EXPECT_EQ(e["body"], "");
}

TEST_F(RestHttpTest, NonObjectEmptyAndNonJsonAnswers) {
    EXPECT_EQ(call(tool(server.url("/array"))).joined_text(), "[1,2,3]");
    const auto empty = call(tool(server.url("/empty")));
    EXPECT_FALSE(empty.is_error);
    EXPECT_EQ(empty.joined_text(), "(HTTP 204, empty response)");
    const auto text = call(tool(server.url("/text")));
    EXPECT_TRUE(text.is_error);
    EXPECT_EQ(text.joined_text(),
              "REST endpoint POST " + server.url("/text") +
                  " answered HTTP 200 with a body that is not JSON (Content-Type: text/html): "
                  "<html>hello</html>");
}

TEST_F(RestHttpTest, Non2xxIsAToolError) {
    const auto r = call(tool(server.url("/status/503")));
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.joined_text(), "REST endpoint POST " + server.url("/status/503") +
                                   " answered HTTP 503 Service Unavailable: {\"error\":\"status "
                                   "503\"}");
    const auto redirect = call(tool(server.url("/redirect")));
    EXPECT_TRUE(redirect.is_error);
    EXPECT_NE(redirect.joined_text().find("redirects are not followed"), std::string::npos);
    EXPECT_EQ(server.requests().size(), 2U); // the redirect target was never contacted
}

TEST_F(RestHttpTest, OversizedResponseIsCut) {
    policy.max_response_bytes = 64U << 10U;
    const auto r = call(tool(server.url("/big")));
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.joined_text(), "REST endpoint POST " + server.url("/big") +
                                   " failed: the response body exceeded the 65536-byte limit");
}

TEST_F(RestHttpTest, TimeoutsNameThePhase) {
    const auto headers = call(tool(server.url("/stall-headers"), "POST", {{"timeout_ms", 300}}));
    EXPECT_TRUE(headers.is_error);
    EXPECT_EQ(headers.joined_text(),
              "REST endpoint POST " + server.url("/stall-headers") +
                  " did not answer within 300 ms (timed out while waiting for the response "
                  "headers from 127.0.0.1:" +
                  std::to_string(server.port()) + ")");
    const auto body = call(tool(server.url("/stall-body"), "POST", {{"timeout_ms", 300}}));
    EXPECT_TRUE(body.is_error);
    EXPECT_NE(body.joined_text().find("timed out while reading the response body"),
              std::string::npos)
        << body.joined_text();
}

TEST_F(RestHttpTest, RefusedConnection) {
    // A bound socket that does not listen: connecting to it is refused at once.
    net::io_context local_io;
    net::ip::tcp::socket idle(local_io);
    idle.open(net::ip::tcp::v4());
    idle.bind({net::ip::make_address("127.0.0.1"), 0});
    const auto port = idle.local_endpoint().port();
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/x";
    const auto r = call(tool(url));
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.joined_text(),
              "REST endpoint POST " + url +
                  " failed: connection refused by 127.0.0.1:" + std::to_string(port));
}

TEST_F(RestHttpTest, MalformedAndClosedAnswers) {
    const auto garbage = call(tool(server.url("/garbage")));
    EXPECT_TRUE(garbage.is_error);
    EXPECT_NE(garbage.joined_text().find("malformed HTTP response"), std::string::npos)
        << garbage.joined_text();
    const auto closed = call(tool(server.url("/close")));
    EXPECT_TRUE(closed.is_error);
    EXPECT_NE(closed.joined_text().find("closed the connection before a complete response"),
              std::string::npos)
        << closed.joined_text();
}

TEST_F(RestHttpTest, DnsFailure) {
    const auto r = call(tool("http://no-such-host.invalid/x", "POST", {{"timeout_ms", 10000}}));
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.joined_text().find("failed: could not resolve host \"no-such-host.invalid\""),
              std::string::npos)
        << r.joined_text();
}

TEST_F(RestHttpTest, ResolvedAddressesAreCheckedAtCallTime) {
    // Registered while loopback was allowed; the policy at call time forbids it: the name
    // "localhost" resolves to loopback addresses and nothing is contacted.
    const auto t = tool("http://localhost:" + std::to_string(server.port()) + "/add");
    policy.net.allow_loopback = false;
    HttpClientRequest request;
    request.host = "localhost";
    request.port = server.port();
    request.target = "/add";
    request.deadline = std::chrono::steady_clock::now() + 5s;
    request.policy = policy.net;
    std::promise<base::Result<HttpClientResponse>> promise;
    client->send(request, [&](base::Result<HttpClientResponse> r) { promise.set_value(r); });
    const auto outcome = promise.get_future().get();
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, errc::forbidden);
    EXPECT_NE(outcome.error().message.find("host \"localhost\" resolved only to addresses REST "
                                           "tools may not reach: "),
              std::string::npos)
        << outcome.error().message;
    EXPECT_TRUE(server.requests().empty());
    (void)t;
}

/// This machine's host name when it resolves only to loopback addresses (a name the
/// registration check cannot judge without resolving it), or "".
std::string loopback_host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || std::string_view(name) == "localhost") {
        return "";
    }
    net::io_context resolve_io;
    net::ip::tcp::resolver resolver(resolve_io);
    boost::system::error_code ec;
    const auto results = resolver.resolve(name, "80", ec);
    if (ec || results.empty()) {
        return "";
    }
    for (const auto& entry : results) {
        if (!entry.endpoint().address().is_loopback()) {
            return "";
        }
    }
    return name;
}

TEST_F(RestHttpTest, ToolsRecheckResolvedAddressesOnEveryCall) {
    const std::string host = loopback_host_name();
    if (host.empty()) {
        GTEST_SKIP() << "the host name does not resolve only to loopback addresses here";
    }
    // The name passes registration (it is neither an address nor a known local name) under a
    // policy without loopback; the call resolves it and refuses every address it got.
    policy.net.allow_loopback = false;
    const std::string url = "http://" + host + ":" + std::to_string(server.port()) + "/add";
    const auto r = call(tool(url), R"({"a":1,"b":2})");
    EXPECT_TRUE(r.is_error);
    EXPECT_NE(r.joined_text().find("resolved only to addresses REST tools may not reach"),
              std::string::npos)
        << r.joined_text();
    EXPECT_TRUE(server.requests().empty());

    policy.net.allow_loopback = true;
    const auto allowed = call(tool(url), R"({"a":1,"b":2})");
    EXPECT_FALSE(allowed.is_error) << allowed.joined_text();
}

TEST_F(RestHttpTest, MetadataLiteralIsNeverContacted) {
    HttpClientRequest request;
    request.host = "169.254.169.254";
    request.port = 80;
    request.deadline = std::chrono::steady_clock::now() + 5s;
    std::promise<base::Result<HttpClientResponse>> promise;
    client->send(request, [&](base::Result<HttpClientResponse> r) { promise.set_value(r); });
    const auto outcome = promise.get_future().get();
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, errc::forbidden);
    EXPECT_EQ(outcome.error().message,
              "169.254.169.254 is a cloud metadata service address, which REST tools may not "
              "reach (the server's tools.rest.allow_metadata setting allows it)");
}

TEST_F(RestHttpTest, CancellationAbortsPromptly) {
    auto cancel = std::make_shared<CancellationSignal>();
    const auto t = tool(server.url("/stall-headers"), "POST", {{"timeout_ms", 60000}});
    std::thread canceller([&] {
        if (server.wait_for("/stall-headers", 20s)) {
            cancel->cancel();
        }
    });
    const auto r = call(t, "{}", cancel);
    canceller.join();
    EXPECT_TRUE(r.is_error);
    EXPECT_EQ(r.joined_text(),
              "the call to REST endpoint POST " + server.url("/stall-headers") + " was cancelled");
    // The connection itself is closed, not only the caller answered.
    EXPECT_TRUE(server.wait_abandoned(1, 10s));
}

TEST_F(RestHttpTest, ConnectionLimitRefusesWhenNothingMayWait) {
    gateway::http_client::HttpClientOptions options;
    options.max_in_flight = 1;
    options.max_waiting = 0;
    client = gateway::http_client::make_beast_http_client(io.io(), options);
    auto cancel = std::make_shared<CancellationSignal>();
    const auto stall = tool(server.url("/stall-headers"), "POST", {{"timeout_ms", 60000}});
    auto first = std::async(std::launch::async, [&] { return call(stall, "{}", cancel); });
    ASSERT_TRUE(server.wait_for("/stall-headers", 20s));
    const auto refused = call(tool(server.url("/array")));
    EXPECT_TRUE(refused.is_error);
    EXPECT_NE(refused.joined_text().find("too many outbound requests are in flight"),
              std::string::npos)
        << refused.joined_text();
    cancel->cancel();
    EXPECT_TRUE(first.get().is_error);
    // The slot is free again.
    EXPECT_FALSE(call(tool(server.url("/array"))).is_error);
}

TEST_F(RestHttpTest, ConnectionLimitQueuesUntilASlotFrees) {
    gateway::http_client::HttpClientOptions options;
    options.max_in_flight = 1;
    options.max_waiting = 4;
    client = gateway::http_client::make_beast_http_client(io.io(), options);
    auto cancel = std::make_shared<CancellationSignal>();
    const auto stall = tool(server.url("/stall-headers"), "POST", {{"timeout_ms", 60000}});
    auto first = std::async(std::launch::async, [&] { return call(stall, "{}", cancel); });
    ASSERT_TRUE(server.wait_for("/stall-headers", 20s));
    auto second = std::async(std::launch::async,
                             [&] { return call(tool(server.url("/add")), R"({"a":1})"); });
    // The second cannot have reached the server while the first holds the only slot.
    EXPECT_EQ(server.requests().size(), 1U);
    cancel->cancel();
    EXPECT_TRUE(first.get().is_error);
    const auto queued = second.get();
    EXPECT_FALSE(queued.is_error) << queued.joined_text();
    EXPECT_EQ(queued.structured_content->at("sum"), 1.0);
}

TEST_F(RestHttpTest, QueuedRequestsTimeOutWhileWaiting) {
    gateway::http_client::HttpClientOptions options;
    options.max_in_flight = 1;
    client = gateway::http_client::make_beast_http_client(io.io(), options);
    auto cancel = std::make_shared<CancellationSignal>();
    const auto stall = tool(server.url("/stall-headers"), "POST", {{"timeout_ms", 60000}});
    auto first = std::async(std::launch::async, [&] { return call(stall, "{}", cancel); });
    ASSERT_TRUE(server.wait_for("/stall-headers", 20s));
    const auto waited = call(tool(server.url("/add"), "POST", {{"timeout_ms", 100}}));
    EXPECT_TRUE(waited.is_error);
    EXPECT_NE(waited.joined_text().find("timed out while waiting for a free connection slot"),
              std::string::npos)
        << waited.joined_text();
    cancel->cancel();
    EXPECT_TRUE(first.get().is_error);
    EXPECT_FALSE(call(tool(server.url("/array"))).is_error);
}

TEST_F(RestHttpTest, Https) {
    const auto [cert, key] = make_self_signed_certificate();
    LoopbackHttpServer tls_server(cert, key);
    const auto dir =
        std::filesystem::temp_directory_path() / ("agentd-rest-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto ca = dir / "ca.pem";
    std::ofstream(ca) << cert;
    gateway::http_client::HttpClientOptions trusting;
    trusting.extra_ca_file = ca;
    trusting.no_system_ca = true;
    client = gateway::http_client::make_beast_http_client(io.io(), trusting);
    const auto ok = call(tool(tls_server.url("/add")), R"({"a":1,"b":2})");
    EXPECT_FALSE(ok.is_error) << ok.joined_text();
    EXPECT_EQ(ok.structured_content->at("sum"), 3.0);
    const auto by_name =
        call(tool("https://localhost:" + std::to_string(tls_server.port()) + "/add"),
             R"({"a":1,"b":1})");
    EXPECT_FALSE(by_name.is_error) << by_name.joined_text();

    gateway::http_client::HttpClientOptions system_only;
    system_only.no_system_ca = true; // trusts nothing
    client = gateway::http_client::make_beast_http_client(io.io(), system_only);
    const auto untrusted = call(tool(tls_server.url("/add")));
    EXPECT_TRUE(untrusted.is_error);
    EXPECT_NE(untrusted.joined_text().find("TLS handshake with 127.0.0.1:"), std::string::npos)
        << untrusted.joined_text();
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace agentd::tools::test
