// The built-in tools through the real binary: run_python / run_bash and memory_store /
// memory_search / memory_delete over MCP (the 2026-07-28 stateless revision and the session
// revisions), POST /v1/sandbox/run and /v1/memory over REST — precise errors for bad input,
// hostile programs contained, cancellation killing a run, and tenant isolation of memories and
// session workspaces through every API.

#include "agentd/itest/agentd_process.h"
#include "agentd/test/env.h"

#include "mcp_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace agentd::itest::mcp {
namespace {

constexpr const char* kAlphaKey = "alpha-key-0123456789abcdef";
constexpr const char* kBetaKey = "beta-key-0123456789abcdef";
constexpr const char* kMcpOnlyKey = "mcp-only-key-0123456789abcdef";

Headers bearer(const std::string& key) {
    return {{"Authorization", "Bearer " + key}};
}

HttpResponse post_json(std::uint16_t port, const std::string& target, const std::string& body,
                       const std::string& key) {
    Headers headers = bearer(key);
    headers.emplace_back("Content-Type", "application/json");
    return http_request(port, make_request("POST", target, body, headers));
}

HttpResponse post_json(std::uint16_t port, const std::string& target, const json& body,
                       const std::string& key) {
    return post_json(port, target, body.dump(), key);
}

/// A 2026-07-28 request as `key`'s tenant; returns the JSON-RPC response.
json modern_call(std::uint16_t port, const std::string& key, const std::string& method,
                 json params = json::object()) {
    const json message = modern_request(7, method, std::move(params));
    Headers headers = modern_headers(message);
    headers.emplace_back("Authorization", "Bearer " + key);
    return body_json(post(port, message, headers));
}

json call_tool(std::uint16_t port, const std::string& key, const std::string& name, json args) {
    return modern_call(port, key, "tools/call", {{"name", name}, {"arguments", std::move(args)}});
}

/// initialize + initialized as `key`'s tenant (session revisions).
std::string open_session_as(std::uint16_t port, const std::string& key,
                            const std::string& version) {
    Headers auth = bearer(key);
    auto r = post(port,
                  request(0, "initialize",
                          {{"protocolVersion", version},
                           {"capabilities", json::object()},
                           {"clientInfo", {{"name", "itest"}, {"version", "1"}}}}),
                  auth);
    EXPECT_EQ(r.status, 200u) << r.body;
    const std::string id = r.header("Mcp-Session-Id");
    Headers headers = session_headers(id, version);
    headers.emplace_back("Authorization", "Bearer " + key);
    EXPECT_EQ(post(port, notification("notifications/initialized"), headers).status, 202u);
    return id;
}

Headers session_auth(const std::string& session, const std::string& version,
                     const std::string& key) {
    Headers headers = session_headers(session, version);
    headers.emplace_back("Authorization", "Bearer " + key);
    return headers;
}

/// A session-revision request whose answer may be JSON or SSE; returns the response message.
json session_call(std::uint16_t port, const Headers& headers, json message) {
    HttpConnection c(port, 30s);
    c.send(post_request(message, headers));
    const auto messages = read_messages(c);
    for (const auto& m : messages) {
        if (m.contains("id") && m["id"] == message["id"]) {
            return m;
        }
    }
    ADD_FAILURE() << "no response to " << message.dump();
    return json::object();
}

std::vector<std::string> tool_names(const json& list) {
    std::vector<std::string> names;
    for (const auto& tool : list.at("result").at("tools")) {
        names.push_back(tool.at("name").get<std::string>());
    }
    return names;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

class BuiltinToolsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        config_ = write_temp_file("builtin.json", std::string(R"({
            "sandbox": {"enabled": true, "max_concurrent_runs": 1, "max_timeout_ms": 60000},
            "memory": {"tools": true},
            "auth": {"keys": [
            {"id": "a", "tenant": "alpha", "scopes": ["mcp", "sandbox", "memory"], "key": ")") +
                                                      kAlphaKey + R"("},
            {"id": "b", "tenant": "beta", "scopes": ["mcp", "sandbox", "memory"], "key": ")" +
                                                      kBetaKey + R"("},
            {"id": "m", "tenant": "beta", "scopes": ["mcp"], "key": ")" +
                                                      kMcpOnlyKey + R"("}]}})");
        AgentdProcess::Options options;
        options.args = {"--config", config_.string(), "--log-level", "debug"};
        server_ = AgentdProcess::start(options);
    }
    static void TearDownTestSuite() {
        EXPECT_EQ(server_->stop().exit_code, 0);
        server_.reset();
        std::filesystem::remove_all(config_.parent_path());
    }
    static std::uint16_t port() { return server_->port(); }
    static AgentdProcess& server() { return *server_; }

    static json run(const json& body, const std::string& key = kAlphaKey) {
        const auto r = post_json(port(), "/v1/sandbox/run", body, key);
        EXPECT_EQ(r.status, 200u) << r.body;
        return body_json(r);
    }

    static std::filesystem::path config_;
    static std::unique_ptr<AgentdProcess> server_;
};

