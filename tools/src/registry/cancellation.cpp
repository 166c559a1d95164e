#include "agentd/tools/cancellation.h"

#include <utility>

namespace agentd::tools {

void CancellationSignal::cancel() {
    std::vector<std::pair<CallbackId, std::function<void()>>> run;
    {
        const std::lock_guard lock(mutex_);
        if (cancelled_.exchange(true, std::memory_order_acq_rel)) {
            return;
        }
        run.swap(callbacks_);
    }
    for (auto& [id, callback] : run) {
        callback();
    }
}

CancellationSignal::CallbackId CancellationSignal::on_cancel(std::function<void()> callback) {
    {
        const std::lock_guard lock(mutex_);
        if (!cancelled_.load(std::memory_order_acquire)) {
            const CallbackId id = next_id_++;
            callbacks_.emplace_back(id, std::move(callback));
            return id;
        }
    }
    callback();
    return 0;
}

void CancellationSignal::remove(CallbackId id) {
    const std::lock_guard lock(mutex_);
    std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
}

} // namespace agentd::tools
