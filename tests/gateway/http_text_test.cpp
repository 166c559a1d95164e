#include "http/handler.h"
#include "http/request_id.h"
#include "http/text.h"
#include "http/wire.h"

#include <gtest/gtest.h>

#include <set>

namespace agentd::gateway::http {
namespace {

TEST(TextTest, PercentDecode) {
    EXPECT_EQ(percent_decode("a%20b%2Fc").value(), "a b/c");
    EXPECT_EQ(percent_decode("a+b").value(), "a+b");
    EXPECT_EQ(percent_decode("a+b", true).value(), "a b");
    EXPECT_EQ(percent_decode("%e2%82%AC").value(), "\xE2\x82\xAC");
    EXPECT_FALSE(percent_decode("%").has_value());
    EXPECT_FALSE(percent_decode("%4").has_value());
    EXPECT_FALSE(percent_decode("%zz").has_value());
    EXPECT_FALSE(percent_decode("a%00b").has_value());
}

TEST(TextTest, JsonStringEscapesAndRepairsUtf8) {
    EXPECT_EQ(json_string("plain"), "\"plain\"");
    EXPECT_EQ(json_string("q\"b\\n\nt\tc\x01"), "\"q\\\"b\\\\n\\nt\\tc\\u0001\"");
    EXPECT_EQ(json_string("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");
    // Invalid bytes, overlong forms and surrogates become U+FFFD.
    EXPECT_EQ(json_string("a\xFF"
                          "b"),
              "\"a\xEF\xBF\xBD"
              "b\"");
    EXPECT_EQ(json_string("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT_EQ(json_string("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    EXPECT_EQ(json_string("\xE2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(TextTest, TokensAndFieldValues) {
    EXPECT_TRUE(is_token("Mcp-Session-Id"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("a b"));
    EXPECT_FALSE(is_token("a:b"));
    EXPECT_TRUE(is_field_value("text/event-stream; charset=utf-8"));
    EXPECT_FALSE(is_field_value("a\r\nInjected: yes"));
    EXPECT_FALSE(is_field_value(std::string_view("a\0b", 3)));
    EXPECT_TRUE(iequals("Content-Length", "content-length"));
    EXPECT_FALSE(iequals("Content-Length", "content-lengt"));
    EXPECT_EQ(trim_ows(" \t x \t"), "x");
}

TEST(TextTest, SplitRequestTarget) {
    auto p = split_request_target("/a/b?x=1&y");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->first, "/a/b");
    EXPECT_EQ(p->second, "x=1&y");
    p = split_request_target("http://example.com:80/mcp?q");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->first, "/mcp");
    EXPECT_EQ(p->second, "q");
    p = split_request_target("HTTPS://example.com");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->first, "/");
    EXPECT_FALSE(split_request_target("*").has_value());
    EXPECT_FALSE(split_request_target("example.com:443").has_value());
    EXPECT_FALSE(split_request_target("").has_value());
}

TEST(HandlerTypesTest, HeadersAreCaseInsensitiveAndKeepDuplicates) {
    Headers h;
    h.add("Accept", "a");
    h.add("accept", "b");
    EXPECT_EQ(h.get("ACCEPT").value(), "a");
    EXPECT_EQ(h.get_all("Accept").size(), 2u);
    EXPECT_FALSE(h.get("Missing").has_value());
}

TEST(HandlerTypesTest, QueryParamsAndPathParams) {
    Request r;
    r.query = "cursor=abc%3D&limit=10&flag&name=a+b&bad=%zz";
    EXPECT_EQ(r.query_param("cursor").value(), "abc=");
    EXPECT_EQ(r.query_param("limit").value(), "10");
    EXPECT_EQ(r.query_param("flag").value(), "");
    EXPECT_EQ(r.query_param("name").value(), "a b");
    EXPECT_FALSE(r.query_param("bad").has_value());
    EXPECT_FALSE(r.query_param("missing").has_value());
    r.path_params = {{"name", "x"}};
    EXPECT_EQ(r.path_param("name").value(), "x");
    EXPECT_FALSE(r.path_param("other").has_value());
}

TEST(HandlerTypesTest, ErrorBodyIsJson) {
    const auto r = Response::error(404, "not_found", "no \"route\"");
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.body, R"({"error":{"code":"not_found","message":"no \"route\""}})");
}

TEST(WireTest, SseEventFraming) {
    SseEvent e;
    e.data = "line1\nline2\r\nline3";
    e.event = "message";
    e.id = "7";
    e.retry = std::chrono::milliseconds(1500);
    EXPECT_EQ(wire::format_sse_event(e), "retry: 1500\nid: 7\nevent: message\n"
                                         "data: line1\ndata: line2\ndata: line3\n\n");
    SseEvent plain;
    plain.data = "{}";
    EXPECT_EQ(wire::format_sse_event(plain), "data: {}\n\n");
    SseEvent empty;
    EXPECT_EQ(wire::format_sse_event(empty), "data: \n\n");
    SseEvent trailing;
    trailing.data = "a\n";
    EXPECT_EQ(wire::format_sse_event(trailing), "data: a\ndata: \n\n");
    SseEvent hostile;
    hostile.data = "x";
    hostile.id = std::string("1\n2\0", 4);
    hostile.event = "a\r\nevent: b";
    EXPECT_EQ(wire::format_sse_event(hostile), "id: 1 2\nevent: a  event: b\ndata: x\n\n");
}

TEST(WireTest, ChunkFraming) {
    std::string out;
    wire::append_chunk(out, "hello");
    wire::append_chunk(out, std::string(26, 'x'));
    EXPECT_EQ(out, "5\r\nhello\r\n1a\r\n" + std::string(26, 'x') + "\r\n");
}

TEST(WireTest, ResponseHead) {
    Response r = Response::json(201, "{}");
    r.headers.add("Mcp-Session-Id", "abc");
    r.headers.add("Content-Length", "999"); // server-managed: ignored
    wire::HeadOptions o;
    o.content_length = 2;
    o.request_id = "rid";
    o.close = true;
    std::string head;
    wire::append_head(head, r, o);
    EXPECT_EQ(head.rfind("HTTP/1.1 201 Created\r\nDate: ", 0), 0u) << head;
    EXPECT_NE(head.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\nContent-Length: 2\r\n"), std::string::npos);
    EXPECT_EQ(head.find("999"), std::string::npos);
    EXPECT_NE(head.find("\r\nX-Request-Id: rid\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\nMcp-Session-Id: abc\r\n"), std::string::npos);
    EXPECT_NE(head.find("\r\nConnection: close\r\n\r\n"), std::string::npos);
}

TEST(WireTest, NoContentHasNoLength) {
    Response r;
    r.status = 204;
    wire::HeadOptions o;
    o.content_length = 0;
    std::string head;
    wire::append_head(head, r, o);
    EXPECT_EQ(head.find("Content-Length"), std::string::npos);
    EXPECT_EQ(head.find("Content-Type"), std::string::npos);
}

TEST(WireTest, InvalidResponsesAreDetected) {
    Response r;
    EXPECT_FALSE(wire::validate_response(r).has_value());
    r.headers.add("X-Bad", "a\r\nSet-Cookie: x");
    EXPECT_TRUE(wire::validate_response(r).has_value());
    Response n;
    n.headers.add("Bad Name", "v");
    EXPECT_TRUE(wire::validate_response(n).has_value());
    Response s;
    s.status = 101;
    EXPECT_TRUE(wire::validate_response(s).has_value());
    s.status = 600;
    EXPECT_TRUE(wire::validate_response(s).has_value());
    Response c;
    c.content_type = "text/plain\r\nX: y";
    EXPECT_TRUE(wire::validate_response(c).has_value());
}

TEST(WireTest, HttpDateFormat) {
    const auto d = wire::http_date();
    ASSERT_EQ(d.size(), 29u) << d;
    EXPECT_EQ(d.substr(25), " GMT");
}

TEST(RequestIdTest, EchoesSafeIdsAndGeneratesOthers) {
    EXPECT_EQ(request_id_for(std::string_view("abc-123.x:y_z")), "abc-123.x:y_z");
    const auto generated = request_id_for(std::string_view("has space"));
    EXPECT_EQ(generated.size(), 32u);
    EXPECT_EQ(request_id_for(std::nullopt).size(), 32u);
    EXPECT_NE(request_id_for(std::string(129, 'a')).size(), 129u);
    EXPECT_FALSE(is_valid_request_id(""));
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i) {
        ids.insert(generate_request_id());
    }
    EXPECT_EQ(ids.size(), 1000u);
}

} // namespace
} // namespace agentd::gateway::http
