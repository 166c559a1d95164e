#pragma once
/// The running gateway: owns the config, the io_context and its I/O threads, the blocking pool,
/// the router, metrics, auth and the HTTP server, and registers every route module
/// (route_modules.cpp) before accepting connections.
///
/// Start-up (constructor): raise the open-file limit, bind the listen address (refusing
/// non-loopback addresses when no API keys are configured), register routes. run() serves until
/// SIGTERM/SIGINT or request_stop(), then shuts down gracefully (STYLE.md 2.5): readiness goes
/// 503, the listener closes, modules' shutdown callbacks run, connections finish within
/// `server.shutdown_grace_ms` (SSE streams end cleanly), then the rest is closed, the threads
/// are joined and run() returns 0. A second signal skips the grace period.
///
/// Ownership: App owns everything it creates; modules' objects live in AppContext::keep().
/// Thread affinity: construct, run() and destroy on one thread; request_stop() and
/// listen_address() are thread-safe. Errors: the constructor throws (config::ConfigError or
/// std::runtime_error) on start-up failures.

#include "app/app_context.h"
#include "config/config.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace agentd::gateway::app {

struct AppOptions {
    bool handle_signals = true; ///< install SIGTERM/SIGINT handling in run()
    /// Extra route registrations after the built-in modules (tests register probe routes).
    std::vector<std::function<void(AppContext&)>> extra_routes;
};

class App {
public:
    explicit App(config::Config config, AppOptions options = {});
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    /// "HOST:PORT" actually bound (the real port when port 0 was asked for).
    [[nodiscard]] std::string listen_address() const;
    [[nodiscard]] std::uint16_t port() const;

    /// Serves until stopped; returns the exit status (0 after a graceful stop).
    int run();
    /// Begins graceful shutdown, as SIGTERM does. Thread-safe; later calls force it.
    void request_stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace agentd::gateway::app