std::filesystem::path BuiltinToolsTest::config_;
std::unique_ptr<AgentdProcess> BuiltinToolsTest::server_;

TEST_F(BuiltinToolsTest, ToolsListShowsTheBuiltinsWithSchemas) {
    const json list = modern_call(port(), kAlphaKey, "tools/list");
    const auto names = tool_names(list);
    for (const char* name :
         {"run_python", "run_bash", "memory_store", "memory_search", "memory_delete"}) {
        EXPECT_TRUE(has(names, name)) << name << " missing: " << list.dump();
    }
    for (const auto& tool : list.at("result").at("tools")) {
        EXPECT_TRUE(tool.contains("outputSchema")) << tool.dump();
        EXPECT_EQ(tool.at("inputSchema").at("type"), "object");
    }
    const std::string session = open_session_as(port(), kBetaKey, "2025-03-26");
    const json old = session_call(port(), session_auth(session, "2025-03-26", kBetaKey),
                                  request(2, "tools/list"));
    EXPECT_TRUE(has(tool_names(old), "run_bash")) << old.dump();
}

TEST_F(BuiltinToolsTest, RunPythonOverBothProtocolGenerations) {
    const json modern =
        call_tool(port(), kAlphaKey, "run_python",
                  {{"code", "import sys\nprint(sys.stdin.read()[::-1])"}, {"stdin", "olleh"}});
    const json& result = modern.at("result");
    EXPECT_FALSE(result.value("isError", false)) << modern.dump();
    EXPECT_EQ(result.at("structuredContent").at("stdout"), "hello\n");
    EXPECT_EQ(result.at("structuredContent").at("exit_code"), 0);
    EXPECT_FALSE(result.at("structuredContent").at("isolation").empty());
    EXPECT_EQ(result.at("content").at(0).at("text"), "hello\n");

    for (const char* version : {"2025-11-25", "2025-06-18"}) {
        const std::string session = open_session_as(port(), kAlphaKey, version);
        const json r = session_call(
            port(), session_auth(session, version, kAlphaKey),
            request(3, "tools/call",
                    {{"name", "run_bash"}, {"arguments", {{"code", "echo $((6*7)); exit 3"}}}}));
        ASSERT_TRUE(r.contains("result")) << r.dump();
        EXPECT_TRUE(r["result"].value("isError", false)) << r.dump();
        EXPECT_EQ(r["result"]["structuredContent"]["stdout"], "42\n") << version;
        EXPECT_EQ(r["result"]["structuredContent"]["exit_code"], 3) << version;
    }
}

TEST_F(BuiltinToolsTest, ToolLimitsAndBadArguments) {
    const json slow = call_tool(port(), kAlphaKey, "run_python",
                                {{"code", "while True: pass"}, {"timeout_ms", 300}});
    EXPECT_TRUE(slow["result"].value("isError", false)) << slow.dump();
    EXPECT_TRUE(slow["result"]["structuredContent"]["timed_out"].get<bool>() ||
                slow["result"]["structuredContent"]["limit"] != "none")
        << slow.dump();

    const json loud = call_tool(port(), kAlphaKey, "run_bash", {{"code", "yes | head -c 5000000"}});
    EXPECT_TRUE(loud["result"]["structuredContent"]["stdout_truncated"].get<bool>()) << loud.dump();

    const json missing = call_tool(port(), kAlphaKey, "run_python", {{"stdin", "x"}});
    const std::string text = missing.dump();
    EXPECT_TRUE(missing.contains("error") || missing["result"].value("isError", false)) << text;
    EXPECT_NE(text.find("code"), std::string::npos) << text;

    const json huge =
        call_tool(port(), kAlphaKey, "run_python", {{"code", "pass"}, {"timeout_ms", 999999999}});
    EXPECT_TRUE(huge.contains("error") || huge["result"].value("isError", false)) << huge.dump();
}

