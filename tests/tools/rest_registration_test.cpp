// REST tool registration: every field's rules and the exact 400 messages.
#include "agentd/tools/errc.h"
#include "agentd/tools/rest_tool.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd::tools {
namespace {

nlohmann::json valid_body() {
    return nlohmann::json::parse(R"({
        "name": "get_weather",
        "title": "Weather",
        "description": "Current weather for a city",
        "input_schema": {"type":"object","properties":{"city":{"type":"string"}},
                         "required":["city"]},
        "output_schema": {"type":"object","properties":{"temp":{"type":"number"}}},
        "annotations": {"readOnlyHint": true},
        "endpoint": {"url":"http://127.0.0.1:8081/weather?units=metric","method":"GET",
                     "headers":{"Authorization":"Bearer s3cret","X-Trace":"1"}},
        "timeout_ms": 2500})");
}

/// The error message for `body` after `edit` (or "" when it is accepted).
template <class Edit>
std::string error_after(Edit edit, const RestToolPolicy& policy = {}) {
    nlohmann::json body = valid_body();
    edit(body);
    const auto r = parse_rest_registration(body, policy);
    return r ? std::string() : r.error().message;
}

TEST(RestRegistration, AcceptsAFullRegistration) {
    const auto spec = parse_rest_registration(valid_body(), {});
    ASSERT_TRUE(spec) << spec.error().message;
    EXPECT_EQ(spec->definition.name, "get_weather");
    EXPECT_EQ(spec->definition.title, "Weather");
    EXPECT_EQ(spec->definition.source, ToolSource::rest);
    EXPECT_EQ(spec->endpoint.method, "GET");
    EXPECT_EQ(spec->endpoint.parsed.host, "127.0.0.1");
    EXPECT_EQ(spec->endpoint.parsed.port, 8081);
    EXPECT_EQ(spec->endpoint.parsed.target, "/weather?units=metric");
    EXPECT_FALSE(spec->endpoint.parsed.tls);
    EXPECT_EQ(spec->timeout.count(), 2500);
    ASSERT_EQ(spec->endpoint.headers.size(), 2U);
    const auto shown = rest_spec_to_json(*spec, true);
    EXPECT_EQ(shown["endpoint"]["headers"]["Authorization"], "<redacted>");
    EXPECT_EQ(shown["endpoint"]["headers"]["X-Trace"], "1");
    EXPECT_EQ(rest_spec_to_json(*spec, false)["endpoint"]["headers"]["Authorization"],
              "Bearer s3cret");
    // The stored form parses back to the same spec.
    const auto again = parse_rest_registration(rest_spec_to_json(*spec, false), {});
    ASSERT_TRUE(again);
    EXPECT_EQ(rest_spec_to_json(*again, false), rest_spec_to_json(*spec, false));
}

TEST(RestRegistration, Defaults) {
    auto body = valid_body();
    body.erase("timeout_ms");
    body.erase("title");
    body["endpoint"].erase("method");
    body["endpoint"]["url"] = "https://api.example.com";
    const auto spec = parse_rest_registration(body, {});
    ASSERT_TRUE(spec) << spec.error().message;
    EXPECT_EQ(spec->endpoint.method, "POST");
    EXPECT_EQ(spec->timeout.count(), 30000);
    EXPECT_TRUE(spec->endpoint.parsed.tls);
    EXPECT_EQ(spec->endpoint.parsed.port, 443);
    EXPECT_EQ(spec->endpoint.parsed.target, "/");
}

TEST(RestRegistration, TopLevelShape) {
    EXPECT_EQ(parse_rest_registration(nlohmann::json::array(), {}).error().message,
              "the request body must be a JSON object, not array");
    EXPECT_EQ(error_after([](auto& b) { b["inputSchema"] = b["input_schema"]; }),
              "unknown field \"inputSchema\" (did you mean \"input_schema\"?); allowed: name, "
              "title, description, input_schema, output_schema, annotations, endpoint, "
              "timeout_ms");
    EXPECT_EQ(error_after([](auto& b) { b.erase("name"); }), "name: required");
    EXPECT_EQ(error_after([](auto& b) { b["name"] = 5; }), "name: must be a string, not number");
    EXPECT_EQ(error_after([](auto& b) { b["name"] = "has space"; }),
              "name: must be 1-128 characters of A-Z a-z 0-9 _ - . (got \"has space\")");
    EXPECT_NE(error_after([](auto& b) { b["name"] = std::string(129, 'x'); }).find("name:"),
              std::string::npos);
    EXPECT_EQ(error_after([](auto& b) { b["description"] = ""; }),
              "description: must not be empty (it tells the model what the tool does)");
    EXPECT_EQ(error_after([](auto& b) { b.erase("description"); }), "description: required");
    EXPECT_NE(error_after([](auto& b) {
                  b["description"] = std::string(20000, 'd');
              }).find("the limit is 16384"),
              std::string::npos);
    EXPECT_EQ(error_after([](auto& b) { b["annotations"]["readOnlyHint"] = "yes"; }),
              "annotations.readOnlyHint: must be a boolean");
}

