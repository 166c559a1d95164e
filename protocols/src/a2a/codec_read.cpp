// Readers of the A2A data model in v1.0 ProtoJSON and v0.3 JSON (codec.h).

#include "a2a/codec_read.h"

#include "agentd/protocols/a2a/codec.h"
#include "agentd/protocols/errc.h"

#include "a2a/json_read.h"
#include "mcp/codec.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace agentd::protocols::a2a {

using nlohmann::json;
using namespace detail;

namespace detail {
namespace {

JsonPtr metadata_of(const json& obj, std::string_view path) {
    const json* m = opt_object(obj, path, "metadata");
    return m != nullptr ? share_json(*m) : nullptr;
}

Role read_role(const json& obj, std::string_view path, Version version) {
    const json* v = find(obj, "role");
    const std::string p = join_path(path, "role");
    if (v == nullptr) {
        invalid(p, "is required");
    }
    if (v->is_string()) {
        const auto& s = v->get_ref<const std::string&>();
        if (s == "ROLE_USER" || (version == Version::v0_3 && s == "user")) {
            return Role::user;
        }
        if (s == "ROLE_AGENT" || (version == Version::v0_3 && s == "agent")) {
            return Role::agent;
        }
        // ProtoJSON readers also accept the other version's spelling of this enum.
        if (s == "user") {
            return Role::user;
        }
        if (s == "agent") {
            return Role::agent;
        }
    } else if (v->is_number_integer() && version == Version::v1_0) {
        const auto n = v->get<std::int64_t>();
        if (n == 1) {
            return Role::user;
        }
        if (n == 2) {
            return Role::agent;
        }
    }
    invalid(p, version == Version::v1_0 ? "must be ROLE_USER or ROLE_AGENT"
                                        : "must be \"user\" or \"agent\"");
}

std::string decode_bytes(const std::string& text, std::string_view path) {
    // ProtoJSON bytes may use either Base64 alphabet.
    if (auto d = mcp::detail::base64_decode(text, false)) {
        return std::move(*d);
    }
    if (auto d = mcp::detail::base64_decode(text, true)) {
        return std::move(*d);
    }
    invalid(path, "is not valid Base64");
}

void check_kind(const json& obj, std::string_view path, std::string_view expected) {
    if (const json* k = find(obj, "kind"); k != nullptr) {
        if (!k->is_string() || k->get_ref<const std::string&>() != expected) {
            invalid(join_path(path, "kind"), "must be \"" + std::string(expected) + "\"");
        }
    }
}

Part read_part_v1(const json& obj, std::string_view path) {
    Part part;
    int contents = 0;
    if (auto t = opt_string(obj, path, "text")) {
        part.kind = Part::Kind::text;
        part.text = std::move(*t);
        ++contents;
    }
    if (auto r = opt_string(obj, path, "raw")) {
        part.kind = Part::Kind::raw;
        part.raw = decode_bytes(*r, join_path(path, "raw"));
        ++contents;
    }
    if (auto u = opt_string(obj, path, "url")) {
        part.kind = Part::Kind::url;
        part.url = std::move(*u);
        ++contents;
    }
    if (const json* d = find(obj, "data"); d != nullptr) {
        part.kind = Part::Kind::data;
        part.data = share_json(*d);
        ++contents;
    }
    if (contents != 1) {
        invalid(path, contents == 0 ? "needs one of text, raw, url, data"
                                    : "must have exactly one of text, raw, url, data");
    }
    part.filename = opt_string(obj, path, "filename", {}, 1024).value_or("");
    part.media_type = opt_string(obj, path, "mediaType", "media_type", 256).value_or("");
    part.metadata = metadata_of(obj, path);
    return part;
}

Part read_part_v03(const json& obj, std::string_view path) {
    const auto kind = opt_string(obj, path, "kind").value_or("");
    Part part;
    if (kind == "text") {
        auto t = opt_string(obj, path, "text");
        if (!t) {
            invalid(join_path(path, "text"), "is required");
        }
        part = Part::make_text(std::move(*t));
    } else if (kind == "file") {
        const std::string fp = join_path(path, "file");
        const json* file = opt_object(obj, path, "file");
        if (file == nullptr) {
            invalid(fp, "is required");
        }
        auto bytes = opt_string(*file, fp, "bytes");
        auto uri = opt_string(*file, fp, "uri");
        if (bytes.has_value() == uri.has_value()) {
            invalid(fp, "needs exactly one of bytes, uri");
        }
        auto mime = opt_string(*file, fp, "mimeType", {}, 256).value_or("");
        auto name = opt_string(*file, fp, "name", {}, 1024).value_or("");
        part = bytes ? Part::make_raw(decode_bytes(*bytes, join_path(fp, "bytes")), std::move(mime),
                                      std::move(name))
                     : Part::make_url(std::move(*uri), std::move(mime), std::move(name));
    } else if (kind == "data") {
        const json* d = opt_object(obj, path, "data");
        if (d == nullptr) {
            invalid(join_path(path, "data"), "is required (an object)");
        }
        part = Part::make_data(share_json(*d));
    } else {
        invalid(join_path(path, "kind"), "must be \"text\", \"file\" or \"data\"");
    }
    part.metadata = metadata_of(obj, path);
    return part;
}

std::int64_t read_timestamp(const json& obj, std::string_view path) {
    auto text = opt_string(obj, path, "timestamp", {}, 64);
    if (!text) {
        return 0;
    }
    auto ms = parse_timestamp(*text);
    if (!ms) {
        invalid(join_path(path, "timestamp"), "must be an RFC 3339 timestamp");
    }
    return *ms;
}

TaskState read_state(const json& obj, std::string_view path) {
    const json* v = find(obj, "state");
    const std::string p = join_path(path, "state");
    if (v == nullptr) {
        invalid(p, "is required");
    }
    if (v->is_string()) {
        if (auto s = parse_task_state(v->get_ref<const std::string&>())) {
            return *s;
        }
    } else if (v->is_number_integer()) {
        // Proto enum numbers (a2a.proto TaskState).
        static constexpr TaskState kByNumber[] = {
            TaskState::unspecified,    TaskState::submitted, TaskState::working,
            TaskState::completed,      TaskState::failed,    TaskState::canceled,
            TaskState::input_required, TaskState::rejected,  TaskState::auth_required};
        const auto n = v->get<std::int64_t>();
        if (n >= 0 && n < 9) {
            return kByNumber[n];
        }
    }
    invalid(p, "is not a task state");
}

} // namespace

Part read_part(const json& value, Version version, std::string_view path) {
    require_object(value, path);
    return version == Version::v1_0 ? read_part_v1(value, path) : read_part_v03(value, path);
}

std::vector<Part> read_parts(const json& obj, Version version, std::string_view path) {
    const json* parts = opt_array(obj, path, "parts", {}, kMaxParts);
    const std::string pp = join_path(path, "parts");
    if (parts == nullptr || parts->empty()) {
        invalid(pp, "at least one part is required");
    }
    std::vector<Part> out;
    out.reserve(parts->size());
    for (std::size_t i = 0; i < parts->size(); ++i) {
        out.push_back(read_part((*parts)[i], version, index_path(pp, i)));
    }
    return out;
}

Message read_message(const json& value, Version version, std::string_view path) {
    require_object(value, path);
    if (version == Version::v0_3) {
        check_kind(value, path, "message");
    }
    Message m;
    m.message_id = req_string(value, path, "messageId", "message_id");
    m.context_id = opt_string(value, path, "contextId", "context_id", kMaxIdBytes).value_or("");
    m.task_id = opt_string(value, path, "taskId", "task_id", kMaxIdBytes).value_or("");
    m.role = read_role(value, path, version);
    m.parts = read_parts(value, version, path);
    m.metadata = metadata_of(value, path);
    m.extensions = opt_strings(value, path, "extensions");
    m.reference_task_ids = opt_strings(value, path, "referenceTaskIds", "reference_task_ids");
    return m;
}

TaskStatus read_status(const json& value, Version version, std::string_view path) {
    require_object(value, path);
    TaskStatus s;
    s.state = read_state(value, path);
    if (const json* m = find(value, "message"); m != nullptr) {
        s.message = read_message(*m, version, join_path(path, "message"));
    }
    s.timestamp_ms = read_timestamp(value, path);
    return s;
}

Artifact read_artifact(const json& value, Version version, std::string_view path) {
    require_object(value, path);
    Artifact a;
    a.artifact_id = req_string(value, path, "artifactId", "artifact_id");
    a.name = opt_string(value, path, "name", {}, 1024).value_or("");
    a.description = opt_string(value, path, "description").value_or("");
    a.parts = read_parts(value, version, path);
    a.metadata = metadata_of(value, path);
    a.extensions = opt_strings(value, path, "extensions");
    return a;
}

Task read_task(const json& value, Version version, std::string_view path) {
    require_object(value, path);
    if (version == Version::v0_3) {
        check_kind(value, path, "task");
    }
    Task t;
    t.id = req_string(value, path, "id");
    t.context_id = opt_string(value, path, "contextId", "context_id", kMaxIdBytes).value_or("");
    const json* status = opt_object(value, path, "status");
    if (status == nullptr) {
        invalid(join_path(path, "status"), "is required");
    }
    t.status = read_status(*status, version, join_path(path, "status"));
    if (const json* arts = opt_array(value, path, "artifacts"); arts != nullptr) {
        const std::string ap = join_path(path, "artifacts");
        for (std::size_t i = 0; i < arts->size(); ++i) {
            t.artifacts.push_back(read_artifact((*arts)[i], version, index_path(ap, i)));
        }
    }
    if (const json* hist = opt_array(value, path, "history"); hist != nullptr) {
        const std::string hp = join_path(path, "history");
        for (std::size_t i = 0; i < hist->size(); ++i) {
            t.history.push_back(read_message((*hist)[i], version, index_path(hp, i)));
        }
    }
    t.metadata = metadata_of(value, path);
    return t;
}

PushConfig read_push_config(const json& value, Version version, std::string_view path) {
    require_object(value, path);
    PushConfig c;
    const json* inner = &value;
    std::string inner_path(path);
    if (version == Version::v0_3) {
        if (const json* nested = opt_object(value, path, "pushNotificationConfig");
            nested != nullptr) {
            c.task_id = opt_string(value, path, "taskId", {}, kMaxIdBytes).value_or("");
            inner = nested;
            inner_path = join_path(path, "pushNotificationConfig");
        }
    } else {
        c.task_id = opt_string(value, path, "taskId", "task_id", kMaxIdBytes).value_or("");
    }
    c.id = opt_string(*inner, inner_path, "id", {}, kMaxIdBytes).value_or("");
    c.url = req_string(*inner, inner_path, "url", {}, 4096);
    c.token = opt_string(*inner, inner_path, "token", {}, 4096).value_or("");
    if (const json* auth = opt_object(*inner, inner_path, "authentication"); auth != nullptr) {
        const std::string ap = join_path(inner_path, "authentication");
        AuthenticationInfo info;
        if (version == Version::v1_0) {
            info.scheme = req_string(*auth, ap, "scheme", {}, 64);
        } else {
            auto schemes = opt_strings(*auth, ap, "schemes");
            if (schemes.empty() || schemes.front().empty()) {
                invalid(join_path(ap, "schemes"), "at least one scheme is required");
            }
            info.scheme = schemes.front();
        }
        info.credentials = opt_string(*auth, ap, "credentials", {}, 4096).value_or("");
        c.authentication = std::move(info);
    }
    return c;
}

StreamEvent read_stream_event_v1(const json& value) {
    require_object(value, "result");
    static constexpr std::string_view kCases[] = {"task", "message", "statusUpdate",
                                                  "artifactUpdate"};
    const json* found = nullptr;
    std::size_t which = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        if (const json* v = find(value, kCases[i]); v != nullptr) {
            if (found != nullptr) {
                invalid("result", "must have exactly one of task, message, statusUpdate, "
                                  "artifactUpdate");
            }
            found = v;
            which = i;
        }
    }
    if (found == nullptr) {
        invalid("result", "needs one of task, message, statusUpdate, artifactUpdate");
    }
    const std::string p = join_path("result", kCases[which]);
    const Version v1 = Version::v1_0;
    switch (which) {
    case 0:
        return read_task(*found, v1, p);
    case 1:
        return read_message(*found, v1, p);
    case 2: {
        require_object(*found, p);
        const json* s = opt_object(*found, p, "status");
        if (s == nullptr) {
            invalid(join_path(p, "status"), "is required");
        }
        return StatusUpdate{req_string(*found, p, "taskId", "task_id"),
                            opt_string(*found, p, "contextId", "context_id").value_or(""),
                            read_status(*s, v1, join_path(p, "status")), metadata_of(*found, p)};
    }
    default: {
        require_object(*found, p);
        const json* a = opt_object(*found, p, "artifact");
        if (a == nullptr) {
            invalid(join_path(p, "artifact"), "is required");
        }
        return ArtifactUpdate{req_string(*found, p, "taskId", "task_id"),
                              opt_string(*found, p, "contextId", "context_id").value_or(""),
                              read_artifact(*a, v1, join_path(p, "artifact")),
                              opt_bool(*found, p, "append").value_or(false),
                              opt_bool(*found, p, "lastChunk", "last_chunk").value_or(false),
                              metadata_of(*found, p)};
    }
    }
}

} // namespace detail

