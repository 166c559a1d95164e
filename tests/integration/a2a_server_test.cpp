// A2A through the real binary (--conformance-fixtures): agent cards, both method-name sets,
// the task lifecycle, streaming with re-subscription, precise errors, and durability across a
// restart (graceful and SIGKILL).

#include "agentd/itest/agentd_process.h"
#include "agentd/itest/http_client.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>

namespace agentd::itest {
namespace {

using nlohmann::json;

json rpc(std::uint16_t port, const std::string& method, const json& params,
         const std::string& version = "1.0", const std::string& path = "/a2a") {
    const json body = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/json"}};
    if (!version.empty()) {
        headers.emplace_back("A2A-Version", version);
    }
    const auto r = http_request(port, make_request("POST", path, body.dump(), headers));
    EXPECT_EQ(r.status, 200u) << r.body;
    return json::parse(r.body);
}

json user_message(const std::string& text, const std::string& id = "m-1") {
    return {{"messageId", id}, {"role", "ROLE_USER"}, {"parts", json::array({{{"text", text}}})}};
}

json user_message_v03(const std::string& text) {
    return {{"kind", "message"},
            {"messageId", "m-03"},
            {"role", "user"},
            {"parts", json::array({{{"kind", "text"}, {"text", text}}})}};
}

/// Reads SSE events from a streaming response until the stream ends; returns the JSON bodies.
std::vector<json> read_events(HttpConnection& c, std::size_t max_events = 100) {
    std::vector<json> events;
    std::string buffer;
    bool done = false;
    while (!done && events.size() < max_events) {
        buffer += c.read_body_some(&done);
        std::size_t end;
        while ((end = buffer.find("\n\n")) != std::string::npos) {
            const std::string block = buffer.substr(0, end);
            buffer.erase(0, end + 2);
            std::string data;
            std::size_t pos = 0;
            while (pos < block.size()) {
                auto nl = block.find('\n', pos);
                const auto line = block.substr(pos, nl == std::string::npos ? nl : nl - pos);
                if (line.rfind("data:", 0) == 0) {
                    data += line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
                }
                pos = nl == std::string::npos ? block.size() : nl + 1;
            }
            if (!data.empty()) {
                events.push_back(json::parse(data));
            }
        }
    }
    return events;
}

HttpResponse start_stream(HttpConnection& c, const std::string& method, const json& params,
                          const std::string& version = "1.0") {
    const json body = {{"jsonrpc", "2.0"}, {"id", "s"}, {"method", method}, {"params", params}};
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
    if (!version.empty()) {
        headers.emplace_back("A2A-Version", version);
    }
    c.send(make_request("POST", "/a2a", body.dump(), headers));
    return c.read_head();
}

class A2aServer : public ::testing::Test {
protected:
    void SetUp() override { agentd_ = AgentdProcess::serve({"--conformance-fixtures"}); }
    std::uint16_t port() const { return agentd_->port(); }
    std::unique_ptr<AgentdProcess> agentd_;
};

TEST_F(A2aServer, AgentCardAdvertisesBothVersions) {
    const auto r = http_get(port(), "/.well-known/agent-card.json", {{"A2A-Version", "1.0"}});
    ASSERT_EQ(r.status, 200u);
    EXPECT_TRUE(r.has_header("Last-Modified"));
    const json card = json::parse(r.body);
    ASSERT_EQ(card["supportedInterfaces"].size(), 2u);
    EXPECT_EQ(card["supportedInterfaces"][0]["protocolVersion"], "1.0");
    EXPECT_EQ(card["supportedInterfaces"][1]["protocolVersion"], "0.3");
    EXPECT_EQ(card["supportedInterfaces"][0]["url"],
              "http://127.0.0.1:" + std::to_string(port()) + "/a2a");
    EXPECT_TRUE(card["capabilities"]["streaming"].get<bool>());
    EXPECT_TRUE(card["capabilities"]["pushNotifications"].get<bool>());

    const json v03 = json::parse(
        http_get(port(), "/.well-known/agent-card.json", {{"A2A-Version", "0.3"}}).body);
    EXPECT_EQ(v03["protocolVersion"], "0.3.0");
    EXPECT_FALSE(v03.contains("supportedInterfaces"));
    const json dual = json::parse(http_get(port(), "/.well-known/agent-card.json").body);
    EXPECT_TRUE(dual.contains("url") && dual.contains("supportedInterfaces"));
    EXPECT_EQ(http_get(port(), "/.well-known/agent-card.json", {{"A2A-Version", "9.9"}}).status,
              400u);
    EXPECT_EQ(http_get(port(), "/a2a/conformance/.well-known/agent-card.json").status, 200u);
    EXPECT_EQ(http_get(port(), "/a2a/nobody/.well-known/agent-card.json").status, 404u);
}

TEST_F(A2aServer, EchoInBothVersions) {
    const json v1 = rpc(port(), "SendMessage", {{"message", user_message("hello agent")}});
    ASSERT_TRUE(v1.contains("result")) << v1.dump();
    const json& task = v1["result"]["task"];
    EXPECT_EQ(task["status"]["state"], "TASK_STATE_COMPLETED");
    EXPECT_EQ(task["status"]["message"]["parts"][0]["text"], "hello agent");
    EXPECT_EQ(task["artifacts"][0]["parts"][0]["text"], "hello agent");

    const json v03 = rpc(port(), "message/send", {{"message", user_message_v03("hi v0.3")}}, "");
    ASSERT_TRUE(v03.contains("result")) << v03.dump();
    EXPECT_EQ(v03["result"]["kind"], "task");
    EXPECT_EQ(v03["result"]["status"]["state"], "completed");
    EXPECT_EQ(v03["result"]["artifacts"][0]["parts"][0]["kind"], "text");

    // The same task read back through the other version's names.
    const json got = rpc(port(), "tasks/get", {{"id", task["id"]}}, "0.3");
    EXPECT_EQ(got["result"]["status"]["state"], "completed");
    EXPECT_EQ(got["result"]["history"][0]["role"], "user");
}

TEST_F(A2aServer, FileAndDataPartsRoundTrip) {
    json message = user_message("parts");
    message["parts"].push_back(
        {{"raw", "AAEC/w=="}, {"mediaType", "application/octet-stream"}, {"filename", "b.bin"}});
    message["parts"].push_back({{"url", "https://example.com/x.png"}, {"mediaType", "image/png"}});
    message["parts"].push_back({{"data", {{"k", json::array({1, 2})}}}});
    const json r = rpc(port(), "SendMessage", {{"message", message}});
    const json& parts = r["result"]["task"]["artifacts"][0]["parts"];
    ASSERT_EQ(parts.size(), 4u) << r.dump();
    EXPECT_EQ(parts[1]["raw"], "AAEC/w==");
    EXPECT_EQ(parts[1]["filename"], "b.bin");
    EXPECT_EQ(parts[2]["url"], "https://example.com/x.png");
    EXPECT_EQ(parts[3]["data"]["k"][1], 2);
}

TEST_F(A2aServer, EveryStateAndTheTckBehaviours) {
    const auto state_of = [&](const json& message) {
        const json r = rpc(port(), "SendMessage", {{"message", message}});
        return r["result"]["task"]["status"]["state"].get<std::string>();
    };
    EXPECT_EQ(state_of(user_message("fail broken")), "TASK_STATE_FAILED");
    EXPECT_EQ(state_of(user_message("reject no")), "TASK_STATE_REJECTED");
    EXPECT_EQ(state_of(user_message("auth")), "TASK_STATE_AUTH_REQUIRED");
    EXPECT_EQ(state_of(user_message("x", "tck-complete-task-1")), "TASK_STATE_COMPLETED");
    EXPECT_EQ(state_of(user_message("x", "tck-reject-task-1")), "TASK_STATE_REJECTED");

    const json direct =
        rpc(port(), "SendMessage", {{"message", user_message("x", "tck-message-response-1")}});
    EXPECT_EQ(direct["result"]["message"]["parts"][0]["text"], "Direct message response");
    EXPECT_EQ(direct["result"]["message"]["role"], "ROLE_AGENT");

    // input-required, then the follow-up completes the same task.
    const json first = rpc(port(), "SendMessage", {{"message", user_message("input")}});
    const json& task = first["result"]["task"];
    ASSERT_EQ(task["status"]["state"], "TASK_STATE_INPUT_REQUIRED");
    json follow = user_message("more", "m-2");
    follow["taskId"] = task["id"];
    follow["contextId"] = task["contextId"];
    const json second = rpc(port(), "SendMessage", {{"message", follow}});
    EXPECT_EQ(second["result"]["task"]["id"], task["id"]);
    EXPECT_EQ(second["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED");
    // A terminal task takes no more messages.
    const json third = rpc(port(), "SendMessage", {{"message", follow}});
    EXPECT_EQ(third["error"]["code"], -32004) << third.dump();
    follow["contextId"] = "other-context";
    follow["taskId"] = "no-such-task";
    EXPECT_EQ(rpc(port(), "SendMessage", {{"message", follow}})["error"]["code"], -32001);
}

TEST_F(A2aServer, ReturnImmediatelyCancelAndList) {
    const json r = rpc(
        port(), "SendMessage",
        {{"message", user_message("slow 30")}, {"configuration", {{"returnImmediately", true}}}});
    const std::string id = r["result"]["task"]["id"];
    const auto state = r["result"]["task"]["status"]["state"].get<std::string>();
    EXPECT_TRUE(state == "TASK_STATE_SUBMITTED" || state == "TASK_STATE_WORKING") << state;

    const json listed = rpc(port(), "ListTasks", {{"status", "TASK_STATE_WORKING"}});
    ASSERT_TRUE(listed.contains("result")) << listed.dump();
    EXPECT_TRUE(listed["result"].contains("nextPageToken"));

    const json canceled = rpc(port(), "CancelTask", {{"id", id}});
    EXPECT_EQ(canceled["result"]["status"]["state"], "TASK_STATE_CANCELED") << canceled.dump();
    const json again = rpc(port(), "CancelTask", {{"id", id}});
    EXPECT_EQ(again["error"]["code"], -32002);
    EXPECT_EQ(again["error"]["data"][0]["reason"], "TASK_NOT_CANCELABLE");
    EXPECT_EQ(again["error"]["data"][0]["metadata"]["taskId"], id);
    EXPECT_EQ(rpc(port(), "GetTask", {{"id", id}})["result"]["status"]["state"],
              "TASK_STATE_CANCELED");
}

TEST_F(A2aServer, StreamingAndResubscribe) {
    {
        HttpConnection c(port());
        const auto head = start_stream(c, "SendStreamingMessage",
                                       {{"message", user_message("x", "tck-stream-001")}});
        ASSERT_EQ(head.status, 200u);
        EXPECT_EQ(head.header("Content-Type").rfind("text/event-stream", 0), 0u);
        const auto events = read_events(c);
        ASSERT_GE(events.size(), 3u);
        EXPECT_TRUE(events.front()["result"].contains("task"));
        EXPECT_EQ(events.back()["result"]["statusUpdate"]["status"]["state"],
                  "TASK_STATE_COMPLETED");
        bool artifact = false;
        for (const auto& e : events) {
            artifact = artifact || e["result"].contains("artifactUpdate");
        }
        EXPECT_TRUE(artifact);
    }
    // A slow task: read its first events, drop the connection, re-subscribe, cancel it.
    std::string id;
    {
        HttpConnection c(port());
        start_stream(c, "SendStreamingMessage", {{"message", user_message("slow 20")}});
        const auto events = read_events(c, 2);
        ASSERT_FALSE(events.empty());
        id = events.front()["result"]["task"]["id"];
        c.close();
    }
    HttpConnection again(port());
    const auto head = start_stream(again, "SubscribeToTask", {{"id", id}});
    ASSERT_EQ(head.status, 200u);
    const auto first = read_events(again, 1);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0]["result"]["task"]["id"], id);
    EXPECT_EQ(first[0]["result"]["task"]["status"]["state"], "TASK_STATE_WORKING");
    EXPECT_EQ(rpc(port(), "CancelTask", {{"id", id}})["result"]["status"]["state"],
              "TASK_STATE_CANCELED");
    const auto rest = read_events(again);
    ASSERT_FALSE(rest.empty());
    EXPECT_EQ(rest.back()["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_CANCELED");
    // Terminal tasks cannot be subscribed to; v0.3 resubscribe reports it on an event stream.
    EXPECT_EQ(rpc(port(), "SubscribeToTask", {{"id", id}})["error"]["code"], -32004);
    HttpConnection legacy(port());
    const auto lhead = start_stream(legacy, "tasks/resubscribe", {{"id", id}}, "");
    EXPECT_EQ(lhead.header("Content-Type").rfind("text/event-stream", 0), 0u);
    const auto lerr = read_events(legacy);
    ASSERT_EQ(lerr.size(), 1u);
    EXPECT_EQ(lerr[0]["error"]["code"], -32004);
}

TEST_F(A2aServer, PreciseErrors) {
    const auto raw = [&](const std::string& body, const std::string& version = "1.0") {
        const auto r = http_request(
            port(), make_request("POST", "/a2a", body,
                                 {{"Content-Type", "application/json"}, {"A2A-Version", version}}));
        return json::parse(r.body);
    };
    EXPECT_EQ(raw("{not json")["error"]["code"], -32700);
    EXPECT_EQ(raw(R"([{"jsonrpc":"2.0","id":1,"method":"GetTask"}])")["error"]["code"], -32600);
    EXPECT_EQ(raw(R"({"jsonrpc":"2.0","id":1,"method":"Nope"})")["error"]["code"], -32601);
    const json wrong_version =
        raw(R"({"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"x"}})", "7.0");
    EXPECT_EQ(wrong_version["error"]["code"], -32009);
    EXPECT_EQ(wrong_version["error"]["data"][0]["reason"], "VERSION_NOT_SUPPORTED");
    const json missing = raw(R"({"jsonrpc":"2.0","id":2,"method":"SendMessage","params":{}})");
    EXPECT_EQ(missing["error"]["code"], -32602);
    EXPECT_EQ(missing["error"]["message"], "params.message: is required");
    EXPECT_EQ(missing["id"], 2);
    const json not_found = rpc(port(), "GetTask", {{"id", "does-not-exist"}});
    EXPECT_EQ(not_found["error"]["code"], -32001);
    EXPECT_EQ(not_found["error"]["data"][0]["reason"], "TASK_NOT_FOUND");
    const json bad_push = rpc(port(), "CreateTaskPushNotificationConfig",
                              {{"taskId", "x"}, {"url", "ftp://example.com/hook"}});
    EXPECT_EQ(bad_push["error"]["code"], -32602);
    const auto wrong_type =
        http_request(port(), make_request("POST", "/a2a", "{}", {{"Content-Type", "text/plain"}}));
    EXPECT_EQ(wrong_type.status, 415u);
}

