#pragma once
/// Error codes of the tools module (STYLE.md 2.3). Values are stable: append, never reorder.

#include "agentd/base/result.h"

namespace agentd::tools {

enum class errc {
    invalid_argument = 1, // 0 means success for error_code
    not_found,
    conflict,
    validation_failed,
    timeout,
    upstream_error,
    forbidden,
    invalid_schema,     ///< a JSON Schema is malformed or uses something unsupported
    dns_failure,        ///< the endpoint's host name did not resolve
    connection_refused, ///< nothing listens at the endpoint
    connection_failed,  ///< other connect/transport failure (reset, unreachable, ...)
    tls_error,          ///< TLS handshake or certificate verification failed
    response_too_large, ///< the endpoint's answer exceeded the size cap
    bad_response,       ///< malformed HTTP or a body that is not what was promised
    cancelled,          ///< the caller cancelled the call
    busy,               ///< a bounded queue or connection limit is full
    storage_failed,     ///< the tool store could not read or write
    limit_exceeded,     ///< a per-tenant or per-request limit was reached
};

/// The "agentd.tools" error category. Thread-safe.
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace agentd::tools

AGENTD_DECLARE_ERRC(agentd::tools::errc);
