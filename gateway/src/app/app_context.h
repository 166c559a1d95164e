#pragma once
/// What a route module gets when the App registers it (see route_modules.cpp): the config, the
/// executors, the router, metrics, readiness, auth and the DNS-rebinding policy, plus a place to
/// keep the objects its handlers use and a way to hear about shutdown.
///
/// Ownership: the App owns everything referenced here and outlives every handler. Objects passed
/// to keep() are destroyed after the I/O threads and the blocking pool have stopped, in reverse
/// order of keeping, before the io_context. Thread affinity: registration runs on the main thread
/// before the server accepts connections; io() and blocking() are thread-safe executors.
/// Errors: a module throws (start-up) when it cannot start; the App reports it and exits 1.

#include "app/readiness.h"
#include "auth/authenticator.h"
#include "config/config.h"
#include "http/handler.h"
#include "http/origin_guard.h"
#include "metrics/registry.h"

#include <functional>
#include <memory>
#include <vector>

namespace boost::asio {
class io_context;
class thread_pool;
} // namespace boost::asio

namespace agentd::gateway::app {

class AppContext {
public:
    AppContext(const config::Config& config, boost::asio::io_context& io,
               boost::asio::thread_pool& blocking, http::Router& router, metrics::Registry& metrics,
               Readiness& readiness, const auth::Authenticator& auth,
               const http::OriginPolicy& origin_policy)
        : config_(config), io_(io), blocking_(blocking), router_(router), metrics_(metrics),
          readiness_(readiness), auth_(auth), origin_policy_(origin_policy) {}

    [[nodiscard]] const config::Config& config() const { return config_; }
    /// The I/O executor (network work; never block on it).
    [[nodiscard]] boost::asio::io_context& io() const { return io_; }
    /// The pool for blocking work (SQLite, sandbox spawn/wait, files); post results back.
    [[nodiscard]] boost::asio::thread_pool& blocking() const { return blocking_; }
    [[nodiscard]] http::Router& router() const { return router_; }
    [[nodiscard]] metrics::Registry& metrics() const { return metrics_; }
    [[nodiscard]] Readiness& readiness() const { return readiness_; }
    [[nodiscard]] const auth::Authenticator& auth() const { return auth_; }
    /// Host/Origin validation for browser-reachable routes (/mcp must call it).
    [[nodiscard]] const http::OriginPolicy& origin_policy() const { return origin_policy_; }

    /// Keeps `object` alive for the App's lifetime and returns it.
    template <class T>
    T& keep(std::unique_ptr<T> object) {
        T& ref = *object;
        kept_.emplace_back(std::shared_ptr<T>(std::move(object)));
        return ref;
    }
    /// Runs `callback` on an I/O thread when graceful shutdown begins (before connections are
    /// drained): cancel engine work, end subscriptions. Must not block.
    void on_shutdown(std::function<void()> callback) {
        shutdown_callbacks_.push_back(std::move(callback));
    }

    /// App side: the kept objects and shutdown callbacks.
    std::vector<std::shared_ptr<void>>& kept_for_app() { return kept_; }
    std::vector<std::function<void()>>& shutdown_callbacks_for_app() { return shutdown_callbacks_; }

private:
    const config::Config& config_;
    boost::asio::io_context& io_;
    boost::asio::thread_pool& blocking_;
    http::Router& router_;
    metrics::Registry& metrics_;
    Readiness& readiness_;
    const auth::Authenticator& auth_;
    const http::OriginPolicy& origin_policy_;
    std::vector<std::shared_ptr<void>> kept_;
    std::vector<std::function<void()>> shutdown_callbacks_;
};

/// A route module's registration function.
using RouteModule = void (*)(AppContext& context);

} // namespace agentd::gateway::app
