#include "agentd/memory/tool_store.h"

#include "agentd/memory/errc.h"

#include "db/database_impl.h"
#include "store/validate.h"

#include <algorithm>

namespace agentd::memory {
namespace {

constexpr const char* kSelect =
    "SELECT name, description, input_schema, output_schema, endpoint, timeout_ms, created_at, "
    "updated_at FROM tools ";

ToolRecord read_tool(const sqlite::Statement& s) {
    ToolRecord t;
    t.name = s.text(0);
    t.description = s.text(1);
    t.input_schema_json = s.text(2);
    t.output_schema_json = s.is_null(3) ? std::string() : s.text(3);
    t.endpoint_json = s.text(4);
    t.timeout_ms = s.int64(5);
    t.created_at_ms = s.int64(6);
    t.updated_at_ms = s.int64(7);
    return t;
}

base::Result<void> check_name(std::string_view name) {
    const bool ok =
        !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-' || c == '.';
        });
    if (!ok) {
        return base::fail(errc::invalid_argument, "name: 1-128 characters of [A-Za-z0-9_.-]");
    }
    return {};
}

base::Result<void> check_tool(const Limits& l, std::string_view tenant, const ToolRecord& t) {
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r;
    }
    if (auto r = check_name(t.name); !r) {
        return r;
    }
    if (auto r = store::check_text("description", t.description, l.max_text_bytes); !r) {
        return r;
    }
    if (auto r = store::check_json(l, "input_schema", t.input_schema_json, true); !r) {
        return r;
    }
    if (!t.output_schema_json.empty()) {
        if (auto r = store::check_json(l, "output_schema", t.output_schema_json, true); !r) {
            return r;
        }
    }
    if (auto r = store::check_json(l, "endpoint", t.endpoint_json, true); !r) {
        return r;
    }
    if (t.timeout_ms <= 0 || t.timeout_ms > 3'600'000) {
        return base::fail(errc::invalid_argument, "timeout_ms: must be in 1..3600000");
    }
    return {};
}

base::Result<ToolRecord> load_tool(sqlite::Connection& c, std::string_view tenant,
                                   std::string_view name) {
    auto stmt = c.prepare(std::string(kSelect) + "WHERE tenant_id = ? AND name = ?");
    if (!stmt) {
        return stmt.error();
    }
    auto row = stmt->bind_all(tenant, name).step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return base::fail(errc::not_found, "tool not found");
    }
    return read_tool(*stmt);
}

base::Result<ToolRecord> write_tool(detail::DatabaseImpl& db, std::string_view tenant,
                                    const ToolRecord& t, bool replace) {
    if (auto r = check_tool(db.options.limits, tenant, t); !r) {
        return r.error();
    }
    return db.write<ToolRecord>([&](db::WriteContext& ctx) -> base::Result<ToolRecord> {
        if (auto r = detail::DatabaseImpl::ensure_tenant(ctx, tenant); !r) {
            return r.error();
        }
        const char* sql =
            replace ? "INSERT INTO tools(tenant_id, name, description, input_schema, "
                      "output_schema, endpoint, timeout_ms, created_at, updated_at) VALUES "
                      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT(tenant_id, name) DO "
                      "UPDATE SET description = ?3, input_schema = ?4, output_schema = ?5, "
                      "endpoint = ?6, timeout_ms = ?7, updated_at = ?8"
                    : "INSERT INTO tools(tenant_id, name, description, input_schema, "
                      "output_schema, endpoint, timeout_ms, created_at, updated_at) VALUES "
                      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)";
        auto stmt = ctx.conn().prepare(sql);
        if (!stmt) {
            return stmt.error();
        }
        std::optional<std::string_view> output;
        if (!t.output_schema_json.empty()) {
            output = t.output_schema_json;
        }
        stmt->bind_all(tenant, t.name, t.description, t.input_schema_json);
        stmt->bind(5, output).bind(6, t.endpoint_json).bind(7, t.timeout_ms).bind(8, ctx.now_ms());
        if (auto r = stmt->run(); !r) {
            if (r.error().code == errc::conflict) {
                return base::fail(errc::conflict, "tool " + t.name + " is already registered");
            }
            return r.error();
        }
        return load_tool(ctx.conn(), tenant, t.name);
    });
}

} // namespace

base::Result<ToolRecord> ToolStore::create(std::string_view tenant, const ToolRecord& tool) {
    return write_tool(db_, tenant, tool, false);
}

base::Result<ToolRecord> ToolStore::upsert(std::string_view tenant, const ToolRecord& tool) {
    return write_tool(db_, tenant, tool, true);
}

base::Result<ToolRecord> ToolStore::get(std::string_view tenant, std::string_view name) {
    if (auto r = store::check_tenant(db_.options.limits, tenant); !r) {
        return r.error();
    }
    if (auto r = check_name(name); !r) {
        return r.error();
    }
    return db_.read<ToolRecord>([&](sqlite::Connection& c) { return load_tool(c, tenant, name); });
}

base::Result<Page<ToolRecord>> ToolStore::list(std::string_view tenant, const PageRequest& page) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    std::string after;
    if (!page.cursor.empty()) {
        auto c = store::decode_cursor(page.cursor);
        if (!c) {
            return c.error();
        }
        after = c->text;
    }
    const std::size_t limit = store::page_limit(l, page.limit);
    return db_.read<Page<ToolRecord>>([&](sqlite::Connection& c) -> base::Result<Page<ToolRecord>> {
        auto stmt = c.prepare(std::string(kSelect) +
                              "WHERE tenant_id = ? AND name > ? ORDER BY name LIMIT ?");
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind_all(tenant, after, static_cast<std::int64_t>(limit + 1));
        Page<ToolRecord> out;
        for (;;) {
            auto row = stmt->step();
            if (!row) {
                return row.error();
            }
            if (!*row) {
                return out;
            }
            if (out.items.size() == limit) {
                out.next_cursor = store::encode_cursor(0, out.items.back().name);
                return out;
            }
            out.items.push_back(read_tool(*stmt));
        }
    });
}

base::Result<std::int64_t> ToolStore::count(std::string_view tenant) {
    if (auto r = store::check_tenant(db_.options.limits, tenant); !r) {
        return r.error();
    }
    return db_.read<std::int64_t>([&](sqlite::Connection& c) -> base::Result<std::int64_t> {
        auto stmt = c.prepare("SELECT count(*) FROM tools WHERE tenant_id = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto row = stmt->bind(1, tenant).step(); !row) {
            return row.error();
        }
        return stmt->int64(0);
    });
}

base::Result<bool> ToolStore::remove(std::string_view tenant, std::string_view name) {
    if (auto r = store::check_tenant(db_.options.limits, tenant); !r) {
        return r.error();
    }
    if (auto r = check_name(name); !r) {
        return r.error();
    }
    return db_.write<bool>([&](db::WriteContext& ctx) -> base::Result<bool> {
        auto stmt = ctx.conn().prepare("DELETE FROM tools WHERE tenant_id = ? AND name = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto r = stmt->bind_all(tenant, name).run(); !r) {
            return r.error();
        }
        return ctx.conn().changes() > 0;
    });
}

} // namespace agentd::memory
