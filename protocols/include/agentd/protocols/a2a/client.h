#pragma once
/// The client side of A2A's JSON-RPC binding (agentd calling peer agents): request bodies in
/// either version's shape and the reading of responses, including A2A errors.
///
/// Transport-free: the gateway sends the bodies over HTTP. Thread-safety: free functions over
/// values; never throw. Errors: read_response returns the peer's JSON-RPC error as a
/// base::Error whose protocols::errc matches the code (-32001 → task_not_found, ...), or
/// invalid_agent_response when the body is not a JSON-RPC response to `expected_id`.

#include "agentd/base/result.h"
#include "agentd/protocols/a2a/rpc.h"
#include "agentd/protocols/a2a/types.h"
#include "agentd/protocols/json_rpc.h"

#include <string>
#include <string_view>
#include <variant>

namespace agentd::protocols::a2a {

/// The JSON-RPC request for `request` (method name and params in `request.version`'s shape).
[[nodiscard]] std::string build_request(const jsonrpc::RequestId& id, const Request& request);

/// The `result` of a JSON-RPC response body, or the error it carries.
[[nodiscard]] base::Result<JsonPtr> read_response(std::string_view body,
                                                  const jsonrpc::RequestId& expected_id);

/// SendMessage's result: a Task or a direct Message.
[[nodiscard]] base::Result<std::variant<Task, Message>>
parse_send_result(const nlohmann::json& result, Version version);

/// The errc of a JSON-RPC error code (A2A codes, the standard ones, else internal_error).
[[nodiscard]] base::Error error_from_code(int code, std::string message);

} // namespace agentd::protocols::a2a
