// The A2A TaskManager over a real SQLite database and a real thread pool: ordered persistence
// and broadcast, snapshots atomic with subscriptions under concurrent updates, cancel racing
// completion, blocking sends and follow-ups, and restart recovery. Label concurrency (TSan).

#include "agentd/memory/database.h"
#include "agentd/protocols/errc.h"
#include "agentd/test/env.h"

#include "a2a/task_manager.h"

#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

namespace agentd::gateway::a2a {
namespace {

using namespace std::chrono_literals;

/// An executor that hands each execution's updater to the test.
class Scripted final : public AgentExecutor {
public:
    void execute(TaskRequest request, TaskUpdater updater) override {
        std::lock_guard lock(mu_);
        runs_.emplace_back(std::move(request), std::move(updater));
        cv_.notify_all();
    }
    std::pair<TaskRequest, TaskUpdater> next(std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mu_);
        EXPECT_TRUE(cv_.wait_for(lock, timeout, [&] { return taken_ < runs_.size(); }));
        return runs_.at(taken_++);
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::pair<TaskRequest, TaskUpdater>> runs_;
    std::size_t taken_ = 0;
};

/// Collects a stream's events.
class Collector final : public EventSink {
public:
    bool send(const proto::StreamEvent& event, bool final) override {
        std::lock_guard lock(mu_);
        events_.push_back(event);
        closed_ = closed_ || final;
        cv_.notify_all();
        return true;
    }
    void close() override {
        std::lock_guard lock(mu_);
        closed_ = true;
        cv_.notify_all();
    }
    [[nodiscard]] bool closed() const override {
        std::lock_guard lock(mu_);
        return closed_;
    }
    std::vector<proto::StreamEvent> wait_closed(std::chrono::milliseconds timeout = 10s) {
        std::unique_lock lock(mu_);
        EXPECT_TRUE(cv_.wait_for(lock, timeout, [&] { return closed_; }));
        return events_;
    }
    std::size_t size() const {
        std::lock_guard lock(mu_);
        return events_.size();
    }

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::vector<proto::StreamEvent> events_;
    bool closed_ = false;
};

template <class T>
base::Result<T> wait(std::future<base::Result<T>>& f) {
    EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
    return f.get();
}

proto::SendMessageParams message(std::string text, std::string task_id = {}) {
    proto::SendMessageParams p;
    p.message.message_id = "m-" + text;
    p.message.role = proto::Role::user;
    p.message.task_id = std::move(task_id);
    p.message.parts.push_back(proto::Part::make_text(std::move(text)));
    return p;
}

class TaskManagerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::make_temp_dir("a2a-task-manager");
        open();
    }
    void TearDown() override {
        close();
        std::filesystem::remove_all(dir_);
    }
    void open() {
        memory::DatabaseOptions o;
        o.path = (dir_ / "agentd.db").string();
        o.durability = memory::Durability::normal;
        db_ = memory::Database::open(o).value();
        pool_ = std::make_unique<boost::asio::thread_pool>(4);
        tasks_ = std::make_unique<TaskManager>(db_->tasks(), *pool_, nullptr);
        agent_ = std::make_shared<Scripted>();
        tasks_->add_agent("a", agent_);
    }
    void close() {
        tasks_->shutdown();
        pool_->join();
        tasks_.reset();
        // The script's held updaters own strands on the pool: they go before the pool does.
        agent_.reset();
        held_.clear();
        pool_.reset();
        db_.reset();
    }
    std::string start_task(const std::string& text) {
        auto p = message(text);
        p.configuration.return_immediately = true;
        std::promise<base::Result<SendOutcome>> done;
        auto f = done.get_future();
        tasks_->send(caller_, "a", p, [&done](base::Result<SendOutcome> r) { done.set_value(r); });
        auto r = wait(f);
        EXPECT_TRUE(r.has_value());
        return std::get<proto::Task>(*r).id;
    }
    proto::Task get(const std::string& id) {
        std::promise<base::Result<proto::Task>> done;
        auto f = done.get_future();
        tasks_->get(caller_, "a", {id, std::nullopt},
                    [&done](base::Result<proto::Task> r) { done.set_value(r); });
        return wait(f).value();
    }

