// Unit tests of the MCP HTTP transport pieces (gateway/src/mcp): content negotiation, resumable
// event streams, the session store, and the lazy JSON/SSE choice of a POST response. They run
// against a recording implementation of the HTTP handler seam.

#include "mcp/event_stream.h"
#include "mcp/media_types.h"
#include "mcp/post_channel.h"
#include "mcp/session_store.h"

#include <gtest/gtest.h>

#include <mutex>

namespace agentd::gateway::mcp {
namespace {

class RecordingStream final : public http::SseStream {
public:
    explicit RecordingStream(std::size_t capacity = 1000) : capacity_(capacity) {}
    bool send(http::SseEvent event) override {
        std::lock_guard lock(mu_);
        if (closed_ || events.size() >= capacity_) {
            return false;
        }
        events.push_back(std::move(event));
        return true;
    }
    void close() override {
        std::function<void()> cb;
        {
            std::lock_guard lock(mu_);
            if (closed_) {
                return;
            }
            closed_ = true;
            cb = std::move(on_close_);
        }
        if (cb) {
            cb();
        }
    }
    bool closed() const override {
        std::lock_guard lock(mu_);
        return closed_;
    }
    void on_close(std::function<void()> callback) override {
        std::lock_guard lock(mu_);
        on_close_ = std::move(callback);
    }
    std::vector<http::SseEvent> events;

private:
    mutable std::mutex mu_;
    std::size_t capacity_;
    bool closed_ = false;
    std::function<void()> on_close_;
};

class RecordingWriter final : public http::ResponseWriter {
public:
    void respond(http::Response r) override { response = std::move(r); }
    std::shared_ptr<http::SseStream> start_sse(unsigned status, http::Headers headers) override {
        sse_status = status;
        sse_headers = std::move(headers);
        stream = std::make_shared<RecordingStream>();
        return stream;
    }
    bool client_gone() const override { return false; }
    void on_client_gone(std::function<void()> /*callback*/) override {}

