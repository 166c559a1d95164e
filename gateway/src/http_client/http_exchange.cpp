#include "http_client/http_exchange.h"

#include "agentd/tools/errc.h"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/ssl.h>
#include <utility>

namespace agentd::gateway::http_client {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tools::errc;

namespace {

tools::IpAddress to_ip(const net::ip::address& a) {
    tools::IpAddress ip;
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), ip.bytes.begin());
    } else {
        ip.v6 = true;
        const auto b = a.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), ip.bytes.begin());
    }
    return ip;
}

std::string endpoint_text(const net::ip::tcp::endpoint& e) {
    const auto a = e.address();
    return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(e.port());
}

std::string host_header(const tools::HttpClientRequest& r) {
    const bool v6 = r.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + r.host + "]" : r.host;
    if (r.port != (r.tls ? 443 : 80)) {
        host += ":" + std::to_string(r.port);
    }
    return host;
}

} // namespace

ClientShared::ClientShared(net::io_context& context, HttpClientOptions opts)
    : io(context), options(std::move(opts)), ssl(net::ssl::context::tls_client),
      limiter(options.max_in_flight, options.max_per_host, options.max_waiting) {
    ssl.set_verify_mode(net::ssl::verify_peer);
    SSL_CTX_set_min_proto_version(ssl.native_handle(), TLS1_2_VERSION);
    if (!options.no_system_ca) {
        ssl.set_default_verify_paths();
    }
    if (!options.extra_ca_file.empty()) {
        ssl.load_verify_file(options.extra_ca_file.string()); // throws: start-up only
    }
}

Exchange::Exchange(std::shared_ptr<ClientShared> shared, tools::HttpClientRequest request,
                   tools::HttpClientCallback done)
    : shared_(std::move(shared)), request_(std::move(request)), done_(std::move(done)),
      strand_(net::make_strand(shared_->io)), timer_(strand_), resolver_(strand_) {}

void Exchange::start() {
    net::post(strand_, [self = shared_from_this()] { self->begin(); });
}

void Exchange::begin() {
    if (request_.host.empty() || http::string_to_verb(request_.method) == http::verb::unknown) {
        finish(base::fail(errc::invalid_argument, "invalid request (no host or unknown method)"));
        return;
    }
    if (request_.cancel) {
        std::weak_ptr<Exchange> weak = weak_from_this();
        cancel_id_ = request_.cancel->on_cancel([weak] {
            if (auto self = weak.lock()) {
                net::post(self->strand_, [self] {
                    self->finish(base::fail(errc::cancelled, "the request was cancelled"));
                });
            }
        });
    }
    timer_.expires_at(request_.deadline);
    timer_.async_wait(beast::bind_front_handler(&Exchange::on_deadline, shared_from_this()));
    host_key_ = request_.host + ":" + std::to_string(request_.port);
    auto on_grant = [self = shared_from_this()] {
        net::post(self->strand_, [self] { self->on_slot(); });
    };
    switch (shared_->limiter.acquire(host_key_, std::move(on_grant), &ticket_)) {
    case ConnectionLimiter::Outcome::granted:
        holding_slot_ = true;
        resolve();
        return;
    case ConnectionLimiter::Outcome::queued:
        return;
    case ConnectionLimiter::Outcome::full:
        finish(base::fail(errc::busy, "too many outbound requests are in flight and waiting (" +
                                          std::to_string(shared_->options.max_in_flight) + " + " +
                                          std::to_string(shared_->options.max_waiting) + ")"));
        return;
    }
}

void Exchange::on_slot() {
    holding_slot_ = true;
    ticket_ = 0;
    if (finished_) {
        shared_->limiter.release(host_key_);
        holding_slot_ = false;
        return;
    }
    resolve();
}

