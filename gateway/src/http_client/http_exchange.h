#pragma once
// One outbound HTTP exchange (internal to the Beast HTTP client): a state machine on its own
// strand, driven by Asio completion handlers, bounded by one deadline timer.

#include "agentd/tools/http_client.h"

#include "http_client/beast_http_client.h"
#include "http_client/connection_limiter.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace agentd::gateway::http_client {

/// What every exchange of one client shares.
struct ClientShared {
    boost::asio::io_context& io;
    HttpClientOptions options;
    boost::asio::ssl::context ssl;
    ConnectionLimiter limiter;

    ClientShared(boost::asio::io_context& context, HttpClientOptions opts);
};

class Exchange : public std::enable_shared_from_this<Exchange> {
public:
    Exchange(std::shared_ptr<ClientShared> shared, tools::HttpClientRequest request,
             tools::HttpClientCallback done);
    /// Starts on the exchange's strand (never completes inline).
    void start();

private:
    using tcp = boost::asio::ip::tcp;
    using Plain = boost::beast::tcp_stream;
    using Tls = boost::beast::ssl_stream<boost::beast::tcp_stream>;

    void begin();
    void on_slot();
    void resolve();
    void on_resolved(const boost::system::error_code& ec, tcp::resolver::results_type results);
    void connect(std::vector<tcp::endpoint> endpoints);
    void on_connected(const boost::system::error_code& ec, const tcp::endpoint& endpoint);
    void handshake();
    void write();
    void on_written(const boost::system::error_code& ec, std::size_t bytes);
    void on_header(const boost::system::error_code& ec, std::size_t bytes);
    void on_body(const boost::system::error_code& ec, std::size_t bytes);
    void on_deadline(const boost::system::error_code& ec);
    void fail_io(const boost::system::error_code& ec);
    void finish(base::Result<tools::HttpClientResponse> outcome);
    void close_streams();
    template <class F>
    void with_stream(F&& f);

    std::shared_ptr<ClientShared> shared_;
    tools::HttpClientRequest request_;
    tools::HttpClientCallback done_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::steady_timer timer_;
    tcp::resolver resolver_;
    std::optional<Plain> plain_;
    std::optional<Tls> tls_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request<boost::beast::http::string_body> wire_request_;
    std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
    std::string host_key_;
    std::string phase_ = "waiting for a free connection slot";
    std::string remote_;
    std::string refused_; ///< why resolved addresses were refused (for the error message)
    ConnectionLimiter::Ticket ticket_ = 0;
    tools::CancellationSignal::CallbackId cancel_id_ = 0;
    bool holding_slot_ = false;
    bool finished_ = false;
};

} // namespace agentd::gateway::http_client
