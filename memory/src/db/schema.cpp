#include "db/schema.h"

#include "agentd/memory/errc.h"

#include <string>

namespace agentd::memory::db {
namespace {

// Every tenant-owned table has tenant_id first in its primary key, so every lookup and every
// tenant wipe is an index range; ON DELETE CASCADE from tenants makes the wipe complete.
// JSON columns carry CHECK(json_valid(...)) as a second guard behind the stores' validation.
constexpr const char* kV1 = R"sql(
CREATE TABLE schema_version(version INTEGER NOT NULL);
INSERT INTO schema_version(version) VALUES (0);

CREATE TABLE tenants(
    id TEXT PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions(
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    agent TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '{}' CONSTRAINT metadata_is_json CHECK(json_valid(metadata)),
    summary TEXT NOT NULL DEFAULT '',
    summary_through INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY(tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX sessions_by_updated ON sessions(tenant_id, updated_at, id);

CREATE TABLE messages(
    tenant_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL CONSTRAINT content_is_json CHECK(json_valid(content)),
    token_count INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY(tenant_id, session_id, seq),
    FOREIGN KEY(tenant_id, session_id) REFERENCES sessions(tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE tasks(
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    context_id TEXT NOT NULL,
    session_id TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK(state IN ('submitted', 'working', 'input-required',
        'auth-required', 'completed', 'canceled', 'failed', 'rejected', 'unknown')),
    status_message TEXT CONSTRAINT status_message_is_json
        CHECK(status_message IS NULL OR json_valid(status_message)),
    metadata TEXT NOT NULL DEFAULT '{}' CONSTRAINT metadata_is_json CHECK(json_valid(metadata)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY(tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX tasks_by_updated ON tasks(tenant_id, updated_at, id);
CREATE INDEX tasks_by_context ON tasks(tenant_id, context_id, updated_at, id);
CREATE INDEX tasks_by_state ON tasks(state, tenant_id, id);

CREATE TABLE task_history(
    tenant_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message TEXT NOT NULL CONSTRAINT message_is_json CHECK(json_valid(message)),
    created_at INTEGER NOT NULL,
    PRIMARY KEY(tenant_id, task_id, seq),
    FOREIGN KEY(tenant_id, task_id) REFERENCES tasks(tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE artifacts(
    tenant_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    parts TEXT NOT NULL CONSTRAINT parts_is_json CHECK(json_valid(parts)),
    metadata TEXT NOT NULL DEFAULT '{}' CONSTRAINT metadata_is_json CHECK(json_valid(metadata)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY(tenant_id, task_id, artifact_id),
    FOREIGN KEY(tenant_id, task_id) REFERENCES tasks(tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE push_configs(
    tenant_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    id TEXT NOT NULL,
    config TEXT NOT NULL CONSTRAINT config_is_json CHECK(json_valid(config)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY(tenant_id, task_id, id),
    FOREIGN KEY(tenant_id, task_id) REFERENCES tasks(tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE tools(
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    input_schema TEXT NOT NULL CONSTRAINT input_schema_is_json CHECK(json_valid(input_schema)),
    output_schema TEXT CONSTRAINT output_schema_is_json
        CHECK(output_schema IS NULL OR json_valid(output_schema)),
    endpoint TEXT NOT NULL CONSTRAINT endpoint_is_json CHECK(json_valid(endpoint)),
    timeout_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY(tenant_id, name)
) WITHOUT ROWID;

CREATE TABLE memories(
    id INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    namespace TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '{}' CONSTRAINT metadata_is_json CHECK(json_valid(metadata)),
    pinned INTEGER NOT NULL DEFAULT 0,
    embedding BLOB,
    dim INTEGER,
    model TEXT,
    provenance TEXT NOT NULL DEFAULT '{}'
        CONSTRAINT provenance_is_json CHECK(json_valid(provenance)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT embedding_shape CHECK((embedding IS NULL AND dim IS NULL AND model IS NULL) OR
        (dim > 0 AND length(embedding) = 4 * dim AND model IS NOT NULL))
);
CREATE INDEX memories_by_tenant ON memories(tenant_id, namespace, id);
CREATE INDEX memories_pinned ON memories(tenant_id, id) WHERE pinned = 1;
)sql";

// Keyword search. Version 2 so that upgrading a version-1 file (which tests create) proves the
// migration path, including indexing rows that existed before the index did.
constexpr const char* kV2 = R"sql(
CREATE VIRTUAL TABLE memories_fts USING fts5(
    text, content='memories', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, text) SELECT new.id, new.text WHERE new.text <> '';
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, text)
        SELECT 'delete', old.id, old.text WHERE old.text <> '';
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF text ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, text)
        SELECT 'delete', old.id, old.text WHERE old.text <> '';
    INSERT INTO memories_fts(rowid, text) SELECT new.id, new.text WHERE new.text <> '';
END;
INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');
)sql";

constexpr const char* kMigrations[] = {kV1, kV2};
constexpr int kLatest = static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));

base::Result<bool> has_version_table(sqlite::Connection& conn) {
    auto stmt = conn.prepare(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'");
    if (!stmt) {
        return stmt.error();
    }
    return stmt->step();
}

base::Result<void> apply_one(sqlite::Connection& conn, int version) {
    if (auto r = conn.exec("BEGIN IMMEDIATE"); !r) {
        return r.error();
    }
    auto fail = [&](base::Error e) -> base::Error {
        (void)conn.exec("ROLLBACK"); // the original error is what matters
        e.message = "migration to schema " + std::to_string(version) + ": " + e.message;
        return e;
    };
    // Re-read under the write lock: another process may have migrated meanwhile.
    auto current = read_schema_version(conn);
    if (!current) {
        return fail(current.error());
    }
    if (*current >= version) {
        return conn.exec("COMMIT");
    }
    if (auto r = conn.exec(kMigrations[version - 1]); !r) {
        return fail(r.error());
    }
    auto bump = conn.prepare("UPDATE schema_version SET version = ?");
    if (!bump) {
        return fail(bump.error());
    }
    if (auto r = bump->bind(1, version).run(); !r) {
        return fail(r.error());
    }
    if (auto r = conn.exec("COMMIT"); !r) {
        return fail(r.error());
    }
    return {};
}

} // namespace

int latest_schema_version() noexcept {
    return kLatest;
}

base::Result<int> read_schema_version(sqlite::Connection& conn) {
    auto has = has_version_table(conn);
    if (!has) {
        return has.error();
    }
    if (!*has) {
        return 0;
    }
    auto stmt = conn.prepare("SELECT version FROM schema_version");
    if (!stmt) {
        return stmt.error();
    }
    auto row = stmt->step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return base::fail(errc::corrupt, "schema_version table is empty");
    }
    return static_cast<int>(stmt->int64(0));
}

base::Result<int> migrate(sqlite::Connection& conn, int target) {
    if (target < 0) {
        target = kLatest;
    }
    auto current = read_schema_version(conn);
    if (!current) {
        return current.error();
    }
    if (*current > kLatest) {
        return base::fail(errc::schema_too_new,
                          "database schema version " + std::to_string(*current) +
                              " is newer than this agentd (" + std::to_string(kLatest) + ")");
    }
    for (int v = *current + 1; v <= target && v <= kLatest; ++v) {
        if (auto r = apply_one(conn, v); !r) {
            return r.error();
        }
    }
    return read_schema_version(conn);
}

} // namespace agentd::memory::db
