#pragma once
/// HTTP content negotiation as MCP's Streamable HTTP transport needs it: does an `Accept` header
/// admit a media type (RFC 9110 media ranges with wildcards and q-values; q=0 excludes), and is
/// a `Content-Type` JSON in UTF-8. Pure functions; never throw.

#include <string_view>

namespace agentd::gateway::mcp {

/// True when `accept` (absent → "") admits `type` ("application/json", "text/event-stream").
[[nodiscard]] bool accepts(std::string_view accept, std::string_view type);

/// True for `application/json` with no charset parameter or charset=utf-8 (case-insensitive).
[[nodiscard]] bool is_json_content_type(std::string_view content_type);

} // namespace agentd::gateway::mcp
