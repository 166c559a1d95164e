#pragma once
/// Error codes of the sandbox module (STYLE.md 2.3). Values are stable: append, never reorder.

#include "agentd/base/result.h"

namespace agentd::sandbox {

enum class errc {
    invalid_argument = 1, // 0 means success for error_code
    unavailable,
    spawn_failed,
    io_error,
    limit_exceeded,
    busy,      // too many runs queued; retry later
    not_found, // no such workspace or file
    cancelled, // the run was cancelled before it produced a result
};

/// The "agentd.sandbox" error category. Thread-safe.
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace agentd::sandbox

AGENTD_DECLARE_ERRC(agentd::sandbox::errc);
