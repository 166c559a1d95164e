#pragma once
/// The A2A data model (a2aproject/A2A specification/a2a.proto, lf.a2a.v1), version-neutral:
/// the same values are written as v1.0 ProtoJSON or as v0.3 JSON by codec.h.
///
/// Plain values, safe to copy and move across threads. JSON members (metadata, data parts) are
/// shared immutable `JsonPtr`s, null when absent. No errors: parsing and validation live in
/// codec.h / rpc.h.

#include "agentd/protocols/json_rpc.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace agentd::protocols::a2a {

/// The protocol versions agentd speaks (Major.Minor; patch numbers are ignored).
enum class Version { v0_3, v1_0 };

/// "0.3" or "1.0".
[[nodiscard]] std::string_view to_string(Version version) noexcept;

/// Reads an `A2A-Version` value. Empty → v0.3 (spec §3.6.2); "0.3", "0.3.x", "1.0", "1.0.x",
/// "1" → the version; anything else → nullopt (VersionNotSupportedError).
[[nodiscard]] std::optional<Version> parse_version(std::string_view text) noexcept;

enum class TaskState {
    unspecified,
    submitted,
    working,
    input_required,
    auth_required,
    completed,
    canceled,
    failed,
    rejected,
};

/// completed, canceled, failed, rejected.
[[nodiscard]] bool is_terminal(TaskState state) noexcept;
/// input_required, auth_required: the task waits for the client.
[[nodiscard]] bool is_interrupted(TaskState state) noexcept;
/// "TASK_STATE_COMPLETED" (v1.0) or "completed" (v0.3).
[[nodiscard]] std::string_view to_string(TaskState state, Version version) noexcept;
/// Either spelling; nullopt when unknown.
[[nodiscard]] std::optional<TaskState> parse_task_state(std::string_view text) noexcept;

enum class Role { unspecified, user, agent };

/// One piece of content. Exactly one of text / raw / url / data is meaningful, per `kind`.
struct Part {
    enum class Kind { text, raw, url, data };
    Kind kind = Kind::text;
    std::string text; ///< kind text
    std::string raw;  ///< kind raw: the decoded bytes (Base64 on the wire)
    std::string url;  ///< kind url
    JsonPtr data;     ///< kind data: any JSON value (v0.3 requires an object)
    std::string filename;
    std::string media_type;
    JsonPtr metadata; ///< object or null

    [[nodiscard]] static Part make_text(std::string text);
    [[nodiscard]] static Part make_raw(std::string bytes, std::string media_type,
                                       std::string filename);
    [[nodiscard]] static Part make_url(std::string url, std::string media_type,
                                       std::string filename);
    [[nodiscard]] static Part make_data(JsonPtr data);
};

struct Message {
    std::string message_id;
    std::string context_id;
    std::string task_id;
    Role role = Role::unspecified;
    std::vector<Part> parts;
    JsonPtr metadata;
    std::vector<std::string> extensions;
    std::vector<std::string> reference_task_ids;

    /// The text of all text parts joined by newlines.
    [[nodiscard]] std::string joined_text() const;
};

struct TaskStatus {
    TaskState state = TaskState::unspecified;
    std::optional<Message> message;
    std::int64_t timestamp_ms = 0; ///< 0 → not set
};

struct Artifact {
    std::string artifact_id;
    std::string name;
    std::string description;
    std::vector<Part> parts;
    JsonPtr metadata;
    std::vector<std::string> extensions;
};

struct Task {
    std::string id;
    std::string context_id;
    TaskStatus status;
    std::vector<Artifact> artifacts;
    std::vector<Message> history;
    JsonPtr metadata;
    /// Lists omit artifacts unless asked for (ListTasks includeArtifacts); false → the
    /// serializers leave the field out entirely.
    bool include_artifacts = true;
};

struct StatusUpdate {
    std::string task_id;
    std::string context_id;
    TaskStatus status;
    JsonPtr metadata;
};

struct ArtifactUpdate {
    std::string task_id;
    std::string context_id;
    Artifact artifact;
    bool append = false;
    bool last_chunk = false;
    JsonPtr metadata;
};

/// One element of a stream (StreamResponse) or a push notification.
using StreamEvent = std::variant<Task, Message, StatusUpdate, ArtifactUpdate>;

struct AuthenticationInfo {
    std::string scheme; ///< "Bearer", "Basic", ...
    std::string credentials;
};

/// A webhook for a task's updates (v1.0 TaskPushNotificationConfig; v0.3 nests the same fields
/// as {taskId, pushNotificationConfig: {id, url, token, authentication}}).
struct PushConfig {
    std::string id;
    std::string task_id;
    std::string url;
    std::string token;
    std::optional<AuthenticationInfo> authentication;
};

struct SendConfiguration {
    std::vector<std::string> accepted_output_modes;
    std::optional<PushConfig> push_config;
    std::optional<std::int32_t> history_length;
    bool return_immediately = false; ///< v0.3: blocking == false
};

struct SendMessageParams {
    Message message;
    SendConfiguration configuration;
    JsonPtr metadata;
};

struct GetTaskParams {
    std::string id;
    std::optional<std::int32_t> history_length;
};

struct ListTasksParams {
    std::string context_id;
    std::optional<TaskState> status;
    std::optional<std::int32_t> page_size;
    std::string page_token;
    std::optional<std::int32_t> history_length;
    std::optional<std::int64_t> status_timestamp_after_ms;
    bool include_artifacts = false;
};

struct ListTasksResult {
    std::vector<Task> tasks;
    std::string next_page_token;
    std::int32_t page_size = 0;
    std::int32_t total_size = 0;
};

/// Cancel and subscribe.
struct TaskIdParams {
    std::string id;
    JsonPtr metadata;
};

/// Get and delete of one push config. v0.3 get may omit the config id (→ "").
struct PushConfigRef {
    std::string task_id;
    std::string id;
};

struct ListPushConfigsParams {
    std::string task_id;
    std::int32_t page_size = 0;
    std::string page_token;
};

} // namespace agentd::protocols::a2a
