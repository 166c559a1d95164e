#pragma once
/// One HTTP connection (internal to the server; see server.h for the behaviour it implements).
///
/// Beast's async server pattern: do_x/on_x pairs bound to shared_from_this(), everything on the
/// connection's strand. Reading parses with a request_parser re-emplaced per request (header and
/// body limits); responses queue in request order and leave through exactly one async_write at a
/// time; one timer enforces the idle/header/body/write/linger deadlines and SSE heartbeats.
///
/// Thread affinity: all members are strand-only; the public entry points that other threads use
/// (begin_shutdown, force_close, and the writer/stream notifications) post onto the strand.

#include "http/exchange.h"
#include "http/server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

namespace agentd::gateway::http {

namespace net = boost::asio;
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<net::ip::tcp, Strand>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Strand>;

class HttpSession;

/// State the listener and all sessions share; outlives both (shared_ptr).
struct ServerShared {
    ServerLimits limits;
    ServerHooks* hooks = nullptr;
    std::atomic<std::size_t> open{0};

    std::mutex mutex;
    std::unordered_map<std::uint64_t, std::weak_ptr<HttpSession>> sessions;
    bool shutting_down = false;
    std::function<void()> on_drained;

    /// Registers a session; false when the server is shutting down (the caller closes it).
    bool add(std::uint64_t id, const std::shared_ptr<HttpSession>& session);
    /// Unregisters a closed session; runs on_drained when it was the last during shutdown.
    void remove(std::uint64_t id);
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(Socket socket, std::shared_ptr<ServerShared> shared, std::uint64_t id);
    ~HttpSession();

    /// Starts reading (posts onto the strand).
    void start();
    /// Thread-safe: stop taking requests, finish in-flight ones, end SSE streams, then close.
    void begin_shutdown();
    /// Thread-safe: close now.
    void force_close();

    [[nodiscard]] Strand executor() { return socket_.get_executor(); }
    [[nodiscard]] const ServerLimits& limits() const noexcept { return shared_->limits; }

    // Strand-only notifications from ResponseWriterImpl / SseStreamImpl (they post these).
    void deliver(const std::shared_ptr<Exchange>& ex, Response response);
    void begin_sse(const std::shared_ptr<Exchange>& ex, unsigned status, Headers headers);
    void on_sse_activity(const std::shared_ptr<Exchange>& ex);
    void abandon(const std::shared_ptr<Exchange>& ex);

private:
    using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
    using TimePoint = std::chrono::steady_clock::time_point;
    enum class ReadPhase { none, idle, header, body };

    // Reading (http_session.cpp).
    void do_read();
    void on_read(boost::system::error_code ec, std::size_t n);
    void process_input();
    bool check_header();
    void dispatch_request();
    void reject(unsigned status, std::string_view code, std::string message);
    void on_eof();
    void update_read_deadline();

    // Writing (http_session_write.cpp).
    void maybe_write();
    std::size_t serialize_response(Exchange& ex);
    void serialize_sse_head(Exchange& ex);
    bool serialize_sse_events(Exchange& ex);
    void on_write(boost::system::error_code ec, std::size_t n);
    void report(const Exchange& ex, bool client_gone);
    void maybe_finish();

    // Lifecycle and deadlines (http_session.cpp).
    void arm_timer();
    void on_timer(boost::system::error_code ec, std::uint64_t generation);
    void on_read_timeout();
    void begin_linger();
    void close_now();
    void do_begin_shutdown();
    [[nodiscard]] bool partial_request() const;

    Socket socket_;
    std::shared_ptr<ServerShared> shared_;
    std::uint64_t id_;
    std::string remote_;
    boost::beast::flat_buffer buffer_;
    std::optional<Parser> parser_;
    bool header_checked_ = false;
    std::uint64_t request_bytes_ = 0;

    std::deque<std::shared_ptr<Exchange>> pending_;   ///< dispatched, response not yet written
    std::vector<std::shared_ptr<Exchange>> finished_; ///< completed by the write in flight
    std::vector<std::string> out_strings_;
    std::vector<net::const_buffer> out_buffers_;

    Timer timer_;
    TimePoint read_deadline_ = TimePoint::max();
    TimePoint write_deadline_ = TimePoint::max();
    TimePoint heartbeat_at_ = TimePoint::max();
    TimePoint timer_at_ = TimePoint::max();
    std::uint64_t timer_generation_ = 0;
    bool timer_armed_ = false;
    ReadPhase phase_ = ReadPhase::none;

    bool started_ = false;
    bool reading_ = false;
    bool writing_ = false;
    bool read_closed_ = false;       ///< no further requests are read
    bool close_after_write_ = false; ///< close once the queue is written
    bool lingering_ = false;         ///< write side shut, draining input before close
    bool closed_ = false;
    bool shutting_down_ = false;
    bool continue_wanted_ = false; ///< send "100 Continue" once earlier responses are out
    bool heartbeat_due_ = false;
    bool eof_ = false;
    bool linger_needed_ = false; ///< a rejected request: the client may still be sending
    std::uint64_t lingered_bytes_ = 0;
};

} // namespace agentd::gateway::http
