// HTTP/1.1 framing against the real binary: keep-alive, pipelining, limits, Expect, and every
// class of malformed input (each answered precisely, and the server keeps serving).
#include "agentd/itest/agentd_process.h"
#include "agentd/itest/http_client.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd::itest {
namespace {

class FramingTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        config_ = new std::filesystem::path(write_temp_file("limits.json", R"({"server": {
            "max_header_bytes": 4096, "max_body_bytes": 1024, "idle_timeout_ms": 300,
            "linger_timeout_ms": 500}})"));
        server_ = AgentdProcess::serve({"--config", config_->string()}).release();
    }
    static void TearDownTestSuite() {
        const auto result = server_->stop();
        EXPECT_EQ(result.exit_code, 0) << result.err;
        delete server_;
        std::filesystem::remove_all(config_->parent_path());
        delete config_;
    }
    void TearDown() override {
        // Whatever the test sent, the server still answers.
        EXPECT_EQ(http_get(port(), "/healthz").status, 200u);
    }
    static std::uint16_t port() { return server_->port(); }

    /// Sends raw bytes on a fresh connection and returns the one response, which must be
    /// followed by the server closing the connection.
    static HttpResponse raw_then_closed(const std::string& bytes) {
        HttpConnection c(port());
        c.send_raw(bytes);
        auto r = c.read_response();
        EXPECT_TRUE(c.wait_closed(10s));
        return r;
    }

    static std::string error_code(const HttpResponse& r) {
        const auto j = nlohmann::json::parse(r.body, nullptr, false);
        return j.is_discarded() ? "" : j["error"].value("code", "");
    }

    static AgentdProcess* server_;
    static std::filesystem::path* config_;
};

AgentdProcess* FramingTest::server_ = nullptr;
std::filesystem::path* FramingTest::config_ = nullptr;

TEST_F(FramingTest, KeepAliveServesManyRequestsOnOneConnection) {
    HttpConnection c(port());
    for (int i = 0; i < 50; ++i) {
        const auto r = c.request(make_request("GET", "/healthz"));
        ASSERT_EQ(r.status, 200u);
        ASSERT_TRUE(r.keep_alive);
    }
}

TEST_F(FramingTest, PipelinedRequestsAnswerInOrder) {
    HttpConnection c(port());
    c.send_raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: a\r\n\r\n"
               "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: b\r\n\r\n"
               "HEAD /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: c\r\n\r\n"
               "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: d\r\n\r\n");
    auto r = c.read_response();
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("X-Request-Id"), "a");
    r = c.read_response();
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(r.header("X-Request-Id"), "b");
    r = c.read_response(/*head_request=*/true);
    EXPECT_EQ(r.header("X-Request-Id"), "c");
    EXPECT_TRUE(r.body.empty());
    r = c.read_response();
    EXPECT_EQ(r.header("X-Request-Id"), "d");
    EXPECT_EQ(r.status, 200u);
}

TEST_F(FramingTest, ConnectionCloseIsHonoured) {
    const auto r = raw_then_closed("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status, 200u);
    EXPECT_FALSE(r.keep_alive);
}

TEST_F(FramingTest, Http10ClosesUnlessKeepAlive) {
    auto r = raw_then_closed("GET /healthz HTTP/1.0\r\n\r\n");
    EXPECT_EQ(r.status, 200u);
    HttpConnection c(port());
    c.send_raw("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    r = c.read_response();
    EXPECT_EQ(r.header("Connection"), "keep-alive");
    c.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 200u);
    EXPECT_TRUE(c.wait_closed(10s));
}

TEST_F(FramingTest, OversizedHeaderIs431) {
    const std::string big(5000, 'a');
    const auto r =
        raw_then_closed("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n");
    EXPECT_EQ(r.status, 431u);
    EXPECT_EQ(error_code(r), "header_too_large");
}

TEST_F(FramingTest, OversizedHeaderWithoutEndIs431) {
    // The header never ends: the limit trips as soon as it is exceeded.
    const auto r = raw_then_closed("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(8000, 'b'));
    EXPECT_EQ(r.status, 431u);
}

TEST_F(FramingTest, OversizedBodyIs413) {
    const std::string body(2000, 'x');
    const auto r =
        raw_then_closed("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + body);
    EXPECT_EQ(r.status, 413u);
    EXPECT_EQ(error_code(r), "body_too_large");
}

TEST_F(FramingTest, OversizedChunkedBodyIs413) {
    std::string bytes = "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) {
        bytes += "200\r\n" + std::string(512, 'y') + "\r\n";
    }
    bytes += "0\r\n\r\n";
    const auto r = raw_then_closed(bytes);
    EXPECT_EQ(r.status, 413u);
}

TEST_F(FramingTest, ChunkedBodyWithinLimitIsAccepted) {
    HttpConnection c(port());
    c.send_raw("POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n0\r\n\r\n");
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 405u); // framing was fine; the route only takes GET
    EXPECT_TRUE(r.keep_alive);
}

TEST_F(FramingTest, ExpectContinueWithTooLargeBodyGets413WithoutSendingIt) {
    HttpConnection c(port());
    c.send_raw("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
               "Expect: 100-continue\r\n\r\n");
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 413u);
}

