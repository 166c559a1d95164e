// TaskStore: listing, recovery, artifacts and push-notification configs.
#include "agentd/memory/errc.h"
#include "agentd/memory/task_store.h"

#include "db/database_impl.h"
#include "store/task_rows.h"
#include "store/validate.h"

#include <nlohmann/json.hpp>

namespace agentd::memory {

using store::tasks::check_ref;

base::Result<Page<Task>> TaskStore::list(std::string_view tenant, const TaskListQuery& q) {
    const Limits& l = db_.options.limits;
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r.error();
    }
    if (auto r = store::check_name(l, "context id", q.context_id); !r) {
        return r.error();
    }
    store::Cursor cursor;
    const bool has_cursor = !q.page.cursor.empty();
    if (has_cursor) {
        auto c = store::decode_cursor(q.page.cursor);
        if (!c) {
            return c.error();
        }
        cursor = *c;
    }
    const std::size_t limit = store::page_limit(l, q.page.limit);
    return db_.read<Page<Task>>([&](sqlite::Connection& c) -> base::Result<Page<Task>> {
        static const std::string sql =
            std::string("SELECT ") + store::tasks::kTaskColumns +
            " FROM tasks WHERE tenant_id = ?1 AND (?2 = '' OR context_id = ?2) AND"
            " (?3 = '' OR state = ?3) AND (?4 IS NULL OR updated_at > ?4) AND"
            " (?5 = 0 OR updated_at < ?6 OR (updated_at = ?6 AND id < ?7))"
            " ORDER BY updated_at DESC, id DESC LIMIT ?8";
        auto stmt = c.prepare(sql);
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind(1, tenant).bind(2, q.context_id);
        stmt->bind(3, q.state ? to_string(*q.state) : std::string_view());
        if (q.updated_after_ms) {
            stmt->bind(4, *q.updated_after_ms);
        } else {
            stmt->bind_null(4);
        }
        stmt->bind(5, has_cursor ? 1 : 0).bind(6, cursor.number).bind(7, cursor.text);
        stmt->bind(8, static_cast<std::int64_t>(limit + 1));
        Page<Task> out;
        for (;;) {
            auto row = stmt->step();
            if (!row) {
                return row.error();
            }
            if (!*row) {
                break;
            }
            if (out.items.size() == limit) {
                out.next_cursor =
                    store::encode_cursor(out.items.back().updated_at_ms, out.items.back().id);
                break;
            }
            out.items.push_back(store::tasks::read_task(*stmt));
        }
        for (Task& t : out.items) {
            if (auto r = store::tasks::load_detail(c, t, q.detail); !r) {
                return r.error();
            }
        }
        return out;
    });
}

base::Result<Page<Task>> TaskStore::list_in_flight(const PageRequest& page) {
    const Limits& l = db_.options.limits;
    store::Cursor cursor;
    if (!page.cursor.empty()) {
        auto c = store::decode_cursor(page.cursor);
        if (!c) {
            return c.error();
        }
        cursor = *c;
    }
    const std::size_t limit = store::page_limit(l, page.limit);
    // Cursor text is "tenant\0id": ordered by (tenant_id, id) within the in-flight states.
    const auto nul = cursor.text.find('\0');
    const std::string after_tenant = cursor.text.substr(0, nul);
    const std::string after_id = nul == std::string::npos ? "" : cursor.text.substr(nul + 1);
    return db_.read<Page<Task>>([&](sqlite::Connection& c) -> base::Result<Page<Task>> {
        static const std::string sql =
            std::string("SELECT ") + store::tasks::kTaskColumns +
            " FROM tasks WHERE state IN ('submitted', 'working', 'input-required', "
            "'auth-required') AND (tenant_id > ?1 OR (tenant_id = ?1 AND id > ?2))"
            " ORDER BY tenant_id, id LIMIT ?3";
        auto stmt = c.prepare(sql);
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind_all(after_tenant, after_id, static_cast<std::int64_t>(limit + 1));
        Page<Task> out;
        for (;;) {
            auto row = stmt->step();
            if (!row) {
                return row.error();
            }
            if (!*row) {
                break;
            }
            if (out.items.size() == limit) {
                std::string key = out.items.back().tenant;
                key.push_back('\0');
                key += out.items.back().id;
                out.next_cursor = store::encode_cursor(0, key);
                break;
            }
            out.items.push_back(store::tasks::read_task(*stmt));
        }
        return out;
    });
}

