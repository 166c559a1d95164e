#pragma once
/// Error codes of the protocols module (STYLE.md 2.3). Values are stable: append, never reorder.

#include "agentd/base/result.h"

namespace agentd::protocols {

enum class errc {
    parse_error = 1, // 0 means success for error_code
    invalid_request,
    method_not_found,
    invalid_params,
    internal_error,
    unsupported_version,
    resource_not_found,        // MCP: -32002 (sessions) / -32602 (2026-07-28)
    missing_client_capability, // MCP: -32021 MissingRequiredClientCapability
    header_mismatch,           // MCP: -32020 HeaderMismatch (HTTP mirrored headers)
    busy,                      // a bound on in-flight work was reached (HTTP 429)
    cancelled,                 // the client cancelled the request (never sent on the wire)
    // A2A (spec §5.4), JSON-RPC codes -32001..-32009:
    task_not_found,               // -32001 TaskNotFoundError
    task_not_cancelable,          // -32002 TaskNotCancelableError
    push_not_supported,           // -32003 PushNotificationNotSupportedError
    unsupported_operation,        // -32004 UnsupportedOperationError
    content_type_not_supported,   // -32005 ContentTypeNotSupportedError
    invalid_agent_response,       // -32006 InvalidAgentResponseError
    extended_card_not_configured, // -32007 ExtendedAgentCardNotConfiguredError
    extension_support_required,   // -32008 ExtensionSupportRequiredError
    version_not_supported,        // -32009 VersionNotSupportedError
};

/// The "agentd.protocols" error category. Thread-safe.
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace agentd::protocols

AGENTD_DECLARE_ERRC(agentd::protocols::errc);