    std::optional<http::Response> response;
    unsigned sse_status = 0;
    http::Headers sse_headers;
    std::shared_ptr<RecordingStream> stream;
};

TEST(McpMediaTypes, AcceptNegotiation) {
    EXPECT_TRUE(accepts("application/json, text/event-stream", "application/json"));
    EXPECT_TRUE(accepts("application/json, text/event-stream", "text/event-stream"));
    EXPECT_TRUE(accepts("*/*", "text/event-stream"));
    EXPECT_TRUE(accepts("text/*;q=0.5", "text/event-stream"));
    EXPECT_TRUE(accepts("APPLICATION/JSON", "application/json"));
    EXPECT_FALSE(accepts("application/json", "text/event-stream"));
    EXPECT_FALSE(accepts("text/event-stream;q=0, application/json", "text/event-stream"));
    EXPECT_FALSE(accepts("", "application/json"));
    EXPECT_FALSE(accepts("garbage", "application/json"));
    EXPECT_FALSE(accepts("application/jsonx", "application/json"));
}

TEST(McpMediaTypes, JsonContentType) {
    EXPECT_TRUE(is_json_content_type("application/json"));
    EXPECT_TRUE(is_json_content_type("Application/JSON; charset=UTF-8"));
    EXPECT_TRUE(is_json_content_type("application/json;charset=\"utf-8\""));
    EXPECT_FALSE(is_json_content_type("application/json; charset=iso-8859-1"));
    EXPECT_FALSE(is_json_content_type("text/json"));
    EXPECT_FALSE(is_json_content_type(""));
}

TEST(McpEventStream, IdsReplayAndEnd) {
    auto stream = std::make_shared<EventStream>(4, ReplayLimits{});
    auto first = std::make_shared<RecordingStream>();
    stream->attach(first, std::nullopt);
    stream->prime();
    stream->send("a", false);
    ASSERT_EQ(first->events.size(), 2u);
    EXPECT_EQ(first->events[0].id, "4_1");
    EXPECT_TRUE(first->events[0].data.empty());
    EXPECT_EQ(first->events[1].id, "4_2");
    EXPECT_EQ(first->events[1].event, "message");

    first->close(); // the client lost its connection
    EXPECT_FALSE(stream->attached());
    stream->send("b", false); // buffered
    stream->send("c", true);  // the response: ends the stream
    EXPECT_TRUE(stream->finished());

    auto resumed = std::make_shared<RecordingStream>();
    stream->attach(resumed, 2);
    ASSERT_EQ(resumed->events.size(), 2u);
    EXPECT_EQ(resumed->events[0].data, "b");
    EXPECT_EQ(resumed->events[1].id, "4_4");
    EXPECT_TRUE(resumed->closed()) << "a finished stream closes after the replay";

    EXPECT_EQ(EventStream::parse_event_id("4_2"),
              std::make_pair(std::uint64_t{4}, std::uint64_t{2}));
    for (const char* bad : {"", "_", "4_", "_2", "4-2", "x_1", "4_2_3", "99999999999999999999_1"}) {
        EXPECT_FALSE(EventStream::parse_event_id(bad).has_value()) << bad;
    }
}

TEST(McpEventStream, BoundedReplayAndSlowClients) {
    ReplayLimits limits;
    limits.max_events = 3;
    auto stream = std::make_shared<EventStream>(1, limits);
    for (int i = 0; i < 5; ++i) {
        stream->send(std::to_string(i), false);
    }
    EXPECT_FALSE(stream->replayable(1)); // events 2 and 3 were evicted
    EXPECT_TRUE(stream->replayable(2));
    auto resumed = std::make_shared<RecordingStream>();
    stream->attach(resumed, 0);
    EXPECT_EQ(resumed->events.size(), 3u);

    // A client whose queue is full loses the connection, not the events.
    auto slow = std::make_shared<RecordingStream>(1);
    stream->attach(slow, std::nullopt);
    EXPECT_TRUE(resumed->closed()) << "attaching replaces the previous connection";
    stream->send("x", false);
    stream->send("y", false);
    EXPECT_TRUE(slow->closed());
    EXPECT_FALSE(stream->attached());
}

TEST(McpSessionStore, LimitsTenantsAndExpiry) {
    SessionLimits limits;
    limits.max_sessions = 3;
    limits.max_sessions_per_tenant = 2;
    limits.idle_timeout = std::chrono::hours(1);
    SessionStore store(limits);
    protocols::mcp::Caller a{"a", "", {}};
    protocols::mcp::Caller b{"b", "", {}};
    auto s1 = store.make(a);
    EXPECT_NE(s1->id(), store.make(a)->id());
    EXPECT_TRUE(store.add(s1));
    EXPECT_TRUE(store.add(store.make(a)));
    EXPECT_FALSE(store.add(store.make(a))) << "per-tenant bound";
    EXPECT_TRUE(store.add(store.make(b)));
    EXPECT_FALSE(store.add(store.make(b))) << "global bound";
    EXPECT_EQ(store.find(s1->id(), "a"), s1);
    EXPECT_EQ(store.find(s1->id(), "b"), nullptr) << "other tenants do not see it";
    EXPECT_FALSE(store.remove(s1->id(), "b"));
    EXPECT_TRUE(store.remove(s1->id(), "a"));
    EXPECT_EQ(store.find(s1->id(), "a"), nullptr);

    SessionLimits quick = limits;
    quick.idle_timeout = std::chrono::milliseconds(-1); // everything is idle at once
    SessionStore expiring(quick);
    auto busy = expiring.make(a);
    auto idle = expiring.make(a);
    ASSERT_TRUE(expiring.add(busy));
    ASSERT_TRUE(expiring.add(idle));
    busy->standalone()->attach(std::make_shared<RecordingStream>(), std::nullopt);
    EXPECT_EQ(expiring.expire_idle(), 1u) << "a session with an open stream is not idle";
    EXPECT_NE(expiring.find(busy->id(), "a"), nullptr);
    EXPECT_EQ(expiring.find(idle->id(), "a"), nullptr);
    expiring.close_all();
    EXPECT_EQ(expiring.size(), 0u);
}

TEST(McpPostChannel, JsonUnlessSomethingComesFirst) {
    using protocols::mcp::ResponseStatus;
    auto w1 = std::make_shared<RecordingWriter>();
    PostChannel json_only(w1, PostChannelOptions{});
    json_only.send_response("{\"r\":1}", ResponseStatus::ok);
    ASSERT_TRUE(w1->response.has_value());
    EXPECT_EQ(w1->response->status, 200u);
    EXPECT_EQ(w1->response->body, "{\"r\":1}");

    auto w2 = std::make_shared<RecordingWriter>();
    PostChannelOptions stateless;
    stateless.stateless = true;
    PostChannel sse(w2, stateless);
    sse.send_related("{\"n\":1}");
    sse.send_response("{\"r\":1}", ResponseStatus::ok);
    EXPECT_FALSE(w2->response.has_value());
    ASSERT_TRUE(w2->stream);
    ASSERT_EQ(w2->stream->events.size(), 2u);
    EXPECT_TRUE(w2->stream->events[0].id.empty()) << "2026-07-28 streams are not resumable";
    EXPECT_TRUE(w2->stream->closed());

    EXPECT_EQ(http_status_of(ResponseStatus::method_not_found, true), 404u);
    EXPECT_EQ(http_status_of(ResponseStatus::method_not_found, false), 200u);
    EXPECT_EQ(http_status_of(ResponseStatus::rejected, false), 400u);
    EXPECT_EQ(http_status_of(ResponseStatus::busy, true), 429u);

    auto w3 = std::make_shared<RecordingWriter>();
    PostChannelOptions notifications;
    notifications.has_requests = false;
    PostChannel none(w3, notifications);
    none.end_without_response();
    ASSERT_TRUE(w3->response.has_value());
    EXPECT_EQ(w3->response->status, 202u);
}

TEST(McpPostChannel, SessionStreamsAreResumableAndInitializeNamesTheSessionOnSuccess) {
    using protocols::mcp::ResponseStatus;
    auto session = std::make_shared<McpSession>("s1", protocols::mcp::Caller{}, SessionLimits{});
    auto w = std::make_shared<RecordingWriter>();
    PostChannelOptions options;
    options.session = session;
    options.prime = true;
    PostChannel channel(w, options);
    channel.send_related("{\"n\":1}");
    channel.send_response("{\"r\":1}", ResponseStatus::ok);
    ASSERT_EQ(w->stream->events.size(), 3u);
    EXPECT_TRUE(w->stream->events[0].data.empty()) << "priming event";
    EXPECT_EQ(w->stream->events[2].id, "1_3");
    EXPECT_EQ(w->sse_headers.get("Mcp-Session-Id").value_or(""), "s1");
    EXPECT_NE(session->stream(1), nullptr) << "kept for replay";

    PostChannelOptions init = options;
    init.session_header_on_success = true;
    auto failed = std::make_shared<RecordingWriter>();
    PostChannel(failed, init).send_response("{}", ResponseStatus::rejected);
    EXPECT_FALSE(failed->response->headers.get("Mcp-Session-Id").has_value());
    auto ok = std::make_shared<RecordingWriter>();
    PostChannel(ok, init).send_response("{}", ResponseStatus::ok);
    EXPECT_EQ(ok->response->headers.get("Mcp-Session-Id").value_or(""), "s1");
}

} // namespace
} // namespace agentd::gateway::mcp