TEST_F(BuiltinToolsTest, RestSandboxRun) {
    const json ok = run({{"lang", "python"}, {"code", "print(2**10)"}});
    EXPECT_EQ(ok.at("stdout"), "1024\n");
    EXPECT_EQ(ok.at("exit_code"), 0);
    EXPECT_TRUE(ok.contains("wall_ms") && ok.contains("isolation") && ok.contains("signal"));

    const json failing = run({{"lang", "bash"}, {"code", "echo oops >&2; exit 7"}});
    EXPECT_EQ(failing.at("exit_code"), 7);
    EXPECT_EQ(failing.at("stderr"), "oops\n");

    const auto expect_400 = [](const std::string& body, const std::string& needle) {
        const auto r = post_json(port(), "/v1/sandbox/run", body, kAlphaKey);
        EXPECT_EQ(r.status, 400u) << body << " → " << r.body;
        EXPECT_NE(r.body.find(needle), std::string::npos) << r.body;
    };
    expect_400(R"({"lang": "ruby", "code": "x"})", "lang");
    expect_400(R"({"code": "x"})", "lang");
    expect_400(R"({"lang": "bash"})", "code");
    expect_400(R"({"lang": "bash", "code": 5})", "code");
    expect_400(R"({"lang": "bash", "code": "x", "timeout_ms": 0})", "timeout_ms");
    expect_400(R"({"lang": "bash", "code": "x", "memory_mb": 1e9})", "memory_mb");
    expect_400(R"({"lang": "bash", "code": "x", "session": "../etc"})", "session");
    expect_400(R"({"lang": "bash", "code": "x", "extra": 1})", "extra");
    expect_400(R"({"lang": "bash", "code": )", "invalid_json");
    expect_400("[1]", "body");
    const auto text =
        http_request(port(), make_request("POST", "/v1/sandbox/run", "print(1)",
                                          {{"Authorization", std::string("Bearer ") + kAlphaKey},
                                           {"Content-Type", "text/plain"}}));
    EXPECT_EQ(text.status, 415u) << text.body;
}

TEST_F(BuiltinToolsTest, FilesGoInAndComeBack) {
    // Without a session: a workspace for this run alone.
    const json r = run({{"lang", "python"},
                        {"code", "open('out.txt', 'w').write(open('in.txt').read().upper())"},
                        {"files", {{"in.txt", "hello"}, {"sub/dir/b.txt", "x"}}},
                        {"read_files", {"out.txt", "missing.txt", "sub/dir/b.txt"}}});
    ASSERT_EQ(r.at("exit_code"), 0) << r.dump();
    ASSERT_EQ(r.at("files").size(), 3u) << r.dump();
    EXPECT_EQ(r["files"][0], (json{{"path", "out.txt"}, {"content", "HELLO"}}));
    EXPECT_EQ(r["files"][1]["path"], "missing.txt");
    EXPECT_FALSE(r["files"][1].contains("content"));
    EXPECT_NE(r["files"][1]["error"].get<std::string>().find("No such file"), std::string::npos);
    EXPECT_EQ(r["files"][2], (json{{"path", "sub/dir/b.txt"}, {"content", "x"}}));
    // ... which is gone afterwards: a later run without files starts empty.
    EXPECT_EQ(run({{"lang", "bash"}, {"code", "ls -A | wc -l"}}).at("stdout"), "0\n");
    // Without read_files the result has no `files` member.
    EXPECT_FALSE(run({{"lang", "bash"}, {"code", "true"}}).contains("files"));

    // With a session the files stay for the next run, and come back through the tool too.
    EXPECT_EQ(
        run({{"lang", "bash"}, {"code", "true"}, {"session", "f1"}, {"files", {{"a.txt", "1"}}}})
            .at("exit_code"),
        0);
    const json tool = call_tool(port(), kAlphaKey, "run_bash",
                                {{"code", "cat a.txt > b.txt; echo 2 >> b.txt"},
                                 {"session", "f1"},
                                 {"read_files", {"b.txt"}}});
    const json& sc = tool["result"]["structuredContent"];
    EXPECT_EQ(sc["files"], (json::array({{{"path", "b.txt"}, {"content", "12\n"}}})))
        << tool.dump();
    const auto& content = tool["result"]["content"];
    ASSERT_EQ(content.size(), 2u) << tool.dump();
    EXPECT_EQ(content[1]["text"], "[file b.txt]\n12\n\n");

    const auto expect_400 = [](const json& body, const std::string& needle) {
        const auto resp = post_json(port(), "/v1/sandbox/run", body, kAlphaKey);
        EXPECT_EQ(resp.status, 400u) << body.dump() << " → " << resp.body;
        EXPECT_NE(resp.body.find(needle), std::string::npos) << resp.body;
    };
    const json base = {{"lang", "bash"}, {"code", "true"}};
    const auto with = [&](const char* key, json value) {
        json b = base;
        b[key] = std::move(value);
        return b;
    };
    expect_400(with("files", json::array({"a"})), "files: must be an object");
    expect_400(with("files", {{"../x", "a"}}), "files: path \\\"../x\\\" must not have");
    expect_400(with("files", {{"/etc/x", "a"}}), "must be relative");
    expect_400(with("files", {{"a//b", "a"}}), "components");
    expect_400(with("files", {{"a", 1}}), "must be a string");
    expect_400(with("read_files", "x"), "read_files: must be an array");
    expect_400(with("read_files", json::array({1})), "array of strings");
    expect_400(with("read_files", json::array({"./x"})), "read_files: path");
    json many = json::object();
    for (int i = 0; i < 65; ++i) {
        many["f" + std::to_string(i)] = "";
    }
    expect_400(with("files", many), "more than 64");
    expect_400(with("files", {{"big", std::string(4 * 1024 * 1024 + 1, 'x')}}), "4 MiB");
}

