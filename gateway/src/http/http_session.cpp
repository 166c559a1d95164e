#include "http/http_session.h"

#include "http/request_id.h"
#include "http/response_writer.h"
#include "http/text.h"
#include "log/logging.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>

namespace agentd::gateway::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::uint64_t kMaxLingerBytes = 1024 * 1024;

std::string endpoint_string(const Socket& socket) {
    boost::system::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (ec) {
        return "?";
    }
    const auto addr = ep.address();
    return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" +
           std::to_string(ep.port());
}

} // namespace

bool ServerShared::add(std::uint64_t id, const std::shared_ptr<HttpSession>& session) {
    std::lock_guard lock(mutex);
    if (shutting_down) {
        return false;
    }
    sessions.emplace(id, session);
    return true;
}

void ServerShared::remove(std::uint64_t id) {
    std::function<void()> drained;
    {
        std::lock_guard lock(mutex);
        sessions.erase(id);
        if (shutting_down && sessions.empty() && on_drained) {
            drained = std::move(on_drained);
            on_drained = nullptr;
        }
    }
    if (drained) {
        drained();
    }
}

HttpSession::HttpSession(Socket socket, std::shared_ptr<ServerShared> shared, std::uint64_t id)
    : socket_(std::move(socket)), shared_(std::move(shared)), id_(id),
      buffer_(shared_->limits.max_header_bytes + kReadChunk), timer_(socket_.get_executor()) {}

HttpSession::~HttpSession() = default;

void HttpSession::start() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
        self->started_ = true;
        self->remote_ = endpoint_string(self->socket_);
        boost::system::error_code ec;
        self->socket_.set_option(net::ip::tcp::no_delay(true), ec);
        self->shared_->hooks->on_connection_opened();
        if (!self->shared_->add(self->id_, self)) {
            self->close_now();
            return;
        }
        self->update_read_deadline();
        self->do_read();
    });
}

void HttpSession::begin_shutdown() {
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->do_begin_shutdown(); });
}

