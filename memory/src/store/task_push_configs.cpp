// TaskStore: push-notification configs (A2A tasks/pushNotificationConfig/*).
#include "agentd/memory/errc.h"
#include "agentd/memory/task_store.h"

#include "db/database_impl.h"
#include "store/task_rows.h"
#include "store/validate.h"

namespace agentd::memory {
namespace {

PushConfig read_config(const sqlite::Statement& s) {
    return {s.text(0), s.text(1), s.text(2), s.int64(3), s.int64(4)};
}

constexpr const char* kSelect =
    "SELECT task_id, id, config, created_at, updated_at FROM push_configs ";

} // namespace

base::Result<PushConfig> TaskStore::put_push_config(std::string_view tenant,
                                                    const PushConfig& config) {
    const Limits& l = db_.options.limits;
    if (auto r = store::tasks::check_ref(l, tenant, config.task_id); !r) {
        return r.error();
    }
    const std::string id = config.id.empty() ? store::new_uuid() : config.id;
    if (auto r = store::check_id(l, "push config id", id); !r) {
        return r.error();
    }
    if (auto r = store::check_json(l, "push config", config.config_json, true); !r) {
        return r.error();
    }
    return db_.write<PushConfig>([&](db::WriteContext& ctx) -> base::Result<PushConfig> {
        auto& c = ctx.conn();
        auto exists = c.prepare("SELECT 1 FROM tasks WHERE tenant_id = ? AND id = ?");
        if (!exists) {
            return exists.error();
        }
        auto row = exists->bind_all(tenant, config.task_id).step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            return base::fail(errc::not_found, "task not found");
        }
        auto stmt = c.prepare(
            "INSERT INTO push_configs(tenant_id, task_id, id, config, created_at, updated_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(tenant_id, task_id, id) "
            "DO UPDATE SET config = ?4, updated_at = ?5");
        if (!stmt) {
            return stmt.error();
        }
        if (auto r =
                stmt->bind_all(tenant, config.task_id, id, config.config_json, ctx.now_ms()).run();
            !r) {
            return r.error();
        }
        auto get =
            c.prepare(std::string(kSelect) + "WHERE tenant_id = ? AND task_id = ? AND id = ?");
        if (!get) {
            return get.error();
        }
        if (auto g = get->bind_all(tenant, config.task_id, id).step(); !g) {
            return g.error();
        }
        return read_config(*get);
    });
}

base::Result<PushConfig> TaskStore::get_push_config(std::string_view tenant,
                                                    std::string_view task_id, std::string_view id) {
    const Limits& l = db_.options.limits;
    if (auto r = store::tasks::check_ref(l, tenant, task_id); !r) {
        return r.error();
    }
    if (auto r = store::check_id(l, "push config id", id); !r) {
        return r.error();
    }
    return db_.read<PushConfig>([&](sqlite::Connection& c) -> base::Result<PushConfig> {
        auto stmt =
            c.prepare(std::string(kSelect) + "WHERE tenant_id = ? AND task_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        auto row = stmt->bind_all(tenant, task_id, id).step();
        if (!row) {
            return row.error();
        }
        if (!*row) {
            return base::fail(errc::not_found, "push notification config not found");
        }
        return read_config(*stmt);
    });
}

base::Result<std::vector<PushConfig>> TaskStore::list_push_configs(std::string_view tenant,
                                                                   std::string_view task_id) {
    if (auto r = store::tasks::check_ref(db_.options.limits, tenant, task_id); !r) {
        return r.error();
    }
    using Configs = std::vector<PushConfig>;
    return db_.read<Configs>([&](sqlite::Connection& c) -> base::Result<Configs> {
        auto exists = c.prepare("SELECT 1 FROM tasks WHERE tenant_id = ? AND id = ?");
        if (!exists) {
            return exists.error();
        }
        auto found = exists->bind_all(tenant, task_id).step();
        if (!found) {
            return found.error();
        }
        if (!*found) {
            return base::fail(errc::not_found, "task not found");
        }
        auto stmt = c.prepare(std::string(kSelect) +
                              "WHERE tenant_id = ? AND task_id = ? ORDER BY created_at, id");
        if (!stmt) {
            return stmt.error();
        }
        stmt->bind_all(tenant, task_id);
        Configs out;
        for (;;) {
            auto row = stmt->step();
            if (!row) {
                return row.error();
            }
            if (!*row) {
                return out;
            }
            out.push_back(read_config(*stmt));
        }
    });
}

base::Result<bool> TaskStore::remove_push_config(std::string_view tenant, std::string_view task_id,
                                                 std::string_view id) {
    const Limits& l = db_.options.limits;
    if (auto r = store::tasks::check_ref(l, tenant, task_id); !r) {
        return r.error();
    }
    if (auto r = store::check_id(l, "push config id", id); !r) {
        return r.error();
    }
    return db_.write<bool>([&](db::WriteContext& ctx) -> base::Result<bool> {
        auto stmt = ctx.conn().prepare(
            "DELETE FROM push_configs WHERE tenant_id = ? AND task_id = ? AND id = ?");
        if (!stmt) {
            return stmt.error();
        }
        if (auto r = stmt->bind_all(tenant, task_id, id).run(); !r) {
            return r.error();
        }
        return ctx.conn().changes() > 0;
    });
}

} // namespace agentd::memory