void Exchange::resolve() {
    phase_ = "resolving " + request_.host;
    boost::system::error_code ec;
    const auto literal = net::ip::make_address(request_.host, ec);
    if (!ec) {
        connect({tcp::endpoint(literal, request_.port)});
        return;
    }
    resolver_.async_resolve(request_.host, std::to_string(request_.port),
                            beast::bind_front_handler(&Exchange::on_resolved, shared_from_this()));
}

void Exchange::on_resolved(const boost::system::error_code& ec,
                           tcp::resolver::results_type results) {
    if (finished_) {
        return;
    }
    if (ec) {
        finish(base::fail(errc::dns_failure,
                          "could not resolve host \"" + request_.host + "\": " + ec.message()));
        return;
    }
    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : results) {
        endpoints.push_back(entry.endpoint());
    }
    connect(std::move(endpoints));
}

void Exchange::connect(std::vector<tcp::endpoint> endpoints) {
    // DNS-rebinding protection: judge the addresses actually about to be contacted.
    std::vector<tcp::endpoint> allowed;
    for (const auto& e : endpoints) {
        if (auto ok = request_.policy.check_address(to_ip(e.address())); ok) {
            allowed.push_back(e);
        } else if (refused_.empty()) {
            refused_ = ok.error().message;
        }
    }
    if (allowed.empty()) {
        const bool literal =
            endpoints.size() == 1 && endpoints.front().address().to_string() == request_.host;
        finish(base::fail(
            errc::forbidden,
            literal ? refused_
                    : "host \"" + request_.host +
                          "\" resolved only to addresses REST tools may not reach: " + refused_));
        return;
    }
    phase_ = allowed.size() == 1 ? "connecting to " + endpoint_text(allowed.front())
                                 : "connecting to " + request_.host;
    remote_ = endpoint_text(allowed.front());
    plain_.emplace(strand_);
    plain_->async_connect(allowed,
                          beast::bind_front_handler(&Exchange::on_connected, shared_from_this()));
}

void Exchange::on_connected(const boost::system::error_code& ec, const tcp::endpoint& endpoint) {
    if (finished_) {
        return;
    }
    if (ec == net::error::connection_refused) {
        finish(base::fail(errc::connection_refused, "connection refused by " + remote_));
        return;
    }
    if (ec) {
        finish(base::fail(errc::connection_failed,
                          "could not connect to " + remote_ + ": " + ec.message()));
        return;
    }
    remote_ = endpoint_text(endpoint);
    if (request_.tls) {
        handshake();
    } else {
        write();
    }
}

void Exchange::handshake() {
    tls_.emplace(std::move(*plain_), shared_->ssl);
    plain_.reset();
    boost::system::error_code ec;
    (void)net::ip::make_address(request_.host, ec);
    if (ec) { // SNI only for names
        SSL_set_tlsext_host_name(tls_->native_handle(), request_.host.c_str());
    }
    tls_->set_verify_callback(net::ssl::host_name_verification(request_.host));
    phase_ = "in the TLS handshake with " + remote_;
    tls_->async_handshake(net::ssl::stream_base::client, [self = shared_from_this()](
                                                             const boost::system::error_code& e) {
        if (self->finished_) {
            return;
        }
        if (e) {
            self->finish(base::fail(errc::tls_error, "TLS handshake with " + self->remote_ +
                                                         " failed: " + e.message()));
            return;
        }
        self->write();
    });
}

void Exchange::write() {
    wire_request_.method(http::string_to_verb(request_.method));
    wire_request_.target(request_.target);
    wire_request_.version(11);
    wire_request_.set(http::field::host, host_header(request_));
    for (const auto& [name, value] : request_.headers) {
        wire_request_.insert(name, value);
    }
    wire_request_.set(http::field::connection, "close");
    wire_request_.body() = std::move(request_.body);
    wire_request_.prepare_payload();
    phase_ = "sending the request to " + remote_;
    with_stream([this](auto& stream) {
        http::async_write(stream, wire_request_,
                          beast::bind_front_handler(&Exchange::on_written, shared_from_this()));
    });
}