    std::filesystem::path dir_;
    std::unique_ptr<memory::Database> db_;
    std::unique_ptr<boost::asio::thread_pool> pool_;
    std::unique_ptr<TaskManager> tasks_;
    std::shared_ptr<Scripted> agent_;
    /// Executions a test keeps "running" across a restart; released with the pool's users.
    std::deque<std::pair<TaskRequest, TaskUpdater>> held_;
    std::pair<TaskRequest, TaskUpdater>& hold_next() { return held_.emplace_back(agent_->next()); }
    Caller caller_{"t1", proto::Version::v1_0, ""};
};

TEST_F(TaskManagerTest, StreamSeesEveryUpdateOnceAndInOrder) {
    auto sink = std::make_shared<Collector>();
    std::promise<base::Result<void>> started;
    tasks_->send_streaming(caller_, "a", message("go"), sink,
                           [&started](base::Result<void> r) { started.set_value(r); });
    auto [request, u] = agent_->next();
    // Updates from several threads at once: per-thread order must hold in the stream.
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&u = u, t] {
            for (int i = 0; i < 25; ++i) {
                proto::Artifact a;
                a.artifact_id = "t" + std::to_string(t);
                a.parts.push_back(proto::Part::make_text(std::to_string(i)));
                u.artifact(std::move(a), i > 0);
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    u.complete(u.agent_text("done"));
    const auto events = sink->wait_closed();
    ASSERT_TRUE(std::holds_alternative<proto::Task>(events.front()));
    std::map<std::string, int> next;
    int artifacts = 0;
    for (std::size_t i = 1; i + 1 < events.size(); ++i) {
        const auto* a = std::get_if<proto::ArtifactUpdate>(&events[i]);
        ASSERT_NE(a, nullptr);
        EXPECT_EQ(a->artifact.parts.at(0).text, std::to_string(next[a->artifact.artifact_id]++));
        ++artifacts;
    }
    EXPECT_EQ(artifacts, 100);
    const auto* last = std::get_if<proto::StatusUpdate>(&events.back());
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(last->status.state, proto::TaskState::completed);
    // Stored: four artifacts of 25 parts each, in order.
    const auto stored = get(request.message.task_id);
    ASSERT_EQ(stored.artifacts.size(), 4u);
    for (const auto& a : stored.artifacts) {
        ASSERT_EQ(a.parts.size(), 25u);
        EXPECT_EQ(a.parts.back().text, "24");
    }
    // Reports after the final one are ignored.
    u.working();
    EXPECT_EQ(get(request.message.task_id).status.state, proto::TaskState::completed);
}

TEST_F(TaskManagerTest, SubscribersJoiningMidStreamMissNothing) {
    const auto id = start_task("x");
    auto [request, u] = agent_->next();
    std::vector<std::shared_ptr<Collector>> sinks;
    std::thread producer([&u = u] {
        for (int i = 0; i < 60; ++i) {
            proto::Artifact a;
            a.artifact_id = "out";
            a.parts.push_back(proto::Part::make_text(std::to_string(i)));
            u.artifact(std::move(a), true);
        }
        u.complete();
    });
    for (int s = 0; s < 8; ++s) {
        auto sink = std::make_shared<Collector>();
        std::promise<base::Result<void>> started;
        auto f = started.get_future();
        tasks_->subscribe(caller_, "a", {id, nullptr}, sink,
                          [&started](base::Result<void> r) { started.set_value(r); });
        if (wait(f).has_value()) {
            sinks.push_back(sink);
        }
    }
    producer.join();
    for (const auto& sink : sinks) {
        const auto events = sink->wait_closed();
        const auto& snapshot = std::get<proto::Task>(events.front());
        const std::size_t before =
            snapshot.artifacts.empty() ? 0 : snapshot.artifacts[0].parts.size();
        std::size_t after = 0;
        for (const auto& e : events) {
            after += std::holds_alternative<proto::ArtifactUpdate>(e) ? 1 : 0;
        }
        EXPECT_EQ(before + after, 60u) << "snapshot had " << before;
    }
}

TEST_F(TaskManagerTest, CancelRacingCompletionEndsInOneTerminalState) {
    for (int round = 0; round < 20; ++round) {
        const auto id = start_task("r" + std::to_string(round));
        auto [request, u] = agent_->next();
        std::promise<base::Result<proto::Task>> canceled;
        auto f = canceled.get_future();
        std::thread completer([&u = u] { u.complete(); });
        tasks_->cancel(caller_, "a", {id, nullptr},
                       [&canceled](base::Result<proto::Task> r) { canceled.set_value(r); });
        completer.join();
        const auto r = wait(f);
        const auto stored = get(id);
        if (r) {
            EXPECT_EQ(r->status.state, proto::TaskState::canceled);
            EXPECT_EQ(stored.status.state, proto::TaskState::canceled);
            EXPECT_TRUE(u.cancelled());
        } else {
            EXPECT_EQ(r.error().code, make_error_code(protocols::errc::task_not_cancelable));
            EXPECT_EQ(stored.status.state, proto::TaskState::completed);
        }
    }
}

TEST_F(TaskManagerTest, BlockingSendFollowUpAndTerminalErrors) {
    std::promise<base::Result<SendOutcome>> first;
    auto f1 = first.get_future();
    tasks_->send(caller_, "a", message("hello"),
                 [&first](base::Result<SendOutcome> r) { first.set_value(r); });
    auto [request, u] = agent_->next();
    EXPECT_EQ(f1.wait_for(50ms), std::future_status::timeout); // blocks until settled
    u.require_input(u.agent_text("which?"));
    const auto t1 = std::get<proto::Task>(wait(f1).value());
    EXPECT_EQ(t1.status.state, proto::TaskState::input_required);

    std::promise<base::Result<SendOutcome>> second;
    auto f2 = second.get_future();
    tasks_->send(caller_, "a", message("blue", t1.id),
                 [&second](base::Result<SendOutcome> r) { second.set_value(r); });
    auto [request2, u2] = agent_->next();
    ASSERT_EQ(request2.history.size(), 2u); // the first message and the agent's question
    EXPECT_EQ(request2.message.joined_text(), "blue");
    u.complete(); // the superseded execution's report is ignored
    u2.complete(u2.agent_text("ok"));
    EXPECT_EQ(std::get<proto::Task>(wait(f2).value()).status.state, proto::TaskState::completed);

    std::promise<base::Result<SendOutcome>> third;
    auto f3 = third.get_future();
    tasks_->send(caller_, "a", message("again", t1.id),
                 [&third](base::Result<SendOutcome> r) { third.set_value(r); });
    EXPECT_EQ(wait(f3).error().code, make_error_code(protocols::errc::unsupported_operation));
    // Another tenant cannot see the task.
    std::promise<base::Result<proto::Task>> other;
    auto f4 = other.get_future();
    tasks_->get({"t2", proto::Version::v1_0, ""}, "a", {t1.id, std::nullopt},
                [&other](base::Result<proto::Task> r) { other.set_value(r); });
    EXPECT_EQ(wait(f4).error().code, make_error_code(protocols::errc::task_not_found));
}

TEST_F(TaskManagerTest, RestartFailsRunningTasksAndKeepsTheRest) {
    const auto running = start_task("long");
    auto& run = hold_next();
    run.second.working(run.second.agent_text("half way"));
    const auto waiting = start_task("ask");
    auto& ask = hold_next();
    ask.second.require_input();
    const auto done = start_task("quick");
    auto& quick = hold_next();
    quick.second.complete();
    // Wait until the reports are stored, then "restart".
    for (int i = 0; i < 1000 && get(done).status.state != proto::TaskState::completed; ++i) {
        std::this_thread::yield();
    }
    for (int i = 0; i < 1000 && get(waiting).status.state != proto::TaskState::input_required;
         ++i) {
        std::this_thread::yield();
    }
    close();
    open();
    EXPECT_EQ(tasks_->recover(), 1u);
    const auto failed = get(running);
    EXPECT_EQ(failed.status.state, proto::TaskState::failed);
    EXPECT_NE(failed.status.message->joined_text().find("restarted"), std::string::npos);
    EXPECT_EQ(get(waiting).status.state, proto::TaskState::input_required);
    EXPECT_EQ(get(done).status.state, proto::TaskState::completed);
}

} // namespace
} // namespace agentd::gateway::a2a
