#include "agentd/protocols/errc.h"
#include "agentd/protocols/json_rpc.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace agentd::protocols::jsonrpc {
namespace {

using nlohmann::json;

Message parse_one(std::string_view text) {
    auto frame = parse(text);
    EXPECT_TRUE(frame.ok) << text;
    EXPECT_EQ(frame.messages.size(), 1u);
    return frame.messages.empty() ? Message() : frame.messages.front();
}

TEST(JsonRpcParse, RequestWithIntegerAndStringIds) {
    auto m = parse_one(R"({"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"a":1}})");
    EXPECT_EQ(m.kind(), Message::Kind::request);
    EXPECT_EQ(m.id(), RequestId(7));
    EXPECT_EQ(m.method(), "tools/list");
    EXPECT_EQ(m.params().at("a"), 1);

    auto s = parse_one(R"({"jsonrpc":"2.0","id":"abc","method":"ping"})");
    EXPECT_EQ(s.id(), RequestId(std::string("abc")));
    EXPECT_TRUE(s.params().is_object());
    EXPECT_TRUE(s.params().empty());
}

TEST(JsonRpcParse, LargeUnsignedIdsRoundTrip) {
    auto m = parse_one(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})");
    ASSERT_EQ(m.kind(), Message::Kind::request);
    EXPECT_EQ(m.id().to_json_text(), "18446744073709551615");
    // Small unsigned values compare equal to the same signed value.
    auto a = parse_one(R"({"jsonrpc":"2.0","id":5,"method":"ping"})");
    EXPECT_EQ(a.id(), RequestId(5));
    EXPECT_EQ(a.id().hash(), RequestId(5).hash());
}

TEST(JsonRpcParse, NotificationHasNoId) {
    auto m = parse_one(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    EXPECT_EQ(m.kind(), Message::Kind::notification);
    EXPECT_TRUE(m.id().is_null());
}

TEST(JsonRpcParse, Responses) {
    auto r = parse_one(R"({"jsonrpc":"2.0","id":1,"result":{"x":1}})");
    EXPECT_EQ(r.kind(), Message::Kind::result);
    EXPECT_EQ(r.payload().at("x"), 1);
    auto e = parse_one(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"m"}})");
    EXPECT_EQ(e.kind(), Message::Kind::error);
    EXPECT_TRUE(e.id().is_null());
    EXPECT_EQ(e.payload().at("code"), -32600);
}

TEST(JsonRpcParse, ParseErrors) {
    for (const char* text : {"", "{", "not json", "{\"jsonrpc\":\"2.0\",}", "\xff\xfe"}) {
        auto frame = parse(text);
        EXPECT_FALSE(frame.ok) << text;
        EXPECT_EQ(frame.error.code, make_error_code(errc::parse_error)) << text;
    }
}

TEST(JsonRpcParse, TooDeepAndTooLargeAreParseErrors) {
    std::string deep(200, '[');
    deep += std::string(200, ']');
    auto frame = parse(deep);
    EXPECT_FALSE(frame.ok);
    EXPECT_EQ(frame.error.code, make_error_code(errc::parse_error));

    ParseLimits small;
    small.max_bytes = 10;
    auto big = parse(R"({"jsonrpc":"2.0","method":"x"})", small);
    EXPECT_FALSE(big.ok);
    EXPECT_EQ(big.error.code, make_error_code(errc::parse_error));
}

