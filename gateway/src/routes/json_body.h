#pragma once
/// Reading the JSON body of a REST request (/v1/sandbox/run, /v1/memory): checks the media type
/// and the nesting depth and answers the precise error itself.
///
/// Threads: any. Errors: on failure a 415 or 400 {"error": {"code", "message"}} has been sent
/// and nullopt is returned.

#include "http/handler.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace agentd::gateway::routes {

inline constexpr int kMaxBodyDepth = 64;

[[nodiscard]] std::optional<nlohmann::json> read_json_body(const http::Request& request,
                                                           http::ResponseWriter& writer);

/// A JSON response; invalid UTF-8 in strings (program output) becomes U+FFFD.
[[nodiscard]] http::Response json_response(unsigned status, const nlohmann::json& body);

} // namespace agentd::gateway::routes
