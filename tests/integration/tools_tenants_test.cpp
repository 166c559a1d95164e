// REST tools and tenants through the real binary: /v1/tools needs a key with the tools scope,
// each tenant sees and calls only its own tools (REST routes and MCP), registrations of every
// tenant survive a restart, and `agentd mcp --stdio` serves the stored tools of its local tenant.

#include "agentd/itest/agentd_process.h"
#include "agentd/test/env.h"

#include "../tools/loopback_http_server.h"
#include "mcp_support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <vector>

namespace agentd::itest::mcp {
namespace {

using tools::test::LoopbackHttpServer;

constexpr const char* kAlphaKey = "alpha-key-0123456789abcdef";
constexpr const char* kBetaKey = "beta-key-0123456789abcdef";
constexpr const char* kMcpOnlyKey = "mcp-only-key-0123456789abcdef";

Headers bearer(const std::string& key) {
    return {{"Authorization", "Bearer " + key}};
}

json echo_tool(const LoopbackHttpServer& upstream, const std::string& name) {
    return {{"name", name},
            {"description", "Echoes the request"},
            {"input_schema", {{"type", "object"}}},
            {"endpoint", {{"method", "POST"}, {"url", upstream.url("/echo")}}}};
}

HttpResponse post_tool(std::uint16_t port, const json& body, const std::string& key) {
    Headers headers = bearer(key);
    headers.emplace_back("Content-Type", "application/json");
    return http_request(port, make_request("POST", "/v1/tools", body.dump(), headers));
}

HttpResponse get_as(std::uint16_t port, const std::string& target, const std::string& key) {
    return http_get(port, target, bearer(key));
}

/// The names in a 2026-07-28 tools/list answer for `key`'s tenant.
std::vector<std::string> mcp_tool_names(std::uint16_t port, const std::string& key) {
    const json message = modern_request(1, "tools/list");
    Headers headers = modern_headers(message);
    headers.emplace_back("Authorization", "Bearer " + key);
    const json list = body_json(post(port, message, headers));
    std::vector<std::string> names;
    for (const auto& tool : list.at("result").at("tools")) {
        names.push_back(tool.at("name").get<std::string>());
    }
    return names;
}

json mcp_call(std::uint16_t port, const std::string& key, const std::string& name) {
    const json message = modern_request(2, "tools/call", {{"name", name}, {"arguments", {}}});
    Headers headers = modern_headers(message);
    headers.emplace_back("Authorization", "Bearer " + key);
    return body_json(post(port, message, headers));
}

class ToolsTenantsTest : public ::testing::Test {
protected:
    void SetUp() override {
        config_ = write_temp_file("keys.json", std::string(R"({"auth": {"keys": [
            {"id": "a", "tenant": "alpha", "scopes": ["mcp", "tools"], "key": ")") +
                                                   kAlphaKey + R"("},
            {"id": "b", "tenant": "beta", "scopes": ["mcp", "tools"], "key": ")" +
                                                   kBetaKey + R"("},
            {"id": "m", "tenant": "beta", "scopes": ["mcp"], "key": ")" +
                                                   kMcpOnlyKey + R"("}]}})");
        data_ = agentd::test::make_temp_dir("tools-tenants");
        start();
    }
    void TearDown() override {
        if (server_) {
            EXPECT_EQ(server_->stop().exit_code, 0);
        }
        std::filesystem::remove_all(config_.parent_path());
        std::filesystem::remove_all(data_);
    }
    void start() {
        AgentdProcess::Options options;
        options.add_data = false;
        options.args = {"--config", config_.string(), "--data", data_.string()};
        server_ = AgentdProcess::start(options);
    }
    [[nodiscard]] std::uint16_t port() const { return server_->port(); }

    LoopbackHttpServer upstream_;
    std::filesystem::path config_;
    std::filesystem::path data_;
    std::unique_ptr<AgentdProcess> server_;
};

TEST_F(ToolsTenantsTest, AuthAndScopes) {
    const json body = echo_tool(upstream_, "echo");
    const auto anonymous =
        http_request(port(), make_request("POST", "/v1/tools", body.dump(),
                                          {{"Content-Type", "application/json"}}));
    EXPECT_EQ(anonymous.status, 401U) << anonymous.body;
    EXPECT_TRUE(body_json(anonymous).contains("error"));
    EXPECT_EQ(http_get(port(), "/v1/tools").status, 401U);
    EXPECT_EQ(post_tool(port(), body, "wrong-key-0123456789abcdef").status, 401U);

    const auto no_scope = post_tool(port(), body, kMcpOnlyKey);
    EXPECT_EQ(no_scope.status, 403U) << no_scope.body;
    EXPECT_TRUE(body_json(no_scope).contains("error"));
    EXPECT_EQ(get_as(port(), "/v1/tools", kMcpOnlyKey).status, 403U);
    EXPECT_EQ(
        http_request(port(), make_request("DELETE", "/v1/tools/echo", {}, bearer(kMcpOnlyKey)))
            .status,
        403U);
    // Nothing was registered by the refused requests.
    EXPECT_TRUE(body_json(get_as(port(), "/v1/tools", kBetaKey)).at("tools").empty());
}

