#pragma once
/// Error codes of the memory module (STYLE.md 2.3). Values are stable: append, never reorder.

#include "agentd/base/result.h"

namespace agentd::memory {

enum class errc {
    invalid_argument = 1, // 0 means success for error_code
    not_found,
    conflict,
    busy,
    corrupt,
    io_error,
    schema_too_new,
    read_only,       // the database file or its directory is not writable
    disk_full,       // SQLITE_FULL: no space (or the page limit) for the write
    shutting_down,   // the database is closing; the write was not accepted
    queue_full,      // the writer's queue is at its bound; retry later
    budget_exceeded, // the context builder cannot fit the mandatory parts in the token budget
    internal,        // an unexpected SQLite failure (a bug or misuse); the message has details
};

/// The "agentd.memory" error category. Thread-safe.
const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace agentd::memory

AGENTD_DECLARE_ERRC(agentd::memory::errc);
