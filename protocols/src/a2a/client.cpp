// The client side of A2A's JSON-RPC binding (client.h).

#include "agentd/protocols/a2a/client.h"

#include "agentd/protocols/a2a/codec.h"
#include "agentd/protocols/errc.h"

#include <nlohmann/json.hpp>

namespace agentd::protocols::a2a {

using nlohmann::json;

namespace {

json send_params(const SendMessageParams& p, Version v) {
    json out = {{"message", to_json(p.message, v)}};
    json config = json::object();
    const auto& c = p.configuration;
    if (!c.accepted_output_modes.empty()) {
        config["acceptedOutputModes"] = c.accepted_output_modes;
    }
    if (c.history_length) {
        config["historyLength"] = *c.history_length;
    }
    if (v == Version::v1_0) {
        if (c.return_immediately) {
            config["returnImmediately"] = true;
        }
        if (c.push_config) {
            config["taskPushNotificationConfig"] = to_json(*c.push_config, v);
        }
    } else {
        config["blocking"] = !c.return_immediately;
        if (c.push_config) {
            config["pushNotificationConfig"] = to_json(*c.push_config, v)["pushNotificationConfig"];
        }
    }
    if (!config.empty()) {
        out["configuration"] = std::move(config);
    }
    if (p.metadata) {
        out["metadata"] = *p.metadata;
    }
    return out;
}

json list_params(const ListTasksParams& p) {
    json out = json::object();
    if (!p.context_id.empty()) {
        out["contextId"] = p.context_id;
    }
    if (p.status) {
        out["status"] = to_string(*p.status, Version::v1_0);
    }
    if (p.page_size) {
        out["pageSize"] = *p.page_size;
    }
    if (!p.page_token.empty()) {
        out["pageToken"] = p.page_token;
    }
    if (p.history_length) {
        out["historyLength"] = *p.history_length;
    }
    if (p.status_timestamp_after_ms) {
        out["statusTimestampAfter"] = format_timestamp(*p.status_timestamp_after_ms);
    }
    if (p.include_artifacts) {
        out["includeArtifacts"] = true;
    }
    return out;
}

json params_of(const Request& r) {
    const Version v = r.version;
    const bool v1 = v == Version::v1_0;
    switch (r.method) {
    case Method::send_message:
    case Method::send_streaming_message:
        return send_params(r.send, v);
    case Method::get_task: {
        json out = {{"id", r.get.id}};
        if (r.get.history_length) {
            out["historyLength"] = *r.get.history_length;
        }
        return out;
    }
    case Method::list_tasks:
        return list_params(r.list);
    case Method::cancel_task:
    case Method::subscribe_to_task:
        return {{"id", r.task.id}};
    case Method::create_push_config:
        return to_json(r.push, v);
    case Method::get_push_config:
    case Method::delete_push_config:
        if (v1) {
            return {{"taskId", r.push_ref.task_id}, {"id", r.push_ref.id}};
        }
        return {{"id", r.push_ref.task_id}, {"pushNotificationConfigId", r.push_ref.id}};
    case Method::list_push_configs:
        return v1 ? json{{"taskId", r.push_list.task_id}} : json{{"id", r.push_list.task_id}};
    case Method::get_extended_card:
        return json::object();
    }
    return json::object();
}

} // namespace

std::string build_request(const jsonrpc::RequestId& id, const Request& request) {
    return jsonrpc::make_request(id, method_name(request.method, request.version),
                                 params_of(request));
}

base::Error error_from_code(int code, std::string message) {
    if (code <= -32001 && code >= -32009) {
        const auto e = static_cast<errc>(static_cast<int>(errc::task_not_found) + (-32001 - code));
        return base::Error(e, std::move(message));
    }
    switch (code) {
    case rpc_code::parse_error:
        return base::Error(errc::parse_error, std::move(message));
    case rpc_code::invalid_request:
        return base::Error(errc::invalid_request, std::move(message));
    case rpc_code::method_not_found:
        return base::Error(errc::method_not_found, std::move(message));
    case rpc_code::invalid_params:
        return base::Error(errc::invalid_params, std::move(message));
    default:
        return base::Error(errc::internal_error, std::move(message));
    }
}

base::Result<JsonPtr> read_response(std::string_view body, const jsonrpc::RequestId& expected_id) {
    const auto frame = jsonrpc::parse(body);
    if (!frame.ok || frame.batch || frame.messages.size() != 1) {
        return base::fail(errc::invalid_agent_response,
                          "the peer's answer is not a JSON-RPC response" +
                              (frame.ok ? std::string() : ": " + frame.error.what()));
    }
    const auto& m = frame.messages.front();
    if (!m.is_response()) {
        return base::fail(errc::invalid_agent_response, "the peer's answer is not a response");
    }
    if (!m.id().is_null() && !(m.id() == expected_id)) {
        return base::fail(errc::invalid_agent_response, "the peer answered request " +
                                                            m.id().to_json_text() + ", not " +
                                                            expected_id.to_json_text());
    }
    if (m.kind() == jsonrpc::Message::Kind::error) {
        const json& e = m.payload();
        const int code = e.contains("code") && e["code"].is_number_integer()
                             ? e["code"].get<int>()
                             : rpc_code::internal_error;
        std::string message = e.contains("message") && e["message"].is_string()
                                  ? e["message"].get<std::string>()
                                  : "error without a message";
        return error_from_code(code, "peer error " + std::to_string(code) + ": " + message);
    }
    return share_json(m.payload());
}

base::Result<std::variant<Task, Message>> parse_send_result(const json& result, Version version) {
    if (version == Version::v1_0) {
        if (result.is_object() && result.contains("task")) {
            auto t = parse_task(result["task"], version, "result.task");
            if (!t) {
                return base::fail(errc::invalid_agent_response, t.error().what());
            }
            return std::variant<Task, Message>(std::move(*t));
        }
        if (result.is_object() && result.contains("message")) {
            auto msg = parse_message(result["message"], version, "result.message");
            if (!msg) {
                return base::fail(errc::invalid_agent_response, msg.error().what());
            }
            return std::variant<Task, Message>(std::move(*msg));
        }
        return base::fail(errc::invalid_agent_response,
                          "SendMessage result has neither task nor message");
    }
    auto event = parse_stream_event(result, version);
    if (!event) {
        return base::fail(errc::invalid_agent_response, event.error().what());
    }
    if (auto* t = std::get_if<Task>(&*event)) {
        return std::variant<Task, Message>(std::move(*t));
    }
    if (auto* msg = std::get_if<Message>(&*event)) {
        return std::variant<Task, Message>(std::move(*msg));
    }
    return base::fail(errc::invalid_agent_response, "message/send returned an update event");
}

} // namespace agentd::protocols::a2a
