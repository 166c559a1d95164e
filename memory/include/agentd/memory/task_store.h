#pragma once
/// A2A tasks: lifecycle state, status message, history, artifacts and push-notification
/// configs, durable so that a restart keeps every task (and can find the in-flight ones).
///
/// Ownership: a view owned by Database. Threads: thread-safe, blocking (see database.h).
/// Errors: invalid_argument, not_found, conflict (id exists, or a state precondition failed),
/// and the database errors of errc.h. Every call is confined to `tenant`, except
/// list_in_flight(), which is for start-up recovery and returns rows of every tenant.

#include "agentd/base/result.h"
#include "agentd/memory/common.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::memory {

namespace detail {
class DatabaseImpl;
}

/// The A2A task states; to_string gives the v0.3 wire spelling ("input-required").
enum class TaskState {
    submitted,
    working,
    input_required,
    auth_required,
    completed,
    canceled,
    failed,
    rejected,
    unknown,
};

[[nodiscard]] std::string_view to_string(TaskState s) noexcept;
[[nodiscard]] std::optional<TaskState> task_state_from_string(std::string_view s) noexcept;
/// completed, canceled, failed, rejected.
[[nodiscard]] bool is_terminal(TaskState s) noexcept;

struct Artifact {
    std::string artifact_id;
    std::string name;
    std::string description;
    std::string parts_json = "[]"; // JSON array of A2A parts
    std::string metadata_json = "{}";
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
};

struct Task {
    std::string tenant;
    std::string id;
    std::string context_id;
    std::string session_id; // the runtime's session for this task ("" when none)
    std::string agent;
    TaskState state = TaskState::submitted;
    std::string status_message_json; // "" when none, else a JSON A2A message
    std::string metadata_json = "{}";
    std::vector<std::string> history_json; // JSON A2A messages, oldest first (if requested)
    std::vector<Artifact> artifacts;       // in order of first appearance (if requested)
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
};

struct NewTask {
    std::string id;         // empty → a generated UUID
    std::string context_id; // empty → a generated UUID
    std::string session_id;
    std::string agent;
    TaskState state = TaskState::submitted;
    std::string status_message_json;
    std::string metadata_json = "{}";
};

struct TaskGet {
    /// Newest N history messages; nullopt → all, 0 → none.
    std::optional<std::size_t> history_length;
    bool include_artifacts = true;
};

struct TaskListQuery {
    std::string context_id;         // "" → any
    std::optional<TaskState> state; // nullopt → any
    std::optional<std::int64_t> updated_after_ms;
    PageRequest page;
    TaskGet detail{std::size_t{0}, false}; // lists carry no history/artifacts by default
};

struct PushConfig {
    std::string task_id;
    std::string id;
    std::string config_json; // the A2A PushNotificationConfig object
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
};

class TaskStore {
public:
    explicit TaskStore(detail::DatabaseImpl& db) : db_(db) {}

    /// Creates a task, optionally with its first history message; conflict if the id exists.
    [[nodiscard]] base::Result<Task> create(std::string_view tenant, const NewTask& task,
                                            std::string_view first_message_json = {});
    [[nodiscard]] base::Result<Task> get(std::string_view tenant, std::string_view id,
                                         const TaskGet& detail = {});
    /// Most recently updated first.
    [[nodiscard]] base::Result<Page<Task>> list(std::string_view tenant, const TaskListQuery& q);
    [[nodiscard]] base::Result<std::int64_t> count(std::string_view tenant);

    /// Sets state and status message (empty → NULL). When `only_from` is non-empty the current
    /// state must be one of them, else conflict (e.g. cancel only a non-terminal task).
    [[nodiscard]] base::Result<Task> set_status(std::string_view tenant, std::string_view id,
                                                TaskState state,
                                                std::string_view status_message_json,
                                                const std::vector<TaskState>& only_from = {});
    [[nodiscard]] base::Result<void> set_metadata(std::string_view tenant, std::string_view id,
                                                  std::string_view metadata_json);
    /// Appends a message to the history; returns its seq.
    [[nodiscard]] base::Result<std::int64_t>
    append_history(std::string_view tenant, std::string_view id, std::string_view message_json);
    /// Adds or replaces an artifact by artifact_id; with `append` the parts are appended to an
    /// existing artifact's parts (A2A artifact-update append=true).
    [[nodiscard]] base::Result<Artifact> put_artifact(std::string_view tenant,
                                                      std::string_view task_id,
                                                      const Artifact& artifact, bool append);
    /// Deletes the task with its history, artifacts and push configs.
    [[nodiscard]] base::Result<bool> remove(std::string_view tenant, std::string_view id);

    /// Tasks of every tenant in a non-terminal state (submitted, working, input-required,
    /// auth-required), for recovery at start-up.
    [[nodiscard]] base::Result<Page<Task>> list_in_flight(const PageRequest& page);

    /// Push-notification configs of a task. put: id empty → a generated id; replaces same id.
    [[nodiscard]] base::Result<PushConfig> put_push_config(std::string_view tenant,
                                                           const PushConfig& config);
    [[nodiscard]] base::Result<PushConfig>
    get_push_config(std::string_view tenant, std::string_view task_id, std::string_view id);
    [[nodiscard]] base::Result<std::vector<PushConfig>> list_push_configs(std::string_view tenant,
                                                                          std::string_view task_id);
    [[nodiscard]] base::Result<bool>
    remove_push_config(std::string_view tenant, std::string_view task_id, std::string_view id);

private:
    detail::DatabaseImpl& db_;
};

} // namespace agentd::memory
