#include "agentd/memory/memory_store.h"

#include "agentd/memory/errc.h"

#include "db/database_impl.h"
#include "store/memory_rows.h"
#include "store/validate.h"

#include <cstring>

namespace agentd::memory {

namespace rows = store::memories;

namespace {

base::Result<void> check_new(const Limits& l, const NewMemory& m) {
    if (auto r = store::check_name(l, "namespace", m.ns); !r) {
        return r;
    }
    if (auto r = store::check_text("text", m.text, l.max_text_bytes); !r) {
        return r;
    }
    if (auto r = store::check_json(l, "metadata", m.metadata_json, true); !r) {
        return r;
    }
    if (auto r = store::check_json(l, "provenance", m.provenance_json, true); !r) {
        return r;
    }
    if (m.text.empty() && m.embedding.empty()) {
        return base::fail(errc::invalid_argument, "a memory needs text, an embedding, or both");
    }
    return rows::check_embedding(l, m.embedding, m.model);
}

std::span<const std::byte> as_bytes(const std::vector<float>& v) {
    return std::as_bytes(std::span<const float>(v));
}

vector::VectorRecord make_record(std::string_view tenant, std::string ns, std::string model,
                                 std::vector<float> embedding, std::string_view metadata) {
    vector::VectorRecord rec;
    rec.tenant = tenant;
    rec.ns = std::move(ns);
    rec.model = std::move(model);
    rec.embedding = std::move(embedding);
    rec.meta = vector::FlatMeta::from_json(metadata);
    return rec;
}

} // namespace

base::Result<std::int64_t> MemoryStore::put(std::string_view tenant, const NewMemory& m) {
    auto ids = put_many(tenant, std::span<const NewMemory>(&m, 1));
    if (!ids) {
        return ids.error();
    }
    return ids->front();
}

base::Result<std::vector<std::int64_t>> MemoryStore::put_many(std::string_view tenant,
                                                              std::span<const NewMemory> ms) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    if (ms.empty() || ms.size() > l.max_batch) {
        return base::fail(errc::invalid_argument,
                          "put_many: 1 to " + std::to_string(l.max_batch) + " memories");
    }
    // Validation and the mirror's records are prepared here, off the writer thread.
    std::vector<vector::VectorRecord> records;
    std::vector<std::size_t> record_of(ms.size(), SIZE_MAX);
    for (std::size_t i = 0; i < ms.size(); ++i) {
        if (auto r = check_new(l, ms[i]); !r) {
            return base::fail(errc::invalid_argument,
                              "memory " + std::to_string(i) + ": " + r.error().message);
        }
        if (!ms[i].embedding.empty()) {
            record_of[i] = records.size();
            records.push_back(
                make_record(tenant, ms[i].ns, ms[i].model, ms[i].embedding, ms[i].metadata_json));
        }
    }
    auto* vectors = db_.vectors.get();
    using Ids = std::vector<std::int64_t>;
    return db_.write<Ids>([&](db::WriteContext& ctx) -> base::Result<Ids> {
        if (auto r = detail::DatabaseImpl::ensure_tenant(ctx, tenant); !r) {
            return r.error();
        }
        auto stmt = ctx.conn().prepare(
            "INSERT INTO memories(tenant_id, namespace, text, metadata, pinned, embedding, dim, "
            "model, provenance, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!stmt) {
            return stmt.error();
        }
        Ids ids;
        ids.reserve(ms.size());
        for (std::size_t i = 0; i < ms.size(); ++i) {
            const NewMemory& m = ms[i];
            stmt->bind_all(tenant, m.ns, m.text, m.metadata_json, m.pinned ? 1 : 0);
            if (m.embedding.empty()) {
                stmt->bind_null(6).bind_null(7).bind_null(8);
            } else {
                stmt->bind_blob(6, as_bytes(m.embedding))
                    .bind(7, static_cast<std::int64_t>(m.embedding.size()))
                    .bind(8, m.model);
            }
            stmt->bind(9, m.provenance_json).bind(10, ctx.now_ms()).bind(11, ctx.now_ms());
            if (auto r = stmt->run(); !r) {
                return r.error();
            }
            ids.push_back(ctx.conn().last_insert_rowid());
            if (record_of[i] != SIZE_MAX) {
                records[record_of[i]].id = ids.back();
            }
        }
        // The caller blocks until the actions ran, so `records` outlives this reference.
        ctx.after_commit([vectors, &records] {
            for (auto& rec : records) {
                vectors->upsert(std::move(rec));
            }
        });
        return ids;
    });
}

