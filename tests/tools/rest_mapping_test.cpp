// REST calls without the network: the request built for a call and the tool result for every
// kind of answer and failure.
#include "agentd/tools/errc.h"
#include "agentd/tools/rest_tool.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd::tools {
namespace {

RestToolSpec spec_for(const std::string& method, const std::string& url, bool output_schema) {
    nlohmann::json body = {{"name", "t"},
                           {"description", "d"},
                           {"input_schema", {{"type", "object"}}},
                           {"endpoint", {{"url", url}, {"method", method}}},
                           {"timeout_ms", 1500}};
    if (output_schema) {
        body["output_schema"] = {{"type", "object"}};
    }
    return *parse_rest_registration(body, {});
}

std::string header(const HttpClientRequest& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) {
            return v;
        }
    }
    return "(none)";
}

TEST(RestRequest, PostSendsJsonBody) {
    const auto spec = spec_for("POST", "http://127.0.0.1:9000/run?x=1", false);
    const auto args = nlohmann::json::parse(R"({"a":[1,2],"b":"é"})");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
    const auto r = build_rest_request(spec, args, {}, deadline);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.host, "127.0.0.1");
    EXPECT_EQ(r.port, 9000);
    EXPECT_EQ(r.target, "/run?x=1");
    EXPECT_EQ(r.body, R"({"a":[1,2],"b":"é"})");
    EXPECT_EQ(header(r, "Content-Type"), "application/json");
    EXPECT_EQ(header(r, "Accept"), "application/json");
    // The tool's own timeout bounds the call when the caller's deadline is later.
    EXPECT_LE(r.deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(1500));
    EXPECT_EQ(r.max_response_bytes, RestToolPolicy{}.max_response_bytes);
}

TEST(RestRequest, GetSendsQueryParameters) {
    const auto spec = spec_for("GET", "http://h.example/search?fixed=1", false);
    const auto args = nlohmann::json::parse(
        R"({"q":"a b&c","n":3,"flag":true,"tags":["x","y z"],"opt":null,"obj":{"k":1}})");
    const auto r = build_rest_request(spec, args, {}, std::chrono::steady_clock::time_point::max());
    EXPECT_EQ(r.target, "/search?fixed=1&flag=true&n=3&obj=%7B%22k%22%3A1%7D&q=a%20b%26c&tags=x&"
                        "tags=y%20z");
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(header(r, "Content-Type"), "(none)");
    const auto plain = build_rest_request(spec_for("DELETE", "http://h.example/item", false),
                                          nlohmann::json::parse(R"({"id":"7"})"), {},
                                          std::chrono::steady_clock::time_point::max());
    EXPECT_EQ(plain.target, "/item?id=7");
}

TEST(RestRequest, CallerDeadlineWinsWhenEarlier) {
    const auto spec = spec_for("POST", "http://h.example/", false);
    const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(10);
    EXPECT_EQ(build_rest_request(spec, nlohmann::json::object(), {}, soon).deadline, soon);
}

HttpClientResponse response(unsigned status, std::string body, std::string type = "") {
    HttpClientResponse r;
    r.status = status;
    r.reason = status == 200 ? "OK" : status == 500 ? "Internal Server Error" : "";
    r.body = std::move(body);
    if (!type.empty()) {
        r.headers.emplace_back("Content-Type", type);
    }
    return r;
}

ToolResult map(const RestToolSpec& spec, base::Result<HttpClientResponse> outcome) {
    return map_rest_response(spec, outcome, std::chrono::milliseconds(1500));
}

TEST(RestResponse, JsonObjectBecomesStructuredContent) {
    const auto spec = spec_for("POST", "http://h.example/x", true);
    const auto r = map(spec, response(200, R"({"temp": 21.5})", "application/json"));
    EXPECT_FALSE(r.is_error);
    ASSERT_TRUE(r.structured_content);
    EXPECT_EQ(r.structured_content->at("temp"), 21.5);
    EXPECT_EQ(r.joined_text(), R"({"temp":21.5})");
}

