#pragma once
/// One task that is not yet terminal, as the TaskManager keeps it in memory: its snapshot, its
/// subscribers, the waiters of blocking sends, its running execution and the strand that orders
/// every change to it (TaskManager's file comment describes the protocol).
///
/// Ownership: shared by the TaskManager's registry, its TaskUpdaters (as TaskReportSink) and
/// queued jobs. Threads: snapshot/subscribers/waiters are guarded by `mu`; the `strand_*` members
/// are touched only by jobs on `strand`; the rest is immutable after construction.

#include "a2a/agent_executor.h"
#include "a2a/task_manager.h"

#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace agentd::gateway::a2a {

struct LiveTask : TaskReportSink, std::enable_shared_from_this<LiveTask> {
    using Strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;
    /// Called with the task once it is settled (terminal or interrupted).
    using Waiter = std::function<void()>;

    LiveTask(std::weak_ptr<TaskManager::Impl> manager, Strand strand, std::string tenant,
             std::string agent, proto::Task snapshot);

    /// TaskReportSink: queues the report on the strand.
    void report(std::uint64_t generation, proto::StreamEvent event) override;

    enum class Subscribed { ok, terminal, full };
    /// Adds a subscriber and sends it the snapshot first, atomically with respect to
    /// broadcast(). Nothing is sent when the task is terminal or the subscriber limit is reached.
    Subscribed subscribe(const std::shared_ptr<EventSink>& sink, std::size_t max_subscribers);
    /// Applies `event` to the snapshot and sends it to every subscriber; ends the streams and
    /// releases the waiters when `event` settles the task.
    void broadcast(const proto::StreamEvent& event);
    /// Ends every stream (shutdown).
    void close_streams();

    [[nodiscard]] proto::TaskState state() const;

    const std::weak_ptr<TaskManager::Impl> manager;
    Strand strand;
    const std::string tenant;
    const std::string agent;
    const std::string id;
    const std::string context_id;

    mutable std::mutex mu;
    proto::Task snapshot;                                // guarded by mu
    std::vector<std::shared_ptr<EventSink>> subscribers; // guarded by mu
    std::vector<Waiter> waiters;                         // guarded by mu

    // strand only:
    std::uint64_t strand_generation = 0; ///< the execution whose reports are accepted
    bool strand_running = false;         ///< an execution is active
    bool strand_done = false;            ///< terminal: nothing more is accepted
    std::shared_ptr<tools::CancellationSignal> strand_cancel;
};

} // namespace agentd::gateway::a2a