TEST(JsonRpcParse, InvalidRequestsSayWhyAndKeepTheId) {
    struct Case {
        const char* text;
        bool id_readable;
    };
    for (const Case& c : {
             Case{R"({"jsonrpc":"1.0","id":3,"method":"x"})", true},
             Case{R"({"id":3,"method":"x"})", true},
             Case{R"({"jsonrpc":"2.0","id":3,"method":5})", true},
             Case{R"({"jsonrpc":"2.0","id":3,"method":"x","params":5})", true},
             Case{R"({"jsonrpc":"2.0","id":null,"method":"x"})", false},
             Case{R"({"jsonrpc":"2.0","id":1.5,"method":"x"})", false},
             Case{R"({"jsonrpc":"2.0","id":true,"method":"x"})", false},
             Case{R"({"jsonrpc":"2.0","id":3})", true},
             Case{R"({"jsonrpc":"2.0","id":3,"result":1,"error":{"code":1,"message":"m"}})", true},
             Case{R"({"jsonrpc":"2.0","id":3,"error":{"code":"x","message":"m"}})", true},
             Case{R"({"jsonrpc":"2.0","result":{}})", false},
             Case{R"(42)", false},
             Case{R"("text")", false},
         }) {
        auto m = parse_one(c.text);
        EXPECT_EQ(m.kind(), Message::Kind::invalid) << c.text;
        EXPECT_EQ(m.problem().code, make_error_code(errc::invalid_request)) << c.text;
        EXPECT_FALSE(m.problem().message.empty()) << c.text;
        EXPECT_EQ(!m.id().is_null(), c.id_readable) << c.text;
    }
}

TEST(JsonRpcParse, Batches) {
    auto frame =
        parse(R"([{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},1])");
    ASSERT_TRUE(frame.ok);
    EXPECT_TRUE(frame.batch);
    ASSERT_EQ(frame.messages.size(), 3u);
    EXPECT_EQ(frame.messages[0].kind(), Message::Kind::request);
    EXPECT_EQ(frame.messages[1].kind(), Message::Kind::notification);
    EXPECT_EQ(frame.messages[2].kind(), Message::Kind::invalid);

    auto empty = parse("[]");
    EXPECT_FALSE(empty.ok);
    EXPECT_EQ(empty.error.code, make_error_code(errc::invalid_request));

    ParseLimits limits;
    limits.max_batch = 2;
    auto big = parse(R"([{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"a"},
                         {"jsonrpc":"2.0","method":"a"}])",
                     limits);
    EXPECT_FALSE(big.ok);
    EXPECT_EQ(big.error.code, make_error_code(errc::invalid_request));
}

TEST(JsonRpcSerialize, MessagesAndInvalidUtf8) {
    EXPECT_EQ(json::parse(make_result(RequestId(1), json{{"a", 1}})),
              json::parse(R"({"jsonrpc":"2.0","id":1,"result":{"a":1}})"));
    EXPECT_EQ(
        json::parse(make_error(RequestId(), -32700, "bad")),
        json::parse(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}})"));
    EXPECT_EQ(json::parse(make_error(RequestId(std::string("x")), 1, "m", json{{"d", 2}}))
                  .at("error")
                  .at("data")
                  .at("d"),
              2);
    EXPECT_EQ(json::parse(make_notification("n", json())).contains("params"), false);
    // Tool output is untrusted: invalid UTF-8 must not make serialization throw.
    const std::string bad = std::string("ok\xff", 3);
    EXPECT_NO_THROW((void)make_result(RequestId(1), json{{"text", bad}}));
}

TEST(JsonRpcCodes, ErrcMapping) {
    EXPECT_EQ(code_of(base::Error(errc::invalid_params, ""), true), -32602);
    EXPECT_EQ(code_of(base::Error(errc::resource_not_found, ""), true), -32002);
    EXPECT_EQ(code_of(base::Error(errc::resource_not_found, ""), false), -32602);
    EXPECT_EQ(code_of(base::Error(errc::header_mismatch, ""), false), -32020);
    EXPECT_EQ(code_of(base::Error(errc::missing_client_capability, ""), false), -32021);
    EXPECT_EQ(code_of(base::Error(errc::unsupported_version, ""), false), -32022);
    EXPECT_EQ(code_of(base::Error(make_error_code(boost::system::errc::io_error), ""), false),
              -32603);
}

} // namespace
} // namespace agentd::protocols::jsonrpc