void HttpSession::force_close() {
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

bool HttpSession::partial_request() const {
    return parser_.has_value() && parser_->got_some();
}

// ---------------------------------------------------------------------------------------------
// Reading

void HttpSession::do_read() {
    if (reading_ || closed_) {
        return;
    }
    if (!lingering_ &&
        (read_closed_ || pending_.size() >= shared_->limits.max_pipelined_requests)) {
        return; // closed for input, or paused until responses drain
    }
    const std::size_t room = buffer_.max_size() - buffer_.size();
    if (room == 0) {
        // Cannot happen while parsing (the header limit trips first); lingering consumes all.
        close_now();
        return;
    }
    reading_ = true;
    socket_.async_read_some(buffer_.prepare(std::min(room, kReadChunk)),
                            beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(boost::system::error_code ec, std::size_t n) {
    reading_ = false;
    if (closed_) {
        return;
    }
    if (n > 0) {
        buffer_.commit(n);
        shared_->hooks->on_bytes(n, 0);
    }
    if (lingering_) {
        lingered_bytes_ += n;
        buffer_.consume(buffer_.size());
        if (ec || lingered_bytes_ > kMaxLingerBytes) {
            close_now();
        } else {
            do_read();
        }
        return;
    }
    if (ec == net::error::eof) {
        on_eof();
        return;
    }
    if (ec) {
        close_now(); // reset by peer, cancelled by a timeout, ...
        return;
    }
    process_input();
    do_read();
}

void HttpSession::process_input() {
    while (!closed_ && !read_closed_ && buffer_.size() > 0 &&
           pending_.size() < shared_->limits.max_pipelined_requests) {
        if (!parser_) {
            parser_.emplace();
            parser_->header_limit(static_cast<std::uint32_t>(shared_->limits.max_header_bytes));
            parser_->body_limit(shared_->limits.max_body_bytes);
            header_checked_ = false;
            request_bytes_ = 0;
        }
        const bool had_some = parser_->got_some();
        beast::error_code ec;
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        request_bytes_ += used;
        if (!had_some && parser_->got_some()) {
            phase_ = ReadPhase::header;
            read_deadline_ = Clock::now() + shared_->limits.header_timeout;
        }
        if (ec == bhttp::error::need_more) {
            if (used == 0) {
                break;
            }
            continue;
        }
        if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
            reject(431, "header_too_large",
                   "request header exceeds " + std::to_string(shared_->limits.max_header_bytes) +
                       " bytes");
            return;
        }
        if (ec == bhttp::error::body_limit) {
            reject(413, "body_too_large",
                   "request body exceeds " + std::to_string(shared_->limits.max_body_bytes) +
                       " bytes");
            return;
        }
        if (ec == bhttp::error::bad_version) {
            reject(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported");
            return;
        }
        if (ec) {
            reject(400, "bad_request", "malformed HTTP request: " + ec.message());
            return;
        }
        if (parser_->is_header_done() && !header_checked_) {
            header_checked_ = true;
            if (!check_header()) {
                return;
            }
        }
        if (parser_->is_done()) {
            dispatch_request();
        } else if (used == 0) {
            break;
        }
    }
    update_read_deadline();
}

bool HttpSession::check_header() {
    const auto& req = parser_->get();
    if (req.version() != 10 && req.version() != 11) {
        reject(505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are supported");
        return false;
    }
    // Only plain "chunked" is supported: anything else would leave the body length unknown (a
    // request-smuggling vector when a proxy reads it differently).
    const auto te = req.find(bhttp::field::transfer_encoding);
    if (te != req.end() && (req.version() < 11 || !iequals(trim_ows(te->value()), "chunked") ||
                            req.count(bhttp::field::transfer_encoding) != 1)) {
        reject(400, "bad_request", "unsupported Transfer-Encoding (only \"chunked\" is accepted)");
        return false;
    }
    const auto expect = req.find(bhttp::field::expect);
    if (expect != req.end()) {
        if (!iequals(trim_ows(expect->value()), "100-continue")) {
            reject(417, "expectation_failed", "only \"Expect: 100-continue\" is supported");
            return false;
        }
        if (!parser_->is_done() && req.version() >= 11) {
            continue_wanted_ = true;
            maybe_write();
        }
    }
    if (!parser_->is_done()) {
        phase_ = ReadPhase::body;
        read_deadline_ = Clock::now() + shared_->limits.body_timeout;
    }
    return true;
}

namespace {

/// The exchange record of a parsed request (strand-side bookkeeping for its response).
std::shared_ptr<Exchange> make_exchange(const bhttp::request<bhttp::string_body>& msg,
                                        const std::string& remote, std::uint64_t request_bytes,
                                        bool keep_alive) {
    auto ex = std::make_shared<Exchange>();
    ex->method = std::string(msg.method_string());
    ex->target = std::string(msg.target());
    ex->remote = remote;
    ex->head = msg.method() == bhttp::verb::head;
    ex->http10 = msg.version() < 11;
    ex->request_bytes = request_bytes;
    ex->started = Clock::now();
    ex->close_after = !keep_alive;
    const auto client_id = msg.find("X-Request-Id");
    ex->request_id = request_id_for(client_id == msg.end()
                                        ? std::nullopt
                                        : std::optional<std::string_view>(client_id->value()));
    return ex;
}

/// Why the request cannot be routed (missing Host, unusable target), or nullopt. On success
/// fills path and query of `req`.
std::optional<std::string> parse_target(const bhttp::request<bhttp::string_body>& msg,
                                        Request& req) {
    if (msg.version() >= 11 && msg.count(bhttp::field::host) != 1) {
        return "HTTP/1.1 requests need exactly one Host header";
    }
    const auto parts = split_request_target(req.target);
    if (!parts) {
        return "request target must be an absolute path (origin-form)";
    }
    auto path = percent_decode(parts->first);
    if (!path) {
        return "malformed percent-encoding in the request path";
    }
    req.path = std::move(*path);
    req.query = std::string(parts->second);
    return std::nullopt;
}

} // namespace

void HttpSession::dispatch_request() {
    auto msg = parser_->release();
    parser_.reset();
    phase_ = ReadPhase::none;
    continue_wanted_ = false;

    const bool keep_alive = msg.keep_alive() && !shutting_down_;
    auto ex = make_exchange(msg, remote_, request_bytes_, keep_alive);
    pending_.push_back(ex);
    if (!keep_alive) {
        read_closed_ = true;
    }

    Request req;
    req.method = ex->method;
    req.target = ex->target;
    if (auto why = parse_target(msg, req)) {
        ex->close_after = true;
        read_closed_ = true;
        (void)ex->claim_answer();
        deliver(ex, Response::error(400, "bad_request", *why));
        return;
    }
    for (const auto& field : msg) {
        req.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    req.body = std::move(msg.body());
    req.remote = remote_;
    req.request_id = ex->request_id;

    auto writer = std::make_shared<ResponseWriterImpl>(shared_from_this(), ex);
    try {
        shared_->hooks->on_request(std::move(req), writer, ex->route);
    } catch (const std::exception& e) {
        log::log_event(log::Level::error, "handler threw",
                       {{"request_id", ex->request_id}, {"error", e.what()}});
        writer->respond(Response::error(500, "internal_error", "internal server error"));
    } catch (...) {
        log::log_event(log::Level::error, "handler threw a non-exception",
                       {{"request_id", ex->request_id}});
        writer->respond(Response::error(500, "internal_error", "internal server error"));
    }
}

void HttpSession::reject(unsigned status, std::string_view code, std::string message) {
    // The rest of the input cannot be trusted to be framed correctly: answer after the earlier
    // responses, then close.
    parser_.reset();
    phase_ = ReadPhase::none;
    read_closed_ = true;
    continue_wanted_ = false;
    linger_needed_ = true;
    auto ex = std::make_shared<Exchange>();
    ex->method = "-";
    ex->remote = remote_;
    ex->request_id = generate_request_id();
    ex->request_bytes = request_bytes_;
    ex->started = Clock::now();
    ex->close_after = true;
    (void)ex->claim_answer();
    pending_.push_back(ex);
    log::log_event(log::Level::debug, "rejected request",
                   {{"remote", remote_}, {"status", status}, {"reason", message}});
    deliver(ex, Response::error(status, code, message));
}

void HttpSession::on_eof() {
    eof_ = true;
    read_closed_ = true;
    if (partial_request()) {
        close_now(); // half a request, then the client hung up
        return;
    }
    for (const auto& ex : pending_) {
        if (ex->state != Exchange::State::ready) {
            close_now(); // still being worked on or streaming: the client has gone
            return;
        }
    }
    close_after_write_ = true;
    maybe_write();
    maybe_finish();
}

void HttpSession::update_read_deadline() {
    if (closed_ || lingering_) {
        return;
    }
    if (partial_request()) {
        // header/body deadlines were set when those phases began
    } else if (pending_.empty() && !writing_ && !read_closed_) {
        if (phase_ != ReadPhase::idle) {
            phase_ = ReadPhase::idle;
            read_deadline_ = Clock::now() + shared_->limits.idle_timeout;
        }
    } else {
        // Waiting for our own responses: the client is not idle, it is waiting for us.
        phase_ = ReadPhase::none;
        read_deadline_ = TimePoint::max();
    }
    arm_timer();
}

// ---------------------------------------------------------------------------------------------
// Deadlines and closing

void HttpSession::arm_timer() {
    const TimePoint next = std::min({read_deadline_, write_deadline_, heartbeat_at_});
    if (closed_ || next == TimePoint::max() || (timer_armed_ && next >= timer_at_)) {
        return;
    }
    timer_at_ = next;
    timer_armed_ = true;
    const std::uint64_t generation = ++timer_generation_;
    timer_.expires_at(next);
    timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
        self->on_timer(ec, generation);
    });
}

void HttpSession::on_timer(boost::system::error_code ec, std::uint64_t generation) {
    if (generation != timer_generation_ || closed_) {
        return; // superseded by a re-arm, or the connection is gone
    }
    (void)ec;
    timer_armed_ = false;
    const TimePoint now = Clock::now();
    if (write_deadline_ <= now) {
        log::log_event(log::Level::debug, "write timeout", {{"remote", remote_}});
        close_now();
        return;
    }
    if (read_deadline_ <= now) {
        on_read_timeout();
        if (closed_) {
            return;
        }
    }
    if (heartbeat_at_ <= now) {
        heartbeat_at_ = TimePoint::max();
        heartbeat_due_ = true;
        maybe_write();
    }
    arm_timer();
}

void HttpSession::on_read_timeout() {
    read_deadline_ = TimePoint::max();
    if (lingering_ || phase_ == ReadPhase::idle || !partial_request()) {
        close_now();
        return;
    }
    log::log_event(
        log::Level::debug, "request timeout",
        {{"remote", remote_}, {"phase", phase_ == ReadPhase::header ? "header" : "body"}});
    if (pending_.empty() && !writing_) {
        reject(408, "request_timeout", "the request was not received in time");
    } else {
        close_now();
    }
}

void HttpSession::begin_linger() {
    if (closed_ || lingering_) {
        return;
    }
    if (eof_ || (!linger_needed_ && buffer_.size() == 0)) {
        close_now(); // nothing more is expected from the client: a plain close
        return;
    }
    // After a rejected request the client may still be sending (a body we refused to read).
    // Closing with unread input would reset the connection, and a reset can make the client's
    // stack discard our error response before it is read: half-close and drain for a while.
    lingering_ = true;
    boost::system::error_code ec;
    socket_.shutdown(net::ip::tcp::socket::shutdown_send, ec);
    if (ec || shared_->limits.linger_timeout.count() == 0) {
        close_now();
        return;
    }
    buffer_.consume(buffer_.size());
    read_deadline_ = Clock::now() + shared_->limits.linger_timeout;
    heartbeat_at_ = TimePoint::max();
    arm_timer();
    do_read();
}

void HttpSession::close_now() {
    if (closed_) {
        return;
    }
    closed_ = true;
    // Free the connection slot before the client can observe the close (FIN/RST below), so a
    // client that saw its connection end can count on the slot being available.
    shared_->open.fetch_sub(1, std::memory_order_relaxed);
    timer_armed_ = false;
    ++timer_generation_;
    boost::system::error_code ec;
    timer_.cancel();
    socket_.shutdown(net::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    parser_.reset();
    // The responses of these exchanges will never be written: tell their handlers.
    auto pending = std::move(pending_);
    pending_.clear();
    for (const auto& ex : pending) {
        ex->fire_gone();
        if (ex->sse) {
            shared_->hooks->on_sse_closed();
        }
        ex->fire_close();
        report(*ex, /*client_gone=*/true);
    }
    if (started_) {
        shared_->hooks->on_connection_closed();
    }
    shared_->remove(id_);
}

void HttpSession::do_begin_shutdown() {
    if (closed_ || shutting_down_) {
        return;
    }
    shutting_down_ = true;
    for (const auto& ex : pending_) {
        if (ex->state == Exchange::State::sse_head || ex->state == Exchange::State::sse_streaming) {
            bool post = false;
            ex->sse_request_close(&post);
            ex->sse_clear_posted();
        }
    }
    if (!partial_request()) {
        read_closed_ = true;
    }
    maybe_write();
    maybe_finish();
}

} // namespace agentd::gateway::http
