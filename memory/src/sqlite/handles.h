#pragma once
/// RAII owners for SQLite's C handles (STYLE.md 2.4): deleter structs + unique_ptr aliases.

#include <sqlite3.h>

#include <memory>

namespace agentd::memory::sqlite {

struct DbCloser {
    /// sqlite3_close_v2 never fails for a handle whose statements are finalized; it defers the
    /// close until they are (every Connection finalizes its cache first).
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};

struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};

using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

} // namespace agentd::memory::sqlite