TEST_F(A2aServer, PushConfigCrud) {
    const json t = rpc(port(), "SendMessage", {{"message", user_message("input")}});
    const std::string id = t["result"]["task"]["id"];
    const json created = rpc(port(), "CreateTaskPushNotificationConfig",
                             {{"taskId", id},
                              {"url", "http://127.0.0.1:9/hook"},
                              {"token", "tok"},
                              {"authentication", {{"scheme", "Bearer"}, {"credentials", "c"}}}});
    ASSERT_TRUE(created.contains("result")) << created.dump();
    const std::string config_id = created["result"]["id"];
    EXPECT_EQ(rpc(port(), "GetTaskPushNotificationConfig",
                  {{"taskId", id}, {"id", config_id}})["result"]["token"],
              "tok");
    const json listed03 = rpc(port(), "tasks/pushNotificationConfig/list", {{"id", id}}, "0.3");
    ASSERT_EQ(listed03["result"].size(), 1u) << listed03.dump();
    EXPECT_EQ(listed03["result"][0]["pushNotificationConfig"]["authentication"]["schemes"][0],
              "Bearer");
    EXPECT_TRUE(rpc(port(), "DeleteTaskPushNotificationConfig",
                    {{"taskId", id}, {"id", config_id}})["result"]
                    .is_null());
    EXPECT_TRUE(
        rpc(port(), "ListTaskPushNotificationConfigs", {{"taskId", id}})["result"]["configs"]
            .empty());
    EXPECT_EQ(rpc(port(), "GetTaskPushNotificationConfig",
                  {{"taskId", id}, {"id", config_id}})["error"]["code"],
              -32001);
}

