// A2A JSON-RPC binding: method names of both versions, request parameters, errors (rpc.h).

#include "agentd/protocols/a2a/rpc.h"

#include "agentd/protocols/a2a/codec.h"
#include "agentd/protocols/errc.h"

#include "a2a/codec_read.h"
#include "a2a/json_read.h"

#include <nlohmann/json.hpp>

#include <array>

namespace agentd::protocols::a2a {

using nlohmann::json;
using namespace detail;

namespace {

struct MethodNames {
    Method method;
    std::string_view v1;
    std::string_view v03;
};

constexpr std::array<MethodNames, 11> kMethods{{
    {Method::send_message, "SendMessage", "message/send"},
    {Method::send_streaming_message, "SendStreamingMessage", "message/stream"},
    {Method::get_task, "GetTask", "tasks/get"},
    {Method::list_tasks, "ListTasks", ""},
    {Method::cancel_task, "CancelTask", "tasks/cancel"},
    {Method::subscribe_to_task, "SubscribeToTask", "tasks/resubscribe"},
    {Method::create_push_config, "CreateTaskPushNotificationConfig",
     "tasks/pushNotificationConfig/set"},
    {Method::get_push_config, "GetTaskPushNotificationConfig", "tasks/pushNotificationConfig/get"},
    {Method::list_push_configs, "ListTaskPushNotificationConfigs",
     "tasks/pushNotificationConfig/list"},
    {Method::delete_push_config, "DeleteTaskPushNotificationConfig",
     "tasks/pushNotificationConfig/delete"},
    {Method::get_extended_card, "GetExtendedAgentCard", "agent/getAuthenticatedExtendedCard"},
}};

constexpr std::int32_t kMaxPageSize = 100;

std::string_view reason_of(int code) {
    switch (code) {
    case -32001:
        return "TASK_NOT_FOUND";
    case -32002:
        return "TASK_NOT_CANCELABLE";
    case -32003:
        return "PUSH_NOTIFICATION_NOT_SUPPORTED";
    case -32004:
        return "UNSUPPORTED_OPERATION";
    case -32005:
        return "CONTENT_TYPE_NOT_SUPPORTED";
    case -32006:
        return "INVALID_AGENT_RESPONSE";
    case -32007:
        return "EXTENDED_AGENT_CARD_NOT_CONFIGURED";
    case -32008:
        return "EXTENSION_SUPPORT_REQUIRED";
    case -32009:
        return "VERSION_NOT_SUPPORTED";
    case rpc_code::parse_error:
        return "PARSE_ERROR";
    case rpc_code::invalid_request:
        return "INVALID_REQUEST";
    case rpc_code::method_not_found:
        return "METHOD_NOT_FOUND";
    case rpc_code::invalid_params:
        return "INVALID_PARAMS";
    default:
        return "INTERNAL_ERROR";
    }
}

std::optional<std::int32_t> history_length(const json& obj, std::string_view path) {
    auto n = opt_int32(obj, path, "historyLength", "history_length");
    if (n && *n < 0) {
        invalid(join_path(path, "historyLength"), "must not be negative");
    }
    return n;
}

SendMessageParams read_send(const json& p, Version version) {
    SendMessageParams out;
    const json* message = find(p, "message");
    if (message == nullptr) {
        invalid("params.message", "is required");
    }
    out.message = read_message(*message, version, "params.message");
    if (out.message.role != Role::user) {
        invalid("params.message.role", version == Version::v1_0
                                           ? "must be ROLE_USER in a message sent to an agent"
                                           : "must be \"user\" in a message sent to an agent");
    }
    if (const json* c = opt_object(p, "params", "configuration"); c != nullptr) {
        const std::string cp = "params.configuration";
        auto& cfg = out.configuration;
        cfg.accepted_output_modes =
            opt_strings(*c, cp, "acceptedOutputModes", "accepted_output_modes");
        cfg.history_length = history_length(*c, cp);
        if (version == Version::v1_0) {
            cfg.return_immediately =
                opt_bool(*c, cp, "returnImmediately", "return_immediately").value_or(false);
            if (const json* push = opt_object(*c, cp, "taskPushNotificationConfig",
                                              "task_push_notification_config");
                push != nullptr) {
                cfg.push_config =
                    read_push_config(*push, version, join_path(cp, "taskPushNotificationConfig"));
            }
        } else {
            // v0.3 `blocking` is returnImmediately with the opposite polarity; absent → block.
            cfg.return_immediately = !opt_bool(*c, cp, "blocking").value_or(true);
            if (const json* push = opt_object(*c, cp, "pushNotificationConfig"); push != nullptr) {
                cfg.push_config =
                    read_push_config(*push, version, join_path(cp, "pushNotificationConfig"));
            }
        }
    }
    if (const json* m = opt_object(p, "params", "metadata"); m != nullptr) {
        out.metadata = share_json(*m);
    }
    return out;
}

ListTasksParams read_list(const json& p) {
    ListTasksParams out;
    const std::string_view path = "params";
    out.context_id = opt_string(p, path, "contextId", "context_id", kMaxIdBytes).value_or("");
    if (const json* s = find(p, "status"); s != nullptr) {
        std::optional<TaskState> state;
        if (s->is_string()) {
            state = parse_task_state(s->get_ref<const std::string&>());
        }
        if (!state) {
            invalid("params.status", "is not a task state (e.g. TASK_STATE_WORKING)");
        }
        if (*state != TaskState::unspecified) {
            out.status = state;
        }
    }
    out.page_size = opt_int32(p, path, "pageSize", "page_size");
    if (out.page_size && (*out.page_size < 1 || *out.page_size > kMaxPageSize)) {
        invalid("params.pageSize", "must be between 1 and " + std::to_string(kMaxPageSize));
    }
    out.page_token = opt_string(p, path, "pageToken", "page_token", 1024).value_or("");
    out.history_length = history_length(p, path);
    if (auto after = opt_string(p, path, "statusTimestampAfter", "status_timestamp_after", 64)) {
        auto ms = parse_timestamp(*after);
        if (!ms) {
            invalid("params.statusTimestampAfter", "must be an RFC 3339 timestamp");
        }
        out.status_timestamp_after_ms = ms;
    }
    out.include_artifacts =
        opt_bool(p, path, "includeArtifacts", "include_artifacts").value_or(false);
    return out;
}

/// v1.0 names the task `taskId` in push-config requests; v0.3 calls it `id`.
std::string push_task_id(const json& p, Version version) {
    return version == Version::v1_0 ? req_string(p, "params", "taskId", "task_id")
                                    : req_string(p, "params", "id");
}

void read_into(Request& r, const json& p) {
    const Version v = r.version;
    switch (r.method) {
    case Method::send_message:
    case Method::send_streaming_message:
        r.send = read_send(p, v);
        break;
    case Method::get_task:
        r.get.id = req_string(p, "params", "id");
        r.get.history_length = history_length(p, "params");
        break;
    case Method::list_tasks:
        r.list = read_list(p);
        break;
    case Method::cancel_task:
    case Method::subscribe_to_task:
        r.task.id = req_string(p, "params", "id");
        if (const json* m = opt_object(p, "params", "metadata"); m != nullptr) {
            r.task.metadata = share_json(*m);
        }
        break;
    case Method::create_push_config:
        r.push = read_push_config(p, v, "params");
        if (r.push.task_id.empty()) {
            invalid("params.taskId", "is required");
        }
        break;
    case Method::get_push_config:
    case Method::delete_push_config:
        r.push_ref.task_id = push_task_id(p, v);
        if (v == Version::v1_0) {
            r.push_ref.id = req_string(p, "params", "id");
        } else if (r.method == Method::delete_push_config) {
            r.push_ref.id = req_string(p, "params", "pushNotificationConfigId");
        } else {
            r.push_ref.id =
                opt_string(p, "params", "pushNotificationConfigId", {}, kMaxIdBytes).value_or("");
        }
        break;
    case Method::list_push_configs:
        r.push_list.task_id = push_task_id(p, v);
        if (v == Version::v1_0) {
            r.push_list.page_size = opt_int32(p, "params", "pageSize", "page_size").value_or(0);
            if (r.push_list.page_size < 0) {
                invalid("params.pageSize", "must not be negative");
            }
            r.push_list.page_token =
                opt_string(p, "params", "pageToken", "page_token", 1024).value_or("");
        }
        break;
    case Method::get_extended_card:
        break;
    }
}

} // namespace

bool is_streaming(Method method) noexcept {
    return method == Method::send_streaming_message || method == Method::subscribe_to_task;
}

std::string_view method_name(Method method, Version version) noexcept {
    for (const auto& m : kMethods) {
        if (m.method == method) {
            return version == Version::v1_0 ? m.v1 : m.v03;
        }
    }
    return {};
}

std::optional<MethodName> lookup_method(std::string_view name) noexcept {
    if (name.empty()) {
        return std::nullopt;
    }
    for (const auto& m : kMethods) {
        if (name == m.v1) {
            return MethodName{m.method, Version::v1_0};
        }
        if (name == m.v03) {
            return MethodName{m.method, Version::v0_3};
        }
    }
    return std::nullopt;
}

base::Result<MethodName> resolve_method(std::string_view name,
                                        std::optional<std::string_view> version_header) {
    std::optional<Version> requested;
    if (version_header) {
        requested = parse_version(*version_header);
        if (!requested) {
            return base::fail(errc::version_not_supported,
                              "A2A-Version \"" + std::string(version_header->substr(0, 32)) +
                                  "\" is not supported (this agent speaks 1.0 and 0.3)");
        }
    }
    const auto found = lookup_method(name);
    if (!found) {
        return base::fail(errc::method_not_found,
                          "method \"" + std::string(name.substr(0, 128)) + "\" not found");
    }
    if (requested && *requested != found->version) {
        std::string message =
            "\"" + std::string(name) + "\" is an A2A " + std::string(to_string(found->version)) +
            " method but the request says A2A-Version " + std::string(to_string(*requested));
        if (const auto other = method_name(found->method, *requested); !other.empty()) {
            message += "; use \"" + std::string(other) + "\"";
        }
        return base::fail(errc::method_not_found, std::move(message));
    }
    return *found;
}

base::Result<Request> parse_params(MethodName name, const json& params) {
    Request r;
    r.method = name.method;
    r.version = name.version;
    if (!params.is_null() && !params.is_object()) {
        return base::fail(errc::invalid_params, "params: must be an object");
    }
    static const json kEmpty = json::object();
    try {
        read_into(r, params.is_null() ? kEmpty : params);
    } catch (const Invalid& e) {
        return base::fail(errc::invalid_params, e.message);
    } catch (const json::exception& e) {
        return base::fail(errc::invalid_params, e.what());
    }
    return r;
}

RpcError to_rpc_error(const base::Error& error) {
    RpcError out;
    out.code = jsonrpc::code_of(error, false);
    out.message = error.what();
    out.reason = std::string(reason_of(out.code));
    return out;
}

json error_object(const RpcError& error, Version version) {
    json out = {{"code", error.code}, {"message", error.message}};
    if (version == Version::v1_0) {
        json info = {
            {"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
            {"reason", error.reason.empty() ? std::string(reason_of(error.code)) : error.reason},
            {"domain", "a2a-protocol.org"}};
        if (!error.metadata.empty()) {
            info["metadata"] = error.metadata;
        }
        out["data"] = json::array({std::move(info)});
    }
    return out;
}

std::string error_response(const jsonrpc::RequestId& id, const RpcError& error, Version version) {
    json msg = {{"jsonrpc", "2.0"}};
    id.write(msg["id"]);
    msg["error"] = error_object(error, version);
    return jsonrpc::serialize(msg);
}

json send_result(const Task& task, Version version) {
    if (version == Version::v1_0) {
        return {{"task", to_json(task, version)}};
    }
    return to_json(task, version);
}

json send_result(const Message& message, Version version) {
    if (version == Version::v1_0) {
        return {{"message", to_json(message, version)}};
    }
    return to_json(message, version);
}

} // namespace agentd::protocols::a2a
