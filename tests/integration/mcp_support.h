#pragma once
// Helpers of the MCP integration tests: JSON-RPC over POST /mcp with the headers MCP clients
// send, the mirrored headers of protocol 2026-07-28, and an SSE reader with deadlines.

#include "agentd/itest/http_client.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agentd::itest::mcp {

using nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

/// A POST /mcp request with Content-Type and Accept as MCP clients send them plus `extra`.
HttpRequest post_request(const json& body, const Headers& extra = {});
HttpRequest post_request(std::string body, const Headers& extra = {});
HttpResponse post(std::uint16_t port, const json& body, const Headers& extra = {});

json request(json id, const std::string& method, json params = json::object());
json notification(const std::string& method, json params = json::object());
/// A 2026-07-28 request with the required `_meta` fields.
json modern_request(json id, const std::string& method, json params = json::object(),
                    json capabilities = json::object(), json meta_extra = json::object());
/// The headers a 2026-07-28 client sends with `message`.
Headers modern_headers(const json& message);

/// Opens a session (initialize + notifications/initialized); returns its Mcp-Session-Id.
std::string open_session(std::uint16_t port, const std::string& version = "2025-11-25",
                         json capabilities = json::object());
Headers session_headers(const std::string& session, const std::string& version = "2025-11-25");

/// The JSON body of a response (fails the test when it is not JSON).
json body_json(const HttpResponse& response);

struct SseEvent {
    std::string id;
    std::string event;
    std::string data;
};

/// Reads the SSE body of a response whose head was read with HttpConnection::read_head().
class SseReader {
public:
    explicit SseReader(HttpConnection& connection) : connection_(connection) {}
    /// The next event, or nullopt when the stream ended. Throws on timeout (connection timeout).
    std::optional<SseEvent> next();
    /// Every remaining event until the stream ends.
    std::vector<SseEvent> rest();

private:
    HttpConnection& connection_;
    std::string buffer_;
    bool done_ = false;
};

/// Reads a response that may be JSON or SSE and returns every JSON-RPC message in it, in order
/// (SSE events without data are skipped).
std::vector<json> read_messages(HttpConnection& connection, HttpResponse* head = nullptr);

} // namespace agentd::itest::mcp
