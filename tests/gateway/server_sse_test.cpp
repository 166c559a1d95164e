// SSE through the real server in-process: ordering, heartbeats, disconnect detection, queue caps,
// and clean ends at shutdown.
#include "agentd/itest/http_client.h"

#include "in_process_server.h"
#include "mailbox.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

#include <atomic>

namespace agentd::gateway::testing {
namespace {

using itest::HttpConnection;
using itest::HttpRequest;
using namespace std::chrono_literals;

http::SseEvent event(std::string data) {
    http::SseEvent e;
    e.data = std::move(data);
    return e;
}

/// Reads an SSE body until `pred(body)` holds or the stream ends; returns the body.
template <class Pred>
std::string read_sse_until(HttpConnection& c, Pred pred, bool* ended = nullptr) {
    std::string body;
    bool done = false;
    while (!done && !pred(body)) {
        body += c.read_body_some(&done);
    }
    if (ended != nullptr) {
        *ended = done;
    }
    return body;
}

struct Probe {
    Mailbox<std::shared_ptr<http::SseStream>> streams;
    Mailbox<std::string> events; // "closed", "gone"
};

void add_sse_route(app::AppContext& ctx, Probe& probe) {
    ctx.router().add("GET", "/sse", [&probe](http::Request&&, http::ResponseWriterPtr w) {
        http::Headers h;
        h.add("Mcp-Session-Id", "s1");
        auto stream = w->start_sse(200, std::move(h));
        stream->on_close([&probe] { probe.events.put("closed"); });
        w->on_client_gone([&probe] { probe.events.put("gone"); });
        probe.streams.put(stream);
    });
}

TEST(ServerSseTest, EventsArriveInOrderAndTheStreamEnds) {
    Probe probe;
    InProcessServer server(test_config(), [&](app::AppContext& ctx) { add_sse_route(ctx, probe); });
    server.add_teardown([&] {
        probe.streams.clear();
        probe.events.clear();
    });
    HttpConnection c(server.port());
    c.send(itest::make_request("GET", "/sse"));
    const auto head = c.read_head();
    EXPECT_EQ(head.status, 200u);
    EXPECT_EQ(head.header("Content-Type"), "text/event-stream");
    EXPECT_EQ(head.header("Cache-Control"), "no-cache");
    EXPECT_EQ(head.header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(head.header("Mcp-Session-Id"), "s1");
    auto stream = probe.streams.take();
    ASSERT_TRUE(stream.has_value());
    // Sends from another thread, as an engine sink would.
    std::thread sender([s = *stream] {
        for (int i = 0; i < 50; ++i) {
            http::SseEvent e;
            e.id = std::to_string(i);
            e.data = "{\"n\":" + std::to_string(i) + "}";
            EXPECT_TRUE(s->send(std::move(e)));
        }
        s->close();
    });
    bool ended = false;
    const std::string body = read_sse_until(
        c, [](const std::string&) { return false; }, &ended);
    sender.join();
    EXPECT_TRUE(ended);
    std::string expected;
    for (int i = 0; i < 50; ++i) {
        expected += "id: " + std::to_string(i) + "\ndata: {\"n\":" + std::to_string(i) + "}\n\n";
    }
    EXPECT_EQ(body, expected);
    EXPECT_EQ(probe.events.take().value_or(""), "closed");
    EXPECT_TRUE((*stream)->closed());
    EXPECT_FALSE((*stream)->send(event("late")));
    // The connection stays usable after the stream.
    const auto r = c.request(itest::make_request("GET", "/healthz"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServerSseTest, IdleStreamsGetHeartbeats) {
    Probe probe;
    auto cfg = test_config();
    cfg.limits.sse_heartbeat = 20ms;
    InProcessServer server(std::move(cfg),
                           [&](app::AppContext& ctx) { add_sse_route(ctx, probe); });
    server.add_teardown([&] {
        probe.streams.clear();
        probe.events.clear();
    });
    HttpConnection c(server.port());
    c.send(itest::make_request("GET", "/sse"));
    (void)c.read_head();
    auto stream = probe.streams.take();
    ASSERT_TRUE(stream.has_value());
    const std::string body = read_sse_until(c, [](const std::string& b) {
        return b.find(": keep-alive\n\n: keep-alive\n\n") != std::string::npos;
    });
    EXPECT_EQ(body.rfind(": keep-alive\n\n", 0), 0u);
    (*stream)->close();
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServerSseTest, ClientDisconnectFiresCallbacksOnce) {
    Probe probe;
    InProcessServer server(test_config(), [&](app::AppContext& ctx) { add_sse_route(ctx, probe); });
    server.add_teardown([&] {
        probe.streams.clear();
        probe.events.clear();
    });
    {
        HttpConnection c(server.port());
        c.send(itest::make_request("GET", "/sse"));
        (void)c.read_head();
        c.close();
    }
    auto stream = probe.streams.take();
    ASSERT_TRUE(stream.has_value());
    auto first = probe.events.take();
    auto second = probe.events.take();
    ASSERT_TRUE(first && second);
    EXPECT_TRUE((*first == "gone" && *second == "closed") ||
                (*first == "closed" && *second == "gone"));
    EXPECT_TRUE((*stream)->closed());
    EXPECT_FALSE((*stream)->send(event("nobody listens")));
    (*stream)->close();
    // A callback set after the end runs at once; nothing fires twice.
    std::atomic<int> late{0};
    (*stream)->on_close([&late] { ++late; });
    EXPECT_EQ(late.load(), 1);
    EXPECT_FALSE(probe.events.take(50ms).has_value());
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServerSseTest, QueueCapMakesSendFailWhileTheStreamWaits) {
    // A stream pipelined behind an unanswered request cannot write yet, so its queue fills to
    // the cap deterministically.
    auto cfg = test_config();
    cfg.limits.sse_max_queued_events = 4;
    Mailbox<http::ResponseWriterPtr> held;
    Mailbox<int> accepted;
    InProcessServer server(std::move(cfg), [&](app::AppContext& ctx) {
        ctx.router().add("GET", "/hold",
                         [&held](http::Request&&, http::ResponseWriterPtr w) { held.put(w); });
        ctx.router().add("GET", "/burst", [&accepted](http::Request&&, http::ResponseWriterPtr w) {
            auto s = w->start_sse();
            int ok = 0;
            for (int i = 0; i < 10; ++i) {
                ok += s->send(event(std::to_string(i))) ? 1 : 0;
            }
            accepted.put(ok);
            s->close();
        });
    });
    server.add_teardown([&] {
        held.clear();
        accepted.clear();
    });
    HttpConnection c(server.port());
    c.send_raw("GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n"
               "GET /burst HTTP/1.1\r\nHost: localhost\r\n\r\n");
    EXPECT_EQ(accepted.take().value_or(-1), 4);
    auto w = held.take();
    ASSERT_TRUE(w.has_value());
    (*w)->respond(http::Response::json(200, "{\"held\":true}"));
    const auto first = c.read_response();
    EXPECT_EQ(first.body, "{\"held\":true}");
    const auto second = c.read_response();
    EXPECT_EQ(second.body, "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n");
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServerSseTest, ShutdownEndsOpenStreamsCleanly) {
    Probe probe;
    InProcessServer server(test_config(), [&](app::AppContext& ctx) { add_sse_route(ctx, probe); });
    server.add_teardown([&] {
        probe.streams.clear();
        probe.events.clear();
    });
    HttpConnection c(server.port());
    c.send(itest::make_request("GET", "/sse"));
    (void)c.read_head();
    auto stream = probe.streams.take();
    ASSERT_TRUE(stream.has_value());
    ASSERT_TRUE((*stream)->send(event("before shutdown")));
    server.app().request_stop();
    bool ended = false;
    const std::string body = read_sse_until(
        c, [](const std::string&) { return false; }, &ended);
    EXPECT_TRUE(ended); // the terminating chunk arrived: a clean end, not a reset
    EXPECT_EQ(body, "data: before shutdown\n\n");
    EXPECT_EQ(probe.events.take().value_or(""), "closed");
    EXPECT_EQ(server.wait(20s), 0);
    EXPECT_TRUE(c.wait_closed(10s));
}

TEST(ServerSseTest, HeadRequestGetsOnlyTheHead) {
    Probe probe;
    InProcessServer server(test_config(), [&](app::AppContext& ctx) { add_sse_route(ctx, probe); });
    server.add_teardown([&] {
        probe.streams.clear();
        probe.events.clear();
    });
    HttpConnection c(server.port());
    const auto r = c.request(itest::make_request("HEAD", "/sse"));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(probe.events.take().value_or(""), "closed");
    EXPECT_EQ(c.request(itest::make_request("GET", "/healthz")).status, 200u);
    EXPECT_EQ(server.stop(), 0);
}

} // namespace
} // namespace agentd::gateway::testing