TEST_F(BuiltinToolsTest, AuthScopesForRestRoutes) {
    const json body = {{"lang", "bash"}, {"code", "true"}};
    EXPECT_EQ(http_request(port(), make_request("POST", "/v1/sandbox/run", body.dump(),
                                                {{"Content-Type", "application/json"}}))
                  .status,
              401u);
    EXPECT_EQ(post_json(port(), "/v1/sandbox/run", body, kMcpOnlyKey).status, 403u);
    EXPECT_EQ(post_json(port(), "/v1/memory", json{{"text", "x"}}, kMcpOnlyKey).status, 403u);
    EXPECT_EQ(http_get(port(), "/v1/memory", bearer(kMcpOnlyKey)).status, 403u);
}

TEST_F(BuiltinToolsTest, SessionWorkspacesPersistAndArePrivateToTheTenant) {
    EXPECT_EQ(run({{"lang", "bash"}, {"code", "echo secret-a > notes.txt"}, {"session", "s1"}})
                  .at("exit_code"),
              0);
    EXPECT_EQ(run({{"lang", "python"},
                   {"code", "print(open('notes.txt').read().strip())"},
                   {"session", "s1"}})
                  .at("stdout"),
              "secret-a\n");
    // The same session name in another tenant is another, empty workspace.
    const json other = run(
        {{"lang", "bash"}, {"code", "cat notes.txt; ls -A | wc -l"}, {"session", "s1"}}, kBetaKey);
    EXPECT_EQ(other.at("stdout"), "0\n") << other.dump();
    // ... and so is the tool call of tenant beta.
    const json tool = call_tool(port(), kBetaKey, "run_bash",
                                {{"code", "cat notes.txt || echo none"}, {"session", "s1"}});
    EXPECT_EQ(tool["result"]["structuredContent"]["stdout"], "none\n") << tool.dump();
}

