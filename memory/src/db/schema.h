#pragma once
/// The versioned schema. Migration N moves a database from version N-1 to N; each runs in its
/// own transaction together with the version bump, so a crash leaves either version N-1 or N.
/// A database whose version is above `latest_schema_version()` is refused (schema_too_new).
/// Writer connection only.

#include "agentd/base/result.h"

#include "sqlite/connection.h"

namespace agentd::memory::db {

/// The version this build writes.
int latest_schema_version() noexcept;

/// The version stored in the file (0 for an empty database).
[[nodiscard]] base::Result<int> read_schema_version(sqlite::Connection& conn);

/// Applies migrations up to `target` (default: latest). Refuses a newer file.
[[nodiscard]] base::Result<int> migrate(sqlite::Connection& conn, int target = -1);

} // namespace agentd::memory::db