namespace {

/// Concatenates two JSON arrays (validated by the caller).
std::string append_parts(const std::string& existing, const std::string& more) {
    auto a = nlohmann::json::parse(existing, nullptr, false);
    auto b = nlohmann::json::parse(more, nullptr, false);
    if (!a.is_array()) {
        a = nlohmann::json::array();
    }
    for (auto& part : b) {
        a.push_back(std::move(part));
    }
    return a.dump();
}

} // namespace

base::Result<Artifact> TaskStore::put_artifact(std::string_view tenant, std::string_view task_id,
                                               const Artifact& artifact, bool append) {
    const Limits& l = db_.options.limits;
    if (auto r = check_ref(l, tenant, task_id); !r) {
        return r.error();
    }
    if (auto r = store::check_id(l, "artifact id", artifact.artifact_id); !r) {
        return r.error();
    }
    for (auto [f, v] : {std::pair<const char*, std::string_view>{"name", artifact.name},
                        {"description", artifact.description}}) {
        if (auto r = store::check_text(f, v, l.max_text_bytes); !r) {
            return r.error();
        }
    }
    if (auto r = store::check_json(l, "parts", artifact.parts_json); !r) {
        return r.error();
    }
    if (artifact.parts_json.find_first_not_of(" \t\r\n") == std::string::npos ||
        artifact.parts_json[artifact.parts_json.find_first_not_of(" \t\r\n")] != '[') {
        return base::fail(errc::invalid_argument, "parts: must be a JSON array");
    }
    if (auto r = store::check_json(l, "metadata", artifact.metadata_json, true); !r) {
        return r.error();
    }
    return db_.write<Artifact>([&](db::WriteContext& ctx) -> base::Result<Artifact> {
        auto& c = ctx.conn();
        auto task = store::tasks::load_task(c, tenant, task_id, TaskGet{std::size_t{0}, true});
        if (!task) {
            return task.error();
        }
        Artifact out = artifact;
        out.created_at_ms = ctx.now_ms();
        std::int64_t seq = static_cast<std::int64_t>(task->artifacts.size()) + 1;
        for (const Artifact& a : task->artifacts) {
            if (a.artifact_id != artifact.artifact_id) {
                continue;
            }
            out.created_at_ms = a.created_at_ms;
            seq = 0; // keep its position
            if (append) {
                out.parts_json = append_parts(a.parts_json, artifact.parts_json);
                out.name = artifact.name.empty() ? a.name : artifact.name;
                out.description =
                    artifact.description.empty() ? a.description : artifact.description;
                out.metadata_json =
                    artifact.metadata_json == "{}" ? a.metadata_json : artifact.metadata_json;
            }
        }
        if (out.parts_json.size() > l.max_json_bytes) {
            return base::fail(errc::invalid_argument, "parts: artifact grew past the JSON limit");
        }
        out.updated_at_ms = ctx.now_ms();
        auto stmt = c.prepare(
            "INSERT INTO artifacts(tenant_id, task_id, artifact_id, seq, name, description, parts, "
            "metadata, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
            "ON CONFLICT(tenant_id, task_id, artifact_id) DO UPDATE SET name = ?5, "
            "description = ?6, parts = ?7, metadata = ?8, updated_at = ?10");
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind_all(tenant, task_id, out.artifact_id, seq, out.name, out.description,
                       out.parts_json, out.metadata_json, out.created_at_ms, out.updated_at_ms);
        if (auto r = stmt->run(); !r) {
            return r.error();
        }
        auto touch = c.prepare("UPDATE tasks SET updated_at = ? WHERE tenant_id = ? AND id = ?");
        if (!touch) {
            return touch.error();
        }
        if (auto r = touch->bind_all(ctx.now_ms(), tenant, task_id).run(); !r) {
            return r.error();
        }
        return out;
    });
}

} // namespace agentd::memory
