#pragma once
/// JSON for the A2A data model in both wire versions.
///
/// v1.0 is ProtoJSON of lf.a2a.v1 (spec §5.5): camelCase fields, enums as their proto names
/// (`ROLE_USER`, `TASK_STATE_COMPLETED`), parts as `{text}|{raw}|{url}|{data}` with
/// `mediaType`/`filename`, bytes as Base64, timestamps as RFC 3339 UTC strings, stream results
/// wrapped as `{task}|{message}|{statusUpdate}|{artifactUpdate}`. Readers accept the proto field
/// names too (`context_id`) and enum numbers, as ProtoJSON parsers must.
/// v0.3 is the JSON Schema of A2A 0.3: objects tagged by `kind` (`message`, `task`,
/// `status-update`, `artifact-update`), parts `{kind: text|file|data}` with `file: {bytes|uri,
/// mimeType, name}`, roles `user`/`agent`, states `input-required`, events with `final`.
///
/// Readers are strict where the spec says REQUIRED (ids, roles, non-empty parts, one content
/// per part) and lenient about unknown fields (ignored, spec §5.7). Every problem is an
/// errc::invalid_params error whose message names the JSON path ("message.parts[1].file:
/// needs exactly one of bytes, uri"). Writers never throw.
///
/// Thread-safety: free functions over values.

#include "agentd/base/result.h"
#include "agentd/protocols/a2a/types.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace agentd::protocols::a2a {

// ---- writers ----------------------------------------------------------------------------------

[[nodiscard]] nlohmann::json to_json(const Part& part, Version version);
[[nodiscard]] nlohmann::json to_json(const Message& message, Version version);
[[nodiscard]] nlohmann::json to_json(const TaskStatus& status, Version version);
[[nodiscard]] nlohmann::json to_json(const Artifact& artifact, Version version);
[[nodiscard]] nlohmann::json to_json(const Task& task, Version version);
/// v0.3 `final` is true for terminal and interrupted states: the stream ends after it.
[[nodiscard]] nlohmann::json to_json(const StatusUpdate& update, Version version);
[[nodiscard]] nlohmann::json to_json(const ArtifactUpdate& update, Version version);
/// v1.0: the StreamResponse wrapper ({"statusUpdate": {...}}); v0.3: the bare tagged object.
[[nodiscard]] nlohmann::json to_json(const StreamEvent& event, Version version);
/// v1.0: the flat TaskPushNotificationConfig; v0.3: {taskId, pushNotificationConfig}.
[[nodiscard]] nlohmann::json to_json(const PushConfig& config, Version version);
/// v1.0 only (v0.3 has no ListTasks).
[[nodiscard]] nlohmann::json to_json(const ListTasksResult& result);

// ---- readers ----------------------------------------------------------------------------------

/// `path` prefixes error messages ("message", "params.message").
[[nodiscard]] base::Result<Part> parse_part(const nlohmann::json& value, Version version,
                                            std::string_view path);
[[nodiscard]] base::Result<Message> parse_message(const nlohmann::json& value, Version version,
                                                  std::string_view path);
[[nodiscard]] base::Result<Artifact> parse_artifact(const nlohmann::json& value, Version version,
                                                    std::string_view path);
[[nodiscard]] base::Result<Task> parse_task(const nlohmann::json& value, Version version,
                                            std::string_view path);
/// A stream result or push body: v1.0 wrapper or v0.3 tagged object (per `version`).
[[nodiscard]] base::Result<StreamEvent> parse_stream_event(const nlohmann::json& value,
                                                           Version version);
/// v1.0 flat config or v0.3 nested one. `task_id_required` for create/set.
[[nodiscard]] base::Result<PushConfig> parse_push_config(const nlohmann::json& value,
                                                         Version version, std::string_view path);

// ---- helpers ----------------------------------------------------------------------------------

/// RFC 3339 UTC with milliseconds ("2025-10-28T10:30:00.000Z").
[[nodiscard]] std::string format_timestamp(std::int64_t unix_ms);
/// RFC 3339 with 'Z' or a numeric offset, optional fraction; nullopt when malformed.
[[nodiscard]] std::optional<std::int64_t> parse_timestamp(std::string_view text);

/// The task id a stream event belongs to ("" for a message without one).
[[nodiscard]] const std::string& task_id_of(const StreamEvent& event);

} // namespace agentd::protocols::a2a
