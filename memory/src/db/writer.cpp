#include "db/writer.h"

#include "agentd/memory/errc.h"

#include <sqlite3.h>

#include <utility>

namespace agentd::memory::db {

Writer::Writer(std::unique_ptr<sqlite::Connection> conn, std::size_t max_queue,
               std::size_t max_batch, Clock clock)
    : conn_(std::move(conn)), max_queue_(max_queue), max_batch_(max_batch == 0 ? 1 : max_batch),
      clock_(std::move(clock)) {
    thread_ = std::thread([this] { loop(); });
}

Writer::~Writer() {
    stop();
}

void Writer::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

base::Result<void> Writer::submit(Job job) {
    auto pending = std::make_unique<Pending>();
    pending->job = std::move(job);
    return enqueue(std::move(pending));
}

base::Result<void>
Writer::submit_outside_transaction(std::function<base::Result<void>(sqlite::Connection&)> fn) {
    auto pending = std::make_unique<Pending>();
    pending->raw = std::move(fn);
    return enqueue(std::move(pending));
}

base::Result<void> Writer::enqueue(std::unique_ptr<Pending> pending) {
    auto future = pending->done.get_future();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return base::fail(errc::shutting_down, "database is closing; write not accepted");
        }
        if (queue_.size() >= max_queue_) {
            return base::fail(errc::queue_full, "database write queue is full (" +
                                                    std::to_string(max_queue_) + " jobs)");
        }
        queue_.push_back(std::move(pending));
    }
    wake_.notify_one();
    if (auto err = future.get()) {
        return *err;
    }
    return {};
}

WriterStats Writer::stats() const {
    std::lock_guard lock(mutex_);
    return {jobs_, commits_, queue_.size()};
}

void Writer::loop() {
    std::vector<std::unique_ptr<Pending>> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return; // stopping and drained
            }
            // A job that must run outside a transaction goes alone.
            const bool raw = static_cast<bool>(queue_.front()->raw);
            while (!queue_.empty() && batch.size() < max_batch_ &&
                   static_cast<bool>(queue_.front()->raw) == raw && (!raw || batch.empty())) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        if (batch.front()->raw) {
            auto r = batch.front()->raw(*conn_);
            std::optional<base::Error> err;
            if (!r) {
                err = r.error();
            }
            {
                std::lock_guard lock(mutex_);
                ++jobs_;
            }
            batch.front()->done.set_value(std::move(err));
        } else {
            run_batch(batch);
        }
        batch.clear();
    }
}

namespace {

struct Outcome {
    std::optional<base::Error> error;
    std::vector<std::function<void()>> actions;
};

} // namespace

// Runs jobs [0, n) in as few transactions as possible. When SQLite aborts the whole
// transaction (it does on some I/O and disk-full errors), the jobs run so far in it fail with
// that error and the rest continue in a fresh transaction.
void Writer::run_batch(std::vector<std::unique_ptr<Pending>>& batch) {
    std::vector<Outcome> outcomes(batch.size());
    std::size_t next = 0;
    std::uint64_t commits = 0;
    while (next < batch.size()) {
        const std::size_t first = next;
        if (auto r = conn_->exec("BEGIN IMMEDIATE"); !r) {
            for (std::size_t i = first; i < batch.size(); ++i) {
                outcomes[i].error = r.error();
            }
            break;
        }
        bool aborted = false;
        for (; next < batch.size() && !aborted; ++next) {
            WriteContext ctx(*conn_, clock_());
            if (auto r = conn_->exec("SAVEPOINT job"); !r) {
                outcomes[next].error = r.error();
                aborted = sqlite3_get_autocommit(conn_->handle()) != 0;
                continue;
            }
            std::optional<base::Error> err;
            try {
                err = batch[next]->job(ctx);
            } catch (const std::exception& e) { // a job must not take the writer down
                err = base::Error(errc::internal, std::string("write job threw: ") + e.what());
            }
            if (sqlite3_get_autocommit(conn_->handle()) != 0) {
                // SQLite rolled the transaction back: earlier jobs in it are lost.
                base::Error e = err.value_or(base::Error(errc::internal, "transaction aborted"));
                for (std::size_t i = first; i <= next; ++i) {
                    outcomes[i].error = e;
                    outcomes[i].actions.clear();
                }
                aborted = true;
                continue;
            }
            if (err) {
                (void)conn_->exec("ROLLBACK TO job; RELEASE job");
                outcomes[next].error = std::move(err);
            } else {
                (void)conn_->exec("RELEASE job");
                outcomes[next].actions = std::move(ctx.actions());
            }
        }
        if (aborted) {
            continue;
        }
        if (auto r = conn_->exec("COMMIT"); !r) {
            (void)conn_->exec("ROLLBACK");
            for (std::size_t i = first; i < next; ++i) {
                if (!outcomes[i].error) {
                    outcomes[i].error = r.error();
                }
                outcomes[i].actions.clear();
            }
            continue;
        }
        ++commits;
        for (std::size_t i = first; i < next; ++i) {
            for (auto& action : outcomes[i].actions) {
                action();
            }
        }
    }
    {
        std::lock_guard lock(mutex_);
        jobs_ += batch.size();
        commits_ += commits;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i]->done.set_value(std::move(outcomes[i].error));
    }
}

} // namespace agentd::memory::db
