#include "bench/load_generator.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace agentd::gateway::bench {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

Url parse_http_url(const std::string& text) {
    constexpr std::string_view kScheme = "http://";
    if (text.rfind(kScheme, 0) != 0) {
        throw std::runtime_error("--url must start with http:// (got \"" + text + "\")");
    }
    std::string rest = text.substr(kScheme.size());
    Url url;
    const auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    url.target = slash == std::string::npos ? "/" : rest.substr(slash);
    std::string port = "80";
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string::npos) {
            throw std::runtime_error("--url: malformed IPv6 host");
        }
        url.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':') {
            port = authority.substr(close + 2);
        }
    } else {
        const auto colon = authority.rfind(':');
        url.host = authority.substr(0, colon);
        if (colon != std::string::npos) {
            port = authority.substr(colon + 1);
        }
    }
    if (url.host.empty() || port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
        throw std::runtime_error("--url: expected http://HOST:PORT/PATH (got \"" + text + "\")");
    }
    url.port = static_cast<std::uint16_t>(std::stoul(port));
    return url;
}

namespace {

/// What all connections share: the request budget and the stop time.
struct Shared {
    explicit Shared(const LoadOptions& o) : options(o) {}
    const LoadOptions& options;
    tcp::endpoint endpoint;
    std::atomic<std::uint64_t> issued{0};
    std::atomic<std::uint64_t> next_id{1};
    std::atomic<std::int64_t> measure_start_ns{0}; ///< when the first measured request began
    Clock::time_point deadline = Clock::time_point::max();
    std::uint64_t budget = 0; ///< warmup + measured (count mode)
    std::mutex error_mutex;
    std::string first_error;

    void note_error(const std::string& e) {
        std::lock_guard lock(error_mutex);
        if (first_error.empty()) {
            first_error = e;
        }
    }
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(net::io_context& io, Shared& shared)
        : stream_(net::make_strand(io)), shared_(shared) {}

    void start() { do_connect(); }

    std::vector<std::uint32_t> latencies_us; ///< measured requests
    std::size_t errors = 0;
    std::size_t measured = 0;

private:
    enum class Step { initialize, initialized, call };

    void do_connect() {
        session_id_.clear();
        step_ = shared_.options.mcp_session && !shared_.options.plain_get ? Step::initialize
                                                                          : Step::call;
        stream_.expires_after(std::chrono::seconds(10));
        stream_.async_connect(shared_.endpoint, beast::bind_front_handler(&Connection::on_connect,
                                                                          shared_from_this()));
    }

    void on_connect(beast::error_code ec) {
        if (ec) {
            return fail("connect: " + ec.message(), /*reconnect=*/false);
        }
        beast::error_code ignored;
        stream_.socket().set_option(tcp::no_delay(true), ignored);
        send_next();
    }

    void send_next() {
        std::uint64_t index = 0;
        if (step_ == Step::call) {
            if (Clock::now() >= shared_.deadline) {
                return close();
            }
            index = shared_.issued.fetch_add(1, std::memory_order_relaxed);
            if (shared_.budget != 0 && index >= shared_.budget) {
                return close();
            }
            measuring_ = index >= shared_.options.warmup;
            if (index == shared_.options.warmup) {
                shared_.measure_start_ns.store(Clock::now().time_since_epoch().count(),
                                               std::memory_order_relaxed);
            }
        }
        request_ = {};
        if (shared_.options.plain_get) {
            request_.method(bhttp::verb::get);
            request_.target(shared_.options.url.target);
            request_.version(11);
            request_.set(bhttp::field::host, shared_.options.url.host);
            started_ = Clock::now();
            stream_.expires_after(std::chrono::seconds(30));
            bhttp::async_write(
                stream_, request_,
                beast::bind_front_handler(&Connection::on_write, shared_from_this()));
            return;
        }
        request_.method(bhttp::verb::post);
        request_.target(shared_.options.url.target);
        request_.version(11);
        request_.set(bhttp::field::host,
                     shared_.options.url.host + ":" + std::to_string(shared_.options.url.port));
        request_.set(bhttp::field::content_type, "application/json");
        request_.set(bhttp::field::accept, "application/json, text/event-stream");
        if (step_ != Step::initialize && shared_.options.mcp_session) {
            request_.set("MCP-Protocol-Version", shared_.options.protocol_version);
        }
        if (!session_id_.empty()) {
            request_.set("Mcp-Session-Id", session_id_);
        }
        const std::uint64_t id = shared_.next_id.fetch_add(1, std::memory_order_relaxed);
        if (step_ == Step::initialize) {
            request_.body() = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
                              R"(,"method":"initialize","params":{"protocolVersion":")" +
                              shared_.options.protocol_version +
                              R"(","capabilities":{},"clientInfo":{"name":"agentd-bench",)"
                              R"("version":"0.1.0"}}})";
        } else if (step_ == Step::initialized) {
            request_.body() = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";
        } else {
            request_.body() = shared_.options.body(id);
        }
        request_.prepare_payload();
        started_ = Clock::now();
        stream_.expires_after(std::chrono::seconds(30));
        bhttp::async_write(stream_, request_,
                           beast::bind_front_handler(&Connection::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) {
            return fail("write: " + ec.message(), true);
        }
        response_ = {};
        bhttp::async_read(stream_, buffer_, response_,
                          beast::bind_front_handler(&Connection::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) {
            return fail("read: " + ec.message(), true);
        }
        const auto elapsed = Clock::now() - started_;
        const unsigned status = response_.result_int();
        const std::string& body = response_.body();
        if (step_ == Step::initialize) {
            if (status != 200) {
                return fail("initialize: HTTP " + std::to_string(status) + " " + body, false);
            }
            session_id_ = std::string(response_["Mcp-Session-Id"]);
            step_ = Step::initialized;
        } else if (step_ == Step::initialized) {
            if (status != 202 && status != 200) {
                return fail("notifications/initialized: HTTP " + std::to_string(status), false);
            }
            step_ = Step::call;
        } else {
            const bool ok = shared_.options.plain_get
                                ? status == 200
                                : status == 200 && body.find("\"result\"") != std::string::npos &&
                                      body.find("\"isError\":true") == std::string::npos;
            if (measuring_) {
                ++measured;
                if (ok) {
                    latencies_us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(
                        std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(),
                        UINT32_MAX)));
                } else {
                    ++errors;
                }
            }
            if (!ok) {
                shared_.note_error("tools/call: HTTP " + std::to_string(status) + " " +
                                   body.substr(0, 200));
            }
        }
        if (!response_.keep_alive()) {
            beast::error_code ignored;
            stream_.socket().close(ignored);
            buffer_.clear();
            return do_connect();
        }
        send_next();
    }

