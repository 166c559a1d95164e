#include "agentd/memory/database.h"

#include "agentd/memory/errc.h"

#include "db/database_impl.h"
#include "db/schema.h"
#include "store/validate.h"
#include "vector/metadata_filter.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

namespace agentd::memory {

namespace detail {

base::Result<void> DatabaseImpl::ensure_tenant(db::WriteContext& ctx, std::string_view tenant) {
    auto stmt = ctx.conn().prepare(
        "INSERT INTO tenants(id, created_at) VALUES (?, ?) ON CONFLICT(id) DO NOTHING");
    if (!stmt) {
        return stmt.error();
    }
    return stmt->bind_all(tenant, ctx.now_ms()).run();
}

} // namespace detail

namespace {

std::int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Streams every stored embedding into the mirror (writer connection, before threads start).
base::Result<void> load_vectors(sqlite::Connection& conn, vector::VectorIndex& index) {
    auto stmt = conn.prepare("SELECT id, tenant_id, namespace, metadata, embedding, dim, model "
                             "FROM memories WHERE embedding IS NOT NULL");
    if (!stmt) {
        return stmt.error();
    }
    for (;;) {
        auto row = stmt->step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            return {};
        }
        vector::VectorRecord rec;
        rec.id = stmt->int64(0);
        rec.tenant = stmt->text(1);
        rec.ns = stmt->text(2);
        rec.meta = vector::FlatMeta::from_json(stmt->text_view(3));
        const auto blob = stmt->blob(4);
        const auto dim = static_cast<std::size_t>(stmt->int64(5));
        if (dim == 0 || blob.size() != dim * sizeof(float)) {
            return base::fail(errc::corrupt, "memory " + std::to_string(rec.id) +
                                                 ": embedding size does not match its dim");
        }
        rec.embedding.resize(dim);
        std::memcpy(rec.embedding.data(), blob.data(), blob.size());
        rec.model = stmt->text(6);
        index.upsert(std::move(rec));
    }
}

} // namespace

base::Result<std::unique_ptr<Database>> Database::open(DatabaseOptions options) {
    if (options.path.empty()) {
        return base::fail(errc::invalid_argument, "database path is empty");
    }
    if (!options.clock_ms) {
        options.clock_ms = &system_now_ms;
    }
    auto impl = std::make_unique<detail::DatabaseImpl>(std::move(options));
    const DatabaseOptions& o = impl->options;

    sqlite::ConnectionSettings ws;
    ws.writer = true;
    ws.full_sync = o.durability == Durability::full;
    ws.busy_timeout_ms = o.busy_timeout_ms;
    auto writer_conn = sqlite::Connection::open(o.path, ws);
    if (!writer_conn) {
        return writer_conn.error();
    }
    if (o.max_db_bytes > 0) {
        // page_size is 4096 unless the file says otherwise; the cap is approximate by a page.
        const std::string pragma = "PRAGMA max_page_count=" +
                                   std::to_string(std::max<std::int64_t>(1, o.max_db_bytes / 4096));
        if (auto r = (*writer_conn)->exec(pragma.c_str()); !r) {
            return r.error();
        }
    }
    auto version = db::migrate(**writer_conn);
    if (!version) {
        return version.error();
    }
    impl->schema_version = *version;

    unsigned threads = o.search_threads;
    if (threads == 0) {
        threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    }
    impl->vectors = std::make_unique<vector::VectorIndex>(threads);
    if (auto r = load_vectors(**writer_conn, *impl->vectors); !r) {
        return r.error();
    }

    sqlite::ConnectionSettings rs;
    rs.busy_timeout_ms = o.busy_timeout_ms;
    auto readers = db::ReaderPool::open(o.path, o.readers, rs);
    if (!readers) {
        return readers.error();
    }
    impl->readers = std::move(*readers);
    impl->writer = std::make_unique<db::Writer>(std::move(*writer_conn), o.max_write_queue,
                                                o.max_write_batch, o.clock_ms);
    return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Database::Database(std::unique_ptr<detail::DatabaseImpl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

SessionStore& Database::sessions() noexcept {
    return impl_->sessions;
}
MessageStore& Database::messages() noexcept {
    return impl_->messages;
}
TaskStore& Database::tasks() noexcept {
    return impl_->tasks;
}
ToolStore& Database::tools() noexcept {
    return impl_->tools;
}
MemoryStore& Database::memories() noexcept {
    return impl_->memories;
}

base::Result<bool> Database::wipe_tenant(std::string_view tenant) {
    if (auto r = store::check_tenant(impl_->options.limits, tenant); !r) {
        return r.error();
    }
    auto* vectors = impl_->vectors.get();
    return impl_->write<bool>([&](db::WriteContext& ctx) -> base::Result<bool> {
        auto stmt = ctx.conn().prepare("DELETE FROM tenants WHERE id = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto r = stmt->bind(1, tenant).run(); !r) {
            return r.error();
        }
        const bool existed = ctx.conn().changes() > 0;
        ctx.after_commit([vectors, t = std::string(tenant)] { vectors->remove_tenant(t); });
        return existed;
    });
}

base::Result<void> Database::purge() {
    return impl_->writer->submit_outside_transaction([](sqlite::Connection& conn) {
        if (auto r = conn.exec("INSERT INTO memories_fts(memories_fts) VALUES ('optimize')"); !r) {
            return r;
        }
        return conn.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    });
}

base::Result<std::string> Database::integrity_check() {
    auto lease = impl_->readers->acquire();
    auto stmt = lease.conn().prepare("PRAGMA integrity_check");
    if (!stmt) {
        return stmt.error();
    }
    std::string out;
    for (;;) {
        auto row = stmt->step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            break;
        }
        if (!out.empty()) {
            out += "\n";
        }
        out += stmt->text_view(0);
    }
    return out;
}

int Database::schema_version() const noexcept {
    return impl_->schema_version;
}
int Database::latest_schema_version() noexcept {
    return db::latest_schema_version();
}

DatabaseStats Database::stats() const {
    const auto w = impl_->writer->stats();
    return {w.jobs, w.commits, w.queued, impl_->vectors->size(), impl_->vectors->kernel_name()};
}

const DatabaseOptions& Database::options() const noexcept {
    return impl_->options;
}

} // namespace agentd::memory
