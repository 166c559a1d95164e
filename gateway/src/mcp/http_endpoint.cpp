#include "mcp/http_endpoint.h"

#include "http/text.h"
#include "log/logging.h"
#include "mcp/media_types.h"
#include "mcp/post_channel.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace agentd::gateway::mcp {

namespace jsonrpc = protocols::jsonrpc;
namespace pmcp = protocols::mcp;
namespace rpc_code = protocols::rpc_code;
using nlohmann::json;

http::Response rpc_error_response(unsigned status, int code, std::string_view message) {
    return http::Response::json(status, jsonrpc::make_error(jsonrpc::RequestId(), code, message));
}

pmcp::Caller caller_of(const http::Principal& principal) {
    pmcp::Caller caller;
    caller.tenant = principal.tenant.empty() ? "local" : principal.tenant;
    caller.principal = principal.key_id;
    caller.scopes = principal.scopes;
    return caller;
}

namespace {

http::Response unsupported_version(std::string_view requested) {
    const json data = {{"supported", pmcp::supported_version_strings()}, {"requested", requested}};
    return http::Response::json(
        400, jsonrpc::make_error(jsonrpc::RequestId(), rpc_code::unsupported_protocol_version,
                                 "Unsupported protocol version: " + std::string(requested), data));
}

bool header_is_modern(const std::optional<std::string_view>& version) {
    if (!version) {
        return false;
    }
    auto parsed = pmcp::parse_version(*version);
    return parsed && pmcp::is_modern(*parsed);
}

pmcp::MirroredHeaders mirrored_headers(const http::Request& request) {
    pmcp::MirroredHeaders mirror;
    if (auto v = request.header("mcp-protocol-version")) {
        mirror.protocol_version = std::string(*v);
    }
    if (auto v = request.header("mcp-method")) {
        mirror.method = std::string(*v);
    }
    if (auto v = request.header("mcp-name")) {
        mirror.name = std::string(*v);
    }
    constexpr std::string_view prefix = "mcp-param-";
    for (const auto& [name, value] : request.headers.items()) {
        if (name.size() > prefix.size() && http::iequals(name.substr(0, prefix.size()), prefix)) {
            std::string key = name.substr(prefix.size());
            std::transform(key.begin(), key.end(), key.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            mirror.params.emplace_back(std::move(key), value);
        }
    }
    return mirror;
}

http::Response method_not_allowed() {
    auto response = rpc_error_response(405, rpc_code::invalid_request,
                                       "Method Not Allowed: protocol 2026-07-28 has no session "
                                       "streams; send requests with POST");
    response.headers.add("Allow", "POST");
    return response;
}

} // namespace

McpHttpEndpoint::McpHttpEndpoint(std::shared_ptr<pmcp::Server> server,
                                 std::shared_ptr<SessionStore> sessions,
                                 const http::OriginPolicy& origin,
                                 jsonrpc::ParseLimits parse_limits)
    : server_(std::move(server)), sessions_(std::move(sessions)), origin_(origin),
      parse_limits_(parse_limits) {}

void McpHttpEndpoint::handle_post(http::Request&& request, const http::ResponseWriterPtr& writer) {
    if (auto denied = http::check_host_and_origin(request, origin_)) {
        writer->respond(std::move(*denied));
        return;
    }
    const auto accept = request.header("accept").value_or("");
    if (!accepts(accept, "application/json") || !accepts(accept, "text/event-stream")) {
        writer->respond(rpc_error_response(
            406, rpc_code::invalid_request,
            "Not Acceptable: Accept must include application/json and text/event-stream"));
        return;
    }
    if (!is_json_content_type(request.header("content-type").value_or(""))) {
        writer->respond(rpc_error_response(
            415, rpc_code::invalid_request,
            "Unsupported Media Type: Content-Type must be application/json (UTF-8)"));
        return;
    }
    auto frame = jsonrpc::parse(request.body, parse_limits_);
    if (!frame.ok) {
        writer->respond(
            rpc_error_response(400, jsonrpc::code_of(frame.error, false), frame.error.what()));
        return;
    }
    const pmcp::Caller caller = caller_of(request.principal);
    if (!frame.batch) {
        const auto& message = frame.messages.front();
        const bool initialize = message.is_request() && message.method() == "initialize";
        if (!initialize && (header_is_modern(request.header("mcp-protocol-version")) ||
                            pmcp::is_stateless_request(message))) {
            serve_stateless(message, request, caller, writer);
            return;
        }
        if (initialize) {
            serve_initialize(message, caller, writer);
            return;
        }
    }
    serve_session(frame, request, caller, writer);
}

void McpHttpEndpoint::serve_stateless(const jsonrpc::Message& message, const http::Request& request,
                                      const pmcp::Caller& caller,
                                      const http::ResponseWriterPtr& writer) {
    if (message.is_response()) {
        writer->respond(
            rpc_error_response(400, rpc_code::invalid_request,
                               "clients do not send JSON-RPC responses in protocol 2026-07-28"));
        return;
    }
    PostChannelOptions options;
    options.stateless = true;
    options.has_requests = !message.is_notification();
    auto channel = std::make_shared<PostChannel>(writer, std::move(options));
    auto cancel = server_->handle_stateless(message, caller, mirrored_headers(request), channel);
    // Closing the response stream is the cancellation signal of 2026-07-28 over HTTP.
    writer->on_client_gone(cancel);
    if (writer->client_gone()) {
        cancel();
    }
}

void McpHttpEndpoint::serve_initialize(const jsonrpc::Message& message, const pmcp::Caller& caller,
                                       const http::ResponseWriterPtr& writer) {
    auto session = sessions_->make(caller);
    auto connection = server_->connect(caller, std::make_shared<SessionSink>(session), false);
    session->set_connection(connection);
    if (!sessions_->add(session)) {
        connection->close();
        writer->respond(rpc_error_response(503, rpc_code::internal_error,
                                           "too many MCP sessions; retry later"));
        return;
    }
    PostChannelOptions options;
    options.session = session;
    options.session_header_on_success = true;
    connection->handle(message, std::make_shared<PostChannel>(writer, std::move(options)));
    if (!connection->session_version()) {
        sessions_->remove(session->id(), caller.tenant); // initialize failed: no session
        return;
    }
    log::log_event(log::Level::debug, "mcp session opened",
                   {{"session", session->id()},
                    {"tenant", caller.tenant},
                    {"version", std::string(pmcp::to_string(*connection->session_version()))}});
}

std::shared_ptr<McpSession> McpHttpEndpoint::session_of(const http::Request& request,
                                                        const pmcp::Caller& caller,
                                                        const http::ResponseWriterPtr& writer) {
    const auto id = request.header("mcp-session-id");
    if (!id || id->empty()) {
        writer->respond(rpc_error_response(
            400, rpc_code::invalid_request,
            "Bad Request: the Mcp-Session-Id header is required (send initialize first, or use "
            "protocol 2026-07-28 with per-request _meta)"));
        return nullptr;
    }
    auto session = sessions_->find(std::string(*id), caller.tenant);
    if (!session) {
        writer->respond(rpc_error_response(404, rpc_code::invalid_request,
                                           "Session not found: initialize a new session"));
    }
    return session;
}

void McpHttpEndpoint::serve_session(const jsonrpc::ParsedFrame& frame, const http::Request& request,
                                    const pmcp::Caller& caller,
                                    const http::ResponseWriterPtr& writer) {
    const auto version = request.header("mcp-protocol-version");
    if (version && !pmcp::parse_version(*version)) {
        writer->respond(unsupported_version(*version));
        return;
    }
    if (frame.batch && header_is_modern(version)) {
        writer->respond(rpc_error_response(400, rpc_code::invalid_request,
                                           "protocol 2026-07-28 does not allow batches"));
        return;
    }
    auto session = session_of(request, caller, writer);
    if (!session) {
        return;
    }
    const auto& connection = session->connection();
    const auto negotiated = connection->session_version();
    PostChannelOptions options;
    options.session = session;
    options.prime = negotiated && *negotiated >= pmcp::Version::v2025_11_25;
    if (frame.batch) {
        options.has_requests = std::any_of(
            frame.messages.begin(), frame.messages.end(), [](const jsonrpc::Message& m) {
                return m.is_request() || m.kind() == jsonrpc::Message::Kind::invalid;
            });
        connection->handle_batch(frame.messages,
                                 std::make_shared<PostChannel>(writer, std::move(options)));
        return;
    }
    const auto& message = frame.messages.front();
    if (message.kind() == jsonrpc::Message::Kind::invalid) {
        writer->respond(
            http::Response::json(400, jsonrpc::make_error(message.id(), rpc_code::invalid_request,
                                                          message.problem().what())));
        return;
    }
    if (!message.is_request()) {
        connection->handle(message, nullptr); // notifications and answers to our requests
        http::Response accepted;
        accepted.status = 202;
        accepted.content_type.clear();
        writer->respond(std::move(accepted));
        return;
    }
    connection->handle(message, std::make_shared<PostChannel>(writer, std::move(options)));
}

void McpHttpEndpoint::handle_get(http::Request&& request, const http::ResponseWriterPtr& writer) {
    if (auto denied = http::check_host_and_origin(request, origin_)) {
        writer->respond(std::move(*denied));
        return;
    }
    const auto version = request.header("mcp-protocol-version");
    if (header_is_modern(version)) {
        writer->respond(method_not_allowed());
        return;
    }
    if (!accepts(request.header("accept").value_or(""), "text/event-stream")) {
        writer->respond(rpc_error_response(406, rpc_code::invalid_request,
                                           "Not Acceptable: Accept must include "
                                           "text/event-stream"));
        return;
    }
    if (version && !pmcp::parse_version(*version)) {
        writer->respond(unsupported_version(*version));
        return;
    }
    const pmcp::Caller caller = caller_of(request.principal);
    auto session = session_of(request, caller, writer);
    if (!session) {
        return;
    }
    http::Headers headers;
    headers.add("Mcp-Session-Id", session->id());
    if (auto last = request.header("last-event-id")) {
        auto parsed = EventStream::parse_event_id(*last);
        auto stream = parsed ? session->stream(parsed->first) : nullptr;
        if (!stream) {
            writer->respond(rpc_error_response(
                400, rpc_code::invalid_request,
                "Last-Event-ID names no stream of this session (it may have expired)"));
            return;
        }
        stream->attach(writer->start_sse(200, std::move(headers)), parsed->second);
        return;
    }
    if (!session->standalone()->claim()) {
        writer->respond(
            rpc_error_response(409, rpc_code::invalid_request,
                               "Conflict: this session already has an open GET stream"));
        return;
    }
    session->standalone()->attach(writer->start_sse(200, std::move(headers)), std::nullopt);
}

void McpHttpEndpoint::handle_delete(http::Request&& request,
                                    const http::ResponseWriterPtr& writer) {
    if (auto denied = http::check_host_and_origin(request, origin_)) {
        writer->respond(std::move(*denied));
        return;
    }
    if (header_is_modern(request.header("mcp-protocol-version"))) {
        writer->respond(method_not_allowed());
        return;
    }
    const auto id = request.header("mcp-session-id");
    const pmcp::Caller caller = caller_of(request.principal);
    if (!id || id->empty()) {
        writer->respond(rpc_error_response(400, rpc_code::invalid_request,
                                           "Bad Request: the Mcp-Session-Id header is required"));
        return;
    }
    if (!sessions_->remove(std::string(*id), caller.tenant)) {
        writer->respond(rpc_error_response(404, rpc_code::invalid_request, "Session not found"));
        return;
    }
    http::Response done;
    done.status = 200;
    done.content_type.clear();
    writer->respond(std::move(done));
}

} // namespace agentd::gateway::mcp
