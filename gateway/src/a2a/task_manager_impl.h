#pragma once
/// TaskManager's internals, shared by task_manager*.cpp and live_task.cpp.

#include "a2a/live_task.h"
#include "a2a/task_manager.h"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace agentd::gateway::a2a {

struct TaskManager::Impl : std::enable_shared_from_this<TaskManager::Impl> {
    Impl(memory::TaskStore& s, boost::asio::thread_pool& b, std::shared_ptr<PushSender> p,
         TaskManagerLimits l)
        : store(s), blocking(b), push(std::move(p)), limits(l) {}

    memory::TaskStore& store;
    boost::asio::thread_pool& blocking;
    std::shared_ptr<PushSender> push;
    const TaskManagerLimits limits;
    std::map<std::string, std::shared_ptr<AgentExecutor>> agents; // fixed after start-up
    std::atomic<bool> stopping{false};

    std::mutex mu;
    std::map<std::string, std::shared_ptr<LiveTask>> live; // guarded by mu; key: tenant \n id

    [[nodiscard]] static std::string key(std::string_view tenant, std::string_view id);

    /// Runs `job` on the blocking pool; an exception escaping it is logged (never propagated).
    void post(std::function<void()> job);
    /// Runs `job` on the task's strand, in order with its other changes.
    void post_on(const std::shared_ptr<LiveTask>& task, std::function<void()> job);

    /// Blocking. The live task, loading a non-terminal stored one into memory; task_not_found
    /// when missing or of another agent. A terminal task is returned in `*terminal` with a null
    /// pointer.
    base::Result<std::shared_ptr<LiveTask>> find_or_load(const std::string& tenant,
                                                         const std::string& agent,
                                                         const std::string& id,
                                                         proto::Task* terminal);
    /// Blocking: the stored task as clients see it.
    base::Result<proto::Task> load(const std::string& tenant, const std::string& agent,
                                   const std::string& id, std::optional<std::int32_t> history);

    // Strand jobs.
    void start_execution(const std::shared_ptr<LiveTask>& task, proto::Message message,
                         protocols::JsonPtr metadata, std::string traceparent,
                         std::vector<proto::Message> history);
    void apply_report(const std::shared_ptr<LiveTask>& task, std::uint64_t generation,
                      proto::StreamEvent event);
    /// Persists and publishes a status change (task_not_cancelable when already terminal).
    base::Result<void> set_status(const std::shared_ptr<LiveTask>& task, proto::TaskStatus status);
    void publish(const std::shared_ptr<LiveTask>& task, const proto::StreamEvent& event);
    void unregister(const LiveTask& task);
};

/// memory errors → A2A errors (not_found → task_not_found, invalid_argument → invalid_params,
/// the rest → internal_error).
[[nodiscard]] base::Error store_error(const base::Error& error, std::string_view task_id);

[[nodiscard]] std::string new_id();
[[nodiscard]] std::int64_t now_ms();

} // namespace agentd::gateway::a2a