TEST(RestResponse, OtherJsonBecomesText) {
    const auto spec = spec_for("POST", "http://h.example/x", false);
    const auto r = map(spec, response(200, "[1,2]"));
    EXPECT_FALSE(r.is_error);
    EXPECT_FALSE(r.structured_content);
    EXPECT_EQ(r.joined_text(), "[1,2]");
    const auto with_schema =
        map(spec_for("POST", "http://h.example/x", true), response(200, "[1]"));
    EXPECT_TRUE(with_schema.is_error);
    EXPECT_EQ(with_schema.joined_text(), "REST endpoint POST http://h.example/x answered a JSON "
                                         "array, but the tool's output schema requires an object");
    const auto empty = map(spec, response(204, ""));
    EXPECT_FALSE(empty.is_error);
    EXPECT_EQ(empty.joined_text(), "(HTTP 204, empty response)");
    EXPECT_TRUE(map(spec_for("POST", "http://h.example/x", true), response(204, "")).is_error);
}

TEST(RestResponse, NonJsonAndNon2xxAreErrors) {
    const auto spec = spec_for("POST", "http://h.example/x", false);
    const auto html = map(spec, response(200, "<html>hi</html>", "text/html"));
    EXPECT_TRUE(html.is_error);
    EXPECT_EQ(html.joined_text(), "REST endpoint POST http://h.example/x answered HTTP 200 with "
                                  "a body that is not JSON (Content-Type: text/html): "
                                  "<html>hi</html>");
    const auto failed = map(spec, response(500, R"({"error":"db down"})"));
    EXPECT_TRUE(failed.is_error);
    EXPECT_EQ(failed.joined_text(), "REST endpoint POST http://h.example/x answered HTTP 500 "
                                    "Internal Server Error: {\"error\":\"db down\"}");
    auto redirect = response(302, "");
    redirect.headers.emplace_back("Location", "http://169.254.169.254/");
    EXPECT_EQ(map(spec, redirect).joined_text(),
              "REST endpoint POST http://h.example/x answered HTTP 302 (redirects are not "
              "followed; Location: http://169.254.169.254/)");
    // Invalid UTF-8 and control bytes in a body never reach the result text raw.
    const auto binary = map(spec, response(200, std::string("\xff\xfe\x01ok", 5)));
    EXPECT_TRUE(binary.is_error);
    EXPECT_NE(binary.joined_text().find("\xEF\xBF\xBD\xEF\xBF\xBD ok"), std::string::npos);
    EXPECT_NO_THROW((void)to_call_tool_result(binary).dump());
    // Long bodies are cut.
    const auto long_error = map(spec, response(500, std::string(100000, 'e')));
    EXPECT_LT(long_error.joined_text().size(), 2200U);
    // Deeply nested JSON is refused before anything walks it recursively.
    const auto deep = map(spec, response(200, std::string(10000, '[') + std::string(10000, ']')));
    EXPECT_TRUE(deep.is_error);
    EXPECT_NE(deep.joined_text().find("nested deeper than 128"), std::string::npos);
}

TEST(RestResponse, EveryFailureNamesTheEndpointAndTheCause) {
    const auto spec = spec_for("GET", "http://h.example/x", false);
    auto failure = [&](errc code, const char* message) {
        return map(spec, base::Result<HttpClientResponse>(base::fail(code, message))).joined_text();
    };
    EXPECT_EQ(failure(errc::timeout, "while waiting for the response headers"),
              "REST endpoint GET http://h.example/x did not answer within 1500 ms (timed out "
              "while waiting for the response headers)");
    EXPECT_EQ(failure(errc::connection_refused, "connection refused by 127.0.0.1:9"),
              "REST endpoint GET http://h.example/x failed: connection refused by 127.0.0.1:9");
    EXPECT_EQ(failure(errc::cancelled, "cancelled"),
              "the call to REST endpoint GET http://h.example/x was cancelled");
    EXPECT_EQ(failure(errc::response_too_large, "the response exceeded the 10-byte limit"),
              "REST endpoint GET http://h.example/x failed: the response exceeded the 10-byte "
              "limit");
    EXPECT_TRUE(
        map(spec, base::Result<HttpClientResponse>(base::fail(errc::dns_failure, "x"))).is_error);
}

} // namespace
} // namespace agentd::tools
