#include "agentd/protocols/a2a/types.h"

#include <array>
#include <utility>

namespace agentd::protocols::a2a {

std::string_view to_string(Version version) noexcept {
    return version == Version::v0_3 ? "0.3" : "1.0";
}

std::optional<Version> parse_version(std::string_view text) noexcept {
    // Surrounding blanks are not part of a header value.
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    if (text.empty()) {
        return Version::v0_3;
    }
    // Major.Minor[.Patch]: the patch number does not affect compatibility (spec §3.6).
    const auto matches = [text](std::string_view major_minor) {
        if (!text.starts_with(major_minor)) {
            return false;
        }
        const auto rest = text.substr(major_minor.size());
        if (rest.empty()) {
            return true;
        }
        if (rest.front() != '.' || rest.size() == 1) {
            return false;
        }
        for (const char c : rest.substr(1)) {
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    };
    if (matches("0.3")) {
        return Version::v0_3;
    }
    if (text == "1" || matches("1.0")) {
        return Version::v1_0;
    }
    return std::nullopt;
}

bool is_terminal(TaskState state) noexcept {
    return state == TaskState::completed || state == TaskState::canceled ||
           state == TaskState::failed || state == TaskState::rejected;
}

bool is_interrupted(TaskState state) noexcept {
    return state == TaskState::input_required || state == TaskState::auth_required;
}

namespace {

struct StateNames {
    TaskState state;
    std::string_view v1;
    std::string_view v03;
};

constexpr std::array<StateNames, 9> kStates{{
    {TaskState::unspecified, "TASK_STATE_UNSPECIFIED", "unknown"},
    {TaskState::submitted, "TASK_STATE_SUBMITTED", "submitted"},
    {TaskState::working, "TASK_STATE_WORKING", "working"},
    {TaskState::completed, "TASK_STATE_COMPLETED", "completed"},
    {TaskState::failed, "TASK_STATE_FAILED", "failed"},
    {TaskState::canceled, "TASK_STATE_CANCELED", "canceled"},
    {TaskState::input_required, "TASK_STATE_INPUT_REQUIRED", "input-required"},
    {TaskState::rejected, "TASK_STATE_REJECTED", "rejected"},
    {TaskState::auth_required, "TASK_STATE_AUTH_REQUIRED", "auth-required"},
}};

} // namespace

std::string_view to_string(TaskState state, Version version) noexcept {
    for (const auto& s : kStates) {
        if (s.state == state) {
            return version == Version::v1_0 ? s.v1 : s.v03;
        }
    }
    return version == Version::v1_0 ? "TASK_STATE_UNSPECIFIED" : "unknown";
}

std::optional<TaskState> parse_task_state(std::string_view text) noexcept {
    for (const auto& s : kStates) {
        if (text == s.v1 || text == s.v03) {
            return s.state;
        }
    }
    return std::nullopt;
}

Part Part::make_text(std::string text) {
    Part p;
    p.kind = Kind::text;
    p.text = std::move(text);
    return p;
}

Part Part::make_raw(std::string bytes, std::string media_type, std::string filename) {
    Part p;
    p.kind = Kind::raw;
    p.raw = std::move(bytes);
    p.media_type = std::move(media_type);
    p.filename = std::move(filename);
    return p;
}

Part Part::make_url(std::string url, std::string media_type, std::string filename) {
    Part p;
    p.kind = Kind::url;
    p.url = std::move(url);
    p.media_type = std::move(media_type);
    p.filename = std::move(filename);
    return p;
}

Part Part::make_data(JsonPtr data) {
    Part p;
    p.kind = Kind::data;
    p.data = std::move(data);
    return p;
}

std::string Message::joined_text() const {
    std::string out;
    for (const auto& part : parts) {
        if (part.kind != Part::Kind::text) {
            continue;
        }
        if (!out.empty()) {
            out += '\n';
        }
        out += part.text;
    }
    return out;
}

} // namespace agentd::protocols::a2a