    void fail(const std::string& what, bool reconnect) {
        shared_.note_error(what);
        if (measuring_ && step_ == Step::call) {
            ++measured;
            ++errors;
        }
        beast::error_code ignored;
        stream_.socket().close(ignored);
        buffer_.clear();
        // A broken connection is re-established while the run lasts; setup failures stop it.
        if (reconnect && errors < 1000) {
            do_connect();
        }
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    Shared& shared_;
    beast::flat_buffer buffer_;
    bhttp::request<bhttp::string_body> request_;
    bhttp::response<bhttp::string_body> response_;
    std::string session_id_;
    Step step_ = Step::call;
    bool measuring_ = false;
    Clock::time_point started_;
};

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
    if (sorted.empty()) {
        return 0.0;
    }
    const auto rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(rank, sorted.size() - 1)] / 1000.0;
}

} // namespace

LoadResult run_load(const LoadOptions& options) {
    net::io_context io(static_cast<int>(options.threads));
    Shared shared(options);
    {
        tcp::resolver resolver(io);
        const auto results = resolver.resolve(options.url.host, std::to_string(options.url.port));
        shared.endpoint = results.begin()->endpoint();
    }
    shared.budget = options.duration.count() > 0 ? 0 : options.warmup + options.requests;
    std::vector<std::shared_ptr<Connection>> connections;
    for (std::size_t i = 0; i < options.concurrency; ++i) {
        connections.push_back(std::make_shared<Connection>(io, shared));
    }
    const auto start = Clock::now();
    if (options.duration.count() > 0) {
        shared.deadline = start + options.duration;
    }
    for (auto& c : connections) {
        c->start();
    }
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < options.threads; ++i) {
        threads.emplace_back([&io] { io.run(); });
    }
    io.run();
    for (auto& t : threads) {
        t.join();
    }
    const auto end = Clock::now();
    const std::int64_t measured_from = shared.measure_start_ns.load();
    const auto from =
        measured_from != 0 ? Clock::time_point(Clock::duration(measured_from)) : start;
    const double seconds = std::chrono::duration<double>(end - from).count();

    LoadResult r;
    r.concurrency = options.concurrency;
    std::vector<std::uint32_t> all;
    for (const auto& c : connections) {
        all.insert(all.end(), c->latencies_us.begin(), c->latencies_us.end());
        r.errors += c->errors;
        r.requests += c->measured;
    }
    std::sort(all.begin(), all.end());
    r.seconds = seconds;
    r.requests_per_s = seconds > 0 ? static_cast<double>(r.requests) / seconds : 0.0;
    r.p50_ms = percentile(all, 0.50);
    r.p90_ms = percentile(all, 0.90);
    r.p99_ms = percentile(all, 0.99);
    r.max_ms = all.empty() ? 0.0 : all.back() / 1000.0;
    r.first_error = shared.first_error;
    return r;
}

} // namespace agentd::gateway::bench
