#include "mcp/post_channel.h"

namespace agentd::gateway::mcp {

using protocols::mcp::ResponseStatus;

unsigned http_status_of(ResponseStatus status, bool stateless) {
    switch (status) {
    case ResponseStatus::ok:
        return 200;
    case ResponseStatus::rejected:
        return 400;
    case ResponseStatus::method_not_found:
        // 2026-07-28: 404 with a JSON-RPC body tells a modern server from a legacy endpoint.
        return stateless ? 404 : 200;
    case ResponseStatus::busy:
        return 429;
    }
    return 500;
}

http::Headers PostChannel::session_headers() const {
    http::Headers headers;
    if (options_.session) {
        headers.add("Mcp-Session-Id", options_.session->id());
    }
    return headers;
}

void PostChannel::open_stream_locked() {
    auto sse = writer_->start_sse(200, session_headers());
    if (options_.session) {
        stream_ = options_.session->new_stream();
        if (options_.prime) {
            stream_->prime();
        }
        stream_->attach(std::move(sse), 0); // delivers the priming event buffered above
    } else {
        sse_ = std::move(sse);
    }
    state_ = State::streaming;
}

void PostChannel::send_related(std::string message) {
    std::lock_guard lock(mu_);
    if (state_ == State::done) {
        return;
    }
    if (state_ == State::pending) {
        open_stream_locked();
    }
    if (stream_) {
        stream_->send(std::move(message), /*final=*/false);
    } else {
        http::SseEvent event;
        event.event = "message";
        event.data = std::move(message);
        if (!sse_->send(std::move(event))) {
            sse_->close(); // a client that does not drain its stream loses it
        }
    }
}

void PostChannel::send_response(std::string message, ResponseStatus status) {
    std::lock_guard lock(mu_);
    if (state_ == State::done) {
        return;
    }
    if (state_ == State::pending) {
        http::Response response;
        response.status = http_status_of(status, options_.stateless);
        response.body = std::move(message);
        if (options_.session &&
            (!options_.session_header_on_success || status == ResponseStatus::ok)) {
            response.headers.add("Mcp-Session-Id", options_.session->id());
        }
        state_ = State::done;
        writer_->respond(std::move(response));
        return;
    }
    state_ = State::done;
    if (stream_) {
        stream_->send(std::move(message), /*final=*/true);
        return;
    }
    http::SseEvent event;
    event.event = "message";
    event.data = std::move(message);
    (void)sse_->send(std::move(event));
    sse_->close();
}

void PostChannel::end_without_response() {
    std::lock_guard lock(mu_);
    const State previous = state_;
    state_ = State::done;
    if (previous == State::pending) {
        if (!options_.has_requests) {
            http::Response accepted;
            accepted.status = 202;
            accepted.content_type.clear();
            writer_->respond(std::move(accepted));
            return;
        }
        // A cancelled request: an empty event stream, without an event id the client could try
        // to resume.
        writer_->start_sse(200, session_headers())->close();
        return;
    }
    if (previous == State::streaming) {
        if (stream_) {
            stream_->abandon();
        } else {
            sse_->close();
        }
    }
}

} // namespace agentd::gateway::mcp
