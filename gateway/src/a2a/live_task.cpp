#include "a2a/live_task.h"

#include "a2a/task_manager_impl.h"

#include <boost/asio/post.hpp>

#include <random>

namespace agentd::gateway::a2a {

namespace {

constexpr std::size_t kMaxSnapshotHistory = 100;

bool settles(const proto::StreamEvent& event) {
    const auto* u = std::get_if<proto::StatusUpdate>(&event);
    return u != nullptr &&
           (proto::is_terminal(u->status.state) || proto::is_interrupted(u->status.state));
}

void apply_to(proto::Task& task, const proto::StreamEvent& event) {
    if (const auto* u = std::get_if<proto::StatusUpdate>(&event)) {
        task.status = u->status;
        if (u->status.message && settles(event)) {
            task.history.push_back(*u->status.message);
        }
    } else if (const auto* a = std::get_if<proto::ArtifactUpdate>(&event)) {
        for (auto& existing : task.artifacts) {
            if (existing.artifact_id == a->artifact.artifact_id) {
                if (a->append) {
                    existing.parts.insert(existing.parts.end(), a->artifact.parts.begin(),
                                          a->artifact.parts.end());
                } else {
                    existing = a->artifact;
                }
                return;
            }
        }
        task.artifacts.push_back(a->artifact);
    }
    if (task.history.size() > kMaxSnapshotHistory) {
        task.history.erase(task.history.begin(),
                           task.history.end() - static_cast<std::ptrdiff_t>(kMaxSnapshotHistory));
    }
}

} // namespace

std::string new_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const std::uint64_t hi = rng();
    const std::uint64_t lo = rng();
    char buf[37];
    // RFC 4122 version 4 layout.
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0x0fff),
                  static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3fff)),
                  static_cast<unsigned long long>(lo & 0xffffffffffffULL));
    return buf;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

LiveTask::LiveTask(std::weak_ptr<TaskManager::Impl> m, Strand s, std::string t, std::string a,
                   proto::Task snap)
    : manager(std::move(m)), strand(std::move(s)), tenant(std::move(t)), agent(std::move(a)),
      id(snap.id), context_id(snap.context_id), snapshot(std::move(snap)) {}

void LiveTask::report(std::uint64_t generation, proto::StreamEvent event) {
    auto m = manager.lock();
    if (!m) {
        return;
    }
    auto self = shared_from_this();
    m->post_on(self, [m, self, generation, event = std::move(event)]() mutable {
        m->apply_report(self, generation, std::move(event));
    });
}

LiveTask::Subscribed LiveTask::subscribe(const std::shared_ptr<EventSink>& sink,
                                         std::size_t max_subscribers) {
    std::lock_guard lock(mu);
    if (proto::is_terminal(snapshot.status.state)) {
        return Subscribed::terminal;
    }
    if (subscribers.size() >= max_subscribers) {
        return Subscribed::full;
    }
    proto::Task first = snapshot;
    first.include_artifacts = true;
    if (sink->send(proto::StreamEvent(std::move(first)), false)) {
        subscribers.push_back(sink);
    }
    return Subscribed::ok;
}

void LiveTask::broadcast(const proto::StreamEvent& event) {
    std::vector<Waiter> release;
    {
        std::lock_guard lock(mu);
        apply_to(snapshot, event);
        const bool final = settles(event);
        std::erase_if(subscribers, [&](const std::shared_ptr<EventSink>& s) {
            return s->closed() || !s->send(event, final) || final;
        });
        if (final) {
            release.swap(waiters);
        }
    }
    for (auto& w : release) {
        w();
    }
}

void LiveTask::close_streams() {
    std::vector<std::shared_ptr<EventSink>> subs;
    std::vector<Waiter> release;
    {
        std::lock_guard lock(mu);
        subs.swap(subscribers);
        release.swap(waiters);
    }
    for (auto& s : subs) {
        s->close();
    }
    for (auto& w : release) {
        w();
    }
}

proto::TaskState LiveTask::state() const {
    std::lock_guard lock(mu);
    return snapshot.status.state;
}

} // namespace agentd::gateway::a2a
