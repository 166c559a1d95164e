#include "a2a/task_convert.h"

#include "agentd/protocols/a2a/codec.h"
#include "agentd/protocols/json_rpc.h"

#include "log/logging.h"

#include <nlohmann/json.hpp>

namespace agentd::gateway::a2a {

using nlohmann::json;

namespace {

json parse_stored(const std::string& text) {
    return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

void log_bad_row(std::string_view what, std::string_view task_id, std::string_view error) {
    log::log_event(log::Level::warn, "a2a: skipping unreadable stored JSON",
                   {{"what", what}, {"task", task_id}, {"error", error}});
}

} // namespace

memory::TaskState to_memory(proto::TaskState state) {
    switch (state) {
    case proto::TaskState::submitted:
        return memory::TaskState::submitted;
    case proto::TaskState::working:
        return memory::TaskState::working;
    case proto::TaskState::input_required:
        return memory::TaskState::input_required;
    case proto::TaskState::auth_required:
        return memory::TaskState::auth_required;
    case proto::TaskState::completed:
        return memory::TaskState::completed;
    case proto::TaskState::canceled:
        return memory::TaskState::canceled;
    case proto::TaskState::failed:
        return memory::TaskState::failed;
    case proto::TaskState::rejected:
        return memory::TaskState::rejected;
    case proto::TaskState::unspecified:
        return memory::TaskState::unknown;
    }
    return memory::TaskState::unknown;
}

proto::TaskState to_proto(memory::TaskState state) {
    switch (state) {
    case memory::TaskState::submitted:
        return proto::TaskState::submitted;
    case memory::TaskState::working:
        return proto::TaskState::working;
    case memory::TaskState::input_required:
        return proto::TaskState::input_required;
    case memory::TaskState::auth_required:
        return proto::TaskState::auth_required;
    case memory::TaskState::completed:
        return proto::TaskState::completed;
    case memory::TaskState::canceled:
        return proto::TaskState::canceled;
    case memory::TaskState::failed:
        return proto::TaskState::failed;
    case memory::TaskState::rejected:
        return proto::TaskState::rejected;
    case memory::TaskState::unknown:
        return proto::TaskState::unspecified;
    }
    return proto::TaskState::unspecified;
}

std::string message_json(const proto::Message& message) {
    return protocols::jsonrpc::serialize(proto::to_json(message, proto::Version::v1_0));
}

std::optional<proto::Message> message_from_json(const std::string& text) {
    const json j = parse_stored(text);
    if (j.is_discarded()) {
        return std::nullopt;
    }
    auto m = proto::parse_message(j, proto::Version::v1_0, "message");
    if (!m) {
        return std::nullopt;
    }
    return std::move(*m);
}

memory::Artifact to_memory(const proto::Artifact& artifact) {
    memory::Artifact out;
    out.artifact_id = artifact.artifact_id;
    out.name = artifact.name;
    out.description = artifact.description;
    json parts = json::array();
    for (const auto& p : artifact.parts) {
        parts.push_back(proto::to_json(p, proto::Version::v1_0));
    }
    out.parts_json = protocols::jsonrpc::serialize(parts);
    out.metadata_json =
        artifact.metadata ? protocols::jsonrpc::serialize(*artifact.metadata) : std::string("{}");
    return out;
}

proto::Task to_proto(const memory::Task& task) {
    proto::Task out;
    out.id = task.id;
    out.context_id = task.context_id;
    out.status.state = to_proto(task.state);
    out.status.timestamp_ms = task.updated_at_ms;
    if (!task.status_message_json.empty()) {
        out.status.message = message_from_json(task.status_message_json);
        if (!out.status.message) {
            log_bad_row("status message", task.id, "not an A2A message");
        }
    }
    for (const auto& h : task.history_json) {
        if (auto m = message_from_json(h)) {
            out.history.push_back(std::move(*m));
        } else {
            log_bad_row("history message", task.id, "not an A2A message");
        }
    }
    for (const auto& a : task.artifacts) {
        proto::Artifact art;
        art.artifact_id = a.artifact_id;
        art.name = a.name;
        art.description = a.description;
        const json parts = parse_stored(a.parts_json);
        if (parts.is_array()) {
            for (const auto& p : parts) {
                if (auto part = proto::parse_part(p, proto::Version::v1_0, "part")) {
                    art.parts.push_back(std::move(*part));
                }
            }
        }
        const json meta = parse_stored(a.metadata_json);
        if (meta.is_object() && !meta.empty()) {
            art.metadata = protocols::share_json(meta);
        }
        out.artifacts.push_back(std::move(art));
    }
    const json meta = parse_stored(task.metadata_json);
    if (meta.is_object() && !meta.empty()) {
        out.metadata = protocols::share_json(meta);
    }
    return out;
}

std::string push_config_json(const proto::PushConfig& config, proto::Version version) {
    return protocols::jsonrpc::serialize(
        json{{"version", proto::to_string(version)},
             {"config", proto::to_json(config, proto::Version::v1_0)}});
}

std::optional<StoredPushConfig> push_config_from(const memory::PushConfig& row) {
    const json j = parse_stored(row.config_json);
    if (!j.is_object() || !j.contains("config")) {
        log_bad_row("push config", row.task_id, "malformed");
        return std::nullopt;
    }
    auto config = proto::parse_push_config(j["config"], proto::Version::v1_0, "config");
    if (!config) {
        log_bad_row("push config", row.task_id, config.error().what());
        return std::nullopt;
    }
    StoredPushConfig out;
    out.config = std::move(*config);
    out.config.id = row.id;
    out.config.task_id = row.task_id;
    const auto v = j.value("version", std::string("1.0"));
    out.version = proto::parse_version(v).value_or(proto::Version::v1_0);
    return out;
}

} // namespace agentd::gateway::a2a
