#include "http/route_table.h"

#include <gtest/gtest.h>

namespace agentd::gateway::http {
namespace {

using Kind = RouteTable::Match::Kind;

Handler tagged(int* hit, int tag) {
    return [hit, tag](Request&&, ResponseWriterPtr) { *hit = tag; };
}

class RouteTableTest : public ::testing::Test {
protected:
    RouteTable table;
    int hit = 0;
};

TEST_F(RouteTableTest, LiteralRouteMatchesExactPathOnly) {
    table.add("GET", "/healthz", tagged(&hit, 1));
    table.freeze();
    auto m = table.match("GET", "/healthz");
    ASSERT_EQ(m.kind, Kind::found);
    (*m.handler)(Request{}, nullptr);
    EXPECT_EQ(hit, 1);
    EXPECT_EQ(table.match("GET", "/healthz/").kind, Kind::not_found);
    EXPECT_EQ(table.match("GET", "/healthzz").kind, Kind::not_found);
    EXPECT_EQ(table.match("GET", "/").kind, Kind::not_found);
}

TEST_F(RouteTableTest, ParamsAreCapturedAndDecoded) {
    table.add("GET", "/v1/tools/{name}", tagged(&hit, 1));
    auto m = table.match("GET", "/v1/tools/my%20tool");
    ASSERT_EQ(m.kind, Kind::found);
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params[0].first, "name");
    EXPECT_EQ(m.params[0].second, "my tool");
    // An encoded slash stays inside the segment.
    m = table.match("GET", "/v1/tools/a%2Fb");
    ASSERT_EQ(m.kind, Kind::found);
    EXPECT_EQ(m.params[0].second, "a/b");
    EXPECT_EQ(table.match("GET", "/v1/tools").kind, Kind::not_found);
    EXPECT_EQ(table.match("GET", "/v1/tools/a/b").kind, Kind::not_found);
}

TEST_F(RouteTableTest, LiteralBeatsParamBeatsTail) {
    table.add("GET", "/files/*", tagged(&hit, 3));
    table.add("GET", "/files/{id}", tagged(&hit, 2));
    table.add("GET", "/files/special", tagged(&hit, 1));
    auto m = table.match("GET", "/files/special");
    (*m.handler)(Request{}, nullptr);
    EXPECT_EQ(hit, 1);
    m = table.match("GET", "/files/other");
    (*m.handler)(Request{}, nullptr);
    EXPECT_EQ(hit, 2);
    m = table.match("GET", "/files/a/b/c");
    (*m.handler)(Request{}, nullptr);
    EXPECT_EQ(hit, 3);
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params[0].first, "*");
    EXPECT_EQ(m.params[0].second, "a/b/c");
}

TEST_F(RouteTableTest, WrongMethodGives405WithAllow) {
    table.add("GET", "/v1/tools", tagged(&hit, 1));
    table.add("POST", "/v1/tools", tagged(&hit, 2));
    const auto m = table.match("DELETE", "/v1/tools");
    EXPECT_EQ(m.kind, Kind::method_not_allowed);
    EXPECT_EQ(m.allow, "GET, HEAD, OPTIONS, POST");
}

TEST_F(RouteTableTest, HeadFallsBackToGetAndOptionsIsAutomatic) {
    table.add("GET", "/a", tagged(&hit, 1));
    auto m = table.match("HEAD", "/a");
    ASSERT_EQ(m.kind, Kind::found);
    m = table.match("OPTIONS", "/a");
    EXPECT_EQ(m.kind, Kind::options);
    EXPECT_EQ(m.allow, "GET, HEAD, OPTIONS");
    table.add("OPTIONS", "/a", tagged(&hit, 2));
    m = table.match("OPTIONS", "/a");
    ASSERT_EQ(m.kind, Kind::found);
    (*m.handler)(Request{}, nullptr);
    EXPECT_EQ(hit, 2);
}

TEST_F(RouteTableTest, ExplicitHeadRouteWinsOverGet) {
    table.add("GET", "/a", tagged(&hit, 1));
    table.add("HEAD", "/a", tagged(&hit, 2));
    auto m = table.match("HEAD", "/a");
    (*m.handler)(Request{}, nullptr);
    EXPECT_EQ(hit, 2);
}

TEST_F(RouteTableTest, StarMethodMatchesEverything) {
    table.add("*", "/mcp", tagged(&hit, 1));
    EXPECT_EQ(table.match("PATCH", "/mcp").kind, Kind::found);
    EXPECT_EQ(table.match("BREW", "/mcp").kind, Kind::found);
}

TEST_F(RouteTableTest, MalformedEncodingMatchesNothing) {
    table.add("GET", "/v1/tools/{name}", tagged(&hit, 1));
    EXPECT_EQ(table.match("GET", "/v1/tools/%zz").kind, Kind::not_found);
    EXPECT_EQ(table.match("GET", "/v1/tools/%00").kind, Kind::not_found);
    EXPECT_EQ(table.match("GET", "/v1/tools/%4").kind, Kind::not_found);
}

TEST_F(RouteTableTest, LiteralSegmentsMatchDecoded) {
    table.add("GET", "/v1/models", tagged(&hit, 1));
    EXPECT_EQ(table.match("GET", "/v1/%6Dodels").kind, Kind::found);
}

TEST_F(RouteTableTest, LabelIsMetricsNameOrPattern) {
    RouteOptions named;
    named.metrics_name = "tools_item";
    table.add("GET", "/v1/tools/{name}", tagged(&hit, 1), named);
    table.add("GET", "/healthz", tagged(&hit, 2));
    const auto a = table.match("GET", "/v1/tools/x");
    const auto b = table.match("GET", "/healthz");
    EXPECT_EQ(table.label(a.route_index), "tools_item");
    EXPECT_EQ(table.label(b.route_index), "/healthz");
    EXPECT_FALSE(a.options->public_route);
}

TEST(RouteTableDeathTest, DuplicateRouteAborts) {
    RouteTable t;
    t.add("GET", "/a", [](Request&&, ResponseWriterPtr) {});
    EXPECT_DEATH(t.add("GET", "/a", [](Request&&, ResponseWriterPtr) {}), "duplicate route");
}

TEST(RouteTableDeathTest, AddAfterFreezeAborts) {
    RouteTable t;
    t.freeze();
    EXPECT_DEATH(t.add("GET", "/a", [](Request&&, ResponseWriterPtr) {}), "before the server");
}

TEST(RouteTableDeathTest, MalformedPatternsAbort) {
    RouteTable t;
    const auto h = [](Request&&, ResponseWriterPtr) {};
    EXPECT_DEATH(t.add("GET", "a", h), "start with");
    EXPECT_DEATH(t.add("GET", "/a/*/b", h), "last segment");
    EXPECT_DEATH(t.add("GET", "/a/{}", h), "parameter names");
    EXPECT_DEATH(t.add("GET", "/a/{x}/{x}", h), "unique");
    EXPECT_DEATH(t.add("G E T", "/a", h), "token");
}

} // namespace
} // namespace agentd::gateway::http
