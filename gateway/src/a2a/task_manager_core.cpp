// TaskManager internals: the per-task strand jobs (reports, status changes, publication), loading
// tasks, recovery after a restart.

#include "agentd/memory/errc.h"
#include "agentd/protocols/errc.h"

#include "a2a/task_convert.h"
#include "a2a/task_manager_impl.h"
#include "log/logging.h"

#include <boost/asio/post.hpp>

namespace agentd::gateway::a2a {

namespace perr = protocols;

base::Error store_error(const base::Error& error, std::string_view task_id) {
    if (error.code == make_error_code(memory::errc::not_found)) {
        return base::Error(perr::errc::task_not_found,
                           "task \"" + std::string(task_id) + "\" not found");
    }
    if (error.code == make_error_code(memory::errc::invalid_argument)) {
        return base::Error(perr::errc::invalid_params, error.what());
    }
    if (error.code == make_error_code(memory::errc::queue_full) ||
        error.code == make_error_code(memory::errc::busy)) {
        return base::Error(perr::errc::busy, "task storage is busy; retry later");
    }
    return base::Error(perr::errc::internal_error, "task storage failed: " + error.what());
}

std::string TaskManager::Impl::key(std::string_view tenant, std::string_view id) {
    std::string k(tenant);
    k += '\n';
    k += id;
    return k;
}

void TaskManager::Impl::post(std::function<void()> job) {
    boost::asio::post(blocking, [job = std::move(job)] {
        try {
            job();
        } catch (const std::exception& e) {
            log::log_event(log::Level::error, "a2a: job failed", {{"error", e.what()}});
        }
    });
}

void TaskManager::Impl::post_on(const std::shared_ptr<LiveTask>& task, std::function<void()> job) {
    boost::asio::post(task->strand, [job = std::move(job)] {
        try {
            job();
        } catch (const std::exception& e) {
            log::log_event(log::Level::error, "a2a: task job failed", {{"error", e.what()}});
        }
    });
}

base::Result<proto::Task> TaskManager::Impl::load(const std::string& tenant,
                                                  const std::string& agent, const std::string& id,
                                                  std::optional<std::int32_t> history) {
    memory::TaskGet detail;
    detail.history_length =
        history ? static_cast<std::size_t>(*history) : limits.default_history_length;
    detail.include_artifacts = true;
    auto row = store.get(tenant, id, detail);
    if (!row) {
        return store_error(row.error(), id);
    }
    if (row->agent != agent) {
        return base::fail(perr::errc::task_not_found, "task \"" + id + "\" not found");
    }
    return to_proto(*row);
}

base::Result<std::shared_ptr<LiveTask>> TaskManager::Impl::find_or_load(const std::string& tenant,
                                                                        const std::string& agent,
                                                                        const std::string& id,
                                                                        proto::Task* terminal) {
    const std::string k = key(tenant, id);
    {
        std::lock_guard lock(mu);
        if (auto it = live.find(k); it != live.end()) {
            if (it->second->agent != agent) {
                return base::fail(perr::errc::task_not_found, "task \"" + id + "\" not found");
            }
            return it->second;
        }
    }
    auto task = load(tenant, agent, id, std::nullopt);
    if (!task) {
        return task.error();
    }
    if (proto::is_terminal(task->status.state)) {
        if (terminal != nullptr) {
            *terminal = std::move(*task);
        }
        return std::shared_ptr<LiveTask>();
    }
    auto fresh = std::make_shared<LiveTask>(weak_from_this(), boost::asio::make_strand(blocking),
                                            tenant, agent, std::move(*task));
    std::lock_guard lock(mu);
    auto [it, inserted] = live.emplace(k, fresh);
    return it->second;
}

void TaskManager::Impl::start_execution(const std::shared_ptr<LiveTask>& task,
                                        proto::Message message, protocols::JsonPtr metadata,
                                        std::string traceparent,
                                        std::vector<proto::Message> history) {
    auto it = agents.find(task->agent);
    if (it == agents.end() || stopping.load()) {
        proto::TaskStatus failed;
        failed.state = proto::TaskState::failed;
        (void)set_status(task, failed);
        return;
    }
    task->strand_running = true;
    ++task->strand_generation;
    task->strand_cancel = std::make_shared<tools::CancellationSignal>();
    TaskUpdater updater(task, task->strand_generation, task->id, task->context_id,
                        task->strand_cancel);
    TaskRequest request;
    request.tenant = task->tenant;
    request.agent = task->agent;
    request.message = std::move(message);
    request.history = std::move(history);
    request.metadata = std::move(metadata);
    request.traceparent = std::move(traceparent);
    it->second->execute(std::move(request), std::move(updater));
}

void TaskManager::Impl::apply_report(const std::shared_ptr<LiveTask>& task,
                                     std::uint64_t generation, proto::StreamEvent event) {
    if (task->strand_done || generation != task->strand_generation || !task->strand_running) {
        return; // a report of an execution that was cancelled, superseded or already finished
    }
    if (auto* u = std::get_if<proto::StatusUpdate>(&event)) {
        (void)set_status(task, u->status);
        return;
    }
    auto* a = std::get_if<proto::ArtifactUpdate>(&event);
    if (a == nullptr) {
        return;
    }
    auto stored = store.put_artifact(task->tenant, task->id, to_memory(a->artifact), a->append);
    if (!stored) {
        log::log_event(log::Level::warn, "a2a: artifact not stored; failing the task",
                       {{"task", task->id}, {"error", stored.error().what()}});
        proto::TaskStatus failed;
        failed.state = proto::TaskState::failed;
        proto::Message why;
        why.message_id = new_id();
        why.role = proto::Role::agent;
        why.task_id = task->id;
        why.context_id = task->context_id;
        why.parts.push_back(proto::Part::make_text("the agent's artifact could not be stored: " +
                                                   stored.error().what()));
        failed.message = std::move(why);
        (void)set_status(task, std::move(failed));
        return;
    }
    a->task_id = task->id;
    a->context_id = task->context_id;
    publish(task, event);
}

base::Result<void> TaskManager::Impl::set_status(const std::shared_ptr<LiveTask>& task,
                                                 proto::TaskStatus status) {
    if (task->strand_done) {
        return base::fail(perr::errc::task_not_cancelable,
                          "task \"" + task->id + "\" is already in a terminal state");
    }
    if (status.message) {
        status.message->task_id = task->id;
        status.message->context_id = task->context_id;
        if (status.message->message_id.empty()) {
            status.message->message_id = new_id();
        }
    }
    const std::string message_text = status.message ? message_json(*status.message) : "";
    static const std::vector<memory::TaskState> kLive = {
        memory::TaskState::submitted, memory::TaskState::working, memory::TaskState::input_required,
        memory::TaskState::auth_required};
    auto row =
        store.set_status(task->tenant, task->id, to_memory(status.state), message_text, kLive);
    if (!row) {
        if (row.error().code == make_error_code(memory::errc::conflict)) {
            // Another process or an earlier job already ended it: nothing more to apply.
            task->strand_done = true;
            unregister(*task);
            return base::fail(perr::errc::task_not_cancelable,
                              "task \"" + task->id + "\" is already in a terminal state");
        }
        log::log_event(log::Level::error, "a2a: task status not stored",
                       {{"task", task->id}, {"error", row.error().what()}});
        return store_error(row.error(), task->id);
    }
    const bool terminal = proto::is_terminal(status.state);
    const bool interrupted = proto::is_interrupted(status.state);
    if (status.message && (terminal || interrupted)) {
        (void)store.append_history(task->tenant, task->id, message_text);
    }
    status.timestamp_ms = row->updated_at_ms;
    if (terminal || interrupted) {
        task->strand_running = false;
    }
    if (terminal) {
        task->strand_done = true;
        if (task->strand_cancel) {
            // Stops an execution still running (a cancel, or a report racing a final one).
            task->strand_cancel->cancel();
        }
    }
    publish(task, proto::StatusUpdate{task->id, task->context_id, std::move(status), nullptr});
    if (terminal) {
        unregister(*task);
    }
    return {};
}

void TaskManager::Impl::publish(const std::shared_ptr<LiveTask>& task,
                                const proto::StreamEvent& event) {
    task->broadcast(event);
    if (!push) {
        return;
    }
    auto configs = store.list_push_configs(task->tenant, task->id);
    if (!configs) {
        return;
    }
    for (const auto& row : *configs) {
        if (auto c = push_config_from(row)) {
            push->enqueue(c->config, c->version, event);
        }
    }
}

void TaskManager::Impl::unregister(const LiveTask& task) {
    std::lock_guard lock(mu);
    if (auto it = live.find(key(task.tenant, task.id));
        it != live.end() && it->second.get() == &task) {
        live.erase(it);
    }
}

std::size_t TaskManager::recover() {
    std::size_t failed = 0;
    memory::PageRequest page;
    page.limit = 500;
    std::vector<memory::Task> lost;
    for (;;) {
        auto rows = impl_->store.list_in_flight(page);
        if (!rows) {
            throw std::runtime_error("a2a: reading in-flight tasks: " + rows.error().what());
        }
        for (auto& t : rows->items) {
            if (t.state == memory::TaskState::submitted || t.state == memory::TaskState::working) {
                lost.push_back(std::move(t));
            }
        }
        if (rows->next_cursor.empty()) {
            break;
        }
        page.cursor = rows->next_cursor;
    }
    for (const auto& t : lost) {
        proto::Message why;
        why.message_id = new_id();
        why.role = proto::Role::agent;
        why.task_id = t.id;
        why.context_id = t.context_id;
        why.parts.push_back(proto::Part::make_text(
            "agentd restarted while this task was running and its work was lost; send the "
            "message again to retry"));
        const std::string text = message_json(why);
        auto r =
            impl_->store.set_status(t.tenant, t.id, memory::TaskState::failed, text,
                                    {memory::TaskState::submitted, memory::TaskState::working});
        if (r) {
            (void)impl_->store.append_history(t.tenant, t.id, text);
            ++failed;
        }
    }
    if (failed > 0) {
        log::log_event(log::Level::warn, "a2a: failed tasks interrupted by a restart",
                       {{"count", failed}});
    }
    return failed;
}

} // namespace agentd::gateway::a2a
