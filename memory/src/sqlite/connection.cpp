#include "sqlite/connection.h"

#include "agentd/memory/errc.h"

#include <string>

namespace agentd::memory::sqlite {
namespace {

base::Result<void> exec_on(sqlite3* db, const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) {
        return {};
    }
    std::string_view text(sql);
    std::string what =
        "exec `" + std::string(text.substr(0, 48)) + (text.size() > 48 ? "...`" : "`");
    if (err != nullptr) {
        what += " (";
        what += err;
        what += ")";
        sqlite3_free(err);
    }
    return error_from_sqlite(db, sqlite3_extended_errcode(db), what);
}

/// journal_mode=WAL reports the resulting mode as a row; anything else means it did not stick
/// (e.g. an in-memory database), which we refuse: readers and the writer need WAL.
base::Result<void> enable_wal(sqlite3* db) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) {
        return error_from_sqlite(db, rc, "journal_mode");
    }
    rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) {
        return error_from_sqlite(db, rc, "journal_mode=WAL");
    }
    const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
    if (mode == nullptr || std::string_view(mode) != "wal") {
        return base::fail(errc::io_error, std::string("database refused WAL mode (got ") +
                                              (mode ? mode : "null") + ")");
    }
    return {};
}

} // namespace

base::Result<std::unique_ptr<Connection>> Connection::open(const std::string& path,
                                                           const ConnectionSettings& settings) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (settings.writer) {
        flags |= SQLITE_OPEN_CREATE;
    }
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    DbPtr db(raw); // sqlite3_open_v2 returns a handle even on failure; it must be closed
    if (rc != SQLITE_OK) {
        return error_from_sqlite(db.get(), rc, "open " + path);
    }
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), settings.busy_timeout_ms);
    sqlite3_limit(db.get(), SQLITE_LIMIT_LENGTH, settings.max_value_bytes);
    // Extensions are never loaded: user input cannot reach load_extension().
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
    sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);

    std::unique_ptr<Connection> conn(new Connection(std::move(db)));
    if (settings.writer) {
        if (auto r = enable_wal(conn->handle()); !r) {
            return r.error();
        }
        const char* sync =
            settings.full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
        if (auto r = conn->exec(sync); !r) {
            return r.error();
        }
        // Deleted content is overwritten with zeros, not left in free pages (hard delete).
        if (auto r = conn->exec("PRAGMA secure_delete=ON"); !r) {
            return r.error();
        }
        // Bounds the WAL file after checkpoints (the default would leave it at its peak size).
        if (auto r = conn->exec("PRAGMA journal_size_limit=67108864"); !r) {
            return r.error();
        }
    }
    if (auto r = conn->exec("PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"); !r) {
        return r.error();
    }
    if (!settings.writer) {
        if (auto r = conn->exec("PRAGMA query_only=ON"); !r) {
            return r.error();
        }
    }
    return conn;
}

Connection::~Connection() {
    cache_.clear(); // finalize every statement before the handle closes
}

base::Result<Statement> Connection::prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end() && !it->second->in_use) {
        it->second->in_use = true;
        return Statement(it->second->stmt.get(), &it->second->in_use, nullptr);
    }
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) {
        return error_from_sqlite(db_.get(), rc, "prepare");
    }
    if (it != cache_.end()) {
        sqlite3_stmt* handle = stmt.get();                  // read before the move below
        return Statement(handle, nullptr, std::move(stmt)); // nested use: owned, uncached
    }
    auto slot = std::make_unique<CachedStmt>();
    slot->stmt = std::move(stmt);
    slot->in_use = true;
    Statement borrowed(slot->stmt.get(), &slot->in_use, nullptr);
    cache_.emplace(std::string(sql), std::move(slot));
    return borrowed;
}

base::Result<void> Connection::exec(const char* sql) {
    return exec_on(db_.get(), sql);
}

std::int64_t Connection::last_insert_rowid() const noexcept {
    return sqlite3_last_insert_rowid(db_.get());
}

int Connection::changes() const noexcept {
    return sqlite3_changes(db_.get());
}

} // namespace agentd::memory::sqlite
