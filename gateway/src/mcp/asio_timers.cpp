#include "mcp/asio_timers.h"

#include "log/logging.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <exception>

namespace agentd::gateway::mcp {
namespace net = boost::asio;

namespace {

class AsioTimer final : public protocols::mcp::TimerHandle,
                        public std::enable_shared_from_this<AsioTimer> {
public:
    explicit AsioTimer(net::io_context& io) : strand_(net::make_strand(io)), timer_(strand_) {}

    void start(std::chrono::milliseconds delay, std::function<void()> callback) {
        net::post(strand_, [self = shared_from_this(), delay, cb = std::move(callback)]() mutable {
            self->timer_.expires_after(delay);
            self->timer_.async_wait(
                [self, cb = std::move(cb)](const boost::system::error_code& ec) {
                    if (ec || self->cancelled_.load(std::memory_order_acquire)) {
                        return;
                    }
                    try {
                        cb();
                    } catch (const std::exception& e) {
                        log::log_event(log::Level::error, "mcp timer callback failed",
                                       {{"error", e.what()}});
                    } catch (...) {
                        log::log_event(log::Level::error, "mcp timer callback failed", {});
                    }
                });
        });
    }

    void cancel() override {
        if (cancelled_.exchange(true, std::memory_order_acq_rel)) {
            return;
        }
        net::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
    }

private:
    net::strand<net::io_context::executor_type> strand_;
    net::steady_timer timer_;
    std::atomic<bool> cancelled_{false};
};

} // namespace

std::shared_ptr<protocols::mcp::TimerHandle> AsioTimers::schedule(std::chrono::milliseconds delay,
                                                                  std::function<void()> callback) {
    auto timer = std::make_shared<AsioTimer>(io_);
    timer->start(delay, std::move(callback));
    return timer;
}

} // namespace agentd::gateway::mcp
