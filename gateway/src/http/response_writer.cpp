#include "http/response_writer.h"

#include "http/http_session.h"
#include "http/wire.h"
#include "log/logging.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace agentd::gateway::http {

ResponseWriterImpl::ResponseWriterImpl(std::shared_ptr<HttpSession> session,
                                       std::shared_ptr<Exchange> exchange)
    : session_(std::move(session)), exchange_(std::move(exchange)) {}

ResponseWriterImpl::~ResponseWriterImpl() {
    if (!exchange_->answered() && !exchange_->gone()) {
        // The handler dropped the request: answer 500 rather than leave the client hanging.
        // (A closed connection has marked its exchanges gone, so nothing is posted to an
        // io_context that may already be stopped.)
        auto executor = session_->executor();
        net::post(executor,
                  [s = std::move(session_), ex = std::move(exchange_)] { s->abandon(ex); });
    }
}

void ResponseWriterImpl::respond(Response response) {
    if (!exchange_->claim_answer()) {
        log::log_event(log::Level::debug, "second answer to a request ignored",
                       {{"request_id", exchange_->request_id}});
        return;
    }
    net::dispatch(session_->executor(),
                  [s = session_, ex = exchange_, r = std::move(response)]() mutable {
                      s->deliver(ex, std::move(r));
                  });
}

std::shared_ptr<SseStream> ResponseWriterImpl::start_sse(unsigned status, Headers headers) {
    if (!exchange_->claim_answer()) {
        log::log_event(log::Level::debug, "start_sse after an answer ignored",
                       {{"request_id", exchange_->request_id}});
        auto dead = std::make_shared<Exchange>();
        dead->fire_close();
        return std::make_shared<SseStreamImpl>(nullptr, std::move(dead));
    }
    auto stream = std::make_shared<SseStreamImpl>(session_, exchange_);
    net::dispatch(session_->executor(),
                  [s = session_, ex = exchange_, status, h = std::move(headers)]() mutable {
                      s->begin_sse(ex, status, std::move(h));
                  });
    return stream;
}

bool ResponseWriterImpl::client_gone() const {
    return exchange_->gone();
}

void ResponseWriterImpl::on_client_gone(std::function<void()> callback) {
    exchange_->set_on_gone(std::move(callback));
}

SseStreamImpl::SseStreamImpl(std::shared_ptr<HttpSession> session,
                             std::shared_ptr<Exchange> exchange)
    : session_(std::move(session)), exchange_(std::move(exchange)) {}

SseStreamImpl::~SseStreamImpl() {
    close();
}

void SseStreamImpl::wake() {
    net::post(session_->executor(), [s = session_, ex = exchange_] { s->on_sse_activity(ex); });
}

bool SseStreamImpl::send(SseEvent event) {
    if (!session_) {
        return false;
    }
    const auto& limits = session_->limits();
    bool post = false;
    const bool queued =
        exchange_->sse_push(wire::format_sse_event(event), limits.sse_max_queued_events,
                            limits.sse_max_queued_bytes, &post);
    if (post) {
        wake();
    }
    return queued;
}

void SseStreamImpl::close() {
    if (!session_) {
        return;
    }
    bool post = false;
    exchange_->sse_request_close(&post);
    if (post) {
        wake();
    }
}

bool SseStreamImpl::closed() const {
    return exchange_->sse_closed();
}

void SseStreamImpl::on_close(std::function<void()> callback) {
    exchange_->set_on_close(std::move(callback));
}

} // namespace agentd::gateway::http
