#include "mcp/codec.h"
#include "mcp/methods.h"

#include <gtest/gtest.h>

#include <string>

namespace agentd::protocols::mcp::detail {
namespace {

std::string hex(const Sha256Digest& d) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (auto b : d) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

TEST(McpCodec, Sha256KnownAnswers) {
    EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(hex(sha256(std::string(1000000, 'a'))),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(McpCodec, HmacSha256Rfc4231) {
    // RFC 4231 test cases 1, 2 and 6 (key longer than the block).
    EXPECT_EQ(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hex(hmac_sha256(std::string(131, '\xaa'),
                              "Test Using Larger Than Block-Size Key - Hash Key First")),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(McpCodec, Base64) {
    EXPECT_EQ(base64_encode("Hello, 世界", false), "SGVsbG8sIOS4lueVjA==");
    EXPECT_EQ(base64_decode("SGVsbG8sIOS4lueVjA==", false).value(), "Hello, 世界");
    EXPECT_EQ(base64_decode("IHBhZGRlZCA=", false).value(), " padded ");
    EXPECT_EQ(base64_encode("\xfb\xff", true), "-_8");
    EXPECT_EQ(base64_decode("-_8", true).value(), "\xfb\xff");
    for (const char* bad : {"abc", "a===", "ab!=", "SGVsbG8=x"}) {
        EXPECT_FALSE(base64_decode(bad, false).has_value()) << bad;
    }
    EXPECT_FALSE(base64_decode("A", true).has_value());
    EXPECT_FALSE(base64_decode("AB", true).has_value()); // non-zero trailing bits
}

TEST(McpCodec, CursorsAreOpaqueAndKindChecked) {
    const auto c = encode_cursor("tools", "t042");
    EXPECT_EQ(decode_cursor("tools", c).value(), "t042");
    EXPECT_FALSE(decode_cursor("prompts", c).has_value());
    EXPECT_FALSE(decode_cursor("tools", "%%%").has_value());
    EXPECT_FALSE(decode_cursor("tools", "").has_value());
    EXPECT_EQ(decode_cursor("tools", encode_cursor("tools", "")).value(), "");
}

TEST(McpCodec, SealedStateRejectsTamperingRebindingAndExpiry) {
    const std::string key = "0123456789abcdef0123456789abcdef";
    const auto sealed = seal_state(key, "binding-1", 1000, "provider-state");
    EXPECT_EQ(open_state(key, "binding-1", 999, sealed).value(), "provider-state");
    EXPECT_FALSE(open_state(key, "binding-1", 1001, sealed).has_value());
    EXPECT_FALSE(open_state(key, "other", 999, sealed).has_value());
    EXPECT_FALSE(open_state("another key", "binding-1", 999, sealed).has_value());
    std::string tampered = sealed;
    tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(open_state(key, "binding-1", 999, tampered).has_value());
    EXPECT_FALSE(open_state(key, "b", 1, "garbage").has_value());
}

TEST(McpCodec, HeaderValueSentinel) {
    EXPECT_EQ(decode_header_value("us-west1").value(), "us-west1");
    EXPECT_EQ(decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=").value(), "Hello, 世界");
    EXPECT_EQ(decode_header_value("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=").value(),
              "=?base64?literal?=");
    EXPECT_FALSE(decode_header_value("=?base64?***?=").has_value());
}

} // namespace
} // namespace agentd::protocols::mcp::detail
