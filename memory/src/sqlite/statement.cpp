#include "sqlite/statement.h"

#include "agentd/memory/errc.h"

#include <string>
#include <utility>

namespace agentd::memory::sqlite {

Statement::Statement(sqlite3_stmt* stmt, bool* in_use, StmtPtr owned) noexcept
    : stmt_(stmt), in_use_(in_use), owned_(std::move(owned)) {}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), in_use_(std::exchange(other.in_use_, nullptr)),
      owned_(std::move(other.owned_)), bind_error_(other.bind_error_),
      bind_error_index_(other.bind_error_index_) {}

Statement::~Statement() {
    if (stmt_ == nullptr) {
        return;
    }
    // reset's return code repeats the last step's error, which the caller already got.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (in_use_ != nullptr) {
        *in_use_ = false;
    }
}

void Statement::note_bind(int rc, int index) noexcept {
    if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
        bind_error_ = rc;
        bind_error_index_ = index;
    }
}

Statement& Statement::bind(int index, std::int64_t value) noexcept {
    note_bind(sqlite3_bind_int64(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind(int index, double value) noexcept {
    note_bind(sqlite3_bind_double(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) noexcept {
    // SQLITE_TRANSIENT: SQLite copies, so the caller's buffer may go away before step(). A
    // null data pointer would bind NULL, not '': an empty view always binds the empty string.
    const char* data = text.data() != nullptr ? text.data() : "";
    note_bind(sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
              index);
    return *this;
}

Statement& Statement::bind(int index, std::optional<std::string_view> text) noexcept {
    return text ? bind(index, *text) : bind_null(index);
}

Statement& Statement::bind_blob(int index, std::span<const std::byte> blob) noexcept {
    note_bind(sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_TRANSIENT), index);
    return *this;
}

Statement& Statement::bind_null(int index) noexcept {
    note_bind(sqlite3_bind_null(stmt_, index), index);
    return *this;
}

base::Result<bool> Statement::step() noexcept {
    if (bind_error_ != SQLITE_OK) {
        return error_from_sqlite(sqlite3_db_handle(stmt_), bind_error_,
                                 "bind parameter " + std::to_string(bind_error_index_));
    }
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    return error_from_sqlite(sqlite3_db_handle(stmt_), rc, "statement");
}

base::Result<void> Statement::run() noexcept {
    for (;;) {
        auto r = step();
        if (!r) {
            sqlite3_reset(stmt_);
            return r.error();
        }
        if (!*r) {
            sqlite3_reset(stmt_);
            return {};
        }
    }
}

void Statement::reset() noexcept {
    sqlite3_reset(stmt_);
    bind_error_ = SQLITE_OK;
    bind_error_index_ = 0;
}

bool Statement::is_null(int col) const noexcept {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::int64_t Statement::int64(int col) const noexcept {
    return sqlite3_column_int64(stmt_, col);
}

double Statement::real(int col) const noexcept {
    return sqlite3_column_double(stmt_, col);
}

std::string_view Statement::text_view(int col) const noexcept {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    if (p == nullptr) {
        return {};
    }
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}

std::span<const std::byte> Statement::blob(int col) const noexcept {
    const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(stmt_, col));
    if (p == nullptr) {
        return {};
    }
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}

int Statement::changes() const noexcept {
    return sqlite3_changes(sqlite3_db_handle(stmt_));
}

base::Error error_from_sqlite(sqlite3* db, int rc, std::string_view what) {
    std::string message(what);
    message += ": ";
    message += (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db)
                                                                     : sqlite3_errstr(rc);
    errc code = errc::internal;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = errc::busy;
        break;
    case SQLITE_FULL:
        code = errc::disk_full;
        break;
    case SQLITE_READONLY:
        code = errc::read_only;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        code = errc::corrupt;
        break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        code = errc::io_error;
        break;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
        code = errc::invalid_argument;
        break;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
            code = errc::conflict;
        } else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
            code = errc::not_found;
        } else {
            code = errc::invalid_argument;
        }
        break;
    default:
        break;
    }
    return {code, std::move(message)};
}

} // namespace agentd::memory::sqlite
