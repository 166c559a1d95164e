#pragma once
/// A2A's JSON-RPC binding (spec §9) for both method-name sets: v1.0 (`SendMessage`, `GetTask`,
/// ...) and v0.3 (`message/send`, `tasks/get`, ...). Parses requests into typed parameters,
/// and builds results and errors in the shape of the request's version.
///
/// Version rules (docs/A2A.md): the `A2A-Version` header, when present, must be 0.3 or 1.0
/// (else -32009 VersionNotSupportedError) and the method must be one of that version's names
/// (else -32601, naming the right one). Without the header a request is v0.3 (spec §3.6.2),
/// except that v1.0 method names, which v0.3 never had, are served as v1.0.
///
/// Errors: A2A errors travel with code -32001..-32009 and, in v1.0, a google.rpc.ErrorInfo in
/// `error.data` ({"@type", "reason", "domain": "a2a-protocol.org", "metadata"}).
/// Thread-safety: free functions over values; never throw.

#include "agentd/base/result.h"
#include "agentd/protocols/a2a/types.h"
#include "agentd/protocols/json_rpc.h"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::protocols::a2a {

enum class Method {
    send_message,
    send_streaming_message,
    get_task,
    list_tasks,
    cancel_task,
    subscribe_to_task,
    create_push_config,
    get_push_config,
    list_push_configs,
    delete_push_config,
    get_extended_card,
};

/// SendStreamingMessage / SubscribeToTask (and their v0.3 names): answered with SSE.
[[nodiscard]] bool is_streaming(Method method) noexcept;

/// The wire name of `method` in `version`; "" when that version has no such method
/// (ListTasks in v0.3).
[[nodiscard]] std::string_view method_name(Method method, Version version) noexcept;

struct MethodName {
    Method method;
    Version version; ///< the version whose name set it belongs to
};

/// Looks a wire name up in both name sets.
[[nodiscard]] std::optional<MethodName> lookup_method(std::string_view name) noexcept;

/// Decides the version a request is served in from its method name and `A2A-Version` header
/// (nullopt when absent), per the rules above. Errors: version_not_supported, method_not_found.
[[nodiscard]] base::Result<MethodName>
resolve_method(std::string_view name, std::optional<std::string_view> version_header);

/// A parsed request. Only the member of `method` is filled.
struct Request {
    Method method = Method::send_message;
    Version version = Version::v1_0;
    SendMessageParams send;          ///< send_message, send_streaming_message
    GetTaskParams get;               ///< get_task
    ListTasksParams list;            ///< list_tasks
    TaskIdParams task;               ///< cancel_task, subscribe_to_task
    PushConfig push;                 ///< create_push_config
    PushConfigRef push_ref;          ///< get_push_config, delete_push_config
    ListPushConfigsParams push_list; ///< list_push_configs
};

/// Parses `params` (a JSON object; null/absent is treated as {}) of a request for `name`.
/// Errors: invalid_params naming the field.
[[nodiscard]] base::Result<Request> parse_params(MethodName name, const nlohmann::json& params);

/// What one A2A error looks like on the wire.
struct RpcError {
    int code = rpc_code::internal_error;
    std::string message;
    std::string reason; ///< ErrorInfo.reason ("TASK_NOT_FOUND"); "" → derived from code
    std::map<std::string, std::string> metadata; ///< ErrorInfo.metadata (e.g. taskId)
};

/// Maps an error to its A2A/JSON-RPC code (protocols::errc values; other categories → -32603
/// with the message kept).
[[nodiscard]] RpcError to_rpc_error(const base::Error& error);

/// `{"code", "message", "data"?}`; v1.0 adds the ErrorInfo detail array.
[[nodiscard]] nlohmann::json error_object(const RpcError& error, Version version);
/// A complete JSON-RPC error response.
[[nodiscard]] std::string error_response(const jsonrpc::RequestId& id, const RpcError& error,
                                         Version version);

/// SendMessage's result: v1.0 `{"task": ...}` / `{"message": ...}`; v0.3 the bare object.
[[nodiscard]] nlohmann::json send_result(const Task& task, Version version);
[[nodiscard]] nlohmann::json send_result(const Message& message, Version version);

} // namespace agentd::protocols::a2a
