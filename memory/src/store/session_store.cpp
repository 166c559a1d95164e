#include "agentd/memory/session_store.h"

#include "agentd/memory/errc.h"

#include "db/database_impl.h"
#include "store/validate.h"

namespace agentd::memory {
namespace {

constexpr const char* kColumns =
    "tenant_id, id, agent, title, metadata, summary, summary_through, created_at, updated_at";

Session read_session(const sqlite::Statement& s) {
    Session out;
    out.tenant = s.text(0);
    out.id = s.text(1);
    out.agent = s.text(2);
    out.title = s.text(3);
    out.metadata_json = s.text(4);
    out.summary = s.text(5);
    out.summary_through = s.int64(6);
    out.created_at_ms = s.int64(7);
    out.updated_at_ms = s.int64(8);
    return out;
}

base::Result<Session> load(sqlite::Connection& conn, std::string_view tenant, std::string_view id) {
    static const std::string sql =
        std::string("SELECT ") + kColumns + " FROM sessions WHERE tenant_id = ? AND id = ?";
    auto stmt = conn.prepare(sql);
    if (!stmt) {
        return stmt.error();
    }
    auto row = stmt->bind_all(tenant, id).step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return base::fail(errc::not_found, "session not found");
    }
    return read_session(*stmt);
}

base::Result<void> check_common(const Limits& l, std::string_view tenant, std::string_view id) {
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r;
    }
    return store::check_id(l, "session id", id);
}

} // namespace

base::Result<Session> SessionStore::create(std::string_view tenant, const NewSession& s) {
    const Limits& l = db_.options.limits;
    const std::string id = s.id.empty() ? store::new_uuid() : s.id;
    if (auto r = check_common(l, tenant, id); !r) {
        return r.error();
    }
    if (auto r = store::check_name(l, "agent", s.agent); !r) {
        return r.error();
    }
    if (auto r = store::check_text("title", s.title, l.max_id_bytes * 4); !r) {
        return r.error();
    }
    if (auto r = store::check_json(l, "metadata", s.metadata_json, true); !r) {
        return r.error();
    }
    return db_.write<Session>([&](db::WriteContext& ctx) -> base::Result<Session> {
        if (auto r = detail::DatabaseImpl::ensure_tenant(ctx, tenant); !r) {
            return r.error();
        }
        auto stmt = ctx.conn().prepare(
            "INSERT INTO sessions(tenant_id, id, agent, title, metadata, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)");
        if (!stmt) {
            return stmt.error();
        }
        auto r = stmt->bind_all(tenant, id, s.agent, s.title, s.metadata_json, ctx.now_ms(),
                                ctx.now_ms())
                     .run();
        if (!r) {
            if (r.error().code == errc::conflict) {
                return base::fail(errc::conflict, "session " + id + " already exists");
            }
            return r.error();
        }
        return load(ctx.conn(), tenant, id);
    });
}

base::Result<Session> SessionStore::get(std::string_view tenant, std::string_view id) {
    if (auto r = check_common(db_.options.limits, tenant, id); !r) {
        return r.error();
    }
    return db_.read<Session>([&](sqlite::Connection& c) { return load(c, tenant, id); });
}

base::Result<Page<Session>> SessionStore::list(std::string_view tenant, const PageRequest& page,
                                               std::string_view agent) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    if (auto r = store::check_name(l, "agent", agent); !r) {
        return r.error();
    }
    store::Cursor cursor{INT64_MAX, ""};
    bool has_cursor = false;
    if (!page.cursor.empty()) {
        auto c = store::decode_cursor(page.cursor);
        if (!c) {
            return c.error();
        }
        cursor = *c;
        has_cursor = true;
    }
    const std::size_t limit = store::page_limit(l, page.limit);
    return db_.read<Page<Session>>([&](sqlite::Connection& c) -> base::Result<Page<Session>> {
        static const std::string sql =
            std::string("SELECT ") + kColumns +
            " FROM sessions WHERE tenant_id = ?1 AND (?2 = '' OR agent = ?2) AND"
            " (?3 = 0 OR updated_at < ?4 OR (updated_at = ?4 AND id < ?5))"
            " ORDER BY updated_at DESC, id DESC LIMIT ?6";
        auto stmt = c.prepare(sql);
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind_all(tenant, agent, has_cursor ? 1 : 0, cursor.number, cursor.text,
                       static_cast<std::int64_t>(limit + 1));
        Page<Session> out;
        for (;;) {
            auto row = stmt->step();
            if (!row) {
                return row.error();
            }
            if (!*row) {
                break;
            }
            if (out.items.size() == limit) {
                const Session& last = out.items.back();
                out.next_cursor = store::encode_cursor(last.updated_at_ms, last.id);
                break;
            }
            out.items.push_back(read_session(*stmt));
        }
        return out;
    });
}

