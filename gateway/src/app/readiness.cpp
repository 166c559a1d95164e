#include "app/readiness.h"

namespace agentd::gateway::app {

void Readiness::add(std::string name, std::function<std::string()> check) {
    std::lock_guard lock(mutex_);
    checks_.emplace_back(std::move(name), std::move(check));
}

Readiness::Report Readiness::evaluate() const {
    Report report;
    report.shutting_down = shutting_down_.load(std::memory_order_acquire);
    report.ready = !report.shutting_down;
    std::lock_guard lock(mutex_);
    for (const auto& [name, check] : checks_) {
        std::string reason;
        try {
            reason = check();
        } catch (const std::exception& e) {
            reason = std::string("check failed: ") + e.what();
        }
        if (reason.empty()) {
            report.checks.emplace_back(name, "ok");
        } else {
            report.ready = false;
            report.checks.emplace_back(name, std::move(reason));
        }
    }
    return report;
}

} // namespace agentd::gateway::app