namespace {

template <class F>
auto guarded(F&& f) -> base::Result<decltype(f())> {
    try {
        return f();
    } catch (const Invalid& e) {
        return base::fail(errc::invalid_params, e.message);
    } catch (const json::exception& e) {
        // A type error the readers did not anticipate: still the caller's bad input.
        return base::fail(errc::invalid_params, e.what());
    }
}

} // namespace

base::Result<Part> parse_part(const json& value, Version version, std::string_view path) {
    return guarded([&] { return read_part(value, version, path); });
}

base::Result<Message> parse_message(const json& value, Version version, std::string_view path) {
    return guarded([&] { return read_message(value, version, path); });
}

base::Result<Artifact> parse_artifact(const json& value, Version version, std::string_view path) {
    return guarded([&] { return read_artifact(value, version, path); });
}

base::Result<Task> parse_task(const json& value, Version version, std::string_view path) {
    return guarded([&] { return read_task(value, version, path); });
}

base::Result<PushConfig> parse_push_config(const json& value, Version version,
                                           std::string_view path) {
    return guarded([&] { return read_push_config(value, version, path); });
}

base::Result<StreamEvent> parse_stream_event(const json& value, Version version) {
    return guarded([&]() -> StreamEvent {
        require_object(value, "result");
        if (version == Version::v0_3) {
            const auto kind = opt_string(value, "result", "kind").value_or("");
            if (kind == "task") {
                return read_task(value, version, "result");
            }
            if (kind == "message") {
                return read_message(value, version, "result");
            }
            if (kind == "status-update" || kind == "artifact-update") {
                const std::string p = "result";
                const auto task_id = req_string(value, p, "taskId");
                const auto context_id = opt_string(value, p, "contextId").value_or("");
                if (kind == "status-update") {
                    const json* s = opt_object(value, p, "status");
                    if (s == nullptr) {
                        invalid("result.status", "is required");
                    }
                    return StatusUpdate{task_id, context_id,
                                        read_status(*s, version, "result.status"),
                                        metadata_of(value, p)};
                }
                const json* a = opt_object(value, p, "artifact");
                if (a == nullptr) {
                    invalid("result.artifact", "is required");
                }
                return ArtifactUpdate{task_id,
                                      context_id,
                                      read_artifact(*a, version, "result.artifact"),
                                      opt_bool(value, p, "append").value_or(false),
                                      opt_bool(value, p, "lastChunk").value_or(false),
                                      metadata_of(value, p)};
            }
            invalid("result.kind", "must be task, message, status-update or artifact-update");
        }
        return read_stream_event_v1(value);
    });
}

} // namespace agentd::protocols::a2a
