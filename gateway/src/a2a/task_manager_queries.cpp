// TaskManager's store-backed operations: GetTask, ListTasks and the push-config methods.

#include "agentd/protocols/errc.h"

#include "a2a/task_convert.h"
#include "a2a/task_manager_impl.h"

namespace agentd::gateway::a2a {

namespace perr = protocols;

namespace {

/// Blocking: task_not_found unless the task exists for this tenant and agent.
base::Result<void> check_task(TaskManager::Impl& m, const std::string& tenant,
                              const std::string& agent, const std::string& id) {
    memory::TaskGet detail;
    detail.history_length = 0;
    detail.include_artifacts = false;
    auto row = m.store.get(tenant, id, detail);
    if (!row) {
        return store_error(row.error(), id);
    }
    if (row->agent != agent) {
        return base::fail(perr::errc::task_not_found, "task \"" + id + "\" not found");
    }
    return {};
}

base::Result<std::vector<StoredPushConfig>>
stored_configs(TaskManager::Impl& m, const std::string& tenant, const std::string& task_id) {
    auto rows = m.store.list_push_configs(tenant, task_id);
    if (!rows) {
        return store_error(rows.error(), task_id);
    }
    std::vector<StoredPushConfig> out;
    for (const auto& row : *rows) {
        if (auto c = push_config_from(row)) {
            out.push_back(std::move(*c));
        }
    }
    return out;
}

/// Lists never hold more than this many tasks per page; a filtered total is counted up to it.
constexpr std::size_t kMaxCountedTasks = 100'000;

} // namespace

void TaskManager::get(const Caller& caller, const std::string& agent, proto::GetTaskParams params,
                      Callback<proto::Task> done) {
    auto m = impl_;
    m->post([m, caller, agent, params = std::move(params), done = std::move(done)] {
        done(m->load(caller.tenant, agent, params.id, params.history_length));
    });
}

void TaskManager::list(const Caller& caller, const std::string& agent,
                       proto::ListTasksParams params, Callback<proto::ListTasksResult> done) {
    auto m = impl_;
    m->post([m, caller, agent, params = std::move(params), done = std::move(done)] {
        memory::TaskListQuery q;
        q.context_id = params.context_id;
        if (params.status) {
            q.state = to_memory(*params.status);
        }
        q.updated_after_ms = params.status_timestamp_after_ms;
        q.page.limit = static_cast<std::size_t>(params.page_size.value_or(50));
        q.page.cursor = params.page_token;
        q.detail.history_length = static_cast<std::size_t>(params.history_length.value_or(0));
        q.detail.include_artifacts = params.include_artifacts;
        auto page = m->store.list(caller.tenant, q);
        if (!page) {
            // A cursor the store does not recognise is the client's mistake.
            done(base::Error(perr::errc::invalid_params,
                             "params.pageToken: " + page.error().what()));
            return;
        }
        proto::ListTasksResult out;
        for (const auto& row : page->items) {
            if (row.agent != agent) {
                continue;
            }
            proto::Task t = to_proto(row);
            t.include_artifacts = params.include_artifacts;
            out.tasks.push_back(std::move(t));
        }
        out.next_page_token = page->next_cursor;
        out.page_size = static_cast<std::int32_t>(q.page.limit);
        // totalSize: every task matching the filters (not just this page).
        memory::TaskListQuery count = q;
        count.page.cursor.clear();
        count.page.limit = 1000;
        count.detail = memory::TaskGet{std::size_t{0}, false};
        std::size_t total = 0;
        for (;;) {
            auto p = m->store.list(caller.tenant, count);
            if (!p) {
                break;
            }
            for (const auto& row : p->items) {
                total += row.agent == agent ? 1 : 0;
            }
            if (p->next_cursor.empty() || total >= kMaxCountedTasks) {
                break;
            }
            count.page.cursor = p->next_cursor;
        }
        out.total_size = static_cast<std::int32_t>(total);
        done(std::move(out));
    });
}

void TaskManager::create_push_config(const Caller& caller, const std::string& agent,
                                     proto::PushConfig config, Callback<proto::PushConfig> done) {
    auto m = impl_;
    if (m->push) {
        if (auto url = validate_webhook_url(config.url, m->push->options().policy); !url) {
            done(url.error());
            return;
        }
    }
    m->post([m, caller, agent, config = std::move(config), done = std::move(done)]() mutable {
        if (auto ok = check_task(*m, caller.tenant, agent, config.task_id); !ok) {
            done(ok.error());
            return;
        }
        auto existing = stored_configs(*m, caller.tenant, config.task_id);
        if (!existing) {
            done(existing.error());
            return;
        }
        const bool replaces = std::any_of(existing->begin(), existing->end(), [&](const auto& c) {
            return !config.id.empty() && c.config.id == config.id;
        });
        if (!replaces && existing->size() >= m->limits.max_push_configs_per_task) {
            done(base::Error(perr::errc::invalid_params,
                             "task \"" + config.task_id + "\" already has " +
                                 std::to_string(existing->size()) +
                                 " push notification configs (the limit)"));
            return;
        }
        if (config.id.empty()) {
            config.id = new_id();
        }
        memory::PushConfig row;
        row.task_id = config.task_id;
        row.id = config.id;
        row.config_json = push_config_json(config, caller.version);
        auto put = m->store.put_push_config(caller.tenant, row);
        if (!put) {
            done(store_error(put.error(), config.task_id));
            return;
        }
        done(std::move(config));
    });
}

void TaskManager::get_push_config(const Caller& caller, const std::string& agent,
                                  proto::PushConfigRef ref, Callback<proto::PushConfig> done) {
    auto m = impl_;
    m->post([m, caller, agent, ref = std::move(ref), done = std::move(done)] {
        if (auto ok = check_task(*m, caller.tenant, agent, ref.task_id); !ok) {
            done(ok.error());
            return;
        }
        auto configs = stored_configs(*m, caller.tenant, ref.task_id);
        if (!configs) {
            done(configs.error());
            return;
        }
        for (auto& c : *configs) {
            if (ref.id.empty() || c.config.id == ref.id) {
                done(std::move(c.config));
                return;
            }
        }
        done(base::Error(perr::errc::task_not_found, "push notification config \"" + ref.id +
                                                         "\" of task \"" + ref.task_id +
                                                         "\" not found"));
    });
}

void TaskManager::list_push_configs(const Caller& caller, const std::string& agent,
                                    proto::ListPushConfigsParams params,
                                    Callback<std::vector<proto::PushConfig>> done) {
    auto m = impl_;
    m->post([m, caller, agent, params = std::move(params), done = std::move(done)] {
        if (auto ok = check_task(*m, caller.tenant, agent, params.task_id); !ok) {
            done(ok.error());
            return;
        }
        auto configs = stored_configs(*m, caller.tenant, params.task_id);
        if (!configs) {
            done(configs.error());
            return;
        }
        std::vector<proto::PushConfig> out;
        for (auto& c : *configs) {
            out.push_back(std::move(c.config));
        }
        done(std::move(out));
    });
}

void TaskManager::delete_push_config(const Caller& caller, const std::string& agent,
                                     proto::PushConfigRef ref, Callback<void> done) {
    auto m = impl_;
    m->post([m, caller, agent, ref = std::move(ref), done = std::move(done)] {
        if (auto ok = check_task(*m, caller.tenant, agent, ref.task_id); !ok) {
            done(ok.error());
            return;
        }
        auto removed = m->store.remove_push_config(caller.tenant, ref.task_id, ref.id);
        if (!removed) {
            done(store_error(removed.error(), ref.task_id));
            return;
        }
        done({});
    });
}

} // namespace agentd::gateway::a2a
