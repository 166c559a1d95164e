#include "http/server.h"

#include "http/http_session.h"
#include "http/wire.h"
#include "log/logging.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include <cerrno>
#include <stdexcept>

namespace agentd::gateway::http {
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

/// Accepts connections and hands each to a new HttpSession on its own strand.
class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& io, std::shared_ptr<ServerShared> shared)
        : io_(io), shared_(std::move(shared)), strand_(net::make_strand(io)), acceptor_(strand_),
          backoff_(strand_) {}

    BoundAddress listen(const std::string& host, std::uint16_t port) {
        boost::system::error_code ec;
        tcp::resolver resolver(io_);
        const auto results =
            resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
        if (ec || results.empty()) {
            throw std::runtime_error("cannot resolve listen host \"" + host +
                                     "\": " + (ec ? ec.message() : "no addresses"));
        }
        // Prefer IPv4 for names like "localhost" that resolve to both.
        tcp::endpoint endpoint = results.begin()->endpoint();
        for (const auto& r : results) {
            if (r.endpoint().address().is_v4()) {
                endpoint = r.endpoint();
                break;
            }
        }
        const auto what = [&](const char* step) {
            return std::string("cannot listen on ") + host + ":" + std::to_string(port) + " (" +
                   step + "): " + ec.message();
        };
        acceptor_.open(endpoint.protocol(), ec);
        if (ec) {
            throw std::runtime_error(what("open"));
        }
        acceptor_.set_option(net::socket_base::reuse_address(true), ec);
        acceptor_.bind(endpoint, ec);
        if (ec) {
            throw std::runtime_error(what("bind"));
        }
        acceptor_.listen(net::socket_base::max_listen_connections, ec);
        if (ec) {
            throw std::runtime_error(what("listen"));
        }
        const auto local = acceptor_.local_endpoint(ec);
        BoundAddress bound;
        bound.host = local.address().to_string();
        bound.port = local.port();
        bound.loopback = local.address().is_loopback();
        return bound;
    }

    void start() {
        net::post(strand_, [self = shared_from_this()] { self->do_accept(); });
    }

    void stop() {
        net::post(strand_, [self = shared_from_this()] {
            boost::system::error_code ec;
            self->stopped_ = true;
            self->backoff_.cancel();
            self->acceptor_.close(ec);
        });
    }

private:
    void do_accept() {
        if (stopped_) {
            return;
        }
        acceptor_.async_accept(net::make_strand(io_),
                               beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void on_accept(boost::system::error_code ec, Socket socket) {
        if (stopped_ || ec == net::error::operation_aborted) {
            return;
        }
        if (ec) {
            const int e = ec.value();
            if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
                // Out of descriptors or memory: pause instead of spinning on the error.
                log::log_event(log::Level::warn, "accept failed; pausing",
                               {{"error", ec.message()}});
                backoff_.expires_after(std::chrono::milliseconds(50));
                backoff_.async_wait([self = shared_from_this()](boost::system::error_code e2) {
                    if (!e2) {
                        self->do_accept();
                    }
                });
                return;
            }
            log::log_event(log::Level::debug, "accept failed", {{"error", ec.message()}});
            do_accept();
            return;
        }
        if (shared_->open.load(std::memory_order_relaxed) >= shared_->limits.max_connections) {
            reject(std::move(socket));
        } else {
            shared_->open.fetch_add(1, std::memory_order_relaxed);
            std::make_shared<HttpSession>(std::move(socket), shared_, ++next_id_)->start();
        }
        do_accept();
    }

    /// Over the connection limit: a best-effort 503 without blocking, then close.
    void reject(Socket socket) {
        shared_->hooks->on_connection_rejected();
        Response r = Response::error(503, "too_many_connections",
                                     "the server is at its connection limit; retry later");
        r.headers.add("Retry-After", "1");
        wire::HeadOptions options;
        options.close = true;
        options.content_length = r.body.size();
        std::string bytes;
        wire::append_head(bytes, r, options);
        bytes.append(r.body);
        boost::system::error_code ec;
        socket.non_blocking(true, ec);
        socket.write_some(net::buffer(bytes), ec);
        socket.shutdown(tcp::socket::shutdown_send, ec);
        socket.close(ec);
    }

    net::io_context& io_;
    std::shared_ptr<ServerShared> shared_;
    Strand strand_;
    net::basic_socket_acceptor<tcp, Strand> acceptor_;
    Timer backoff_;
    bool stopped_ = false;
    std::uint64_t next_id_ = 0;
};

} // namespace

std::string BoundAddress::to_string() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

struct Server::Impl {
    net::io_context& io;
    std::shared_ptr<ServerShared> shared;
    std::shared_ptr<Listener> listener;
};

Server::Server(net::io_context& io, ServerLimits limits, ServerHooks& hooks)
    : impl_(std::make_unique<Impl>(Impl{io, std::make_shared<ServerShared>(), nullptr})) {
    impl_->shared->limits = limits;
    impl_->shared->hooks = &hooks;
    impl_->listener = std::make_shared<Listener>(io, impl_->shared);
}

Server::~Server() = default;

BoundAddress Server::listen(const std::string& host, std::uint16_t port) {
    return impl_->listener->listen(host, port);
}

void Server::start() {
    impl_->listener->start();
}

void Server::shutdown(std::function<void()> on_drained) {
    impl_->listener->stop();
    std::vector<std::shared_ptr<HttpSession>> sessions;
    bool drained_now = false;
    {
        std::lock_guard lock(impl_->shared->mutex);
        impl_->shared->shutting_down = true;
        for (auto& [id, weak] : impl_->shared->sessions) {
            if (auto s = weak.lock()) {
                sessions.push_back(std::move(s));
            }
        }
        if (impl_->shared->sessions.empty()) {
            drained_now = true;
        } else {
            impl_->shared->on_drained = std::move(on_drained);
        }
    }
    if (drained_now && on_drained) {
        net::post(impl_->io, std::move(on_drained));
    }
    for (auto& s : sessions) {
        s->begin_shutdown();
    }
}

void Server::force_close() {
    std::vector<std::shared_ptr<HttpSession>> sessions;
    {
        std::lock_guard lock(impl_->shared->mutex);
        for (auto& [id, weak] : impl_->shared->sessions) {
            if (auto s = weak.lock()) {
                sessions.push_back(std::move(s));
            }
        }
    }
    for (auto& s : sessions) {
        s->force_close();
    }
}

std::size_t Server::open_connections() const noexcept {
    return impl_->shared->open.load(std::memory_order_relaxed);
}

} // namespace agentd::gateway::http
