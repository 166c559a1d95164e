// `agentd serve` as a process: start-up contract, built-in routes, auth, config errors, logs,
// signals.
#include "agentd/itest/agentd_process.h"
#include "agentd/itest/http_client.h"
#include "agentd/test/env.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <sstream>

namespace agentd::itest {
namespace {

TEST(ServeTest, PrintsTheRealPortAndServesHealth) {
    auto p = AgentdProcess::serve();
    ASSERT_NE(p->port(), 0);
    EXPECT_NE(p->err().find("listening on 127.0.0.1:" + std::to_string(p->port()) + "\n"),
              std::string::npos);
    auto r = http_get(p->port(), "/healthz");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(nlohmann::json::parse(r.body)["status"], "ok");
    r = http_get(p->port(), "/readyz");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(nlohmann::json::parse(r.body)["status"], "ready");
    const auto result = p->stop(SIGTERM);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_FALSE(result.timed_out);
}

TEST(ServeTest, MetricsUsePrometheusTextFormat) {
    auto p = AgentdProcess::serve();
    (void)http_get(p->port(), "/healthz");
    (void)http_get(p->port(), "/nope");
    const auto r = http_get(p->port(), "/metrics");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(r.body.find("# TYPE agentd_http_requests_total counter\n"), std::string::npos);
    EXPECT_NE(
        r.body.find(
            "agentd_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1\n"),
        std::string::npos);
    EXPECT_NE(
        r.body.find(
            "agentd_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1\n"),
        std::string::npos);
    EXPECT_NE(r.body.find("# TYPE agentd_http_request_duration_seconds histogram\n"),
              std::string::npos);
    EXPECT_NE(
        r.body.find(
            "agentd_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1\n"),
        std::string::npos);
    // Earlier connections may still be closing on the server side; this one is open.
    EXPECT_NE(r.body.find("agentd_http_open_connections "), std::string::npos);
    EXPECT_EQ(r.body.find("agentd_http_open_connections 0\n"), std::string::npos);
    EXPECT_NE(r.body.find("agentd_http_open_sse_streams 0\n"), std::string::npos);
    EXPECT_NE(r.body.find("agentd_http_received_bytes_total "), std::string::npos);
    EXPECT_NE(r.body.find("agentd_http_sent_bytes_total "), std::string::npos);
    // Every sample line is "name{labels} value" or "name value".
    std::istringstream lines(r.body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        const auto space = line.rfind(' ');
        ASSERT_NE(space, std::string::npos) << line;
        EXPECT_NO_THROW((void)std::stod(line.substr(space + 1))) << line;
    }
    EXPECT_EQ(p->stop().exit_code, 0);
}

TEST(ServeTest, UnknownRoutesAndMethods) {
    auto p = AgentdProcess::serve();
    auto r = http_get(p->port(), "/does/not/exist");
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "not_found");
    r = http_request(p->port(), make_request("DELETE", "/healthz"));
    EXPECT_EQ(r.status, 405u);
    EXPECT_EQ(r.header("Allow"), "GET, HEAD, OPTIONS");
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "method_not_allowed");
    r = http_request(p->port(), make_request("OPTIONS", "/healthz"));
    EXPECT_EQ(r.status, 204u);
    EXPECT_EQ(r.header("Allow"), "GET, HEAD, OPTIONS");
    HttpConnection c(p->port());
    r = c.request(make_request("HEAD", "/healthz"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("Content-Length"), "15");
    EXPECT_TRUE(r.body.empty());
    r = c.request(make_request("GET", "/healthz")); // the HEAD left the connection in sync
    EXPECT_EQ(r.body, "{\"status\":\"ok\"}");
    EXPECT_EQ(p->stop().exit_code, 0);
}

TEST(ServeTest, RequestIdsAreEchoedOrGenerated) {
    auto p = AgentdProcess::serve();
    auto r = http_get(p->port(), "/healthz", {{"X-Request-Id", "trace-42"}});
    EXPECT_EQ(r.header("X-Request-Id"), "trace-42");
    r = http_get(p->port(), "/healthz", {{"X-Request-Id", "bad id with spaces"}});
    EXPECT_EQ(r.header("X-Request-Id").size(), 32u);
    r = http_get(p->port(), "/healthz");
    EXPECT_EQ(r.header("X-Request-Id").size(), 32u);
    EXPECT_TRUE(p->wait_for_err("request_id=trace-42"));
    EXPECT_EQ(p->stop().exit_code, 0);
}

TEST(ServeTest, JsonLogsAreOneObjectPerLine) {
    auto p = AgentdProcess::serve({"--log-format", "json"});
    (void)http_get(p->port(), "/healthz", {{"X-Request-Id", "json-log-check"}});
    ASSERT_TRUE(p->wait_for_err("json-log-check"));
    const auto result = p->stop();
    EXPECT_EQ(result.exit_code, 0);
    std::istringstream lines(result.err);
    std::string line;
    bool saw_request = false;
    while (std::getline(lines, line)) {
        if (line.rfind("listening on ", 0) == 0) {
            continue; // the contract line is plain text on purpose
        }
        const auto j = nlohmann::json::parse(line, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << line;
        EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("msg")) << line;
        if (j["msg"] == "request" && j.value("request_id", "") == "json-log-check") {
            saw_request = true;
            EXPECT_EQ(j["status"], 200);
            EXPECT_EQ(j["route"], "/healthz");
            EXPECT_TRUE(j["duration_ms"].is_number());
        }
    }
    EXPECT_TRUE(saw_request);
}

TEST(ServeTest, LogLevelFiltersAccessLogs) {
    auto p = AgentdProcess::serve({"--log-level", "warn"});
    (void)http_get(p->port(), "/healthz", {{"X-Request-Id", "should-not-be-logged"}});
    const auto result = p->stop();
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_EQ(result.err.find("should-not-be-logged"), std::string::npos);
}

TEST(ServeTest, SigintAlsoStopsGracefully) {
    auto p = AgentdProcess::serve();
    HttpConnection idle(p->port()); // an idle keep-alive connection does not delay the exit
    (void)idle.request(make_request("GET", "/healthz"));
    const auto result = p->stop(SIGINT);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(idle.wait_closed(10s));
}

TEST(ServeTest, ApiKeysGuardNonPublicRoutes) {
    const auto config = write_temp_file("keys.json", R"({"auth": {"keys": [
        {"id": "ops", "tenant": "acme", "scopes": ["metrics"], "key": "ops-key-0123456789abcdef"},
        {"id": "app", "tenant": "acme", "scopes": ["mcp"], "key": "app-key-0123456789abcdef"}]}})");
    auto p = AgentdProcess::serve({"--config", config.string()});
    EXPECT_EQ(http_get(p->port(), "/healthz").status, 200u);
    EXPECT_EQ(http_get(p->port(), "/readyz").status, 200u);
    auto r = http_get(p->port(), "/metrics");
    EXPECT_EQ(r.status, 401u);
    EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"agentd\"");
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "unauthorized");
    r = http_get(p->port(), "/metrics", {{"Authorization", "Bearer not-a-key-0123456789"}});
    EXPECT_EQ(r.status, 401u);
    r = http_get(p->port(), "/metrics", {{"Authorization", "Bearer app-key-0123456789abcdef"}});
    EXPECT_EQ(r.status, 403u);
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "forbidden");
    r = http_get(p->port(), "/metrics", {{"Authorization", "Bearer ops-key-0123456789abcdef"}});
    EXPECT_EQ(r.status, 200u);
    const auto result = p->stop();
    EXPECT_EQ(result.exit_code, 0);
    // Keys never reach the logs.
    EXPECT_EQ(result.err.find("ops-key-0123456789abcdef"), std::string::npos);
    std::filesystem::remove_all(config.parent_path());
}

