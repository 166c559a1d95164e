#pragma once
/// Error codes of the gateway module (STYLE.md 2.3). Values are stable: append, never reorder.

#include "agentd/base/result.h"

namespace agentd::gateway {

enum class errc {
    invalid_config = 1, // 0 means success for error_code
    unauthorized,
    forbidden,
    not_found,
    payload_too_large,
    unavailable,
};

/// The "agentd.gateway" error category. Thread-safe.
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace agentd::gateway

AGENTD_DECLARE_ERRC(agentd::gateway::errc);
