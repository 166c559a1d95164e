// The write side of HttpSession: response serialization, SSE streaming, the single write in
// flight, completion reporting, and the decisions to close after writing.
#include "http/http_session.h"
#include "http/wire.h"
#include "log/logging.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

namespace agentd::gateway::http {
namespace beast = boost::beast;
using Clock = std::chrono::steady_clock;

namespace {
/// Responses coalesced into one write (pipelining); larger bodies go one per write.
constexpr std::size_t kMaxBatchBytes = 256 * 1024;
} // namespace

void HttpSession::deliver(const std::shared_ptr<Exchange>& ex, Response response) {
    if (closed_ || ex->state != Exchange::State::waiting) {
        return;
    }
    ex->response = std::move(response);
    ex->state = Exchange::State::ready;
    maybe_write();
}

void HttpSession::begin_sse(const std::shared_ptr<Exchange>& ex, unsigned status, Headers headers) {
    if (closed_ || ex->state != Exchange::State::waiting) {
        ex->fire_close();
        return;
    }
    ex->response = Response{};
    ex->response.status = status;
    ex->response.content_type = "text/event-stream";
    ex->response.headers = std::move(headers);
    ex->state = Exchange::State::sse_head;
    ex->sse = true;
    shared_->hooks->on_sse_opened();
    if (shutting_down_) {
        bool post = false;
        ex->sse_request_close(&post);
    }
    maybe_write();
}

void HttpSession::on_sse_activity(const std::shared_ptr<Exchange>& ex) {
    ex->sse_clear_posted();
    if (!closed_) {
        maybe_write();
    }
}

void HttpSession::abandon(const std::shared_ptr<Exchange>& ex) {
    if (closed_ || ex->state != Exchange::State::waiting) {
        return;
    }
    log::log_event(log::Level::error, "handler dropped a request without answering",
                   {{"request_id", ex->request_id}, {"route", ex->route}});
    deliver(ex, Response::error(500, "internal_error", "the handler did not answer"));
}

std::size_t HttpSession::serialize_response(Exchange& ex) {
    if (auto why = wire::validate_response(ex.response)) {
        log::log_event(log::Level::error, "handler produced an invalid response",
                       {{"request_id", ex.request_id}, {"route", ex.route}, {"error", *why}});
        ex.response = Response::error(500, "internal_error", "invalid response from handler");
    }
    Response& r = ex.response;
    // While shutting down (or after the client half-closed) the last queued response announces
    // the close; earlier pipelined ones still go out on this connection.
    const bool last = pending_.size() == 1 && !partial_request();
    const bool close = ex.close_after || ((shutting_down_ || eof_) && last);
    wire::HeadOptions options;
    options.close = close;
    options.keep_alive_10 = ex.http10 && !close;
    options.content_length = r.body.size();
    options.request_id = ex.request_id;
    std::string head;
    head.reserve(256);
    wire::append_head(head, r, options);
    std::size_t bytes = head.size();
    out_strings_.push_back(std::move(head));
    ex.status_sent = r.status;
    if (!ex.head && !wire::status_has_no_body(r.status) && !r.body.empty()) {
        ex.response_bytes = r.body.size();
        bytes += r.body.size();
        out_strings_.push_back(std::move(r.body));
    }
    if (close) {
        close_after_write_ = true;
    }
    return bytes;
}

void HttpSession::serialize_sse_head(Exchange& ex) {
    if (auto why = wire::validate_response(ex.response)) {
        log::log_event(log::Level::error, "handler produced an invalid SSE head",
                       {{"request_id", ex.request_id}, {"error", *why}});
        ex.response.headers = Headers{};
        ex.response.status = 500;
    }
    wire::HeadOptions options;
    options.sse = true;
    options.chunked = !ex.http10 && !ex.head;
    options.close = ex.http10 || ex.close_after || shutting_down_;
    options.request_id = ex.request_id;
    if (ex.head) {
        options.content_length = 0;
    }
    std::string head;
    wire::append_head(head, ex.response, options);
    out_strings_.push_back(std::move(head));
    ex.status_sent = ex.response.status;
    ex.state = Exchange::State::sse_streaming;
    if (options.close) {
        ex.close_after = true;
    }
}

bool HttpSession::serialize_sse_events(Exchange& ex) {
    std::string payload;
    const bool close_requested = ex.sse_take(payload);
    const bool end = close_requested || ex.head;
    if (payload.empty() && heartbeat_due_ && !end) {
        payload.assign(wire::kSseHeartbeat);
    }
    heartbeat_due_ = false;
    if (!payload.empty() && !ex.head) {
        ex.response_bytes += payload.size();
        if (ex.http10) {
            out_strings_.push_back(std::move(payload));
        } else {
            std::string chunk;
            chunk.reserve(payload.size() + 16);
            wire::append_chunk(chunk, payload);
            out_strings_.push_back(std::move(chunk));
        }
    }
    if (end && !ex.http10 && !ex.head) {
        out_strings_.emplace_back(wire::kLastChunk);
    }
    return end;
}

void HttpSession::maybe_write() {
    if (writing_ || closed_ || lingering_) {
        return;
    }
    out_strings_.clear();
    std::size_t batch = 0;
    while (!pending_.empty() && batch < kMaxBatchBytes) {
        Exchange& ex = *pending_.front();
        if (ex.state == Exchange::State::ready) {
            batch += serialize_response(ex);
        } else if (ex.state == Exchange::State::sse_head ||
                   ex.state == Exchange::State::sse_streaming) {
            if (ex.state == Exchange::State::sse_head) {
                serialize_sse_head(ex);
            }
            if (!serialize_sse_events(ex)) {
                break; // the stream stays at the head of the queue
            }
        } else {
            break; // the handler has not answered yet
        }
        ex.state = Exchange::State::done;
        // Account for the exchange before its last bytes leave, so that a client that has read
        // a response always finds it in /metrics and the logs.
        if (ex.sse) {
            shared_->hooks->on_sse_closed();
        }
        report(ex, /*client_gone=*/false);
        finished_.push_back(std::move(pending_.front()));
        pending_.pop_front();
        if (finished_.back()->close_after) {
            close_after_write_ = true;
            // Nothing is read after a closing request, so nothing should queue behind it; if
            // something did, it can never be answered on this connection.
            auto rest = std::move(pending_);
            pending_.clear();
            for (const auto& dropped : rest) {
                dropped->fire_gone();
                if (dropped->sse) {
                    shared_->hooks->on_sse_closed();
                }
                dropped->fire_close();
                report(*dropped, /*client_gone=*/true);
            }
            break;
        }
    }
    if (pending_.empty() && continue_wanted_ && partial_request() && !close_after_write_) {
        out_strings_.emplace_back(wire::kContinue);
        continue_wanted_ = false;
    }
    const bool streaming =
        !pending_.empty() && pending_.front()->state == Exchange::State::sse_streaming;
    if (out_strings_.empty()) {
        if (streaming && heartbeat_at_ == TimePoint::max()) {
            heartbeat_at_ = Clock::now() + shared_->limits.sse_heartbeat;
            arm_timer();
        }
        return;
    }
    out_buffers_.clear();
    for (const auto& s : out_strings_) {
        out_buffers_.emplace_back(s.data(), s.size());
    }
    writing_ = true;
    heartbeat_at_ = TimePoint::max();
    write_deadline_ = Clock::now() + shared_->limits.write_timeout;
    arm_timer();
    net::async_write(socket_, out_buffers_,
                     beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
}

void HttpSession::report(const Exchange& ex, bool client_gone) {
    RequestRecord r;
    r.method = ex.method;
    r.target = ex.target;
    r.route = ex.route;
    r.request_id = ex.request_id;
    r.remote = ex.remote;
    r.status = ex.status_sent == 0 ? 499 : ex.status_sent;
    r.latency = Clock::now() - ex.started; // until the response is handed to the socket
    r.request_bytes = ex.request_bytes;
    r.response_bytes = ex.response_bytes;
    r.sse = ex.sse;
    r.client_gone = client_gone;
    shared_->hooks->on_request_done(r);
}

void HttpSession::on_write(boost::system::error_code ec, std::size_t n) {
    writing_ = false;
    write_deadline_ = TimePoint::max();
    if (n > 0) {
        shared_->hooks->on_bytes(0, n);
    }
    out_strings_.clear();
    out_buffers_.clear();
    auto finished = std::move(finished_);
    finished_.clear();
    for (const auto& ex : finished) {
        if (ex->sse) {
            ex->fire_close();
        }
    }
    if (closed_) {
        return;
    }
    if (ec) {
        close_now();
        return;
    }
    if (!pending_.empty() && pending_.front()->state == Exchange::State::sse_streaming) {
        heartbeat_at_ = Clock::now() + shared_->limits.sse_heartbeat;
    }
    maybe_write();
    maybe_finish();
    if (closed_ || lingering_) {
        return;
    }
    process_input();
    update_read_deadline();
    do_read();
}

void HttpSession::maybe_finish() {
    if (closed_ || lingering_ || writing_ || !pending_.empty()) {
        return;
    }
    if (close_after_write_) {
        begin_linger();
    } else if (read_closed_ && !partial_request()) {
        close_now(); // shutting down with nothing in flight
    }
}

} // namespace agentd::gateway::http