TEST_F(BuiltinToolsTest, HostileProgramsStayContained) {
    const json net = run({{"lang", "python"},
                          {"code", "import socket\ntry:\n    socket.create_connection(('1.1.1.1', "
                                   "53), timeout=2)\n    print('connected')\nexcept Exception as "
                                   "e:\n    print('blocked')"}});
    EXPECT_EQ(net.at("stdout"), "blocked\n") << net.dump();
    const json secrets = run({{"lang", "bash"},
                              {"code", "cat /etc/shadow 2>/dev/null || echo no-shadow; ls /root "
                                       "2>/dev/null || echo no-root; echo $AGENTD_DATA_DIR"}});
    EXPECT_EQ(secrets.at("stdout"), "no-shadow\nno-root\n\n") << secrets.dump();
    const std::string marker = "/tmp/agentd-builtin-escape-" + std::to_string(server().pid());
    const json escape = run({{"lang", "bash"}, {"code", "echo x > " + marker + "; echo done"}});
    EXPECT_FALSE(std::filesystem::exists(marker)) << escape.dump();
    const json bomb = run({{"lang", "bash"},
                           {"code", "b() { b | b & }; b 2>/dev/null; sleep 1; echo alive"},
                           {"timeout_ms", 3000}});
    EXPECT_TRUE(bomb.contains("exit_code")) << bomb.dump();
    const json memory = run({{"lang", "python"},
                             {"code", "x = bytearray(1 << 30)\nprint('allocated')"},
                             {"memory_mb", 128}});
    EXPECT_NE(memory.at("exit_code"), 0) << memory.dump();
    // The server still answers after all of it.
    EXPECT_EQ(run({{"lang", "bash"}, {"code", "echo ok"}}).at("stdout"), "ok\n");
}

TEST_F(BuiltinToolsTest, CancellationKillsTheRun) {
    const std::string version = "2025-11-25";
    const std::string session = open_session_as(port(), kAlphaKey, version);
    const Headers headers = session_auth(session, version, kAlphaKey);
    HttpConnection c(port(), 30s);
    c.send(post_request(request("long", "tools/call",
                                {{"name", "run_python"},
                                 {"arguments",
                                  {{"code", "import time\ntime.sleep(55)"},
                                   {"timeout_ms", 60000},
                                   {"session", "cancel-probe"}}}}),
                        headers));
    // Cancel once the run is executing (the server logs its start at debug level): a call
    // cancelled before its tool was invoked never starts a run, so there would be none to kill.
    ASSERT_TRUE(server().wait_for_err("sandbox run started lang=python session=cancel-probe", 30s))
        << server().err();
    (void)post(port(), notification("notifications/cancelled", {{"requestId", "long"}}), headers);
    ASSERT_TRUE(
        server().wait_for_err("sandbox run cancelled lang=python session=cancel-probe", 30s))
        << server().err();
    (void)read_messages(c);
    // max_concurrent_runs is 1: this run can only start because the cancelled one was killed
    // (it would otherwise hold the only slot for 55 s, beyond the client's timeout).
    EXPECT_EQ(run({{"lang", "bash"}, {"code", "echo next"}}).at("stdout"), "next\n");
}