TEST(ServeTest, NonLoopbackWithoutKeysIsRefused) {
    const auto data = agentd::test::make_temp_dir("refuse");
    const auto r = run_agentd({"serve", "--listen", "0.0.0.0:0", "--data", data.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("refusing to listen on 0.0.0.0"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("auth.keys"), std::string::npos);
    EXPECT_EQ(r.err.find("listening on"), std::string::npos);
    std::filesystem::remove_all(data);
}

TEST(ServeTest, NonLoopbackWithKeysIsAllowed) {
    const auto config = write_temp_file("keys.json", R"({"auth": {"keys": [
        {"id": "k", "tenant": "t", "scopes": ["*"], "key": "a-long-enough-key-123"}]}})");
    AgentdProcess::Options o;
    o.add_listen = false;
    o.args = {"--listen", "0.0.0.0:0", "--config", config.string()};
    auto p = AgentdProcess::start(o);
    EXPECT_NE(p->err().find("listening on 0.0.0.0:"), std::string::npos);
    EXPECT_EQ(http_get(p->port(), "/healthz").status, 200u);
    EXPECT_EQ(p->stop().exit_code, 0);
    std::filesystem::remove_all(config.parent_path());
}

TEST(ServeTest, ConfigAndFlagErrorsExitWithAClearMessage) {
    const auto data = agentd::test::make_temp_dir("cfgerr");
    const auto bad = write_temp_file("bad.json", R"({"server": {"max_connections": "lots"}})");
    auto r = run_agentd({"serve", "--data", data.string(), "--config", bad.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("server.max_connections: must be an integer"), std::string::npos) << r.err;
    const auto unknown = write_temp_file("unknown.json", R"({"sever": {}})");
    r = run_agentd({"serve", "--data", data.string(), "--config", unknown.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("sever: unknown key"), std::string::npos) << r.err;
    r = run_agentd({"serve", "--data", data.string(), "--listen", "127.0.0.1"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--listen"), std::string::npos) << r.err;
    r = run_agentd({"serve", "--data", data.string(), "--frobnicate"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
    r = run_agentd({"serve", "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--listen"), std::string::npos);
    EXPECT_NE(r.out.find("--conformance-fixtures"), std::string::npos);
    std::filesystem::remove_all(data);
    std::filesystem::remove_all(bad.parent_path());
    std::filesystem::remove_all(unknown.parent_path());
}

TEST(ServeTest, PortInUseIsAStartupError) {
    auto first = AgentdProcess::serve();
    const auto data = agentd::test::make_temp_dir("inuse");
    const auto r = run_agentd({"serve", "--data", data.string(), "--listen",
                               "127.0.0.1:" + std::to_string(first->port())});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(first->port())),
              std::string::npos)
        << r.err;
    EXPECT_EQ(first->stop().exit_code, 0);
    std::filesystem::remove_all(data);
}

TEST(ServeTest, DefaultDataDirComesFromTheEnvironment) {
    const auto base = agentd::test::make_temp_dir("xdg");
    AgentdProcess::Options o;
    o.add_data = false;
    o.env = {{"AGENTD_DATA_DIR", ""}, {"XDG_DATA_HOME", base.string()}};
    auto p = AgentdProcess::start(o);
    EXPECT_TRUE(std::filesystem::is_directory(base / "agentd"));
    EXPECT_EQ(p->stop().exit_code, 0);
    std::filesystem::remove_all(base);
}

} // namespace
} // namespace agentd::itest
