#pragma once
/// A cancellation flag with callbacks, passed with every tool call: the caller cancels (MCP
/// notifications/cancelled, client gone, shutdown); executors check it or register a callback
/// that aborts their in-flight work (close a socket, kill a process).
///
/// Ownership: shared (the caller and the running work). Thread-safety: every member is
/// thread-safe. Callbacks run exactly once, on the thread that calls cancel() (or at once, on
/// the registering thread, when already cancelled); they must be quick and must not block.
/// No errors.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace agentd::tools {

class CancellationSignal {
public:
    using CallbackId = std::uint64_t;

    /// Sets the flag and runs the registered callbacks (once; later calls do nothing).
    void cancel();
    [[nodiscard]] bool cancelled() const noexcept {
        return cancelled_.load(std::memory_order_acquire);
    }
    /// Registers `callback`; runs it now when already cancelled (and returns 0).
    CallbackId on_cancel(std::function<void()> callback);
    /// Unregisters a callback that has not run. Safe to call with ids that already ran.
    void remove(CallbackId id);

private:
    std::mutex mutex_;
    std::atomic<bool> cancelled_{false};
    CallbackId next_id_ = 1;
    std::vector<std::pair<CallbackId, std::function<void()>>> callbacks_;
};

} // namespace agentd::tools