base::Result<Memory> MemoryStore::get(std::string_view tenant, std::int64_t id,
                                      bool include_embedding) {
    if (auto r = store::check_tenant(db_.options.limits, tenant); !r) {
        return r.error();
    }
    return db_.read<Memory>([&](sqlite::Connection& c) -> base::Result<Memory> {
        auto m = rows::load(c, tenant, id, include_embedding);
        if (!m) {
            return m.error();
        }
        if (!*m) {
            return base::fail(errc::not_found, "memory not found");
        }
        return std::move(**m);
    });
}

base::Result<Memory> MemoryStore::update(std::string_view tenant, std::int64_t id,
                                         const MemoryUpdate& u) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    if (u.text) {
        if (auto r = store::check_text("text", *u.text, l.max_text_bytes); !r) {
            return r.error();
        }
    }
    if (u.metadata_json) {
        if (auto r = store::check_json(l, "metadata", *u.metadata_json, true); !r) {
            return r.error();
        }
    }
    auto* vectors = db_.vectors.get();
    return db_.write<Memory>([&](db::WriteContext& ctx) -> base::Result<Memory> {
        auto current = rows::load(ctx.conn(), tenant, id, true);
        if (!current) {
            return current.error();
        }
        if (!*current) {
            return base::fail(errc::not_found, "memory not found");
        }
        Memory m = std::move(**current);
        if (u.text) {
            m.text = *u.text;
        }
        if (u.metadata_json) {
            m.metadata_json = *u.metadata_json;
        }
        if (u.pinned) {
            m.pinned = *u.pinned;
        }
        if (u.embedding) {
            m.embedding = *u.embedding;
            m.model = m.embedding.empty() ? std::string() : u.model.value_or(m.model);
        } else if (u.model) {
            return base::fail(errc::invalid_argument, "model: changes only with an embedding");
        }
        if (auto r = rows::check_embedding(l, m.embedding, m.model); !r) {
            return r.error();
        }
        if (m.text.empty() && m.embedding.empty()) {
            return base::fail(errc::invalid_argument, "a memory needs text, an embedding, or both");
        }
        auto stmt = ctx.conn().prepare(
            "UPDATE memories SET text = ?, metadata = ?, pinned = ?, embedding = ?, dim = ?, "
            "model = ?, updated_at = ? WHERE tenant_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind_all(m.text, m.metadata_json, m.pinned ? 1 : 0);
        if (m.embedding.empty()) {
            stmt->bind_null(4).bind_null(5).bind_null(6);
        } else {
            stmt->bind_blob(4, as_bytes(m.embedding))
                .bind(5, static_cast<std::int64_t>(m.embedding.size()))
                .bind(6, m.model);
        }
        stmt->bind(7, ctx.now_ms()).bind(8, tenant).bind(9, id);
        if (auto r = stmt->run(); !r) {
            return r.error();
        }
        m.updated_at_ms = ctx.now_ms();
        m.dim = static_cast<std::uint32_t>(m.embedding.size());
        if (m.embedding.empty()) {
            ctx.after_commit([vectors, id] { vectors->remove(id); });
        } else {
            auto rec = std::make_shared<vector::VectorRecord>(
                make_record(tenant, m.ns, m.model, m.embedding, m.metadata_json));
            rec->id = id;
            ctx.after_commit([vectors, rec] { vectors->upsert(std::move(*rec)); });
        }
        return m;
    });
}

base::Result<bool> MemoryStore::remove(std::string_view tenant, std::int64_t id) {
    auto n = remove_many(tenant, std::span<const std::int64_t>(&id, 1));
    if (!n) {
        return n.error();
    }
    return *n > 0;
}

base::Result<std::int64_t> MemoryStore::remove_many(std::string_view tenant,
                                                    std::span<const std::int64_t> ids) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    if (ids.size() > l.max_batch) {
        return base::fail(errc::invalid_argument, "remove_many: too many ids");
    }
    auto* vectors = db_.vectors.get();
    return db_.write<std::int64_t>([&](db::WriteContext& ctx) -> base::Result<std::int64_t> {
        auto stmt = ctx.conn().prepare("DELETE FROM memories WHERE tenant_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        auto removed = std::make_shared<std::vector<std::int64_t>>();
        for (std::int64_t id : ids) {
            if (auto r = stmt->bind_all(tenant, id).run(); !r) {
                return r.error();
            }
            if (ctx.conn().changes() > 0) {
                removed->push_back(id);
            }
        }
        ctx.after_commit([vectors, removed] {
            for (std::int64_t id : *removed) {
                vectors->remove(id);
            }
        });
        return static_cast<std::int64_t>(removed->size());
    });
}

} // namespace agentd::memory