void Exchange::on_written(const boost::system::error_code& ec, std::size_t /*bytes*/) {
    if (finished_) {
        return;
    }
    if (ec) {
        fail_io(ec);
        return;
    }
    parser_.emplace();
    parser_->body_limit(request_.max_response_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.max_header_bytes));
    phase_ = "waiting for the response headers from " + remote_;
    with_stream([this](auto& stream) {
        http::async_read_header(
            stream, buffer_, *parser_,
            beast::bind_front_handler(&Exchange::on_header, shared_from_this()));
    });
}

void Exchange::on_header(const boost::system::error_code& ec, std::size_t /*bytes*/) {
    if (finished_) {
        return;
    }
    if (ec) {
        fail_io(ec);
        return;
    }
    phase_ = "reading the response body from " + remote_;
    with_stream([this](auto& stream) {
        http::async_read(stream, buffer_, *parser_,
                         beast::bind_front_handler(&Exchange::on_body, shared_from_this()));
    });
}

void Exchange::on_body(const boost::system::error_code& ec, std::size_t /*bytes*/) {
    if (finished_) {
        return;
    }
    if (ec) {
        fail_io(ec);
        return;
    }
    auto& message = parser_->get();
    tools::HttpClientResponse response;
    response.status = message.result_int();
    response.reason = std::string(message.reason());
    for (const auto& field : message) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    response.remote_address = remote_;
    finish(std::move(response));
}

void Exchange::fail_io(const boost::system::error_code& ec) {
    if (ec == http::error::body_limit) {
        finish(base::fail(errc::response_too_large,
                          "the response body exceeded the " +
                              std::to_string(request_.max_response_bytes) + "-byte limit"));
    } else if (ec == http::error::header_limit) {
        finish(base::fail(errc::bad_response,
                          "the response headers from " + remote_ + " exceeded " +
                              std::to_string(shared_->options.max_header_bytes) + " bytes"));
    } else if (ec == http::error::end_of_stream || ec == net::error::eof) {
        finish(base::fail(errc::bad_response,
                          remote_ + " closed the connection before a complete response arrived"));
    } else if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
        finish(base::fail(errc::bad_response,
                          "malformed HTTP response from " + remote_ + ": " + ec.message()));
    } else if (ec.category() == net::error::get_ssl_category() ||
               ec == net::ssl::error::stream_truncated) {
        finish(base::fail(errc::tls_error, "TLS error " + phase_ + ": " + ec.message()));
    } else {
        finish(base::fail(errc::connection_failed,
                          "connection failed " + phase_ + ": " + ec.message()));
    }
}

void Exchange::on_deadline(const boost::system::error_code& ec) {
    if (ec || finished_) {
        return;
    }
    finish(base::fail(errc::timeout, "while " + phase_));
}

void Exchange::finish(base::Result<tools::HttpClientResponse> outcome) {
    if (finished_) {
        return;
    }
    finished_ = true;
    timer_.cancel();
    resolver_.cancel();
    close_streams();
    if (ticket_ != 0 && !holding_slot_) {
        // When abandon() fails the grant is already on its way to on_slot(), which releases.
        (void)shared_->limiter.abandon(ticket_);
    }
    if (holding_slot_) {
        shared_->limiter.release(host_key_);
        holding_slot_ = false;
    }
    if (cancel_id_ != 0) {
        request_.cancel->remove(cancel_id_);
    }
    auto done = std::move(done_);
    done(std::move(outcome));
}

void Exchange::close_streams() {
    boost::system::error_code ignored;
    if (plain_) {
        plain_->socket().shutdown(tcp::socket::shutdown_both, ignored);
        plain_->close();
    }
    if (tls_) {
        beast::get_lowest_layer(*tls_).close();
    }
}

template <class F>
void Exchange::with_stream(F&& f) {
    if (tls_) {
        f(*tls_);
    } else {
        f(*plain_);
    }
}

} // namespace agentd::gateway::http_client