TEST_F(BuiltinToolsTest, RestMemoryLifecycle) {
    const auto stored = post_json(port(), "/v1/memory",
                                  json{{"text", "The lighthouse keeper feeds the gulls"},
                                       {"namespace", "notes"},
                                       {"metadata", {{"topic", "sea"}, {"year", 2024}}}},
                                  kAlphaKey);
    ASSERT_EQ(stored.status, 201u) << stored.body;
    const json sj = body_json(stored);
    EXPECT_FALSE(sj.at("embedded").get<bool>());
    EXPECT_NE(sj.at("note").get<std::string>().find("keyword"), std::string::npos);
    const auto id = sj.at("ids").at(0).get<std::int64_t>();

    const auto many = post_json(port(), "/v1/memory",
                                json{{"memories",
                                      {{{"text", "Gulls circle the harbour"},
                                        {"namespace", "notes"},
                                        {"metadata", {{"topic", "sea"}, {"year", 2020}}}},
                                       {{"text", "Mountains are cold"}, {"namespace", "other"}}}}},
                                kAlphaKey);
    ASSERT_EQ(many.status, 201u) << many.body;

    const json found = body_json(
        post_json(port(), "/v1/memory/search",
                  json{{"query", "gulls"}, {"filter", {{"year", {{"$gte", 2022}}}}}}, kAlphaKey));
    EXPECT_EQ(found.at("mode"), "keyword");
    ASSERT_EQ(found.at("results").size(), 1u) << found.dump();
    EXPECT_EQ(found["results"][0]["id"], id);
    const json in_ns = body_json(post_json(
        port(), "/v1/memory/search", json{{"query", "gulls"}, {"namespace", "other"}}, kAlphaKey));
    EXPECT_TRUE(in_ns.at("results").empty()) << in_ns.dump();

    const auto got = http_get(port(), "/v1/memory/" + std::to_string(id), bearer(kAlphaKey));
    ASSERT_EQ(got.status, 200u);
    EXPECT_EQ(body_json(got).at("metadata").at("topic"), "sea");
    const json listed =
        body_json(http_get(port(), "/v1/memory?namespace=notes&limit=1000", bearer(kAlphaKey)));
    EXPECT_EQ(listed.at("memories").size(), 2u) << listed.dump();

    const auto del = http_request(
        port(), make_request("DELETE", "/v1/memory/" + std::to_string(id), {}, bearer(kAlphaKey)));
    EXPECT_EQ(del.status, 204u);
    EXPECT_EQ(http_get(port(), "/v1/memory/" + std::to_string(id), bearer(kAlphaKey)).status, 404u);
    const json bulk =
        body_json(post_json(port(), "/v1/memory/delete", json{{"namespace", "notes"}}, kAlphaKey));
    EXPECT_EQ(bulk.at("deleted"), 1);

    const auto bad = [](const std::string& target, const std::string& body,
                        const std::string& needle) {
        const auto r = post_json(port(), target, body, kAlphaKey);
        EXPECT_EQ(r.status, 400u) << body << " → " << r.body;
        EXPECT_NE(r.body.find(needle), std::string::npos) << r.body;
    };
    bad("/v1/memory", R"({"text": ""})", "text");
    bad("/v1/memory", R"({"text": "x", "metadata": [1]})", "metadata");
    bad("/v1/memory", R"({"text": "x", "owner": "beta"})", "owner");
    bad("/v1/memory", R"({"memories": []})", "memories");
    bad("/v1/memory/search", R"({"query": ""})", "query");
    bad("/v1/memory/search", R"({"query": "x", "k": 0})", "k");
    bad("/v1/memory/search", R"({"query": "x", "mode": "psychic"})", "mode");
    bad("/v1/memory/search", R"({"query": "x", "filter": {"$nope": 1}})", "$nope");
    bad("/v1/memory/delete", R"({})", "all");
    bad("/v1/memory/delete", R"({"ids": [0]})", "ids");
    EXPECT_EQ(http_get(port(), "/v1/memory/abc", bearer(kAlphaKey)).status, 400u);
    const auto vector =
        post_json(port(), "/v1/memory/search", json{{"query", "x"}, {"mode", "vector"}}, kAlphaKey);
    EXPECT_EQ(vector.status, 503u) << vector.body;
    EXPECT_NE(vector.body.find("model_not_loaded"), std::string::npos);
}

TEST_F(BuiltinToolsTest, MemoryToolsOverMcp) {
    const json stored = call_tool(port(), kAlphaKey, "memory_store",
                                  {{"text", "Quokkas live on Rottnest Island"},
                                   {"namespace", "zoo"},
                                   {"metadata", {{"kind", "animal"}}}});
    ASSERT_FALSE(stored["result"].value("isError", false)) << stored.dump();
    const auto id = stored["result"]["structuredContent"]["id"].get<std::int64_t>();
    const json found =
        call_tool(port(), kAlphaKey, "memory_search", {{"query", "quokkas"}, {"namespace", "zoo"}});
    const json& sc = found["result"]["structuredContent"];
    ASSERT_EQ(sc["results"].size(), 1u) << found.dump();
    EXPECT_EQ(sc["results"][0]["id"], id);
    EXPECT_EQ(sc["mode"], "keyword");
    const json bad = call_tool(port(), kAlphaKey, "memory_search", {{"query", "x"}, {"k", 0}});
    EXPECT_TRUE(bad.contains("error") || bad["result"].value("isError", false)) << bad.dump();
    const json removed = call_tool(port(), kAlphaKey, "memory_delete", {{"id", id}});
    EXPECT_EQ(removed["result"]["structuredContent"]["deleted"], 1) << removed.dump();
    const json again = call_tool(port(), kAlphaKey, "memory_delete", {{"id", id}});
    EXPECT_TRUE(again["result"].value("isError", false)) << again.dump();
}

