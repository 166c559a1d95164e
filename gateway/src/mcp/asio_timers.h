#pragma once
/// protocols::mcp::Timers on an Asio io_context: each timer is a steady_timer on its own strand,
/// so cancel() from any thread is safe. Callbacks run on the io_context's threads; an exception
/// escaping one is caught and logged (it never unwinds out of io_context::run()).
///
/// Ownership: shared; pending timers keep what they need alive. The io_context must outlive the
/// timers' completion (the App stops its threads before destroying kept objects).
/// Thread-safety: schedule() and TimerHandle::cancel() are thread-safe.

#include "agentd/protocols/mcp/types.h"

#include <memory>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace agentd::gateway::mcp {

class AsioTimers final : public protocols::mcp::Timers {
public:
    explicit AsioTimers(boost::asio::io_context& io) : io_(io) {}
    std::shared_ptr<protocols::mcp::TimerHandle> schedule(std::chrono::milliseconds delay,
                                                          std::function<void()> callback) override;

private:
    boost::asio::io_context& io_;
};

} // namespace agentd::gateway::mcp
