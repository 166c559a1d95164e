// The client side of A2A's JSON-RPC binding: requests built for either version parse back with
// the server-side parser, and responses (results, A2A errors, malformed answers) are read
// precisely.

#include "agentd/protocols/a2a/client.h"
#include "agentd/protocols/a2a/codec.h"
#include "agentd/protocols/errc.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd::protocols::a2a {
namespace {

using nlohmann::json;

Request round_trip(const Request& r) {
    const auto text = build_request(jsonrpc::RequestId(std::int64_t{3}), r);
    const auto frame = jsonrpc::parse(text);
    EXPECT_TRUE(frame.ok);
    const auto& m = frame.messages.front();
    auto name = resolve_method(m.method(), to_string(r.version));
    EXPECT_TRUE(name.has_value()) << m.method();
    auto parsed = parse_params(*name, m.params());
    EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message) << " " << text;
    return parsed.has_value() ? *parsed : Request{};
}

TEST(A2aClient, RequestsParseBackInBothVersions) {
    for (const auto version : {Version::v1_0, Version::v0_3}) {
        Request send;
        send.version = version;
        send.method = Method::send_message;
        send.send.message.message_id = "m";
        send.send.message.role = Role::user;
        send.send.message.task_id = "t";
        send.send.message.parts.push_back(Part::make_text("hi"));
        send.send.message.parts.push_back(Part::make_raw("\x01\x02", "x/y", "f"));
        send.send.configuration.return_immediately = true;
        send.send.configuration.history_length = 2;
        send.send.configuration.push_config = PushConfig{"p", "", "http://h/x", "tok", {}};
        const auto back = round_trip(send);
        EXPECT_EQ(back.send.message.task_id, "t");
        EXPECT_EQ(back.send.message.parts.at(1).raw, "\x01\x02");
        EXPECT_TRUE(back.send.configuration.return_immediately);
        EXPECT_EQ(back.send.configuration.history_length, 2);
        EXPECT_EQ(back.send.configuration.push_config->token, "tok");

        Request get;
        get.version = version;
        get.method = Method::get_task;
        get.get.id = "t1";
        get.get.history_length = 0;
        EXPECT_EQ(round_trip(get).get.id, "t1");

        Request del;
        del.version = version;
        del.method = Method::delete_push_config;
        del.push_ref = {"t1", "p1"};
        const auto d = round_trip(del);
        EXPECT_EQ(d.push_ref.task_id, "t1");
        EXPECT_EQ(d.push_ref.id, "p1");

        Request create;
        create.version = version;
        create.method = Method::create_push_config;
        create.push = PushConfig{"p", "t1", "http://h/x", "", AuthenticationInfo{"Basic", "x"}};
        EXPECT_EQ(round_trip(create).push.authentication->scheme, "Basic");
    }
}

TEST(A2aClient, ReadsResultsAndErrors) {
    const jsonrpc::RequestId id(std::int64_t{5});
    const auto ok = read_response(R"({"jsonrpc":"2.0","id":5,"result":{"a":1}})", id);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ((**ok)["a"], 1);

    const auto not_found =
        read_response(R"({"jsonrpc":"2.0","id":5,"error":{"code":-32001,"message":"gone"}})", id);
    ASSERT_FALSE(not_found.has_value());
    EXPECT_EQ(not_found.error().code, make_error_code(errc::task_not_found));
    EXPECT_NE(not_found.error().message.find("gone"), std::string::npos);
    const auto version =
        read_response(R"({"jsonrpc":"2.0","id":5,"error":{"code":-32009,"message":"v"}})", id);
    EXPECT_EQ(version.error().code, make_error_code(errc::version_not_supported));
    const auto params =
        read_response(R"({"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"p"}})", id);
    EXPECT_EQ(params.error().code, make_error_code(errc::invalid_params));

    for (const char* bad : {"<html>", R"({"jsonrpc":"2.0","id":6,"result":{}})",
                            R"({"jsonrpc":"2.0","method":"x"})", R"([])"}) {
        const auto r = read_response(bad, id);
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().code, make_error_code(errc::invalid_agent_response)) << bad;
    }
}

TEST(A2aClient, SendResults) {
    Task t;
    t.id = "t";
    t.context_id = "c";
    t.status.state = TaskState::working;
    for (const auto v : {Version::v1_0, Version::v0_3}) {
        const auto r = parse_send_result(send_result(t, v), v);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        EXPECT_EQ(std::get<Task>(*r).id, "t");
    }
    const auto bad = parse_send_result(json{{"nothing", 1}}, Version::v1_0);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code, make_error_code(errc::invalid_agent_response));
}

} // namespace
} // namespace agentd::protocols::a2a