TEST_F(BuiltinToolsTest, TenantsNeverSeeEachOthersMemories) {
    const auto stored =
        post_json(port(), "/v1/memory",
                  json{{"text", "alpha private platypus"}, {"namespace", "t"}}, kAlphaKey);
    ASSERT_EQ(stored.status, 201u);
    const auto id = body_json(stored).at("ids").at(0).get<std::int64_t>();
    const std::string path = "/v1/memory/" + std::to_string(id);

    // REST: get, list, search, delete, bulk delete by id, namespace and all.
    EXPECT_EQ(http_get(port(), path, bearer(kBetaKey)).status, 404u);
    EXPECT_TRUE(body_json(http_get(port(), "/v1/memory?namespace=t", bearer(kBetaKey)))
                    .at("memories")
                    .empty());
    EXPECT_TRUE(
        body_json(post_json(port(), "/v1/memory/search", json{{"query", "platypus"}}, kBetaKey))
            .at("results")
            .empty());
    EXPECT_EQ(http_request(port(), make_request("DELETE", path, {}, bearer(kBetaKey))).status,
              404u);
    for (const json& body : {json{{"ids", {id}}}, json{{"namespace", "t"}}, json{{"all", true}}}) {
        EXPECT_EQ(body_json(post_json(port(), "/v1/memory/delete", body, kBetaKey)).at("deleted"),
                  0)
            << body.dump();
    }
    // MCP: search and delete as beta.
    const json search = call_tool(port(), kBetaKey, "memory_search", {{"query", "platypus"}});
    EXPECT_TRUE(search["result"]["structuredContent"]["results"].empty()) << search.dump();
    const json del = call_tool(port(), kBetaKey, "memory_delete", {{"id", id}});
    EXPECT_TRUE(del["result"].value("isError", false)) << del.dump();
    const json del_all = call_tool(port(), kBetaKey, "memory_delete", {{"all", true}});
    EXPECT_EQ(del_all["result"]["structuredContent"]["deleted"], 0) << del_all.dump();
    // A tenant named in the body is refused, not obeyed.
    EXPECT_EQ(post_json(port(), "/v1/memory/search",
                        json{{"query", "platypus"}, {"tenant", "alpha"}}, kBetaKey)
                  .status,
              400u);
    // Alpha still has it, through both APIs.
    EXPECT_EQ(http_get(port(), path, bearer(kAlphaKey)).status, 200u);
    const json mine = call_tool(port(), kAlphaKey, "memory_search", {{"query", "platypus"}});
    EXPECT_EQ(mine["result"]["structuredContent"]["results"].size(), 1u) << mine.dump();
}

TEST(BuiltinMemoryModelTest, HybridSearchEmbedsWithTheServedModel) {
    AGENTD_REQUIRE_SHARED(model, "models/stories260K.gguf");
    const auto config = write_temp_file("memory.json", R"({"memory": {"tools": true}})");
    auto server = AgentdProcess::serve({"--model", model.string(), "--config", config.string()});
    const auto port = server->port();
    const auto post_local = [port](const std::string& target, const json& body) {
        return http_request(port, make_request("POST", target, body.dump(),
                                               {{"Content-Type", "application/json"}}));
    };
    const auto stored =
        post_local("/v1/memory", {{"memories",
                                   {{{"text", "Lily went to the park with her dog"}},
                                    {{"text", "Tom ate a big red apple"}}}}});
    ASSERT_EQ(stored.status, 201u) << stored.body;
    const json sj = body_json(stored);
    EXPECT_TRUE(sj.at("embedded").get<bool>()) << sj.dump();
    EXPECT_EQ(sj.at("embedding_model"), "stories260K");

    const json hybrid = body_json(post_local("/v1/memory/search", {{"query", "apple"}}));
    EXPECT_EQ(hybrid.at("mode"), "hybrid") << hybrid.dump();
    ASSERT_EQ(hybrid.at("results").size(), 2u) << hybrid.dump();
    EXPECT_EQ(hybrid["results"][0]["text"], "Tom ate a big red apple");
    EXPECT_TRUE(hybrid["results"][0].contains("vector_score"));
    EXPECT_TRUE(hybrid["results"][0].contains("keyword_score"));

    const json vector = body_json(
        post_local("/v1/memory/search", {{"query", "a dog in the park"}, {"mode", "vector"}}));
    EXPECT_EQ(vector.at("mode"), "vector") << vector.dump();
    ASSERT_EQ(vector.at("results").size(), 2u);
    EXPECT_FALSE(vector["results"][0].contains("keyword_score"));

    // Stored with the served model's embedding width.
    const json got = body_json(http_get(port, "/v1/memory/" + sj["ids"][0].dump()));
    EXPECT_EQ(got.at("dim"), 64) << got.dump();

    const json message =
        modern_request(1, "tools/call",
                       {{"name", "memory_search"}, {"arguments", {{"query", "apple"}, {"k", 1}}}});
    const json tool = body_json(post(port, message, modern_headers(message)));
    EXPECT_EQ(tool["result"]["structuredContent"]["mode"], "hybrid") << tool.dump();
    EXPECT_EQ(server->stop().exit_code, 0);
    std::filesystem::remove_all(config.parent_path());
}

