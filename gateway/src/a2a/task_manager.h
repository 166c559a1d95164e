#pragma once
/// The A2A task engine behind /a2a: creates tasks, runs their agents (AgentExecutor), keeps
/// every task durable in SQLite (memory::TaskStore), and delivers updates to streams
/// (SendStreamingMessage, SubscribeToTask) and webhooks (PushSender).
///
/// Per task, every change — an executor's report, a cancel, a client's follow-up message — is
/// applied in order by one queue: persisted first, then put into the in-memory snapshot and
/// broadcast, so a client never sees a state that a restart would lose, and every stream of a
/// task sees the same events in the same order. A stream starts with the task snapshot taken
/// atomically with its subscription, so nothing is missed or repeated; re-subscribing after a
/// disconnect gets a fresh snapshot and the live events after it. Streams end after a terminal
/// or interrupted (input-required, auth-required) state.
///
/// Restart: recover() (start-up) fails the tasks that were submitted or working when the
/// previous process stopped — their executions are gone — with a status message saying so;
/// interrupted tasks stay as they are and continue when the client sends input.
///
/// Ownership: the route module owns it (shared with in-flight work through weak/shared
/// pointers). Threads: every public member is thread-safe and non-blocking; callbacks run on a
/// blocking-pool thread (or the caller's, for immediate errors). Store work runs on the blocking
/// pool. Errors: callbacks get base::Error with protocols::errc codes (task_not_found,
/// task_not_cancelable, unsupported_operation, invalid_params, push_not_supported, busy,
/// internal_error).

#include "agentd/base/result.h"
#include "agentd/memory/task_store.h"
#include "agentd/protocols/a2a/types.h"

#include "a2a/agent_executor.h"
#include "a2a/push_sender.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>

namespace boost::asio {
class thread_pool;
} // namespace boost::asio

namespace agentd::gateway::a2a {

struct TaskManagerLimits {
    std::size_t max_live_tasks = 10'000; ///< tasks not yet terminal, in memory
    std::size_t max_subscribers_per_task = 64;
    std::size_t max_push_configs_per_task = 16;
    std::size_t default_history_length = 100; ///< GetTask without historyLength
};

/// The caller of one request.
struct Caller {
    std::string tenant;
    proto::Version version = proto::Version::v1_0;
    std::string traceparent;
};

/// A stream of one task's events to one client. Implementations must be thread-safe and must
/// not block; `send` returns false when the client is gone or too slow (the subscription ends).
class EventSink {
public:
    virtual ~EventSink() = default;
    /// `final`: the last event of this stream; the sink closes after it.
    virtual bool send(const proto::StreamEvent& event, bool final) = 0;
    /// Ends the stream without a final event (shutdown).
    virtual void close() = 0;
    [[nodiscard]] virtual bool closed() const = 0;
};

using SendOutcome = std::variant<proto::Task, proto::Message>;

template <class T>
using Callback = std::function<void(base::Result<T>)>;

class TaskManager {
public:
    TaskManager(memory::TaskStore& store, boost::asio::thread_pool& blocking,
                std::shared_ptr<PushSender> push, TaskManagerLimits limits = {});
    ~TaskManager();
    TaskManager(const TaskManager&) = delete;
    TaskManager& operator=(const TaskManager&) = delete;

    /// Registers an agent (start-up only, before requests arrive).
    void add_agent(const std::string& name, std::shared_ptr<AgentExecutor> executor);
    [[nodiscard]] bool has_agent(const std::string& name) const;

    /// Start-up recovery (blocking; call before serving). Returns how many tasks were failed.
    std::size_t recover();

    /// SendMessage: a direct Message, or the task — at once with return_immediately, else once
    /// it is terminal or interrupted.
    void send(const Caller& caller, const std::string& agent, proto::SendMessageParams params,
              Callback<SendOutcome> done);
    /// SendStreamingMessage: `started` gets an error (nothing streamed) or success, after which
    /// events flow into `sink` (first the Task, or a single direct Message).
    void send_streaming(const Caller& caller, const std::string& agent,
                        proto::SendMessageParams params, std::shared_ptr<EventSink> sink,
                        Callback<void> started);
    void get(const Caller& caller, const std::string& agent, proto::GetTaskParams params,
             Callback<proto::Task> done);
    void list(const Caller& caller, const std::string& agent, proto::ListTasksParams params,
              Callback<proto::ListTasksResult> done);
    void cancel(const Caller& caller, const std::string& agent, proto::TaskIdParams params,
                Callback<proto::Task> done);
    /// SubscribeToTask: unsupported_operation for terminal tasks.
    void subscribe(const Caller& caller, const std::string& agent, proto::TaskIdParams params,
                   std::shared_ptr<EventSink> sink, Callback<void> started);

    void create_push_config(const Caller& caller, const std::string& agent,
                            proto::PushConfig config, Callback<proto::PushConfig> done);
    /// An empty id (v0.3 get without pushNotificationConfigId) returns the task's first config.
    void get_push_config(const Caller& caller, const std::string& agent, proto::PushConfigRef ref,
                         Callback<proto::PushConfig> done);
    void list_push_configs(const Caller& caller, const std::string& agent,
                           proto::ListPushConfigsParams params,
                           Callback<std::vector<proto::PushConfig>> done);
    /// Idempotent: deleting a missing config succeeds (the task must exist).
    void delete_push_config(const Caller& caller, const std::string& agent,
                            proto::PushConfigRef ref, Callback<void> done);

    /// Graceful stop: ends every stream and cancels running executions (their tasks stay in
    /// flight in the store and are recovered by the next start).
    void shutdown();

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

} // namespace agentd::gateway::a2a
