#pragma once
/// A prepared statement borrowed from a Connection's cache (or owned when the cached one is in
/// use). Bindings are 1-based like SQLite's. On destruction the statement is reset and its
/// bindings cleared, so the cache can hand it out again. Used by one thread at a time (the
/// thread that owns the connection). Errors are values: bind failures are remembered and
/// reported by the next step().

#include "agentd/base/result.h"

#include "sqlite/handles.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace agentd::memory::sqlite {

class Statement {
public:
    Statement(sqlite3_stmt* stmt, bool* in_use, StmtPtr owned) noexcept;
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    Statement& bind(int index, std::int64_t value) noexcept;
    Statement& bind(int index, int value) noexcept { return bind(index, std::int64_t{value}); }
    Statement& bind(int index, double value) noexcept;
    Statement& bind(int index, std::string_view text) noexcept;
    Statement& bind(int index, const char* text) noexcept {
        return bind(index, std::string_view(text));
    }
    Statement& bind(int index, const std::string& text) noexcept {
        return bind(index, std::string_view(text));
    }
    Statement& bind(int index, std::optional<std::string_view> text) noexcept;
    Statement& bind_blob(int index, std::span<const std::byte> blob) noexcept;
    Statement& bind_null(int index) noexcept;

    /// Binds the arguments to parameters 1..N in order.
    template <class... Args>
    Statement& bind_all(const Args&... args) noexcept {
        int i = 0;
        (bind(++i, args), ...);
        return *this;
    }

    /// Advances: true when a row is available, false when done.
    [[nodiscard]] base::Result<bool> step() noexcept;
    /// Steps to completion (INSERT/UPDATE/DELETE), then resets so it can be bound again.
    [[nodiscard]] base::Result<void> run() noexcept;
    /// Resets to before the first step (keeping bindings) so it can be re-bound and re-run.
    void reset() noexcept;

    [[nodiscard]] bool is_null(int col) const noexcept;
    [[nodiscard]] std::int64_t int64(int col) const noexcept;
    [[nodiscard]] double real(int col) const noexcept;
    /// Valid until the next step/reset.
    [[nodiscard]] std::string_view text_view(int col) const noexcept;
    [[nodiscard]] std::string text(int col) const { return std::string(text_view(col)); }
    [[nodiscard]] std::span<const std::byte> blob(int col) const noexcept;

    /// Rows changed by the last completed INSERT/UPDATE/DELETE on this connection.
    [[nodiscard]] int changes() const noexcept;

private:
    sqlite3_stmt* stmt_;
    bool* in_use_; // the cache slot's flag, or null when owned_ is set
    StmtPtr owned_;
    int bind_error_ = SQLITE_OK;
    int bind_error_index_ = 0;

    void note_bind(int rc, int index) noexcept;
};

/// Maps an SQLite result code (extended codes on) to the module's errc plus a message that
/// names `what` and SQLite's own text.
base::Error error_from_sqlite(sqlite3* db, int rc, std::string_view what);

} // namespace agentd::memory::sqlite
