#include "store/task_rows.h"

#include "agentd/memory/errc.h"

#include "store/validate.h"

#include <algorithm>

namespace agentd::memory::store::tasks {

base::Result<void> check_ref(const Limits& l, std::string_view tenant, std::string_view id) {
    if (auto r = check_tenant(l, tenant); !r) {
        return r;
    }
    return check_id(l, "task id", id);
}

Task read_task(const sqlite::Statement& s) {
    Task t;
    t.tenant = s.text(0);
    t.id = s.text(1);
    t.context_id = s.text(2);
    t.session_id = s.text(3);
    t.agent = s.text(4);
    t.state = task_state_from_string(s.text_view(5)).value_or(TaskState::unknown);
    t.status_message_json = s.is_null(6) ? std::string() : s.text(6);
    t.metadata_json = s.text(7);
    t.created_at_ms = s.int64(8);
    t.updated_at_ms = s.int64(9);
    return t;
}

base::Result<void> load_detail(sqlite::Connection& c, Task& task, const TaskGet& detail) {
    if (!detail.history_length || *detail.history_length > 0) {
        auto h = c.prepare("SELECT message FROM task_history WHERE tenant_id = ? AND task_id = ? "
                           "ORDER BY seq DESC LIMIT ?");
        if (!h) {
            return h.error();
        }
        const auto limit = detail.history_length ? static_cast<std::int64_t>(*detail.history_length)
                                                 : std::int64_t{-1};
        h->bind_all(task.tenant, task.id, limit);
        for (;;) {
            auto row = h->step();
            if (!row) {
                return row.error();
            }
            if (!*row) {
                break;
            }
            task.history_json.push_back(h->text(0));
        }
        std::reverse(task.history_json.begin(), task.history_json.end());
    }
    if (detail.include_artifacts) {
        auto a = c.prepare("SELECT artifact_id, name, description, parts, metadata, created_at, "
                           "updated_at FROM artifacts WHERE tenant_id = ? AND task_id = ? "
                           "ORDER BY seq");
        if (!a) {
            return a.error();
        }
        a->bind_all(task.tenant, task.id);
        for (;;) {
            auto row = a->step();
            if (!row) {
                return row.error();
            }
            if (!*row) {
                break;
            }
            task.artifacts.push_back({a->text(0), a->text(1), a->text(2), a->text(3), a->text(4),
                                      a->int64(5), a->int64(6)});
        }
    }
    return {};
}

base::Result<Task> load_task(sqlite::Connection& c, std::string_view tenant, std::string_view id,
                             const TaskGet& detail) {
    static const std::string sql =
        std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE tenant_id = ? AND id = ?";
    auto stmt = c.prepare(sql);
    if (!stmt) {
        return stmt.error();
    }
    auto row = stmt->bind_all(tenant, id).step();
    if (!row) {
        return row.error();
    }
    if (!*row) {
        return base::fail(errc::not_found, "task not found");
    }
    Task task = read_task(*stmt);
    if (auto r = load_detail(c, task, detail); !r) {
        return r.error();
    }
    return task;
}

base::Result<std::int64_t> insert_history(db::WriteContext& ctx, std::string_view tenant,
                                          std::string_view id, std::string_view message_json) {
    auto& c = ctx.conn();
    auto touch = c.prepare("UPDATE tasks SET updated_at = ? WHERE tenant_id = ? AND id = ?");
    if (!touch) {
        return touch.error();
    }
    if (auto r = touch->bind_all(ctx.now_ms(), tenant, id).run(); !r) {
        return r.error();
    }
    if (c.changes() == 0) {
        return base::fail(errc::not_found, "task not found");
    }
    auto next = c.prepare("SELECT COALESCE(MAX(seq), 0) + 1 FROM task_history "
                          "WHERE tenant_id = ? AND task_id = ?");
    if (!next) {
        return next.error();
    }
    if (auto row = next->bind_all(tenant, id).step(); !row) {
        return row.error();
    }
    const std::int64_t seq = next->int64(0);
    auto insert = c.prepare("INSERT INTO task_history(tenant_id, task_id, seq, message, "
                            "created_at) VALUES (?, ?, ?, ?, ?)");
    if (!insert) {
        return insert.error();
    }
    if (auto r = insert->bind_all(tenant, id, seq, message_json, ctx.now_ms()).run(); !r) {
        return r.error();
    }
    return seq;
}

} // namespace agentd::memory::store::tasks
