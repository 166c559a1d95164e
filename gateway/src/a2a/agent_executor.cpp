#include "a2a/agent_executor.h"

#include "a2a/task_manager_impl.h"

namespace agentd::gateway::a2a {

TaskUpdater::TaskUpdater(std::shared_ptr<TaskReportSink> sink, std::uint64_t generation,
                         std::string task_id, std::string context_id,
                         std::shared_ptr<tools::CancellationSignal> cancel)
    : sink_(std::move(sink)), generation_(generation), task_id_(std::move(task_id)),
      context_id_(std::move(context_id)), cancel_(std::move(cancel)) {}

proto::Message TaskUpdater::agent_message(std::vector<proto::Part> parts) const {
    proto::Message m;
    m.message_id = new_id();
    m.task_id = task_id_;
    m.context_id = context_id_;
    m.role = proto::Role::agent;
    m.parts = std::move(parts);
    return m;
}

proto::Message TaskUpdater::agent_text(std::string text) const {
    std::vector<proto::Part> parts;
    parts.push_back(proto::Part::make_text(std::move(text)));
    return agent_message(std::move(parts));
}

void TaskUpdater::status(proto::TaskState state, std::optional<proto::Message> message) const {
    proto::StatusUpdate u;
    u.task_id = task_id_;
    u.context_id = context_id_;
    u.status.state = state;
    u.status.message = std::move(message);
    sink_->report(generation_, std::move(u));
}

void TaskUpdater::working(std::optional<proto::Message> message) const {
    status(proto::TaskState::working, std::move(message));
}

void TaskUpdater::artifact(proto::Artifact artifact, bool append, bool last_chunk) const {
    if (artifact.artifact_id.empty()) {
        artifact.artifact_id = new_id();
    }
    proto::ArtifactUpdate u;
    u.task_id = task_id_;
    u.context_id = context_id_;
    u.artifact = std::move(artifact);
    u.append = append;
    u.last_chunk = last_chunk;
    sink_->report(generation_, std::move(u));
}

void TaskUpdater::complete(std::optional<proto::Message> message) const {
    status(proto::TaskState::completed, std::move(message));
}

void TaskUpdater::fail(std::string reason) const {
    status(proto::TaskState::failed, agent_text(std::move(reason)));
}

void TaskUpdater::reject(std::string reason) const {
    status(proto::TaskState::rejected, agent_text(std::move(reason)));
}

void TaskUpdater::require_input(std::optional<proto::Message> message) const {
    status(proto::TaskState::input_required, std::move(message));
}

void TaskUpdater::require_auth(std::optional<proto::Message> message) const {
    status(proto::TaskState::auth_required, std::move(message));
}

} // namespace agentd::gateway::a2a
