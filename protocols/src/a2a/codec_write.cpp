// Writers of the A2A data model in v1.0 ProtoJSON and v0.3 JSON (codec.h).

#include "agentd/protocols/a2a/codec.h"

#include "mcp/codec.h"

#include <nlohmann/json.hpp>

#include <ctime>

namespace agentd::protocols::a2a {

using nlohmann::json;

namespace {

bool v1(Version version) {
    return version == Version::v1_0;
}

void put_metadata(json& out, const JsonPtr& metadata) {
    if (metadata && metadata->is_object()) {
        out["metadata"] = *metadata;
    }
}

void put_strings(json& out, const char* key, const std::vector<std::string>& values) {
    if (!values.empty()) {
        out[key] = values;
    }
}

json parts_json(const std::vector<Part>& parts, Version version) {
    json out = json::array();
    for (const auto& p : parts) {
        out.push_back(to_json(p, version));
    }
    return out;
}

std::string_view role_name(Role role, Version version) {
    if (v1(version)) {
        switch (role) {
        case Role::user:
            return "ROLE_USER";
        case Role::agent:
            return "ROLE_AGENT";
        case Role::unspecified:
            return "ROLE_UNSPECIFIED";
        }
        return "ROLE_UNSPECIFIED";
    }
    return role == Role::user ? "user" : "agent";
}

json part_v03(const Part& part) {
    json out;
    switch (part.kind) {
    case Part::Kind::text:
        out = {{"kind", "text"}, {"text", part.text}};
        break;
    case Part::Kind::raw:
    case Part::Kind::url: {
        json file = json::object();
        if (part.kind == Part::Kind::raw) {
            file["bytes"] = mcp::detail::base64_encode(part.raw, false);
        } else {
            file["uri"] = part.url;
        }
        if (!part.media_type.empty()) {
            file["mimeType"] = part.media_type;
        }
        if (!part.filename.empty()) {
            file["name"] = part.filename;
        }
        out = {{"kind", "file"}, {"file", std::move(file)}};
        break;
    }
    case Part::Kind::data:
        // v0.3 data parts carry an object; other JSON values are wrapped.
        if (part.data && part.data->is_object()) {
            out = {{"kind", "data"}, {"data", *part.data}};
        } else {
            out = {{"kind", "data"}, {"data", {{"value", part.data ? *part.data : json()}}}};
        }
        break;
    }
    put_metadata(out, part.metadata);
    return out;
}

} // namespace

std::string format_timestamp(std::int64_t unix_ms) {
    const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
    const auto millis = static_cast<int>(((unix_ms % 1000) + 1000) % 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return buf;
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM)
    const auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
        if (pos + n > text.size()) {
            return std::nullopt;
        }
        int v = 0;
        for (std::size_t i = pos; i < pos + n; ++i) {
            if (text[i] < '0' || text[i] > '9') {
                return std::nullopt;
            }
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
        return std::nullopt;
    }
    const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
    const auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
    if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
        *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    std::int64_t millis = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int scale = 100;
        const std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            millis += (text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start || pos - start > 9) {
            return std::nullopt;
        }
    }
    std::int64_t offset_s = 0;
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
        if (!oh || !om || pos + 3 >= text.size() || text[pos + 3] != ':' || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offset_s = (*oh * 3600 + *om * 60) * (text[pos] == '+' ? 1 : -1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    const std::int64_t secs = static_cast<std::int64_t>(::timegm(&tm)) - offset_s;
    return secs * 1000 + millis;
}

json to_json(const Part& part, Version version) {
    if (!v1(version)) {
        return part_v03(part);
    }
    json out = json::object();
    switch (part.kind) {
    case Part::Kind::text:
        out["text"] = part.text;
        break;
    case Part::Kind::raw:
        out["raw"] = mcp::detail::base64_encode(part.raw, false);
        break;
    case Part::Kind::url:
        out["url"] = part.url;
        break;
    case Part::Kind::data:
        out["data"] = part.data ? *part.data : json();
        break;
    }
    put_metadata(out, part.metadata);
    if (!part.filename.empty()) {
        out["filename"] = part.filename;
    }
    if (!part.media_type.empty()) {
        out["mediaType"] = part.media_type;
    }
    return out;
}

json to_json(const Message& message, Version version) {
    json out = json::object();
    if (!v1(version)) {
        out["kind"] = "message";
    }
    out["messageId"] = message.message_id;
    if (!message.context_id.empty()) {
        out["contextId"] = message.context_id;
    }
    if (!message.task_id.empty()) {
        out["taskId"] = message.task_id;
    }
    out["role"] = role_name(message.role, version);
    out["parts"] = parts_json(message.parts, version);
    put_metadata(out, message.metadata);
    put_strings(out, "extensions", message.extensions);
    put_strings(out, "referenceTaskIds", message.reference_task_ids);
    return out;
}

json to_json(const TaskStatus& status, Version version) {
    json out = {{"state", to_string(status.state, version)}};
    if (status.message) {
        out["message"] = to_json(*status.message, version);
    }
    if (status.timestamp_ms != 0) {
        out["timestamp"] = format_timestamp(status.timestamp_ms);
    }
    return out;
}

json to_json(const Artifact& artifact, Version version) {
    json out = {{"artifactId", artifact.artifact_id}};
    if (!artifact.name.empty()) {
        out["name"] = artifact.name;
    }
    if (!artifact.description.empty()) {
        out["description"] = artifact.description;
    }
    out["parts"] = parts_json(artifact.parts, version);
    put_metadata(out, artifact.metadata);
    put_strings(out, "extensions", artifact.extensions);
    return out;
}

json to_json(const Task& task, Version version) {
    json out = json::object();
    if (!v1(version)) {
        out["kind"] = "task";
    }
    out["id"] = task.id;
    out["contextId"] = task.context_id;
    out["status"] = to_json(task.status, version);
    if (task.include_artifacts) {
        json artifacts = json::array();
        for (const auto& a : task.artifacts) {
            artifacts.push_back(to_json(a, version));
        }
        out["artifacts"] = std::move(artifacts);
    }
    if (!task.history.empty()) {
        json history = json::array();
        for (const auto& m : task.history) {
            history.push_back(to_json(m, version));
        }
        out["history"] = std::move(history);
    }
    put_metadata(out, task.metadata);
    return out;
}

json to_json(const StatusUpdate& update, Version version) {
    json out = json::object();
    if (!v1(version)) {
        out["kind"] = "status-update";
    }
    out["taskId"] = update.task_id;
    out["contextId"] = update.context_id;
    out["status"] = to_json(update.status, version);
    if (!v1(version)) {
        out["final"] = is_terminal(update.status.state) || is_interrupted(update.status.state);
    }
    put_metadata(out, update.metadata);
    return out;
}

json to_json(const ArtifactUpdate& update, Version version) {
    json out = json::object();
    if (!v1(version)) {
        out["kind"] = "artifact-update";
    }
    out["taskId"] = update.task_id;
    out["contextId"] = update.context_id;
    out["artifact"] = to_json(update.artifact, version);
    if (update.append) {
        out["append"] = true;
    }
    if (update.last_chunk) {
        out["lastChunk"] = true;
    }
    put_metadata(out, update.metadata);
    return out;
}

json to_json(const StreamEvent& event, Version version) {
    static constexpr const char* kWrapper[] = {"task", "message", "statusUpdate", "artifactUpdate"};
    json body = std::visit([version](const auto& e) { return to_json(e, version); }, event);
    if (!v1(version)) {
        return body;
    }
    json out = json::object();
    out[kWrapper[event.index()]] = std::move(body);
    return out;
}

json to_json(const PushConfig& config, Version version) {
    json inner = json::object();
    if (!config.id.empty()) {
        inner["id"] = config.id;
    }
    if (v1(version) && !config.task_id.empty()) {
        inner["taskId"] = config.task_id;
    }
    inner["url"] = config.url;
    if (!config.token.empty()) {
        inner["token"] = config.token;
    }
    if (config.authentication) {
        json auth = json::object();
        if (v1(version)) {
            auth["scheme"] = config.authentication->scheme;
        } else {
            auth["schemes"] = json::array({config.authentication->scheme});
        }
        if (!config.authentication->credentials.empty()) {
            auth["credentials"] = config.authentication->credentials;
        }
        inner["authentication"] = std::move(auth);
    }
    if (v1(version)) {
        return inner;
    }
    return {{"taskId", config.task_id}, {"pushNotificationConfig", std::move(inner)}};
}

json to_json(const ListTasksResult& result) {
    json tasks = json::array();
    for (const auto& t : result.tasks) {
        tasks.push_back(to_json(t, Version::v1_0));
    }
    return {{"tasks", std::move(tasks)},
            {"nextPageToken", result.next_page_token},
            {"pageSize", result.page_size},
            {"totalSize", result.total_size}};
}

const std::string& task_id_of(const StreamEvent& event) {
    struct Visitor {
        const std::string& operator()(const Task& t) const { return t.id; }
        const std::string& operator()(const Message& m) const { return m.task_id; }
        const std::string& operator()(const StatusUpdate& u) const { return u.task_id; }
        const std::string& operator()(const ArtifactUpdate& u) const { return u.task_id; }
    };
    return std::visit(Visitor{}, event);
}

} // namespace agentd::protocols::a2a