TEST(RestRegistration, Schemas) {
    EXPECT_EQ(error_after([](auto& b) { b.erase("input_schema"); }),
              "input_schema: required (a JSON Schema with \"type\": \"object\")");
    EXPECT_EQ(error_after([](auto& b) {
                  b["input_schema"] = {{"type", "string"}};
              }),
              "input_schema: the root must have \"type\": \"object\" (MCP tools take and return "
              "JSON objects)");
    EXPECT_EQ(
        error_after([](auto& b) { b["input_schema"]["properties"]["city"]["minLength"] = -1; }),
        "input_schema: /properties/city/minLength: must be a non-negative integer, not -1");
    EXPECT_EQ(error_after([](auto& b) {
                  b["output_schema"] = {{"$ref", "#/nope"}};
              }),
              "output_schema: the root must have \"type\": \"object\" (MCP tools take and return "
              "JSON objects)");
    EXPECT_NE(error_after([](auto& b) {
                  b["input_schema"]["$ref"] = "http://evil/x.json";
              }).find("remote references are not supported"),
              std::string::npos);
    RestToolPolicy small;
    small.max_schema_bytes = 50;
    EXPECT_NE(error_after([](auto&) {}, small).find("input_schema: is"), std::string::npos);
    const auto r = parse_rest_registration(
        [] {
            auto b = valid_body();
            b["input_schema"]["type"] = "array";
            return b;
        }(),
        {});
    EXPECT_EQ(r.error().code, errc::invalid_schema);
}

TEST(RestRegistration, EndpointUrl) {
    auto url_error = [](const std::string& url) {
        return error_after([&](auto& b) { b["endpoint"]["url"] = url; });
    };
    EXPECT_EQ(url_error("ftp://example.com/x"),
              "endpoint.url: scheme must be http or https, not \"ftp\"");
    EXPECT_EQ(url_error("example.com/x"),
              "endpoint.url: must be an absolute http:// or https:// URL");
    EXPECT_EQ(url_error("http://user:pw@example.com/"),
              "endpoint.url: must not contain credentials (user:password@); send them in "
              "endpoint.headers");
    EXPECT_EQ(url_error("http://example.com/a#frag"),
              "endpoint.url: must not contain a fragment (#...)");
    EXPECT_EQ(url_error("http://example.com:0/"),
              "endpoint.url: port must be a number from 1 to 65535");
    EXPECT_EQ(url_error("http://example.com:99999/"),
              "endpoint.url: port must be a number from 1 to 65535");
    EXPECT_EQ(url_error("http:///path"), "endpoint.url: has no host");
    EXPECT_EQ(url_error("http://2130706433/"),
              "endpoint.url: host \"2130706433\" looks like an IPv4 address in a non-standard "
              "form; write addresses as a dotted quad such as 127.0.0.1");
    EXPECT_NE(url_error("http://127.1/").find("non-standard form"), std::string::npos);
    EXPECT_NE(url_error("http://0x7f.0.0.1/").find("non-standard form"), std::string::npos);
    EXPECT_NE(url_error("http://exa mple.com/").find("host contains ' '"), std::string::npos);
    EXPECT_NE(url_error("http://example.com/a b").find("percent-encoded"), std::string::npos);
    EXPECT_NE(url_error("http://example.com/%zz").find("percent escape"), std::string::npos);
    EXPECT_NE(url_error("http://[::1/").find("unclosed"), std::string::npos);
    EXPECT_NE(url_error("http://[1.2.3.4]/").find("invalid IPv6"), std::string::npos);
    EXPECT_EQ(url_error("http://[::1]:9000/x"), "");
    EXPECT_EQ(url_error("http://my_service:8000/x"), "");
    EXPECT_EQ(url_error("http://Example.COM./x"), "");
    EXPECT_NE(url_error("http://example.com/" + std::string(3000, 'a')).find("the limit is 2048"),
              std::string::npos);
}

