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
};

/// The "agentd.tools" error category. Thread-safe.
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace agentd::tools

AGENTD_DECLARE_ERRC(agentd::tools::errc);
