#include "auth/authenticator.h"
#include "auth/sha256.h"

#include <gtest/gtest.h>

namespace agentd::gateway::auth {
namespace {

TEST(Sha256Test, KnownVectors) {
    EXPECT_EQ(to_hex(sha256("")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(to_hex(sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(to_hex(sha256(std::string(1000000, 'a'))),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // Lengths around the padding boundary (55/56/64 bytes) exercise both tail layouts.
    EXPECT_EQ(to_hex(sha256(std::string(55, 'x'))).size(), 64u);
    EXPECT_NE(sha256(std::string(55, 'x')), sha256(std::string(56, 'x')));
    EXPECT_EQ(to_hex(sha256(std::string(64, 'a'))),
              "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Sha256Test, HexRoundTripAndCompare) {
    const Digest d = sha256("key");
    const auto parsed = digest_from_hex(to_hex(d));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(constant_time_equal(*parsed, d));
    Digest other = d;
    other[31] ^= 1;
    EXPECT_FALSE(constant_time_equal(other, d));
    EXPECT_FALSE(digest_from_hex("abc").has_value());
    EXPECT_FALSE(digest_from_hex(std::string(64, 'g')).has_value());
    std::string upper = to_hex(d);
    for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    EXPECT_TRUE(digest_from_hex(upper).has_value());
}

config::ApiKey key(std::string id, std::string tenant, std::vector<std::string> scopes,
                   std::string_view secret) {
    config::ApiKey k;
    k.id = std::move(id);
    k.tenant = std::move(tenant);
    k.scopes = std::move(scopes);
    k.sha256 = sha256(secret);
    return k;
}

http::Request with_auth(std::string value) {
    http::Request r;
    r.headers.add("Authorization", std::move(value));
    return r;
}

class AuthenticatorTest : public ::testing::Test {
protected:
    Authenticator auth{{key("admin", "acme", {"*"}, "admin-secret-0123456789"),
                        key("reader", "beta", {"mcp", "metrics"}, "reader-secret-0123456789")}};
};

TEST_F(AuthenticatorTest, ValidKeySetsPrincipal) {
    auto req = with_auth("Bearer reader-secret-0123456789");
    EXPECT_FALSE(auth.authorize(req, "mcp").has_value());
    EXPECT_EQ(req.principal.tenant, "beta");
    EXPECT_EQ(req.principal.key_id, "reader");
    EXPECT_TRUE(req.principal.has_scope("metrics"));
    EXPECT_FALSE(req.principal.has_scope("tools:write"));
}

TEST_F(AuthenticatorTest, SchemeIsCaseInsensitive) {
    auto req = with_auth("bearer   admin-secret-0123456789 ");
    EXPECT_FALSE(auth.authorize(req, "").has_value());
    EXPECT_EQ(req.principal.tenant, "acme");
    EXPECT_TRUE(req.principal.has_scope("anything"));
}

TEST_F(AuthenticatorTest, MissingKeyIs401WithChallenge) {
    http::Request req;
    const auto r = auth.authorize(req, "mcp");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 401u);
    EXPECT_EQ(r->headers.get("WWW-Authenticate").value_or(""), R"(Bearer realm="agentd")");
    EXPECT_NE(r->body.find(R"("code":"unauthorized")"), std::string::npos);
    EXPECT_TRUE(req.principal.tenant.empty());
}

TEST_F(AuthenticatorTest, WrongOrMalformedKeyIs401) {
    for (const char* value : {"Bearer wrong-secret-0123456789", "Basic YWRtaW46cGFzcw==", "Bearer",
                              "Bearer a b", "Bearertoken", ""}) {
        auto req = with_auth(value);
        const auto r = auth.authorize(req, "");
        ASSERT_TRUE(r.has_value()) << value;
        EXPECT_EQ(r->status, 401u) << value;
        EXPECT_NE(r->headers.get("WWW-Authenticate").value_or("").find("error="), std::string::npos)
            << value;
    }
}

TEST_F(AuthenticatorTest, TwoAuthorizationHeadersAre401) {
    auto req = with_auth("Bearer admin-secret-0123456789");
    req.headers.add("authorization", "Bearer reader-secret-0123456789");
    const auto r = auth.authorize(req, "");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 401u);
}

TEST_F(AuthenticatorTest, MissingScopeIs403) {
    auto req = with_auth("Bearer reader-secret-0123456789");
    const auto r = auth.authorize(req, "tools:write");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 403u);
    EXPECT_NE(r->body.find(R"("code":"forbidden")"), std::string::npos);
    EXPECT_NE(r->body.find("tools:write"), std::string::npos);
    EXPECT_NE(r->headers.get("WWW-Authenticate").value_or("").find("insufficient_scope"),
              std::string::npos);
}

TEST(AuthenticatorLocalTest, NoKeysMeansLocalTenant) {
    const Authenticator auth({});
    EXPECT_FALSE(auth.enabled());
    http::Request req;
    EXPECT_FALSE(auth.authorize(req, "tools:write").has_value());
    EXPECT_EQ(req.principal.tenant, "local");
    EXPECT_TRUE(req.principal.has_scope("tools:write"));
}

} // namespace
} // namespace agentd::gateway::auth