TEST(RestRegistration, ForbiddenTargets) {
    auto forbidden = [](const std::string& url, const RestToolPolicy& policy = {}) {
        nlohmann::json b = valid_body();
        b["endpoint"]["url"] = url;
        const auto r = parse_rest_registration(b, policy);
        return r ? std::string() : r.error().message;
    };
    EXPECT_EQ(forbidden("http://169.254.169.254/latest/meta-data/"),
              "endpoint.url: 169.254.169.254 is a cloud metadata service address, which REST "
              "tools may not reach (the server's tools.rest.allow_metadata setting allows it)");
    EXPECT_NE(forbidden("http://[fd00:ec2::254]/").find("cloud metadata"), std::string::npos);
    EXPECT_NE(forbidden("http://[::ffff:169.254.169.254]/").find("cloud metadata"),
              std::string::npos);
    EXPECT_NE(forbidden("http://metadata.google.internal/computeMetadata/v1/")
                  .find("cloud metadata service"),
              std::string::npos);
    EXPECT_NE(forbidden("http://169.254.10.10/").find("link-local"), std::string::npos);
    EXPECT_NE(forbidden("http://[fe80::1]/").find("link-local"), std::string::npos);
    EXPECT_NE(forbidden("http://0.0.0.0:80/").find("may never reach"), std::string::npos);
    EXPECT_EQ(forbidden("http://127.0.0.1:9/"), "");
    EXPECT_EQ(forbidden("http://localhost:9/"), "");
    RestToolPolicy open;
    open.net.allow_metadata = true;
    EXPECT_EQ(forbidden("http://169.254.169.254/", open), "");
    RestToolPolicy closed;
    closed.net.allow_loopback = false;
    EXPECT_NE(forbidden("http://127.0.0.1/", closed).find("allow_loopback"), std::string::npos);
    const auto r = parse_rest_registration(
        [] {
            auto b = valid_body();
            b["endpoint"]["url"] = "http://169.254.169.254/";
            return b;
        }(),
        {});
    EXPECT_EQ(r.error().code, errc::forbidden);
}

TEST(RestRegistration, MethodHeadersTimeout) {
    EXPECT_EQ(error_after([](auto& b) { b["endpoint"]["method"] = "get"; }),
              "endpoint.method: must be GET, POST, PUT, PATCH or DELETE (upper case), not \"get\"");
    EXPECT_EQ(error_after([](auto& b) {
                  b["endpoint"]["method"] = "TRACE";
              }).rfind("endpoint.method:", 0),
              0U);
    EXPECT_EQ(error_after([](auto& b) { b["endpoint"]["verb"] = "GET"; }),
              "endpoint: unknown field \"verb\"; allowed: url, method, headers");
    EXPECT_EQ(error_after([](auto& b) { b.erase("endpoint"); }),
              "endpoint: required ({\"url\": ..., \"method\": ..., \"headers\"?: {...}})");
    EXPECT_EQ(error_after([](auto& b) { b["endpoint"]["headers"]["Host"] = "evil"; }),
              "endpoint.headers.Host: this header is set by agentd and cannot be configured");
    EXPECT_EQ(error_after([](auto& b) { b["endpoint"]["headers"]["X-A"] = "a\r\nInjected: 1"; }),
              "endpoint.headers.X-A: value contains a control character (CR, LF, NUL, ...)");
    EXPECT_EQ(error_after([](auto& b) { b["endpoint"]["headers"]["Bad Name"] = "x"; }),
              "endpoint.headers.Bad Name: header names may contain only letters, digits and "
              "!#$%&'*+-.^_`|~");
    EXPECT_EQ(error_after([](auto& b) { b["endpoint"]["headers"]["x-trace"] = "2"; }),
              "endpoint.headers: \"x-trace\" and \"X-Trace\" are the same header");
    EXPECT_EQ(error_after([](auto& b) { b["endpoint"]["headers"]["X-N"] = 5; }),
              "endpoint.headers.X-N: must be a string, not number");
    EXPECT_EQ(error_after([](auto& b) { b["endpoint"]["headers"]["Proxy-Authorization"] = "x"; }),
              "endpoint.headers.Proxy-Authorization: proxy headers cannot be configured");
    EXPECT_EQ(error_after([](auto& b) { b["endpoint"]["headers"]["X-W"] = " padded"; }),
              "endpoint.headers.X-W: value must not begin or end with whitespace");
    EXPECT_EQ(error_after([](auto& b) { b["timeout_ms"] = 0; }),
              "timeout_ms: must be between 1 and 300000, not 0");
    EXPECT_EQ(error_after([](auto& b) { b["timeout_ms"] = 1.5; }),
              "timeout_ms: must be an integer number of milliseconds, not 1.5");
    EXPECT_EQ(error_after([](auto& b) { b["timeout_ms"] = "100"; }),
              "timeout_ms: must be an integer number of milliseconds, not \"100\"");
    EXPECT_EQ(error_after([](auto& b) { b["timeout_ms"] = 300001; }),
              "timeout_ms: must be between 1 and 300000, not 300001");
    EXPECT_EQ(error_after([](auto& b) { b["timeout_ms"] = 2000.0; }), "");
}

} // namespace
} // namespace agentd::tools
