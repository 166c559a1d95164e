#pragma once
/// The agentd database: one SQLite file (WAL, foreign keys on) holding sessions, messages,
/// A2A tasks, REST tool registrations and memories with their embeddings.
///
/// Purpose: durable state for the gateway, tools and runtime, strictly separated by tenant.
/// Ownership: the caller owns the Database (unique_ptr); stores are views into it and live as
/// long as it does. Threads: every method of Database and of its stores is thread-safe and
/// *blocking* — call them from the gateway's blocking pool, never from an I/O thread. Writes
/// go to one writer thread through a bounded queue (group commit); a write call returns only
/// after its transaction committed (with Durability::full that includes the fsync of the WAL,
/// so an acknowledged write survives a crash or power loss). Reads use a small pool of
/// read-only connections and see every write acknowledged before they started.
/// Errors: agentd::base::Result with agentd::memory::errc (see errc.h); open() fails with
/// schema_too_new, read_only, io_error or corrupt.

#include "agentd/base/result.h"
#include "agentd/memory/common.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace agentd::memory {

class SessionStore;
class MessageStore;
class TaskStore;
class ToolStore;
class MemoryStore;

namespace detail {
class DatabaseImpl;
}

/// FULL fsyncs the WAL on every commit (acknowledged = durable across power loss); NORMAL only
/// at checkpoints (acknowledged = durable across a process crash, may roll back on power loss).
enum class Durability { full, normal };

struct DatabaseOptions {
    std::string path;     // the SQLite file; created when missing
    unsigned readers = 2; // read connections
    Durability durability = Durability::full;
    int busy_timeout_ms = 5000;         // waits on locks held by other processes
    std::size_t max_write_queue = 4096; // pending write jobs before queue_full
    std::size_t max_write_batch = 256;  // jobs per group commit
    unsigned search_threads = 0;        // vector search workers; 0 → cores (at most 8)
    std::int64_t max_db_bytes = 0;      // file size cap (writes past it: disk_full); 0 → none
    Limits limits;
    /// Milliseconds since the epoch; empty → the system clock. Tests inject one.
    std::function<std::int64_t()> clock_ms;
};

struct DatabaseStats {
    std::uint64_t write_jobs = 0;
    std::uint64_t commits = 0; // write_jobs / commits = average group-commit size
    std::size_t write_queue = 0;
    std::size_t vectors = 0;        // rows in the in-memory vector mirror
    const char* vector_kernel = ""; // SIMD level of the k-NN scan: avx512vnni, avx512, avx2, scalar
};

class Database {
public:
    /// Opens or creates the file, runs the migrations, loads the vector mirror, starts the
    /// writer thread and the readers.
    [[nodiscard]] static base::Result<std::unique_ptr<Database>> open(DatabaseOptions options);

    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    /// Finishes queued writes, then stops the threads and closes the connections.
    ~Database();

    SessionStore& sessions() noexcept;
    MessageStore& messages() noexcept;
    TaskStore& tasks() noexcept;
    ToolStore& tools() noexcept;
    MemoryStore& memories() noexcept;

    /// Deletes everything of `tenant`: sessions, messages, tasks, artifacts, push configs,
    /// tools, memories, their vectors and keyword-index entries. Returns whether it existed.
    [[nodiscard]] base::Result<bool> wipe_tenant(std::string_view tenant);

    /// Makes deleted content unrecoverable from the files: merges the keyword index (dropping
    /// deleted postings) and checkpoints + truncates the WAL. Runs on the writer thread.
    [[nodiscard]] base::Result<void> purge();

    /// "ok" or SQLite's list of problems (PRAGMA integrity_check).
    [[nodiscard]] base::Result<std::string> integrity_check();

    [[nodiscard]] int schema_version() const noexcept;
    /// The schema version this build writes.
    [[nodiscard]] static int latest_schema_version() noexcept;
    [[nodiscard]] DatabaseStats stats() const;
    [[nodiscard]] const DatabaseOptions& options() const noexcept;

private:
    explicit Database(std::unique_ptr<detail::DatabaseImpl> impl);
    std::unique_ptr<detail::DatabaseImpl> impl_;
};

} // namespace agentd::memory
