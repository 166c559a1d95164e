#include "agentd/itest/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <strings.h>

namespace agentd::itest {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

HttpResponse convert(const bhttp::response<bhttp::string_body>& msg) {
    HttpResponse r;
    r.status = msg.result_int();
    for (const auto& f : msg) {
        r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    r.body = msg.body();
    r.keep_alive = msg.keep_alive();
    return r;
}

} // namespace

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequal(k, name)) {
            return v;
        }
    }
    return {};
}

bool HttpResponse::has_header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequal(k, name)) {
            return true;
        }
    }
    return false;
}

struct HttpConnection::Impl {
    net::io_context io;
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer;
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    std::chrono::milliseconds timeout;
    std::uint16_t port;
    std::size_t body_seen = 0;

    /// Runs the async operation started by `start` to completion (or to the deadline).
    template <class Start>
    beast::error_code run(Start&& start) {
        beast::error_code result = net::error::would_block;
        stream.expires_after(timeout);
        start([&result](beast::error_code ec, std::size_t) { result = ec; });
        io.restart();
        io.run();
        return result;
    }

    void check(beast::error_code ec, const char* what) const {
        if (ec) {
            throw HttpClientError(std::string(what) + " (port " + std::to_string(port) +
                                  "): " + ec.message());
        }
    }
};

HttpConnection::HttpConnection(std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
    impl_->timeout = timeout;
    impl_->port = port;
    const net::ip::tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    beast::error_code result = net::error::would_block;
    impl_->stream.expires_after(timeout);
    impl_->stream.async_connect(ep, [&result](beast::error_code ec) { result = ec; });
    impl_->io.run();
    impl_->check(result, "connect");
    impl_->stream.socket().set_option(net::ip::tcp::no_delay(true));
}

HttpConnection::~HttpConnection() = default;
HttpConnection::HttpConnection(HttpConnection&&) noexcept = default;
HttpConnection& HttpConnection::operator=(HttpConnection&&) noexcept = default;

void HttpConnection::set_timeout(std::chrono::milliseconds timeout) {
    impl_->timeout = timeout;
}

void HttpConnection::send(const HttpRequest& request) {
    bhttp::request<bhttp::string_body> msg;
    msg.method_string(request.method);
    msg.target(request.target);
    msg.version(11);
    bool has_host = false;
    for (const auto& [k, v] : request.headers) {
        msg.insert(k, v);
        has_host = has_host || iequal(k, "Host");
    }
    if (!has_host) {
        msg.set(bhttp::field::host, "127.0.0.1:" + std::to_string(impl_->port));
    }
    msg.body() = request.body;
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        msg.prepare_payload();
    }
    const auto ec = impl_->run(
        [&](auto handler) { bhttp::async_write(impl_->stream, msg, std::move(handler)); });
    impl_->check(ec, "write request");
}

void HttpConnection::send_raw(std::string_view bytes) {
    const auto ec = impl_->run([&](auto handler) {
        net::async_write(impl_->stream, net::buffer(bytes.data(), bytes.size()),
                         std::move(handler));
    });
    impl_->check(ec, "write raw bytes");
}

HttpResponse HttpConnection::read_response(bool head_request) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head_request);
    const auto ec = impl_->run([&](auto handler) {
        bhttp::async_read(impl_->stream, impl_->buffer, parser, std::move(handler));
    });
    impl_->check(ec, "read response");
    return convert(parser.get());
}

HttpResponse HttpConnection::request(const HttpRequest& request) {
    send(request);
    return read_response(request.method == "HEAD");
}

HttpResponse HttpConnection::read_head() {
    impl_->parser.emplace();
    impl_->parser->body_limit(boost::none);
    impl_->body_seen = 0;
    const auto ec = impl_->run([&](auto handler) {
        bhttp::async_read_header(impl_->stream, impl_->buffer, *impl_->parser, std::move(handler));
    });
    impl_->check(ec, "read response head");
    return convert(impl_->parser->get());
}

std::string HttpConnection::read_body_some(bool* done) {
    if (!impl_->parser) {
        throw HttpClientError("read_body_some without read_head");
    }
    auto& body = impl_->parser->get().body();
    if (body.size() == impl_->body_seen && !impl_->parser->is_done()) {
        const auto ec = impl_->run([&](auto handler) {
            bhttp::async_read_some(impl_->stream, impl_->buffer, *impl_->parser,
                                   std::move(handler));
        });
        impl_->check(ec, "read response body");
    }
    std::string fresh = body.substr(impl_->body_seen);
    impl_->body_seen = body.size();
    *done = impl_->parser->is_done();
    return fresh;
}

bool HttpConnection::wait_closed(std::chrono::milliseconds timeout, std::string* received) {
    const auto saved = impl_->timeout;
    impl_->timeout = timeout;
    std::string got(static_cast<const char*>(impl_->buffer.data().data()), impl_->buffer.size());
    impl_->buffer.consume(impl_->buffer.size());
    bool closed = false;
    for (;;) {
        char chunk[4096];
        std::size_t n = 0;
        beast::error_code result = net::error::would_block;
        impl_->stream.expires_after(timeout);
        impl_->stream.async_read_some(net::buffer(chunk),
                                      [&](beast::error_code ec, std::size_t bytes) {
                                          result = ec;
                                          n = bytes;
                                      });
        impl_->io.restart();
        impl_->io.run();
        got.append(chunk, n);
        if (result == beast::error::timeout) {
            break;
        }
        if (result) {
            closed = true; // EOF or reset
            break;
        }
    }
    impl_->timeout = saved;
    if (received != nullptr) {
        *received = std::move(got);
    }
    return closed;
}

void HttpConnection::close() {
    beast::error_code ec;
    impl_->stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
    impl_->stream.close();
}

HttpRequest make_request(std::string method, std::string target, std::string body,
                         std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

HttpResponse http_request(std::uint16_t port, const HttpRequest& request) {
    HttpConnection c(port);
    return c.request(request);
}

HttpResponse http_get(std::uint16_t port, const std::string& target,
                      std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest r;
    r.target = target;
    r.headers = std::move(headers);
    return http_request(port, r);
}

} // namespace agentd::itest