TEST(BuiltinSandboxQueueTest, AFullRunQueueAnswersBusyAndGoneClientsFreeTheirSlots) {
    const auto config =
        write_temp_file("queue.json", R"({"sandbox": {"enabled": true, "max_concurrent_runs": 1,
                                      "max_queued_runs": 1}})");
    auto server = AgentdProcess::serve({"--config", config.string()});
    const auto port = server->port();
    // One run executes, one waits; the rest are refused at once.
    std::vector<std::unique_ptr<HttpConnection>> held;
    for (int i = 0; i < 2; ++i) {
        const json body = {{"lang", "bash"}, {"code", "sleep 50"}, {"timeout_ms", 60000}};
        held.push_back(std::make_unique<HttpConnection>(port));
        held.back()->send(make_request("POST", "/v1/sandbox/run", body.dump(),
                                       {{"Content-Type", "application/json"}}));
    }
    // A probe that arrives before the held runs waits in the queue instead; its client gives up
    // (which cancels it) and the next probe tries again.
    const auto probe = [port](const std::string& body) -> std::optional<HttpResponse> {
        try {
            HttpConnection c(port, 2s);
            return c.request(make_request("POST", "/v1/sandbox/run", body,
                                          {{"Content-Type", "application/json"}}));
        } catch (const HttpClientError&) {
            return std::nullopt;
        }
    };
    std::optional<HttpResponse> busy;
    for (int attempt = 0; attempt < 20 && !(busy && busy->status == 503); ++attempt) {
        busy = probe(R"({"lang": "bash", "code": "echo probe"})");
    }
    ASSERT_TRUE(busy);
    EXPECT_EQ(busy->status, 503u) << busy->body;
    EXPECT_NE(busy->body.find("\"busy\""), std::string::npos) << busy->body;
    EXPECT_EQ(busy->header("Retry-After"), "1");
    // Clients that go away kill their runs (logged once a run is gone): the slots free up. The
    // cancellations are asynchronous, so a probe may still find the queue full: retry, pausing
    // on the log between tries.
    held.clear();
    EXPECT_TRUE(server->wait_for_err("sandbox run cancelled"));
    std::optional<HttpResponse> r;
    for (int attempt = 0; attempt < 50 && !(r && r->status == 200); ++attempt) {
        if (attempt > 0) {
            (void)server->wait_for_err("a line that never comes", 100ms);
        }
        r = probe(R"({"lang": "bash", "code": "echo free"})");
    }
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200u) << r->body;
    EXPECT_EQ(body_json(*r).at("stdout"), "free\n");
    EXPECT_EQ(server->stop().exit_code, 0);
    std::filesystem::remove_all(config.parent_path());
}

TEST(BuiltinToolsDisabledTest, WithoutTheSandboxTheRouteSaysSoAndNoToolsAreListed) {
    auto server = AgentdProcess::serve();
    const auto r =
        http_request(server->port(),
                     make_request("POST", "/v1/sandbox/run", R"({"lang": "bash", "code": "true"})",
                                  {{"Content-Type", "application/json"}}));
    EXPECT_EQ(r.status, 503u) << r.body;
    EXPECT_NE(r.body.find("sandbox_disabled"), std::string::npos) << r.body;
    const json message = modern_request(1, "tools/list");
    const json list = body_json(post(server->port(), message, modern_headers(message)));
    EXPECT_FALSE(has(tool_names(list), "run_python")) << list.dump();
    EXPECT_FALSE(has(tool_names(list), "memory_search")) << list.dump();
    // /v1/memory works without a model or the memory tools (keyword-only).
    const auto stored =
        http_request(server->port(), make_request("POST", "/v1/memory", R"({"text": "kiwi"})",
                                                  {{"Content-Type", "application/json"}}));
    EXPECT_EQ(stored.status, 201u) << stored.body;
    EXPECT_EQ(server->stop().exit_code, 0);
}

} // namespace
} // namespace agentd::itest::mcp
