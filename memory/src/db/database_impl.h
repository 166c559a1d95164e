#pragma once
/// The state behind Database and its stores: options, the writer, the reader pool, the vector
/// mirror. Thread-safe in the same way as Database (see database.h).

#include "agentd/memory/database.h"
#include "agentd/memory/memory_store.h"
#include "agentd/memory/message_store.h"
#include "agentd/memory/session_store.h"
#include "agentd/memory/task_store.h"
#include "agentd/memory/tool_store.h"

#include "db/reader_pool.h"
#include "db/writer.h"
#include "vector/vector_index.h"

#include <memory>
#include <string_view>

namespace agentd::memory::detail {

class DatabaseImpl {
public:
    explicit DatabaseImpl(DatabaseOptions o)
        : options(std::move(o)), sessions(*this), messages(*this), tasks(*this), tools(*this),
          memories(*this) {}
    DatabaseImpl(const DatabaseImpl&) = delete;
    DatabaseImpl& operator=(const DatabaseImpl&) = delete;
    ~DatabaseImpl() {
        if (writer) {
            writer->stop(); // drain queued writes while the readers and mirror still exist
        }
    }

    /// Runs fn(WriteContext&) -> Result<T> on the writer thread; returns once committed.
    template <class T, class F>
    [[nodiscard]] base::Result<T> write(F&& fn) {
        return writer->run<T>(std::forward<F>(fn));
    }

    /// Runs fn(Connection&) -> Result<T> in one read transaction (a consistent snapshot) on a
    /// leased reader connection.
    template <class T, class F>
    [[nodiscard]] base::Result<T> read(F&& fn) {
        auto lease = readers->acquire();
        sqlite::Connection& conn = lease.conn();
        if (auto r = conn.exec("BEGIN"); !r) {
            return r.error();
        }
        base::Result<T> out = fn(conn);
        (void)conn.exec("COMMIT"); // a read transaction has nothing to lose
        return out;
    }

    /// Inserts the tenant row if missing (every tenant-owned row references it).
    [[nodiscard]] static base::Result<void> ensure_tenant(db::WriteContext& ctx,
                                                          std::string_view tenant);

    DatabaseOptions options;
    int schema_version = 0;
    std::unique_ptr<vector::VectorIndex> vectors;
    std::unique_ptr<db::ReaderPool> readers;
    std::unique_ptr<db::Writer> writer; // declared last: destroyed (joined) first

    SessionStore sessions;
    MessageStore messages;
    TaskStore tasks;
    ToolStore tools;
    MemoryStore memories;
};

} // namespace agentd::memory::detail
