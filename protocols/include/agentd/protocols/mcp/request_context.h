#pragma once
/// The per-request context a provider receives with every call: who is asking, how to report
/// progress and log messages on the request's own stream, whether the client cancelled, the
/// client's answers to earlier input requests, and how to finish.
///
/// One programming model for both protocol eras: a provider that needs input from the client
/// (sampling, elicitation, roots) calls `input_required()` with the requests it needs, keyed by
/// names it chooses; it is later called again with the same arguments and the client's answers
/// available through `input_response(key)`. On 2026-07-28 this is the spec's multi round-trip
/// request (the client retries); on the session revisions the server sends real server-to-client
/// requests on the request's stream, waits for the answers (with a timeout) and calls the
/// provider again itself. Providers must therefore be repeatable until they have their input.
///
/// Ownership: shared; a provider keeps the context for as long as its work runs.
/// Thread-safety: every member is thread-safe and non-blocking; completion may happen on any
/// thread, after the provider call has returned.
/// Errors: exactly one of complete()/fail()/input_required() takes effect; later calls, and any
/// call after the client cancelled, are ignored. Progress and log calls after completion are
/// dropped.

#include "agentd/protocols/mcp/types.h"

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::protocols::mcp {

/// Client features a provider may depend on.
enum class ClientFeature {
    sampling,         ///< sampling/createMessage
    elicitation_form, ///< elicitation/create in form mode
    elicitation_url,  ///< elicitation/create in URL mode
    roots,            ///< roots/list
};

class RequestContext {
public:
    virtual ~RequestContext() = default;

    /// The caller (tenant and credential) the request runs as.
    [[nodiscard]] virtual const Caller& caller() const = 0;
    /// The protocol revision of this request.
    [[nodiscard]] virtual Version version() const = 0;
    /// The JSON-RPC method being served ("tools/call", "resources/read", ...).
    [[nodiscard]] virtual std::string_view method() const = 0;

    /// The client's declared capabilities: the session's (initialize) or this request's
    /// (`_meta`, 2026-07-28). Always an object.
    [[nodiscard]] virtual const nlohmann::json& client_capabilities() const = 0;
    [[nodiscard]] virtual bool client_supports(ClientFeature feature) const = 0;

    /// True once the client cancelled the request (or went away on a transport where that means
    /// cancellation). Work should stop promptly; its result will not be sent.
    [[nodiscard]] virtual bool cancelled() const = 0;
    /// Runs `callback` once when the request is cancelled; at once (on this thread) when it
    /// already is. Callbacks run on an unspecified thread and must not block. Not run when the
    /// request completes normally.
    virtual void on_cancel(std::function<void()> callback) = 0;

    /// True when the client asked for progress (`_meta.progressToken`).
    [[nodiscard]] virtual bool wants_progress() const = 0;
    /// Sends `notifications/progress` on the request's stream. No-op without a progress token;
    /// values that do not increase are dropped (the spec requires increasing progress).
    virtual void progress(double progress, std::optional<double> total = std::nullopt,
                          std::string_view message = {}) = 0;

    /// True when `notifications/message` at `level` would be sent for this request (session log
    /// level on session revisions; `_meta` logLevel on 2026-07-28, where no level means none).
    [[nodiscard]] virtual bool log_enabled(LogLevel level) const = 0;
    /// Sends `notifications/message` on the request's stream when log_enabled(level).
    virtual void log(LogLevel level, std::string_view logger, const nlohmann::json& data) = 0;

    /// The client's answer to the input request named `key`, or nullptr when it has not answered.
    [[nodiscard]] virtual const nlohmann::json* input_response(std::string_view key) const = 0;
    /// The state string the provider passed to input_required() on the previous round ("" on the
    /// first round). Integrity-protected and bound to caller, method and target by the server.
    [[nodiscard]] virtual const std::string& request_state() const = 0;

    /// Finishes with the method's result object (CallToolResult, ReadResourceResult,
    /// GetPromptResult or CompleteResult). The server adds protocol fields (`resultType`,
    /// `_meta`, cache hints) itself.
    virtual void complete(nlohmann::json&& result) = 0;
    /// Finishes with a JSON-RPC error: protocols::errc values map to their codes
    /// (invalid_params -32602, resource_not_found, ...); other categories become -32603.
    virtual void fail(base::Error error) = 0;
    /// Finishes this round asking the client for input. `input_requests` maps keys to request
    /// objects `{"method": "sampling/createMessage" | "elicitation/create" | "roots/list",
    /// "params": {...}}`. A request for a feature the client did not declare fails the request
    /// with errc::missing_client_capability. `state` comes back through request_state().
    virtual void input_required(nlohmann::json&& input_requests, std::string state = {}) = 0;
};

} // namespace agentd::protocols::mcp
