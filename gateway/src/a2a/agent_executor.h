#pragma once
/// What an agent implements to serve A2A tasks (the fixture agent, the LLM agents of the
/// runtime), and the TaskUpdater it reports through.
///
/// The TaskManager owns the task: it creates and persists it, orders the updates, fans them out
/// to streams and webhooks, and handles cancellation. An executor only does the work and reports
/// it: `working` (optionally with a progress message), artifacts, then exactly one final report —
/// `complete`, `fail`, `reject`, or an interruption (`require_input`, `require_auth`) after which
/// a later message of the client continues the task with a new execute().
///
/// Threads: execute() is called on a blocking-pool thread and must return quickly (start timers,
/// submit engine work, post jobs). TaskUpdater is thread-safe and cheap to copy; reports after
/// the final one, after cancellation, or after shutdown are ignored.
/// Errors: none as values; an executor that fails reports `fail(reason)`.

#include "agentd/protocols/a2a/types.h"
#include "agentd/tools/cancellation.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace agentd::gateway::a2a {

namespace proto = protocols::a2a;

/// The receiving end of a task's reports; implemented by the TaskManager.
class TaskReportSink {
public:
    virtual ~TaskReportSink() = default;
    /// Applies one report (a status update or an artifact update) of execution `generation`.
    virtual void report(std::uint64_t generation, proto::StreamEvent event) = 0;
};

/// How an executor reports progress. Copyable; all copies refer to the same task execution.
class TaskUpdater {
public:
    TaskUpdater(std::shared_ptr<TaskReportSink> sink, std::uint64_t generation, std::string task_id,
                std::string context_id, std::shared_ptr<tools::CancellationSignal> cancel);

    [[nodiscard]] const std::string& task_id() const { return task_id_; }
    [[nodiscard]] const std::string& context_id() const { return context_id_; }
    /// Set when the client cancelled the task or agentd is shutting down.
    [[nodiscard]] const std::shared_ptr<tools::CancellationSignal>& cancel() const {
        return cancel_;
    }
    [[nodiscard]] bool cancelled() const { return cancel_->cancelled(); }

    /// An agent message of this task with a fresh message id.
    [[nodiscard]] proto::Message agent_message(std::vector<proto::Part> parts) const;
    [[nodiscard]] proto::Message agent_text(std::string text) const;

    void working(std::optional<proto::Message> message = std::nullopt) const;
    /// Adds an artifact (or appends parts to one with the same id when `append`).
    void artifact(proto::Artifact artifact, bool append = false, bool last_chunk = false) const;
    void complete(std::optional<proto::Message> message = std::nullopt) const;
    void fail(std::string reason) const;
    void reject(std::string reason) const;
    void require_input(std::optional<proto::Message> message = std::nullopt) const;
    void require_auth(std::optional<proto::Message> message = std::nullopt) const;

private:
    void status(proto::TaskState state, std::optional<proto::Message> message) const;

    std::shared_ptr<TaskReportSink> sink_;
    std::uint64_t generation_;
    std::string task_id_;
    std::string context_id_;
    std::shared_ptr<tools::CancellationSignal> cancel_;
};

/// One execution request: a new task, or a client message continuing an interrupted one.
struct TaskRequest {
    std::string tenant;
    std::string agent;
    proto::Message message;              ///< with task and context ids filled in
    std::vector<proto::Message> history; ///< earlier messages of the task, oldest first
    protocols::JsonPtr metadata;         ///< SendMessageRequest.metadata (null when none)
    std::string traceparent;             ///< W3C trace context of the request ("" when none)
};

class AgentExecutor {
public:
    virtual ~AgentExecutor() = default;

    /// A reply for messages that need no task (A2A's direct Message response), or nullopt to
    /// create a task and execute() it. Called on the request thread; must not block.
    [[nodiscard]] virtual std::optional<proto::Message>
    direct_reply(const proto::Message& message) {
        (void)message;
        return std::nullopt;
    }

    /// Starts the work (see the file comment).
    virtual void execute(TaskRequest request, TaskUpdater updater) = 0;
};

} // namespace agentd::gateway::a2a
