#pragma once
/// Conversions between the stored task rows (memory::TaskStore) and the A2A model. Messages,
/// parts and push configs are stored as v1.0 ProtoJSON text.
///
/// Pure functions; thread-safe. Errors: stored JSON that no longer parses is skipped (and
/// logged) rather than failing the whole task read.

#include "agentd/memory/task_store.h"
#include "agentd/protocols/a2a/types.h"

#include <optional>
#include <string>

namespace agentd::gateway::a2a {

namespace proto = protocols::a2a;

[[nodiscard]] memory::TaskState to_memory(proto::TaskState state);
[[nodiscard]] proto::TaskState to_proto(memory::TaskState state);

[[nodiscard]] std::string message_json(const proto::Message& message);
[[nodiscard]] std::optional<proto::Message> message_from_json(const std::string& text);

[[nodiscard]] memory::Artifact to_memory(const proto::Artifact& artifact);
[[nodiscard]] proto::Task to_proto(const memory::Task& task);

/// Stored form of a push config: {"version": "1.0"|"0.3", "config": <v1.0 JSON>}, remembering
/// the wire version of the request that created it (its webhook gets that version's bodies).
[[nodiscard]] std::string push_config_json(const proto::PushConfig& config, proto::Version version);
struct StoredPushConfig {
    proto::PushConfig config;
    proto::Version version = proto::Version::v1_0;
};
[[nodiscard]] std::optional<StoredPushConfig> push_config_from(const memory::PushConfig& row);

} // namespace agentd::gateway::a2a
