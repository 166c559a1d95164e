// A2A JSON-RPC binding: both method-name sets, version negotiation, typed parameters with
// precise errors, and error envelopes (codes -32001..-32009, ErrorInfo in v1.0).

#include "agentd/protocols/a2a/rpc.h"
#include "agentd/protocols/errc.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd::protocols::a2a {
namespace {

using nlohmann::json;

base::Result<Request> parse(std::string_view method, const json& params,
                            std::optional<std::string_view> header = std::nullopt) {
    auto name = resolve_method(method, header);
    if (!name) {
        return name.error();
    }
    return parse_params(*name, params);
}

std::string invalid_message(const base::Result<Request>& r) {
    EXPECT_FALSE(r.has_value());
    if (r.has_value()) {
        return "";
    }
    EXPECT_EQ(r.error().code, make_error_code(errc::invalid_params)) << r.error().message;
    return r.error().message;
}

const json kUserMessageV1 = {
    {"messageId", "m1"}, {"role", "ROLE_USER"}, {"parts", json::array({{{"text", "hello"}}})}};
const json kUserMessageV03 = {{"kind", "message"},
                              {"messageId", "m1"},
                              {"role", "user"},
                              {"parts", json::array({{{"kind", "text"}, {"text", "hello"}}})}};

TEST(A2aRpc, MethodTables) {
    for (const auto m : {Method::send_message, Method::send_streaming_message, Method::get_task,
                         Method::cancel_task, Method::subscribe_to_task, Method::create_push_config,
                         Method::get_push_config, Method::list_push_configs,
                         Method::delete_push_config, Method::get_extended_card}) {
        for (const auto v : {Version::v1_0, Version::v0_3}) {
            const auto name = method_name(m, v);
            ASSERT_FALSE(name.empty());
            const auto back = lookup_method(name);
            ASSERT_TRUE(back.has_value()) << name;
            EXPECT_EQ(back->method, m);
            EXPECT_EQ(back->version, v);
        }
    }
    EXPECT_EQ(method_name(Method::list_tasks, Version::v0_3), "");
    EXPECT_EQ(lookup_method("tasks/resubscribe")->method, Method::subscribe_to_task);
    EXPECT_TRUE(is_streaming(Method::subscribe_to_task));
    EXPECT_FALSE(is_streaming(Method::get_task));
    EXPECT_FALSE(lookup_method("").has_value());
    EXPECT_FALSE(lookup_method("sendMessage").has_value());
}

TEST(A2aRpc, VersionNegotiation) {
    EXPECT_EQ(resolve_method("SendMessage", std::nullopt)->version, Version::v1_0);
    EXPECT_EQ(resolve_method("message/send", std::nullopt)->version, Version::v0_3);
    EXPECT_EQ(resolve_method("message/send", "")->version, Version::v0_3);
    EXPECT_EQ(resolve_method("GetTask", "1.0")->version, Version::v1_0);

    const auto unsupported = resolve_method("GetTask", "2.0");
    ASSERT_FALSE(unsupported.has_value());
    EXPECT_EQ(unsupported.error().code, make_error_code(errc::version_not_supported));
    EXPECT_EQ(to_rpc_error(unsupported.error()).code, -32009);

    const auto mismatch = resolve_method("message/send", "1.0");
    ASSERT_FALSE(mismatch.has_value());
    EXPECT_EQ(mismatch.error().code, make_error_code(errc::method_not_found));
    EXPECT_NE(mismatch.error().message.find("use \"SendMessage\""), std::string::npos);
    EXPECT_FALSE(resolve_method("ListTasks", "0.3").has_value());
    const auto unknown = resolve_method("tasks/list", std::nullopt);
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(to_rpc_error(unknown.error()).code, -32601);
}

TEST(A2aRpc, SendMessageParamsBothVersions) {
    const auto v1 =
        parse("SendMessage", {{"message", kUserMessageV1},
                              {"configuration",
                               {{"returnImmediately", true},
                                {"historyLength", 3},
                                {"acceptedOutputModes", {"text/plain"}},
                                {"taskPushNotificationConfig", {{"url", "http://h/x"}}}}},
                              {"metadata", {{"a", 1}}}});
    ASSERT_TRUE(v1.has_value()) << v1.error().message;
    EXPECT_EQ(v1->send.message.joined_text(), "hello");
    EXPECT_TRUE(v1->send.configuration.return_immediately);
    EXPECT_EQ(v1->send.configuration.history_length, 3);
    EXPECT_EQ(v1->send.configuration.push_config->url, "http://h/x");

    const auto v03 = parse(
        "message/send", {{"message", kUserMessageV03}, {"configuration", {{"blocking", false}}}});
    ASSERT_TRUE(v03.has_value()) << v03.error().message;
    EXPECT_TRUE(v03->send.configuration.return_immediately);
    const auto v03_default = parse("message/stream", {{"message", kUserMessageV03}});
    ASSERT_TRUE(v03_default.has_value());
    EXPECT_FALSE(v03_default->send.configuration.return_immediately);
    EXPECT_EQ(v03_default->method, Method::send_streaming_message);

    EXPECT_EQ(invalid_message(parse("SendMessage", json::object())), "params.message: is required");
    EXPECT_EQ(invalid_message(parse("SendMessage", json::array())), "params: must be an object");
    json agent = kUserMessageV1;
    agent["role"] = "ROLE_AGENT";
    EXPECT_EQ(invalid_message(parse("SendMessage", {{"message", agent}})),
              "params.message.role: must be ROLE_USER in a message sent to an agent");
    EXPECT_EQ(invalid_message(parse("SendMessage", {{"message", kUserMessageV1},
                                                    {"configuration", {{"historyLength", -1}}}})),
              "params.configuration.historyLength: must not be negative");
    // The v1.0 shape sent with a v0.3 method name is a v0.3 message without kinds: rejected.
    EXPECT_NE(invalid_message(parse("message/send", {{"message", kUserMessageV1}})), "");
}

TEST(A2aRpc, TaskAndListParams) {
    const auto get = parse("GetTask", {{"id", "t1"}, {"historyLength", "2"}});
    ASSERT_TRUE(get.has_value()) << get.error().message;
    EXPECT_EQ(get->get.id, "t1");
    EXPECT_EQ(get->get.history_length, 2);
    EXPECT_EQ(invalid_message(parse("tasks/get", {{"historyLength", 1}})),
              "params.id: is required");
    EXPECT_EQ(invalid_message(parse("CancelTask", {{"id", 5}})),
              "params.id: must be a string, not number");

    const auto list = parse("ListTasks", {{"contextId", "c"},
                                          {"status", "TASK_STATE_WORKING"},
                                          {"pageSize", 10},
                                          {"statusTimestampAfter", "2025-01-01T00:00:00Z"},
                                          {"includeArtifacts", true}});
    ASSERT_TRUE(list.has_value()) << list.error().message;
    EXPECT_EQ(list->list.status, TaskState::working);
    EXPECT_EQ(list->list.page_size, 10);
    EXPECT_EQ(list->list.status_timestamp_after_ms, 1735689600000);
    EXPECT_TRUE(list->list.include_artifacts);
    EXPECT_EQ(invalid_message(parse("ListTasks", {{"pageSize", 0}})),
              "params.pageSize: must be between 1 and 100");
    EXPECT_EQ(invalid_message(parse("ListTasks", {{"status", "DONE"}})),
              "params.status: is not a task state (e.g. TASK_STATE_WORKING)");
    EXPECT_EQ(invalid_message(parse("ListTasks", {{"statusTimestampAfter", "yesterday"}})),
              "params.statusTimestampAfter: must be an RFC 3339 timestamp");
    EXPECT_TRUE(parse("GetExtendedAgentCard", nullptr).has_value());
}

TEST(A2aRpc, PushConfigParamsBothVersions) {
    const auto create =
        parse("CreateTaskPushNotificationConfig", {{"taskId", "t1"}, {"url", "http://h/x"}});
    ASSERT_TRUE(create.has_value()) << create.error().message;
    EXPECT_EQ(create->push.task_id, "t1");
    EXPECT_EQ(invalid_message(parse("CreateTaskPushNotificationConfig", {{"url", "http://h"}})),
              "params.taskId: is required");
    const auto set =
        parse("tasks/pushNotificationConfig/set",
              {{"taskId", "t1"}, {"pushNotificationConfig", {{"id", "p"}, {"url", "http://h/x"}}}});
    ASSERT_TRUE(set.has_value()) << set.error().message;
    EXPECT_EQ(set->push.id, "p");

    const auto get = parse("GetTaskPushNotificationConfig", {{"taskId", "t1"}, {"id", "p"}});
    ASSERT_TRUE(get.has_value());
    EXPECT_EQ(get->push_ref.id, "p");
    const auto get03 = parse("tasks/pushNotificationConfig/get", {{"id", "t1"}});
    ASSERT_TRUE(get03.has_value());
    EXPECT_EQ(get03->push_ref.task_id, "t1");
    EXPECT_EQ(get03->push_ref.id, "");
    EXPECT_EQ(invalid_message(parse("tasks/pushNotificationConfig/delete", {{"id", "t1"}})),
              "params.pushNotificationConfigId: is required");
    const auto list03 = parse("tasks/pushNotificationConfig/list", {{"id", "t1"}});
    ASSERT_TRUE(list03.has_value());
    EXPECT_EQ(list03->push_list.task_id, "t1");
}

TEST(A2aRpc, ErrorEnvelopes) {
    const auto not_found = to_rpc_error(base::Error(errc::task_not_found, "task t9 not found"));
    EXPECT_EQ(not_found.code, -32001);
    EXPECT_EQ(not_found.reason, "TASK_NOT_FOUND");
    EXPECT_EQ(to_rpc_error(base::Error(errc::task_not_cancelable, "x")).code, -32002);
    EXPECT_EQ(to_rpc_error(base::Error(errc::push_not_supported, "x")).code, -32003);
    EXPECT_EQ(to_rpc_error(base::Error(errc::unsupported_operation, "x")).code, -32004);
    EXPECT_EQ(to_rpc_error(base::Error(errc::content_type_not_supported, "x")).code, -32005);
    EXPECT_EQ(to_rpc_error(base::Error(errc::extended_card_not_configured, "x")).code, -32007);
    EXPECT_EQ(to_rpc_error(base::Error(errc::invalid_params, "x")).code, -32602);
    EXPECT_EQ(to_rpc_error(
                  base::Error(boost::system::errc::make_error_code(boost::system::errc::io_error),
                              "disk"))
                  .code,
              -32603);

    RpcError e = not_found;
    e.metadata["taskId"] = "t9";
    const json v1 =
        json::parse(error_response(jsonrpc::RequestId(std::int64_t{4}), e, Version::v1_0));
    EXPECT_EQ(v1["id"], 4);
    EXPECT_EQ(v1["error"]["code"], -32001);
    EXPECT_EQ(v1["error"]["data"][0]["@type"], "type.googleapis.com/google.rpc.ErrorInfo");
    EXPECT_EQ(v1["error"]["data"][0]["reason"], "TASK_NOT_FOUND");
    EXPECT_EQ(v1["error"]["data"][0]["domain"], "a2a-protocol.org");
    EXPECT_EQ(v1["error"]["data"][0]["metadata"]["taskId"], "t9");
    const json v03 = json::parse(error_response(jsonrpc::RequestId("r"), e, Version::v0_3));
    EXPECT_EQ(v03["id"], "r");
    EXPECT_FALSE(v03["error"].contains("data"));
}

TEST(A2aRpc, SendResultShapes) {
    Task t;
    t.id = "t";
    t.context_id = "c";
    t.status.state = TaskState::completed;
    EXPECT_TRUE(send_result(t, Version::v1_0).contains("task"));
    EXPECT_EQ(send_result(t, Version::v0_3)["kind"], "task");
    Message m;
    m.message_id = "m";
    m.role = Role::agent;
    m.parts.push_back(Part::make_text("x"));
    EXPECT_TRUE(send_result(m, Version::v1_0).contains("message"));
    EXPECT_EQ(send_result(m, Version::v0_3)["kind"], "message");
}

} // namespace
} // namespace agentd::protocols::a2a
