#include "agentd/memory/task_store.h"

#include "agentd/memory/errc.h"

#include "db/database_impl.h"
#include "store/task_rows.h"
#include "store/validate.h"

#include <algorithm>

namespace agentd::memory {

std::string_view to_string(TaskState s) noexcept {
    switch (s) {
    case TaskState::submitted:
        return "submitted";
    case TaskState::working:
        return "working";
    case TaskState::input_required:
        return "input-required";
    case TaskState::auth_required:
        return "auth-required";
    case TaskState::completed:
        return "completed";
    case TaskState::canceled:
        return "canceled";
    case TaskState::failed:
        return "failed";
    case TaskState::rejected:
        return "rejected";
    case TaskState::unknown:
        return "unknown";
    }
    return "unknown";
}

std::optional<TaskState> task_state_from_string(std::string_view s) noexcept {
    for (auto st : {TaskState::submitted, TaskState::working, TaskState::input_required,
                    TaskState::auth_required, TaskState::completed, TaskState::canceled,
                    TaskState::failed, TaskState::rejected, TaskState::unknown}) {
        if (to_string(st) == s) {
            return st;
        }
    }
    return std::nullopt;
}

bool is_terminal(TaskState s) noexcept {
    return s == TaskState::completed || s == TaskState::canceled || s == TaskState::failed ||
           s == TaskState::rejected;
}

using store::tasks::load_task;

base::Result<Task> TaskStore::create(std::string_view tenant, const NewTask& t,
                                     std::string_view first_message_json) {
    const Limits& l = db_.options.limits;
    const std::string id = t.id.empty() ? store::new_uuid() : t.id;
    const std::string context_id = t.context_id.empty() ? store::new_uuid() : t.context_id;
    if (auto r = store::tasks::check_ref(l, tenant, id); !r) {
        return r.error();
    }
    for (auto [field, value] : {std::pair<const char*, std::string_view>{"context id", context_id},
                                {"session id", t.session_id},
                                {"agent", t.agent}}) {
        if (auto r = store::check_name(l, field, value); !r) {
            return r.error();
        }
    }
    if (auto r = store::check_json(l, "metadata", t.metadata_json, true); !r) {
        return r.error();
    }
    if (!t.status_message_json.empty()) {
        if (auto r = store::check_json(l, "status message", t.status_message_json, true); !r) {
            return r.error();
        }
    }
    if (!first_message_json.empty()) {
        if (auto r = store::check_json(l, "message", first_message_json, true); !r) {
            return r.error();
        }
    }
    return db_.write<Task>([&](db::WriteContext& ctx) -> base::Result<Task> {
        if (auto r = detail::DatabaseImpl::ensure_tenant(ctx, tenant); !r) {
            return r.error();
        }
        auto stmt = ctx.conn().prepare(
            "INSERT INTO tasks(tenant_id, id, context_id, session_id, agent, state, "
            "status_message, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?)");
        if (!stmt) {
            return stmt.error();
        }
        std::optional<std::string_view> status;
        if (!t.status_message_json.empty()) {
            status = t.status_message_json;
        }
        stmt->bind_all(tenant, id, context_id, t.session_id, t.agent, to_string(t.state));
        stmt->bind(7, status).bind(8, t.metadata_json).bind(9, ctx.now_ms()).bind(10, ctx.now_ms());
        if (auto r = stmt->run(); !r) {
            if (r.error().code == errc::conflict) {
                return base::fail(errc::conflict, "task " + id + " already exists");
            }
            return r.error();
        }
        if (!first_message_json.empty()) {
            if (auto r = store::tasks::insert_history(ctx, tenant, id, first_message_json); !r) {
                return r.error();
            }
        }
        return load_task(ctx.conn(), tenant, id, TaskGet{});
    });
}

base::Result<Task> TaskStore::get(std::string_view tenant, std::string_view id,
                                  const TaskGet& detail) {
    if (auto r = store::tasks::check_ref(db_.options.limits, tenant, id); !r) {
        return r.error();
    }
    return db_.read<Task>([&](sqlite::Connection& c) { return load_task(c, tenant, id, detail); });
}

base::Result<std::int64_t> TaskStore::count(std::string_view tenant) {
    if (auto r = store::check_tenant(db_.options.limits, tenant); !r) {
        return r.error();
    }
    return db_.read<std::int64_t>([&](sqlite::Connection& c) -> base::Result<std::int64_t> {
        auto stmt = c.prepare("SELECT count(*) FROM tasks WHERE tenant_id = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto row = stmt->bind(1, tenant).step(); !row) {
            return row.error();
        }
        return stmt->int64(0);
    });
}

base::Result<Task> TaskStore::set_status(std::string_view tenant, std::string_view id,
                                         TaskState state, std::string_view status_message_json,
                                         const std::vector<TaskState>& only_from) {
    const Limits& l = db_.options.limits;
    if (auto r = store::tasks::check_ref(l, tenant, id); !r) {
        return r.error();
    }
    if (!status_message_json.empty()) {
        if (auto r = store::check_json(l, "status message", status_message_json, true); !r) {
            return r.error();
        }
    }
    return db_.write<Task>([&](db::WriteContext& ctx) -> base::Result<Task> {
        auto current = load_task(ctx.conn(), tenant, id, TaskGet{std::size_t{0}, false});
        if (!current) {
            return current.error();
        }
        if (!only_from.empty() &&
            std::find(only_from.begin(), only_from.end(), current->state) == only_from.end()) {
            return base::fail(errc::conflict, "task " + std::string(id) + " is " +
                                                  std::string(to_string(current->state)));
        }
        auto stmt = ctx.conn().prepare("UPDATE tasks SET state = ?, status_message = ?, "
                                       "updated_at = ? WHERE tenant_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        std::optional<std::string_view> status;
        if (!status_message_json.empty()) {
            status = status_message_json;
        }
        stmt->bind(1, to_string(state)).bind(2, status).bind(3, ctx.now_ms());
        stmt->bind(4, tenant).bind(5, id);
        if (auto r = stmt->run(); !r) {
            return r.error();
        }
        return load_task(ctx.conn(), tenant, id, TaskGet{std::size_t{0}, false});
    });
}

base::Result<void> TaskStore::set_metadata(std::string_view tenant, std::string_view id,
                                           std::string_view metadata_json) {
    const Limits& l = db_.options.limits;
    if (auto r = store::tasks::check_ref(l, tenant, id); !r) {
        return r.error();
    }
    if (auto r = store::check_json(l, "metadata", metadata_json, true); !r) {
        return r.error();
    }
    return db_.write<void>([&](db::WriteContext& ctx) -> base::Result<void> {
        auto stmt = ctx.conn().prepare(
            "UPDATE tasks SET metadata = ?, updated_at = ? WHERE tenant_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto r = stmt->bind_all(metadata_json, ctx.now_ms(), tenant, id).run(); !r) {
            return r.error();
        }
        if (ctx.conn().changes() == 0) {
            return base::fail(errc::not_found, "task not found");
        }
        return {};
    });
}

base::Result<std::int64_t> TaskStore::append_history(std::string_view tenant, std::string_view id,
                                                     std::string_view message_json) {
    const Limits& l = db_.options.limits;
    if (auto r = store::tasks::check_ref(l, tenant, id); !r) {
        return r.error();
    }
    if (auto r = store::check_json(l, "message", message_json, true); !r) {
        return r.error();
    }
    return db_.write<std::int64_t>([&](db::WriteContext& ctx) -> base::Result<std::int64_t> {
        return store::tasks::insert_history(ctx, tenant, id, message_json);
    });
}

base::Result<bool> TaskStore::remove(std::string_view tenant, std::string_view id) {
    if (auto r = store::tasks::check_ref(db_.options.limits, tenant, id); !r) {
        return r.error();
    }
    return db_.write<bool>([&](db::WriteContext& ctx) -> base::Result<bool> {
        auto stmt = ctx.conn().prepare("DELETE FROM tasks WHERE tenant_id = ? AND id = ?");
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
