#pragma once
// An App (the real server, pipeline, auth and metrics) running in this process on a free
// loopback port, with extra probe routes registered by the test. run() executes on a background
// thread; stop() requests the graceful shutdown SIGTERM would start and returns run()'s status.

#include "agentd/test/env.h"

#include "app/app.h"
#include "config/config.h"
#include "log/logging.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace agentd::gateway::testing {

inline config::Config test_config() {
    config::Config c;
    c.listen.host = "127.0.0.1";
    c.listen.port = 0;
    c.data_dir = agentd::test::make_temp_dir("inproc");
    c.access_log = false;
    c.shutdown_grace = std::chrono::milliseconds(10'000);
    return c;
}

class InProcessServer {
public:
    explicit InProcessServer(config::Config config,
                             std::function<void(app::AppContext&)> routes = {}) {
        log::init_logging(log::Level::warn, log::Format::text);
        data_dir_ = config.data_dir;
        app::AppOptions options;
        options.handle_signals = false;
        if (routes) {
            options.extra_routes.push_back(std::move(routes));
        }
        app_ = std::make_unique<app::App>(std::move(config), std::move(options));
        auto done = std::make_shared<std::promise<int>>();
        result_ = done->get_future();
        thread_ = std::thread([this, done] { done->set_value(app_->run()); });
    }

    ~InProcessServer() {
        if (thread_.joinable()) {
            app_->request_stop();
            app_->request_stop(); // second request: skip the grace period
            thread_.join();
        }
        // Writers and streams the test still holds must be released while the io_context
        // lives (like any Asio object, they must not outlive it).
        for (auto& f : teardown_) {
            f();
        }
        app_.reset();
        std::error_code ec;
        std::filesystem::remove_all(data_dir_, ec);
    }

    [[nodiscard]] std::uint16_t port() const { return app_->port(); }
    /// Runs `f` after the server stopped and before it is destroyed (release held writers).
    void add_teardown(std::function<void()> f) { teardown_.push_back(std::move(f)); }
    app::App& app() { return *app_; }

    /// Requests a graceful stop and waits (bounded) for run() to return its status; -1 if it
    /// did not return within `timeout`.
    int stop(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
        app_->request_stop();
        if (result_.wait_for(timeout) != std::future_status::ready) {
            return -1;
        }
        thread_.join();
        return result_.get();
    }

    /// Waits for run() to return after a stop requested elsewhere.
    int wait(std::chrono::milliseconds timeout) {
        if (result_.wait_for(timeout) != std::future_status::ready) {
            return -1;
        }
        thread_.join();
        return result_.get();
    }

private:
    std::filesystem::path data_dir_;
    std::unique_ptr<app::App> app_;
    std::future<int> result_;
    std::thread thread_;
    std::vector<std::function<void()>> teardown_;
};

} // namespace agentd::gateway::testing
