#pragma once
/// REST tools: an HTTP endpoint registered as a tool (POST /v1/tools).
///
/// Registration JSON (CONTRACT.md):
///   {"name", "title"?, "description", "input_schema", "output_schema"?, "annotations"?,
///    "endpoint": {"url", "method"?, "headers"?}, "timeout_ms"?}
/// parse_rest_registration() checks every field and says exactly what is wrong (field path and
/// reason), including the URL policy (http/https only, no credentials in the URL, no forbidden
/// hosts; see NetPolicy) and header sanity.
///
/// A call sends the arguments as a JSON body (POST, PUT, PATCH) or as query parameters (GET,
/// DELETE), within the tool's timeout, capped in response size, and maps the answer: a JSON
/// object becomes structuredContent (checked against output_schema) plus a text block with the
/// JSON; any other JSON a text block; every failure (timeout, refused connection, DNS failure,
/// forbidden address, non-2xx, non-JSON, oversized, malformed) a result with isError and a
/// message naming the endpoint and what went wrong.
///
/// Value types and pure functions; thread-safe. Errors: errc::invalid_argument,
/// errc::invalid_schema, errc::forbidden, with messages meant for the registering client.

#include "agentd/base/result.h"
#include "agentd/tools/http_client.h"
#include "agentd/tools/json_schema.h"
#include "agentd/tools/net_policy.h"
#include "agentd/tools/tool.h"
#include "agentd/tools/tool_registry.h"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentd::tools {

/// Limits and network policy for REST tools (config: tools.rest.*).
struct RestToolPolicy {
    NetPolicy net;
    std::chrono::milliseconds default_timeout{30'000};
    std::chrono::milliseconds max_timeout{300'000};
    std::size_t max_response_bytes = 4U << 20U;
    std::size_t max_name_bytes = 128;
    std::size_t max_title_bytes = 256;
    std::size_t max_description_bytes = 16U << 10U;
    std::size_t max_schema_bytes = 256U << 10U; ///< each schema, serialized
    std::size_t max_url_bytes = 2048;
    std::size_t max_headers = 32;
    std::size_t max_header_name_bytes = 128;
    std::size_t max_header_value_bytes = 8192;
    SchemaOptions schema;
};

/// An http(s) URL split for the client.
struct EndpointUrl {
    bool tls = false;
    std::string host; ///< lower-case name or IP literal (IPv6 without brackets)
    std::uint16_t port = 80;
    std::string target = "/"; ///< path and query
};

/// Parses and checks an endpoint URL (scheme, credentials, host form, port, characters).
[[nodiscard]] base::Result<EndpointUrl> parse_endpoint_url(std::string_view url,
                                                           const RestToolPolicy& policy);

struct RestEndpoint {
    std::string url;                                          ///< as registered
    std::string method;                                       ///< GET, POST, PUT, PATCH or DELETE
    std::vector<std::pair<std::string, std::string>> headers; ///< in registration order
    EndpointUrl parsed;
};

/// A validated registration.
struct RestToolSpec {
    ToolDefinition definition; ///< source = rest
    RestEndpoint endpoint;
    std::chrono::milliseconds timeout{30'000};
};

/// Checks a registration body (see above). Messages look like
/// "endpoint.url: scheme must be http or https, not \"ftp\"".
[[nodiscard]] base::Result<RestToolSpec> parse_rest_registration(const nlohmann::json& body,
                                                                 const RestToolPolicy& policy);

/// The registration JSON of a spec (what GET /v1/tools/{name} shows and what is stored).
/// With `redact`, values of credential-like headers (Authorization, Cookie, *key*, *token*,
/// *secret*, ...) are replaced by "<redacted>".
[[nodiscard]] nlohmann::json rest_spec_to_json(const RestToolSpec& spec, bool redact);

/// The registry Tool for a spec: its executor calls the endpoint through `client`. The Tool's
/// details() are rest_spec_to_json(spec, /*redact=*/true).
[[nodiscard]] base::Result<ToolPtr>
make_rest_tool(RestToolSpec spec, std::shared_ptr<HttpClient> client, const RestToolPolicy& policy);

/// Builds the HTTP request for one call (exposed for tests): method, target with the query for
/// GET/DELETE, headers, JSON body, deadline = min(now + spec.timeout, call deadline).
[[nodiscard]] HttpClientRequest build_rest_request(const RestToolSpec& spec,
                                                   const nlohmann::json& arguments,
                                                   const RestToolPolicy& policy,
                                                   std::chrono::steady_clock::time_point deadline);

/// Maps the client's outcome to the tool result (exposed for tests).
[[nodiscard]] ToolResult map_rest_response(const RestToolSpec& spec,
                                           const base::Result<HttpClientResponse>& outcome,
                                           std::chrono::milliseconds timeout);

} // namespace agentd::tools
