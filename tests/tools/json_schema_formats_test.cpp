// `format`: annotation by default, assertion on request.
#include "schema_test_util.h"

namespace agentd::tools::test {
namespace {

SchemaOptions asserting() {
    SchemaOptions o;
    o.assert_formats = true;
    return o;
}

bool fmt(const std::string& format, const std::string& value) {
    nlohmann::json schema = {{"format", format}};
    return (*JsonSchema::compile(schema, asserting()))->accepts(value);
}

TEST(JsonSchemaFormat, AnnotationByDefault) {
    EXPECT_TRUE(valid(R"({"format":"email"})", R"("not an email")"));
    EXPECT_FALSE(valid(R"({"format":"email"})", R"("not an email")", asserting()));
    EXPECT_TRUE(valid(R"({"format":"email"})", "12", asserting()));
    EXPECT_TRUE(valid(R"({"format":"unknown-format"})", R"("x")", asserting()));
    EXPECT_EQ(errors_of(R"({"format":"uuid"})", R"("x")", asserting()).at(0).message,
              "must be a valid UUID");
}

TEST(JsonSchemaFormat, Email) {
    EXPECT_TRUE(fmt("email", "joe.bloggs@example.com"));
    EXPECT_TRUE(fmt("email", "te~st+tag@example.co"));
    EXPECT_TRUE(fmt("email", "\"joe bloggs\"@example.com"));
    EXPECT_TRUE(fmt("email", "joe@[127.0.0.1]"));
    EXPECT_TRUE(fmt("email", "joe@[IPv6:::1]"));
    EXPECT_FALSE(fmt("email", "joe.@example.com"));
    EXPECT_FALSE(fmt("email", ".joe@example.com"));
    EXPECT_FALSE(fmt("email", "jo..e@example.com"));
    EXPECT_FALSE(fmt("email", "joe@"));
    EXPECT_FALSE(fmt("email", "@example.com"));
    EXPECT_FALSE(fmt("email", "joe@-example.com"));
    EXPECT_FALSE(fmt("email", "jöe@example.com"));
    EXPECT_TRUE(fmt("idn-email", "jöe@exämple.com"));
}

TEST(JsonSchemaFormat, Uri) {
    EXPECT_TRUE(fmt("uri", "https://example.com/a/b?c=d#e"));
    EXPECT_TRUE(fmt("uri", "urn:isbn:0451450523"));
    EXPECT_TRUE(fmt("uri", "mailto:a@b.c"));
    EXPECT_TRUE(fmt("uri", "http://[2001:db8::1]:8080/"));
    EXPECT_FALSE(fmt("uri", "/relative/path"));
    EXPECT_FALSE(fmt("uri", "http://exa mple.com"));
    EXPECT_FALSE(fmt("uri", "http://example.com/%zz"));
    EXPECT_FALSE(fmt("uri", "1http://x"));
    EXPECT_FALSE(fmt("uri", "http://a@b@c/"));
    EXPECT_FALSE(fmt("uri", "http://x/a#b#c"));
    EXPECT_TRUE(fmt("uri-reference", "/relative/path?x#y"));
    EXPECT_FALSE(fmt("uri-reference", "\\\\share"));
}

TEST(JsonSchemaFormat, DatesAndTimes) {
    EXPECT_TRUE(fmt("date-time", "1963-06-19T08:30:06.283185Z"));
    EXPECT_TRUE(fmt("date-time", "1963-06-19t08:30:06z"));
    EXPECT_TRUE(fmt("date-time", "1990-12-31T15:59:60-08:00"));
    EXPECT_TRUE(fmt("date-time", "1998-12-31T23:59:60Z"));
    EXPECT_FALSE(fmt("date-time", "1998-12-31T23:58:60Z"));
    EXPECT_FALSE(fmt("date-time", "1963-06-19T08:30:06"));
    EXPECT_FALSE(fmt("date-time", "1963-06-19 08:30:06Z"));
    EXPECT_FALSE(fmt("date-time", "1963-02-30T08:30:06Z"));
    EXPECT_FALSE(fmt("date-time", "1963-06-19T24:00:00Z"));
    EXPECT_FALSE(fmt("date-time", "1963-06-19T08:30:06+24:00"));
    EXPECT_TRUE(fmt("date", "2020-02-29"));
    EXPECT_FALSE(fmt("date", "2019-02-29"));
    EXPECT_FALSE(fmt("date", "1900-02-29"));
    EXPECT_TRUE(fmt("date", "2000-02-29"));
    EXPECT_FALSE(fmt("date", "2020-1-01"));
    EXPECT_FALSE(fmt("date", "2020-13-01"));
    EXPECT_TRUE(fmt("time", "08:30:06.5+01:00"));
    EXPECT_FALSE(fmt("time", "08:30"));
    EXPECT_FALSE(fmt("time", "08:30:06."));
}

TEST(JsonSchemaFormat, UuidIpHostnameRegex) {
    EXPECT_TRUE(fmt("uuid", "2EB8AA08-AA98-11EA-B4AA-73B441D16380"));
    EXPECT_TRUE(fmt("uuid", "00000000-0000-0000-0000-000000000000"));
    EXPECT_FALSE(fmt("uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d1638"));
    EXPECT_FALSE(fmt("uuid", "2eb8aa08aa9811eab4aa73b441d16380"));
    EXPECT_FALSE(fmt("uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d1638g"));
    EXPECT_TRUE(fmt("ipv4", "192.168.0.1"));
    EXPECT_FALSE(fmt("ipv4", "192.168.0.01"));
    EXPECT_FALSE(fmt("ipv4", "256.1.1.1"));
    EXPECT_FALSE(fmt("ipv4", "1.2.3"));
    EXPECT_FALSE(fmt("ipv4", "1.2.3.4.5"));
    EXPECT_TRUE(fmt("ipv6", "::1"));
    EXPECT_TRUE(fmt("ipv6", "fe80::1:2"));
    EXPECT_TRUE(fmt("ipv6", "::ffff:192.168.0.1"));
    EXPECT_FALSE(fmt("ipv6", "12345::"));
    EXPECT_FALSE(fmt("ipv6", "1:2:3:4:5:6:7:8:9"));
    EXPECT_TRUE(fmt("hostname", "www.example.com"));
    EXPECT_TRUE(fmt("hostname", "xn--4gbwdl.xn--wgbh1c"));
    EXPECT_FALSE(fmt("hostname", "-a.example.com"));
    EXPECT_FALSE(fmt("hostname", "a-.example.com"));
    EXPECT_FALSE(fmt("hostname", "a..b"));
    EXPECT_FALSE(fmt("hostname", std::string(64, 'a') + ".com"));
    EXPECT_TRUE(fmt("regex", "^[a-z]+$"));
    EXPECT_FALSE(fmt("regex", "(unclosed"));
}

} // namespace
} // namespace agentd::tools::test
