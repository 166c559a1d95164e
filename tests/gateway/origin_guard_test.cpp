#include "http/origin_guard.h"

#include <gtest/gtest.h>

namespace agentd::gateway::http {
namespace {

Request req(std::optional<std::string> host, std::optional<std::string> origin) {
    Request r;
    if (host) {
        r.headers.add("Host", *host);
    }
    if (origin) {
        r.headers.add("Origin", *origin);
    }
    return r;
}

TEST(OriginGuardTest, LoopbackServerAcceptsLocalNames) {
    const OriginPolicy p("127.0.0.1", {}, {});
    for (const char* host :
         {"127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080", "localhost"}) {
        EXPECT_FALSE(check_host_and_origin(req(host, std::nullopt), p).has_value()) << host;
    }
    EXPECT_FALSE(check_host_and_origin(req(std::nullopt, std::nullopt), p).has_value());
}

TEST(OriginGuardTest, ForeignHostIsRefused) {
    const OriginPolicy p("127.0.0.1", {}, {});
    for (const char* host : {"evil.example.com", "evil.example.com:8080", "localhost.evil.com",
                             "127.0.0.2", "[::1", "a:b:c"}) {
        const auto r = check_host_and_origin(req(host, std::nullopt), p);
        ASSERT_TRUE(r.has_value()) << host;
        EXPECT_EQ(r->status, 403u);
        EXPECT_NE(r->body.find("forbidden"), std::string::npos);
    }
}

TEST(OriginGuardTest, OriginsMustBeLocalOrListed) {
    const OriginPolicy p("127.0.0.1", {}, {"https://app.example.com"});
    EXPECT_FALSE(check_host_and_origin(req("localhost", "http://localhost:6274"), p).has_value());
    EXPECT_FALSE(check_host_and_origin(req("localhost", "http://127.0.0.1"), p).has_value());
    EXPECT_FALSE(check_host_and_origin(req("localhost", "https://APP.example.com"), p).has_value());
    EXPECT_TRUE(check_host_and_origin(req("localhost", "https://evil.com"), p).has_value());
    EXPECT_TRUE(check_host_and_origin(req("localhost", "null"), p).has_value());
    EXPECT_TRUE(check_host_and_origin(req("localhost", "garbage"), p).has_value());
    EXPECT_TRUE(
        check_host_and_origin(req("localhost", "http://localhost.evil.com"), p).has_value());
}

TEST(OriginGuardTest, AllowedHostsAndWildcardBinds) {
    const OriginPolicy listed("0.0.0.0", {"agentd.example.com"}, {});
    EXPECT_FALSE(
        check_host_and_origin(req("agentd.example.com:443", std::nullopt), listed).has_value());
    EXPECT_TRUE(check_host_and_origin(req("other.example.com", std::nullopt), listed).has_value());
    EXPECT_FALSE(
        check_host_and_origin(req("agentd.example.com", "https://agentd.example.com"), listed)
            .has_value());

    const OriginPolicy open("0.0.0.0", {}, {});
    EXPECT_FALSE(check_host_and_origin(req("anything.example", std::nullopt), open).has_value());
    EXPECT_TRUE(
        check_host_and_origin(req("anything.example", "https://evil.com"), open).has_value());

    const OriginPolicy any_origin("127.0.0.1", {}, {"*"});
    EXPECT_FALSE(
        check_host_and_origin(req("localhost", "https://evil.com"), any_origin).has_value());
}

TEST(OriginGuardTest, SpecificBindAddressIsAnAllowedHost) {
    const OriginPolicy p("192.168.1.5", {}, {});
    EXPECT_FALSE(check_host_and_origin(req("192.168.1.5:8080", std::nullopt), p).has_value());
    EXPECT_TRUE(check_host_and_origin(req("attacker.example", std::nullopt), p).has_value());
}

} // namespace
} // namespace agentd::gateway::http