TEST_F(ToolsTenantsTest, TenantsSeeOnlyTheirOwnTools) {
    ASSERT_EQ(post_tool(port(), echo_tool(upstream_, "echo"), kAlphaKey).status, 201U);
    ASSERT_EQ(post_tool(port(), echo_tool(upstream_, "alpha_only"), kAlphaKey).status, 201U);
    // The same name in another tenant is no conflict.
    ASSERT_EQ(post_tool(port(), echo_tool(upstream_, "echo"), kBetaKey).status, 201U);

    const json alpha = body_json(get_as(port(), "/v1/tools", kAlphaKey));
    EXPECT_EQ(alpha.at("tools").size(), 2U) << alpha.dump();
    const json beta = body_json(get_as(port(), "/v1/tools", kBetaKey));
    ASSERT_EQ(beta.at("tools").size(), 1U) << beta.dump();
    EXPECT_EQ(beta.at("tools")[0].at("name"), "echo");
    EXPECT_EQ(get_as(port(), "/v1/tools/alpha_only", kBetaKey).status, 404U);
    EXPECT_EQ(
        http_request(port(), make_request("DELETE", "/v1/tools/alpha_only", {}, bearer(kBetaKey)))
            .status,
        404U);

    EXPECT_EQ(mcp_tool_names(port(), kAlphaKey), (std::vector<std::string>{"alpha_only", "echo"}));
    EXPECT_EQ(mcp_tool_names(port(), kBetaKey), (std::vector<std::string>{"echo"}));
    // The mcp-only key of beta sees beta's catalogue through MCP.
    EXPECT_EQ(mcp_tool_names(port(), kMcpOnlyKey), (std::vector<std::string>{"echo"}));
    const json refused = mcp_call(port(), kBetaKey, "alpha_only");
    EXPECT_TRUE(refused.contains("error") || refused.at("result").value("isError", false))
        << refused.dump();
    EXPECT_TRUE(upstream_.requests().empty());

    // Both tenants' registrations come back after a restart.
    ASSERT_EQ(server_->stop().exit_code, 0);
    start();
    EXPECT_EQ(mcp_tool_names(port(), kAlphaKey), (std::vector<std::string>{"alpha_only", "echo"}));
    EXPECT_EQ(mcp_tool_names(port(), kBetaKey), (std::vector<std::string>{"echo"}));
    const json called = mcp_call(port(), kAlphaKey, "alpha_only");
    ASSERT_FALSE(called.at("result").value("isError", false)) << called.dump();
    EXPECT_EQ(called.at("result").at("structuredContent").at("method"), "POST") << called.dump();
    ASSERT_TRUE(upstream_.wait_for("/echo", std::chrono::seconds(5)));
}

/// Runs `agentd mcp --stdio --data <dir>` with `lines` as its whole input and returns the JSON
/// messages it wrote, by id. Input ends after the last line, so the process answers what is in
/// flight and exits; every wait is bounded.
std::map<int, json> run_stdio(const std::filesystem::path& data, const std::vector<json>& lines) {
    int in[2];
    int out[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    std::vector<std::string> args = {agentd::test::agentd_binary().string(),
                                     "mcp",
                                     "--stdio",
                                     "--data",
                                     data.string(),
                                     "--log-level",
                                     "error"};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    std::string input;
    for (const auto& line : lines) {
        input += line.dump() + "\n";
    }
    EXPECT_EQ(::write(in[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    ::close(in[1]);

    std::string output;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{out[0], POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) {
            continue;
        }
        const ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        output.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    // Stdout closes just before the exit: wait for the exit itself (bounded, through a pidfd).
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    pollfd exited{pidfd, POLLIN, 0};
    EXPECT_GE(pidfd, 0);
    EXPECT_EQ(::poll(&exited, 1, 10'000), 1);
    ::close(pidfd);
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "agentd mcp --stdio did not exit at the end of its input";
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

    std::map<int, json> by_id;
    std::size_t start = 0;
    while (start < output.size()) {
        const std::size_t nl = output.find('\n', start);
        const std::string line = output.substr(start, nl - start);
        start = nl == std::string::npos ? output.size() : nl + 1;
        const json message = json::parse(line, nullptr, false);
        if (message.is_object() && message.contains("id") && message.at("id").is_number()) {
            by_id[message.at("id").get<int>()] = message;
        }
    }
    return by_id;
}

TEST(ToolsStdio, ServesTheStoredToolsOfTheLocalTenant) {
    LoopbackHttpServer upstream;
    const auto data = agentd::test::make_temp_dir("tools-stdio");
    {
        AgentdProcess::Options options;
        options.add_data = false;
        options.args = {"--data", data.string()};
        auto server = AgentdProcess::start(options);
        const auto r = http_request(
            server->port(), make_request("POST", "/v1/tools", echo_tool(upstream, "echo").dump(),
                                         {{"Content-Type", "application/json"}}));
        ASSERT_EQ(r.status, 201U) << r.body;
        ASSERT_EQ(server->stop().exit_code, 0);
    }
    const auto answers =
        run_stdio(data, {request(1, "initialize",
                                 {{"protocolVersion", "2025-11-25"},
                                  {"capabilities", json::object()},
                                  {"clientInfo", {{"name", "t"}, {"version", "1"}}}}),
                         notification("notifications/initialized"), request(2, "tools/list"),
                         request(3, "tools/call", {{"name", "echo"}, {"arguments", {{"x", 1}}}})});
    ASSERT_TRUE(answers.count(2) == 1 && answers.count(3) == 1) << answers.size();
    const json& list = answers.at(2);
    ASSERT_EQ(list.at("result").at("tools").size(), 1U) << list.dump();
    EXPECT_EQ(list.at("result").at("tools")[0].at("name"), "echo");
    const json& call = answers.at(3);
    ASSERT_FALSE(call.at("result").value("isError", false)) << call.dump();
    EXPECT_EQ(call.at("result").at("structuredContent").at("body"), json({{"x", 1}}))
        << call.dump();
    std::filesystem::remove_all(data);
}

} // namespace
} // namespace agentd::itest::mcp
