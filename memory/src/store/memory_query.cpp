// MemoryStore: listing, counting and filtered bulk delete.
#include "agentd/memory/errc.h"
#include "agentd/memory/memory_store.h"

#include "db/database_impl.h"
#include "store/memory_rows.h"
#include "store/validate.h"

namespace agentd::memory {

namespace rows = store::memories;

namespace {

/// Rows of the tenant in id order after `after_id`, restricted by namespaces/pinned in SQL and
/// by the metadata filter here; calls `fn(Memory&&)` until it returns false.
template <class Fn>
base::Result<void> scan(sqlite::Connection& c, std::string_view tenant,
                        const std::optional<std::string>& namespaces, std::optional<bool> pinned,
                        const vector::MetadataFilter& filter, std::int64_t after_id, Fn&& fn) {
    static const std::string sql =
        std::string("SELECT ") + rows::kColumns +
        " FROM memories WHERE tenant_id = ?1 AND id > ?2 AND"
        " (?3 IS NULL OR namespace IN (SELECT value FROM json_each(?3))) AND"
        " (?4 IS NULL OR pinned = ?4) ORDER BY id";
    auto stmt = c.prepare(sql);
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, tenant).bind(2, after_id);
    if (namespaces) {
        stmt->bind(3, *namespaces);
    } else {
        stmt->bind_null(3);
    }
    if (pinned) {
        stmt->bind(4, *pinned ? 1 : 0);
    } else {
        stmt->bind_null(4);
    }
    for (;;) {
        auto row = stmt->step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            return {};
        }
        if (!filter.matches_all() &&
            !filter.matches(vector::FlatMeta::from_json(stmt->text_view(3)))) {
            continue;
        }
        if (!fn(rows::read_memory(*stmt, false))) {
            return {};
        }
    }
}

} // namespace

base::Result<Page<Memory>> MemoryStore::list(std::string_view tenant, const MemoryListQuery& q) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    if (auto r = rows::check_namespaces(l, q.namespaces); !r) {
        return r.error();
    }
    auto filter = vector::MetadataFilter::compile(q.filter_json);
    if (!filter) {
        return filter.error();
    }
    std::int64_t after = 0;
    if (!q.page.cursor.empty()) {
        auto c = store::decode_cursor(q.page.cursor);
        if (!c) {
            return c.error();
        }
        after = c->number;
    }
    const std::size_t limit = store::page_limit(l, q.page.limit);
    const auto ns = rows::namespaces_json(q.namespaces);
    return db_.read<Page<Memory>>([&](sqlite::Connection& c) -> base::Result<Page<Memory>> {
        Page<Memory> out;
        auto r = scan(c, tenant, ns, q.pinned, *filter, after, [&](Memory&& m) {
            if (out.items.size() == limit) {
                out.next_cursor = store::encode_cursor(out.items.back().id, "");
                return false;
            }
            out.items.push_back(std::move(m));
            return true;
        });
        if (!r) {
            return r.error();
        }
        return out;
    });
}

base::Result<std::vector<Memory>> MemoryStore::pinned(std::string_view tenant,
                                                      std::span<const std::string> namespaces,
                                                      std::size_t limit) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    if (auto r = rows::check_namespaces(l, namespaces); !r) {
        return r.error();
    }
    limit = limit == 0 ? l.max_page : std::min(limit, l.max_page);
    const auto ns = rows::namespaces_json(namespaces);
    const vector::MetadataFilter all;
    using Ms = std::vector<Memory>;
    return db_.read<Ms>([&](sqlite::Connection& c) -> base::Result<Ms> {
        Ms out;
        auto r = scan(c, tenant, ns, true, all, 0, [&](Memory&& m) {
            out.push_back(std::move(m));
            return out.size() < limit;
        });
        if (!r) {
            return r.error();
        }
        return out;
    });
}

base::Result<std::int64_t> MemoryStore::count(std::string_view tenant,
                                              std::span<const std::string> namespaces) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    if (auto r = rows::check_namespaces(l, namespaces); !r) {
        return r.error();
    }
    const auto ns = rows::namespaces_json(namespaces);
    return db_.read<std::int64_t>([&](sqlite::Connection& c) -> base::Result<std::int64_t> {
        auto stmt = c.prepare("SELECT count(*) FROM memories WHERE tenant_id = ?1 AND "
                              "(?2 IS NULL OR namespace IN (SELECT value FROM json_each(?2)))");
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind(1, tenant);
        if (ns) {
            stmt->bind(2, *ns);
        } else {
            stmt->bind_null(2);
        }
        if (auto row = stmt->step(); !row) {
            return row.error();
        }
        return stmt->int64(0);
    });
}

base::Result<std::int64_t> MemoryStore::remove_where(std::string_view tenant,
                                                     std::span<const std::string> namespaces,
                                                     std::string_view filter_json) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    if (auto r = rows::check_namespaces(l, namespaces); !r) {
        return r.error();
    }
    auto filter = vector::MetadataFilter::compile(filter_json);
    if (!filter) {
        return filter.error();
    }
    const auto ns = rows::namespaces_json(namespaces);
    auto* vectors = db_.vectors.get();
    return db_.write<std::int64_t>([&](db::WriteContext& ctx) -> base::Result<std::int64_t> {
        auto ids = std::make_shared<std::vector<std::int64_t>>();
        auto r = scan(ctx.conn(), tenant, ns, std::nullopt, *filter, 0, [&](Memory&& m) {
            ids->push_back(m.id);
            return true;
        });
        if (!r) {
            return r.error();
        }
        auto stmt = ctx.conn().prepare("DELETE FROM memories WHERE tenant_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        for (std::int64_t id : *ids) {
            if (auto d = stmt->bind_all(tenant, id).run(); !d) {
                return d.error();
            }
        }
        ctx.after_commit([vectors, ids] {
            for (std::int64_t id : *ids) {
                vectors->remove(id);
            }
        });
        return static_cast<std::int64_t>(ids->size());
    });
}

} // namespace agentd::memory
