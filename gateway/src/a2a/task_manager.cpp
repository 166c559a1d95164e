// TaskManager's request operations: send (blocking, non-blocking, streaming), follow-up
// messages, cancel and subscribe. Store-only operations are in task_manager_queries.cpp.

#include "a2a/task_manager.h"

#include "agentd/protocols/errc.h"

#include "a2a/task_convert.h"
#include "a2a/task_manager_impl.h"
#include "log/logging.h"

#include <boost/asio/strand.hpp>

namespace agentd::gateway::a2a {

namespace perr = protocols;

namespace {

/// How the caller of a send wants its answer.
struct SendMode {
    enum class Kind { blocking, immediate, streaming };
    Kind kind = Kind::blocking;
    std::shared_ptr<EventSink> sink;     // streaming
    Callback<SendOutcome> done;          // blocking, immediate
    Callback<void> started;              // streaming
    std::optional<std::int32_t> history; // blocking, immediate

    void fail(base::Error e) const {
        if (kind == Kind::streaming) {
            started(std::move(e));
        } else {
            done(std::move(e));
        }
    }
};

/// Answers a blocking or immediate send with the stored task once it is ready.
void answer_with_task(const std::shared_ptr<TaskManager::Impl>& m, const LiveTask& task,
                      const SendMode& mode) {
    m->post([m, tenant = task.tenant, agent = task.agent, id = task.id, mode] {
        auto t = m->load(tenant, agent, id, mode.history);
        if (!t) {
            mode.done(t.error());
            return;
        }
        mode.done(SendOutcome(std::move(*t)));
    });
}

/// Attaches the caller to a task whose execution is about to start (strand job).
void attach(const std::shared_ptr<TaskManager::Impl>& m, const std::shared_ptr<LiveTask>& task,
            const SendMode& mode) {
    switch (mode.kind) {
    case SendMode::Kind::streaming:
        // A task being created or continued is not terminal: the only failure is a full task.
        if (task->subscribe(mode.sink, m->limits.max_subscribers_per_task) !=
            LiveTask::Subscribed::ok) {
            mode.started(base::Error(perr::errc::busy, "too many streams on this task"));
            return;
        }
        mode.started({});
        return;
    case SendMode::Kind::immediate:
        answer_with_task(m, *task, mode);
        return;
    case SendMode::Kind::blocking: {
        std::lock_guard lock(task->mu);
        std::weak_ptr<TaskManager::Impl> weak = m;
        task->waiters.emplace_back([weak, t = task.get(), mode] {
            if (auto mm = weak.lock()) {
                answer_with_task(mm, *t, mode);
            }
        });
        return;
    }
    }
}

base::Error terminal_error(const proto::Task& task) {
    return base::Error(perr::errc::unsupported_operation,
                       "task \"" + task.id + "\" is " +
                           std::string(proto::to_string(task.status.state, proto::Version::v0_3)) +
                           "; a task in a terminal state accepts no more messages");
}

void create_task(const std::shared_ptr<TaskManager::Impl>& m, const Caller& caller,
                 const std::string& agent, proto::SendMessageParams params, SendMode mode) {
    proto::Message message = std::move(params.message);
    message.task_id = new_id();
    if (message.context_id.empty()) {
        message.context_id = new_id();
    }
    memory::NewTask row;
    row.id = message.task_id;
    row.context_id = message.context_id;
    row.agent = agent;
    row.state = memory::TaskState::submitted;
    if (params.metadata) {
        row.metadata_json = protocols::jsonrpc::serialize(*params.metadata);
    }
    auto created = m->store.create(caller.tenant, row, message_json(message));
    if (!created) {
        mode.fail(store_error(created.error(), message.task_id));
        return;
    }
    if (const auto& push = params.configuration.push_config) {
        proto::PushConfig config = *push;
        config.task_id = message.task_id;
        memory::PushConfig pc;
        pc.task_id = config.task_id;
        pc.id = config.id;
        pc.config_json = push_config_json(config, caller.version);
        if (auto put = m->store.put_push_config(caller.tenant, pc); !put) {
            log::log_event(log::Level::warn, "a2a: push config of a new task not stored",
                           {{"task", message.task_id}, {"error", put.error().what()}});
        }
    }
    proto::Task snapshot = to_proto(*created);
    auto task = std::make_shared<LiveTask>(m, boost::asio::make_strand(m->blocking), caller.tenant,
                                           agent, std::move(snapshot));
    {
        std::lock_guard lock(m->mu);
        m->live.emplace(TaskManager::Impl::key(caller.tenant, task->id), task);
    }
    m->post_on(task, [m, task, message = std::move(message), metadata = params.metadata,
                      trace = caller.traceparent, mode = std::move(mode)]() mutable {
        attach(m, task, mode);
        m->start_execution(task, std::move(message), std::move(metadata), std::move(trace), {});
    });
}

void continue_task(const std::shared_ptr<TaskManager::Impl>& m, const Caller& caller,
                   const std::string& agent, proto::SendMessageParams params, SendMode mode) {
    proto::Task terminal;
    auto found = m->find_or_load(caller.tenant, agent, params.message.task_id, &terminal);
    if (!found) {
        mode.fail(found.error());
        return;
    }
    if (!*found) {
        mode.fail(terminal_error(terminal));
        return;
    }
    auto task = *found;
    if (!params.message.context_id.empty() && params.message.context_id != task->context_id) {
        mode.fail(base::Error(perr::errc::invalid_params,
                              "params.message.contextId: \"" + params.message.context_id +
                                  "\" does not match the context \"" + task->context_id +
                                  "\" of task \"" + task->id + "\""));
        return;
    }
    m->post_on(task, [m, task, caller, params = std::move(params),
                      mode = std::move(mode)]() mutable {
        const auto state = task->state();
        if (task->strand_done || proto::is_terminal(state)) {
            proto::Task ended;
            ended.id = task->id;
            ended.status.state = state;
            mode.fail(terminal_error(ended));
            return;
        }
        if (task->strand_running || !proto::is_interrupted(state)) {
            mode.fail(base::Error(perr::errc::unsupported_operation,
                                  "task \"" + task->id +
                                      "\" is still working; send more input when it asks for it "
                                      "(input-required)"));
            return;
        }
        proto::Message message = std::move(params.message);
        message.context_id = task->context_id;
        auto appended = m->store.append_history(task->tenant, task->id, message_json(message));
        if (!appended) {
            mode.fail(store_error(appended.error(), task->id));
            return;
        }
        std::vector<proto::Message> history;
        {
            std::lock_guard lock(task->mu);
            history = task->snapshot.history;
            task->snapshot.history.push_back(message);
        }
        // The task resumes: working again before anyone is answered.
        proto::TaskStatus resumed;
        resumed.state = proto::TaskState::working;
        if (auto r = m->set_status(task, resumed); !r) {
            mode.fail(r.error());
            return;
        }
        attach(m, task, mode);
        m->start_execution(task, std::move(message), params.metadata, caller.traceparent,
                           std::move(history));
    });
}

void dispatch_send(const std::shared_ptr<TaskManager::Impl>& m, const Caller& caller,
                   const std::string& agent, proto::SendMessageParams params, SendMode mode) {
    auto executor = m->agents.find(agent);
    if (executor == m->agents.end()) {
        mode.fail(base::Error(perr::errc::internal_error, "no agent \"" + agent + "\""));
        return;
    }
    if (m->stopping.load()) {
        mode.fail(base::Error(perr::errc::busy, "agentd is shutting down"));
        return;
    }
    if (params.message.task_id.empty()) {
        if (auto reply = executor->second->direct_reply(params.message)) {
            if (reply->message_id.empty()) {
                reply->message_id = new_id();
            }
            reply->role = proto::Role::agent;
            reply->context_id =
                params.message.context_id.empty() ? new_id() : params.message.context_id;
            if (mode.kind == SendMode::Kind::streaming) {
                mode.started({});
                mode.sink->send(proto::StreamEvent(std::move(*reply)), true);
            } else {
                mode.done(SendOutcome(std::move(*reply)));
            }
            return;
        }
        {
            std::lock_guard lock(m->mu);
            if (m->live.size() >= m->limits.max_live_tasks) {
                mode.fail(base::Error(perr::errc::busy,
                                      "too many tasks in flight; retry when some have finished"));
                return;
            }
        }
        m->post([m, caller, agent, params = std::move(params), mode = std::move(mode)]() mutable {
            create_task(m, caller, agent, std::move(params), std::move(mode));
        });
        return;
    }
    m->post([m, caller, agent, params = std::move(params), mode = std::move(mode)]() mutable {
        continue_task(m, caller, agent, std::move(params), std::move(mode));
    });
}

} // namespace

TaskManager::TaskManager(memory::TaskStore& store, boost::asio::thread_pool& blocking,
                         std::shared_ptr<PushSender> push, TaskManagerLimits limits)
    : impl_(std::make_shared<Impl>(store, blocking, std::move(push), limits)) {}

TaskManager::~TaskManager() {
    shutdown();
}

void TaskManager::add_agent(const std::string& name, std::shared_ptr<AgentExecutor> executor) {
    impl_->agents[name] = std::move(executor);
}

bool TaskManager::has_agent(const std::string& name) const {
    return impl_->agents.count(name) != 0;
}

void TaskManager::send(const Caller& caller, const std::string& agent,
                       proto::SendMessageParams params, Callback<SendOutcome> done) {
    SendMode mode;
    mode.kind = params.configuration.return_immediately ? SendMode::Kind::immediate
                                                        : SendMode::Kind::blocking;
    mode.done = std::move(done);
    mode.history = params.configuration.history_length;
    dispatch_send(impl_, caller, agent, std::move(params), std::move(mode));
}

void TaskManager::send_streaming(const Caller& caller, const std::string& agent,
                                 proto::SendMessageParams params, std::shared_ptr<EventSink> sink,
                                 Callback<void> started) {
    SendMode mode;
    mode.kind = SendMode::Kind::streaming;
    mode.sink = std::move(sink);
    mode.started = std::move(started);
    dispatch_send(impl_, caller, agent, std::move(params), std::move(mode));
}

void TaskManager::cancel(const Caller& caller, const std::string& agent, proto::TaskIdParams params,
                         Callback<proto::Task> done) {
    auto m = impl_;
    m->post([m, caller, agent, id = std::move(params.id), done = std::move(done)] {
        proto::Task terminal;
        auto found = m->find_or_load(caller.tenant, agent, id, &terminal);
        if (!found) {
            done(found.error());
            return;
        }
        if (!*found) {
            done(base::Error(
                perr::errc::task_not_cancelable,
                "task \"" + id + "\" is already " +
                    std::string(proto::to_string(terminal.status.state, proto::Version::v0_3))));
            return;
        }
        auto task = *found;
        m->post_on(task, [m, task, done] {
            proto::TaskStatus canceled;
            canceled.state = proto::TaskState::canceled;
            if (auto r = m->set_status(task, canceled); !r) {
                done(r.error());
                return;
            }
            done(m->load(task->tenant, task->agent, task->id, std::nullopt));
        });
    });
}

void TaskManager::subscribe(const Caller& caller, const std::string& agent,
                            proto::TaskIdParams params, std::shared_ptr<EventSink> sink,
                            Callback<void> started) {
    auto m = impl_;
    m->post([m, caller, agent, id = std::move(params.id), sink = std::move(sink),
             started = std::move(started)] {
        proto::Task terminal;
        auto found = m->find_or_load(caller.tenant, agent, id, &terminal);
        if (!found) {
            started(found.error());
            return;
        }
        const auto result = *found ? (*found)->subscribe(sink, m->limits.max_subscribers_per_task)
                                   : LiveTask::Subscribed::terminal;
        if (result == LiveTask::Subscribed::full) {
            started(base::Error(perr::errc::busy, "too many streams on this task"));
            return;
        }
        if (result == LiveTask::Subscribed::terminal) {
            const auto state = *found ? (*found)->state() : terminal.status.state;
            started(base::Error(perr::errc::unsupported_operation,
                                "task \"" + id + "\" is in a terminal state (" +
                                    std::string(proto::to_string(state, proto::Version::v0_3)) +
                                    "); there is nothing to subscribe to"));
            return;
        }
        started({});
    });
}

void TaskManager::shutdown() {
    if (impl_->stopping.exchange(true)) {
        return;
    }
    std::vector<std::shared_ptr<LiveTask>> tasks;
    {
        std::lock_guard lock(impl_->mu);
        for (auto& [k, t] : impl_->live) {
            tasks.push_back(t);
        }
    }
    for (auto& t : tasks) {
        t->close_streams();
        // The execution is stopped; the task stays in flight in the store for recovery.
        auto m = impl_;
        m->post_on(t, [t] {
            if (t->strand_cancel) {
                t->strand_cancel->cancel();
            }
            t->strand_running = false;
            ++t->strand_generation;
        });
    }
    if (impl_->push) {
        impl_->push->stop();
    }
}

} // namespace agentd::gateway::a2a