TEST_F(FramingTest, ExpectContinueGets100ThenTheResponse) {
    HttpConnection c(port());
    c.send_raw("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
               "Expect: 100-continue\r\n\r\n");
    const auto interim = c.read_head();
    EXPECT_EQ(interim.status, 100u);
    c.send_raw("hello");
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 405u);
}

TEST_F(FramingTest, UnknownExpectationIs417) {
    const auto r = raw_then_closed("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                   "Expect: something-else\r\n\r\nx");
    EXPECT_EQ(r.status, 417u);
}

TEST_F(FramingTest, MalformedRequestsAre400AndClose) {
    const char* cases[] = {
        "GARBAGE\r\n\r\n",
        "GET /healthz\r\nHost: x\r\n\r\n",
        "GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        // Request smuggling shapes: both framings, unknown codings, chunked not last.
        "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "POST /healthz HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        // Missing or repeated Host on HTTP/1.1.
        "GET /healthz HTTP/1.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        // Targets that are not paths.
        "GET * HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /he%zzlthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
        // Control characters.
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    };
    for (const char* bytes : cases) {
        HttpConnection c(port());
        c.send_raw(bytes);
        const auto r = c.read_response();
        EXPECT_EQ(r.status, 400u) << bytes;
        EXPECT_EQ(error_code(r), "bad_request") << bytes;
        EXPECT_FALSE(r.keep_alive) << bytes;
        EXPECT_TRUE(c.wait_closed(10s)) << bytes;
    }
}

TEST_F(FramingTest, OtherHttpVersionsAre505) {
    const auto r = raw_then_closed("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 505u);
    EXPECT_EQ(error_code(r), "http_version_not_supported");
}

TEST_F(FramingTest, AbsoluteFormTargetsAreRouted) {
    HttpConnection c(port());
    c.send_raw("GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_EQ(c.read_response().status, 200u);
}

TEST_F(FramingTest, PercentEncodedPathsAreDecodedForRouting) {
    EXPECT_EQ(http_get(port(), "/health%7A").status, 200u);
    EXPECT_EQ(http_get(port(), "/healthz?verbose=1").status, 200u);
}

TEST_F(FramingTest, IdleKeepAliveConnectionsAreClosed) {
    HttpConnection c(port());
    EXPECT_EQ(c.request(make_request("GET", "/healthz")).status, 200u);
    EXPECT_TRUE(c.wait_closed(10s)); // idle_timeout_ms is 300 in this suite
}

TEST_F(FramingTest, ClientHalfCloseStillGetsTheResponse) {
    HttpConnection c(port());
    c.send_raw("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    // No shutdown(SHUT_WR) helper in the client: closing early must not crash or hang the
    // server either; a fresh connection checks it is still fine (TearDown).
    c.close();
}

TEST_F(FramingTest, BinaryGarbageIsRejected) {
    std::string noise;
    for (int i = 0; i < 512; ++i) {
        noise.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
    }
    HttpConnection c(port());
    c.send_raw(noise);
    std::string received;
    EXPECT_TRUE(c.wait_closed(10s, &received));
    EXPECT_EQ(received.rfind("HTTP/1.1 400", 0), 0u) << received.substr(0, 40);
}

} // namespace
} // namespace agentd::itest
