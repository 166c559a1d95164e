#pragma once
/// One SQLite connection with its prepared-statement cache. A Connection is used by one thread
/// at a time (it is opened SQLITE_OPEN_NOMUTEX): the writer thread owns the writer connection;
/// reader connections are leased by one thread at a time from the ReaderPool. Not thread-safe.

#include "agentd/base/result.h"

#include "sqlite/handles.h"
#include "sqlite/statement.h"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace agentd::memory::sqlite {

struct ConnectionSettings {
    bool writer = false;   // readers are query_only
    bool full_sync = true; // synchronous=FULL (else NORMAL) — writer only
    int busy_timeout_ms = 5000;
    int max_value_bytes = 64 * 1024 * 1024; // SQLITE_LIMIT_LENGTH
};

class Connection {
public:
    /// Opens (creating when `settings.writer`) and applies the pragmas: WAL, foreign keys,
    /// synchronous, busy timeout. Fails with read_only / io_error / corrupt as SQLite reports.
    [[nodiscard]] static base::Result<std::unique_ptr<Connection>>
    open(const std::string& path, const ConnectionSettings& settings);

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    /// A cached prepared statement for `sql`. `sql` is the cache key; pass literals. When the
    /// cached statement is already borrowed (nested use), a fresh one is prepared and owned.
    [[nodiscard]] base::Result<Statement> prepare(std::string_view sql);

    /// Runs one or more statements without results (DDL, pragmas, BEGIN/COMMIT).
    [[nodiscard]] base::Result<void> exec(const char* sql);

    [[nodiscard]] sqlite3* handle() const noexcept { return db_.get(); }
    [[nodiscard]] std::int64_t last_insert_rowid() const noexcept;
    [[nodiscard]] int changes() const noexcept;

private:
    explicit Connection(DbPtr db) : db_(std::move(db)) {}

    struct CachedStmt {
        StmtPtr stmt;
        bool in_use = false;
    };
    // Statements must be finalized before the handle closes: declared after db_, destroyed first.
    DbPtr db_;
    std::unordered_map<std::string, std::unique_ptr<CachedStmt>> cache_;
};

} // namespace agentd::memory::sqlite
