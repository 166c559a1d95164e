#include "app/app.h"

#include "app/request_pipeline.h"
#include "app/route_modules.h"
#include "http/origin_guard.h"
#include "http/route_table.h"
#include "http/server.h"
#include "log/logging.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <csignal>
#include <optional>
#include <sys/resource.h>
#include <thread>

namespace agentd::gateway::app {
namespace net = boost::asio;

namespace {

/// Raises the soft open-file limit to the hard one and keeps max_connections below it (each
/// connection is a descriptor; the process needs some for files, SQLite, pipes and sandboxes).
void fit_connection_limit(http::ServerLimits& limits) {
    constexpr rlim_t kReserve = 128;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit raised = rl;
        raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            rl = raised;
        }
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > kReserve &&
        limits.max_connections > rl.rlim_cur - kReserve) {
        const auto fitted = static_cast<std::size_t>(rl.rlim_cur - kReserve);
        log::log_event(log::Level::warn,
                       "server.max_connections lowered to fit the open-file limit",
                       {{"configured", limits.max_connections}, {"effective", fitted}});
        limits.max_connections = fitted;
    }
}

} // namespace

struct App::Impl {
    config::Config config;
    AppOptions options;
    net::io_context io;
    net::thread_pool blocking;
    metrics::Registry metrics;
    Readiness readiness;
    auth::Authenticator auth;
    http::RouteTable routes;
    RequestPipeline pipeline;
    std::unique_ptr<http::Server> server;
    std::unique_ptr<http::OriginPolicy> origin;
    std::unique_ptr<AppContext> context;
    http::BoundAddress bound;
    /// Serializes the App's own control flow (signals, shutdown, grace timer, drained).
    net::strand<net::io_context::executor_type> control;
    std::optional<net::basic_signal_set<net::strand<net::io_context::executor_type>>> signals;
    net::basic_waitable_timer<std::chrono::steady_clock,
                              net::wait_traits<std::chrono::steady_clock>,
                              net::strand<net::io_context::executor_type>>
        grace_timer;
    net::executor_work_guard<net::io_context::executor_type> work;
    bool shutting_down = false; // control strand only

    Impl(config::Config c, AppOptions o)
        : config(std::move(c)), options(std::move(o)), io(static_cast<int>(config.io_threads)),
          blocking(config.blocking_threads), auth(config.api_keys),
          pipeline(routes, auth, metrics, config.access_log), control(net::make_strand(io)),
          grace_timer(control), work(io.get_executor()) {}

    void begin_shutdown();
    void on_drained();
    void wait_signal();
    void run_io();
};

void App::Impl::wait_signal() {
    signals->async_wait([this](boost::system::error_code ec, int signo) {
        if (ec) {
            return;
        }
        log::log_event(log::Level::info, "signal received", {{"signal", signo}});
        begin_shutdown();
        wait_signal();
    });
}

void App::Impl::begin_shutdown() {
    if (shutting_down) {
        log::log_event(log::Level::warn, "stop requested again; closing connections now",
                       {{"open_connections", server->open_connections()}});
        server->force_close();
        return;
    }
    shutting_down = true;
    log::log_event(log::Level::info, "shutting down",
                   {{"grace_ms", static_cast<long long>(config.shutdown_grace.count())},
                    {"open_connections", server->open_connections()}});
    readiness.set_shutting_down();
    for (auto& callback : context->shutdown_callbacks_for_app()) {
        try {
            callback();
        } catch (const std::exception& e) {
            log::log_event(log::Level::error, "shutdown callback failed", {{"error", e.what()}});
        }
    }
    server->shutdown([this] { net::post(control, [this] { on_drained(); }); });
    grace_timer.expires_after(config.shutdown_grace);
    grace_timer.async_wait([this](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        log::log_event(log::Level::warn, "shutdown grace period over; closing connections",
                       {{"open_connections", server->open_connections()}});
        server->force_close();
    });
}

void App::Impl::on_drained() {
    grace_timer.cancel();
    if (signals) {
        boost::system::error_code ec;
        signals->cancel(ec);
    }
    work.reset();
    log::log_event(log::Level::info, "all connections closed", {});
    io.stop();
}

void App::Impl::run_io() {
    for (;;) {
        try {
            io.run();
            return;
        } catch (const std::exception& e) {
            // A handler broke the no-throw rule; keep serving the other connections.
            log::log_event(log::Level::critical, "exception escaped an I/O handler",
                           {{"error", e.what()}});
        }
    }
}

App::App(config::Config config, AppOptions options)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options))) {
    Impl& m = *impl_;
    fit_connection_limit(m.config.limits);
    m.server = std::make_unique<http::Server>(m.io, m.config.limits, m.pipeline);
    m.bound = m.server->listen(m.config.listen.host, m.config.listen.port);
    if (!m.auth.enabled() && !m.bound.loopback) {
        throw config::ConfigError(
            "refusing to listen on " + m.bound.to_string() +
            " without API keys: anyone who can reach it would act as the local tenant. Configure "
            "auth.keys in --config (docs/CONFIG.md) or listen on a loopback address such as "
            "127.0.0.1");
    }
    m.origin = std::make_unique<http::OriginPolicy>(m.bound.host, m.config.allowed_hosts,
                                                    m.config.allowed_origins);
    m.context = std::make_unique<AppContext>(m.config, m.io, m.blocking, m.routes, m.metrics,
                                             m.readiness, m.auth, *m.origin);
    for (const auto& module : route_modules()) {
        try {
            module.register_routes(*m.context);
        } catch (const std::exception& e) {
            throw std::runtime_error("starting " + std::string(module.name) + ": " + e.what());
        }
    }
    for (const auto& extra : m.options.extra_routes) {
        extra(*m.context);
    }
    m.routes.freeze();
    m.metrics.gauge("agentd_process_start_time_seconds", "Start time since the Unix epoch.")
        .set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                 .count());
    m.metrics.gauge_family("agentd_build_info", "Build information.", {"version"})
        .with({"0.1.0"})
        .set(1);
    if (m.options.handle_signals) {
        // Installed before the caller announces the address, so that a SIGTERM sent as soon as
        // "listening on" appears is already a graceful stop (delivered once run() starts).
        m.signals.emplace(m.control, SIGINT, SIGTERM);
        m.wait_signal();
    }
}

App::~App() {
    if (!impl_) {
        return;
    }
    // Stop order: no more I/O, no more blocking jobs, then the modules' objects (which may
    // hold writers/streams of closed connections), then the rest; the io_context goes last.
    impl_->io.stop();
    impl_->blocking.join();
    if (impl_->context) {
        auto& kept = impl_->context->kept_for_app();
        while (!kept.empty()) {
            kept.pop_back();
        }
    }
}

std::string App::listen_address() const {
    return impl_->bound.to_string();
}

std::uint16_t App::port() const {
    return impl_->bound.port;
}

int App::run() {
    Impl& m = *impl_;
    m.server->start();
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < m.config.io_threads; ++i) {
        threads.emplace_back([&m] { m.run_io(); });
    }
    m.run_io();
    for (auto& t : threads) {
        t.join();
    }
    m.blocking.join();
    return 0;
}

void App::request_stop() {
    net::post(impl_->control, [m = impl_.get()] { m->begin_shutdown(); });
}

} // namespace agentd::gateway::app