base::Result<std::int64_t> SessionStore::count(std::string_view tenant) {
    if (auto r = store::check_tenant(db_.options.limits, tenant); !r) {
        return r.error();
    }
    return db_.read<std::int64_t>([&](sqlite::Connection& c) -> base::Result<std::int64_t> {
        auto stmt = c.prepare("SELECT count(*) FROM sessions WHERE tenant_id = ?");
        if (!stmt) {
            return stmt.error();
        }
        auto row = stmt->bind(1, tenant).step();
        if (!row) {
            return row.error();
        }
        return stmt->int64(0);
    });
}

base::Result<Session> SessionStore::update(std::string_view tenant, std::string_view id,
                                           std::string_view title, std::string_view metadata_json) {
    const Limits& l = db_.options.limits;
    if (auto r = check_common(l, tenant, id); !r) {
        return r.error();
    }
    if (auto r = store::check_text("title", title, l.max_id_bytes * 4); !r) {
        return r.error();
    }
    if (auto r = store::check_json(l, "metadata", metadata_json, true); !r) {
        return r.error();
    }
    return db_.write<Session>([&](db::WriteContext& ctx) -> base::Result<Session> {
        auto stmt = ctx.conn().prepare("UPDATE sessions SET title = ?, metadata = ?, "
                                       "updated_at = ? WHERE tenant_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto r = stmt->bind_all(title, metadata_json, ctx.now_ms(), tenant, id).run(); !r) {
            return r.error();
        }
        if (ctx.conn().changes() == 0) {
            return base::fail(errc::not_found, "session not found");
        }
        return load(ctx.conn(), tenant, id);
    });
}

namespace {

base::Result<Session> set_summary(detail::DatabaseImpl& db, std::string_view tenant,
                                  std::string_view id, std::string_view text,
                                  std::int64_t through_seq, bool append) {
    const Limits& l = db.options.limits;
    if (auto r = check_common(l, tenant, id); !r) {
        return r.error();
    }
    if (auto r = store::check_text("summary", text, l.max_text_bytes); !r) {
        return r.error();
    }
    if (through_seq < 0) {
        return base::fail(errc::invalid_argument, "summary: through_seq must not be negative");
    }
    return db.write<Session>([&](db::WriteContext& ctx) -> base::Result<Session> {
        auto current = load(ctx.conn(), tenant, id);
        if (!current) {
            return current.error();
        }
        std::string summary(text);
        if (append) {
            if (through_seq < current->summary_through) {
                return base::fail(errc::invalid_argument,
                                  "summary: through_seq goes backwards (" +
                                      std::to_string(through_seq) + " < " +
                                      std::to_string(current->summary_through) + ")");
            }
            summary = current->summary;
            if (!summary.empty() && !text.empty()) {
                summary += "\n\n"; // paragraphs: the context builder trims whole ones
            }
            summary += text;
            if (summary.size() > l.max_text_bytes) {
                return base::fail(errc::invalid_argument,
                                  "summary: would exceed " + std::to_string(l.max_text_bytes) +
                                      " bytes; compact it with replace_summary");
            }
        }
        auto stmt = ctx.conn().prepare("UPDATE sessions SET summary = ?, summary_through = ?, "
                                       "updated_at = ? WHERE tenant_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto r = stmt->bind_all(summary, through_seq, ctx.now_ms(), tenant, id).run(); !r) {
            return r.error();
        }
        return load(ctx.conn(), tenant, id);
    });
}

} // namespace

base::Result<Session> SessionStore::append_summary(std::string_view tenant, std::string_view id,
                                                   std::string_view text,
                                                   std::int64_t through_seq) {
    return set_summary(db_, tenant, id, text, through_seq, true);
}

base::Result<Session> SessionStore::replace_summary(std::string_view tenant, std::string_view id,
                                                    std::string_view text,
                                                    std::int64_t through_seq) {
    return set_summary(db_, tenant, id, text, through_seq, false);
}

base::Result<bool> SessionStore::remove(std::string_view tenant, std::string_view id) {
    if (auto r = check_common(db_.options.limits, tenant, id); !r) {
        return r.error();
    }
    return db_.write<bool>([&](db::WriteContext& ctx) -> base::Result<bool> {
        auto stmt = ctx.conn().prepare("DELETE FROM sessions WHERE tenant_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto r = stmt->bind_all(tenant, id).run(); !r) {
            return r.error();
        }
        return ctx.conn().changes() > 0;
    });
}

} // namespace agentd::memory