TEST(A2aRestart, TasksSurviveAndInFlightOnesFailCleanly) {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("agentd-a2a-restart-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    AgentdProcess::Options options;
    options.args = {"--conformance-fixtures", "--data", dir.string()};
    options.add_data = false;

    std::string done_id;
    std::string slow_id;
    std::string input_id;
    {
        auto first = AgentdProcess::start(options);
        done_id = rpc(first->port(), "SendMessage",
                      {{"message", user_message("keep me")}})["result"]["task"]["id"];
        input_id = rpc(first->port(), "SendMessage",
                       {{"message", user_message("input")}})["result"]["task"]["id"];
        slow_id = rpc(first->port(), "SendMessage",
                      {{"message", user_message("slow 600")},
                       {"configuration", {{"returnImmediately", true}}}})["result"]["task"]["id"];
        // The process dies without any chance to clean up.
        const auto killed = first->stop(SIGKILL);
        EXPECT_EQ(killed.signal, SIGKILL);
    }
    auto second = AgentdProcess::start(options);
    const json done = rpc(second->port(), "GetTask", {{"id", done_id}});
    EXPECT_EQ(done["result"]["status"]["state"], "TASK_STATE_COMPLETED") << done.dump();
    EXPECT_EQ(done["result"]["artifacts"][0]["parts"][0]["text"], "keep me");
    const json slow = rpc(second->port(), "GetTask", {{"id", slow_id}});
    EXPECT_EQ(slow["result"]["status"]["state"], "TASK_STATE_FAILED") << slow.dump();
    EXPECT_NE(slow["result"]["status"]["message"]["parts"][0]["text"].get<std::string>().find(
                  "restarted"),
              std::string::npos);
    // The interrupted task resumes: its follow-up completes it in the new process.
    json follow = user_message("after restart", "m-9");
    follow["taskId"] = input_id;
    const json resumed = rpc(second->port(), "SendMessage", {{"message", follow}});
    EXPECT_EQ(resumed["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED")
        << resumed.dump();
    const auto stopped = second->stop();
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;

    // A graceful stop keeps everything too.
    auto third = AgentdProcess::start(options);
    EXPECT_EQ(rpc(third->port(), "GetTask", {{"id", input_id}})["result"]["status"]["state"],
              "TASK_STATE_COMPLETED");
    EXPECT_EQ(third->stop().exit_code, 0);
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace agentd::itest
