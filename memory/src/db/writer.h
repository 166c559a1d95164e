#pragma once
/// The single writer (STYLE.md 2.5): one dedicated thread owns the writer connection and runs
/// queued write jobs. Jobs that queue up together share one transaction (group commit), each in
/// its own SAVEPOINT so a failing job rolls back alone. A job's caller is released only after
/// COMMIT returned (and its after-commit actions ran): acknowledged means committed.
///
/// Thread-safe: submit() may be called from any thread except the writer thread itself; it
/// blocks the caller until the job is committed or failed. Errors: queue_full when the queue is
/// at its bound, shutting_down after stop(), else the job's own error or the commit's.

#include "agentd/base/result.h"

#include "sqlite/connection.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace agentd::memory::db {

/// What a write job sees: the connection (inside an open transaction) and a way to defer
/// in-memory changes (the vector mirror) until the transaction has committed.
class WriteContext {
public:
    WriteContext(sqlite::Connection& conn, std::int64_t now_ms) : conn_(conn), now_ms_(now_ms) {}
    [[nodiscard]] sqlite::Connection& conn() noexcept { return conn_; }
    /// Milliseconds since the epoch, one value per job.
    [[nodiscard]] std::int64_t now_ms() const noexcept { return now_ms_; }
    /// Runs `action` on the writer thread after COMMIT succeeded; dropped if the job fails.
    void after_commit(std::function<void()> action) { actions_.push_back(std::move(action)); }

    std::vector<std::function<void()>>& actions() noexcept { return actions_; }

private:
    sqlite::Connection& conn_;
    std::int64_t now_ms_;
    std::vector<std::function<void()>> actions_;
};

struct WriterStats {
    std::uint64_t jobs = 0;
    std::uint64_t commits = 0;
    std::size_t queued = 0;
};

class Writer {
public:
    using Job = std::function<std::optional<base::Error>(WriteContext&)>;
    using Clock = std::function<std::int64_t()>;

    Writer(std::unique_ptr<sqlite::Connection> conn, std::size_t max_queue, std::size_t max_batch,
           Clock clock);
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    ~Writer(); // stop()

    /// Queues `job` and waits until it is committed (ok) or failed (its error).
    [[nodiscard]] base::Result<void> submit(Job job);

    /// Runs `fn(WriteContext&) -> Result<T>` as one job and returns its value once committed.
    template <class T, class F>
    [[nodiscard]] base::Result<T> run(F&& fn) {
        std::optional<base::Result<T>> out;
        auto r = submit([&](WriteContext& ctx) -> std::optional<base::Error> {
            base::Result<T> v = fn(ctx);
            if (!v) {
                return v.error();
            }
            out.emplace(std::move(v));
            return std::nullopt;
        });
        if (!r) {
            return r.error();
        }
        return std::move(*out);
    }

    /// Runs `fn` alone, outside any transaction (checkpoints, index merges), in queue order.
    [[nodiscard]] base::Result<void>
    submit_outside_transaction(std::function<base::Result<void>(sqlite::Connection&)> fn);

    /// Finishes the queued jobs, then joins the thread. Later submits fail with shutting_down.
    void stop();

    [[nodiscard]] WriterStats stats() const;

private:
    struct Pending {
        Job job;
        std::function<base::Result<void>(sqlite::Connection&)> raw; // set → outside a transaction
        std::promise<std::optional<base::Error>> done;
    };

    base::Result<void> enqueue(std::unique_ptr<Pending> pending);
    void loop();
    void run_batch(std::vector<std::unique_ptr<Pending>>& batch);

    std::unique_ptr<sqlite::Connection> conn_;
    std::size_t max_queue_;
    std::size_t max_batch_;
    Clock clock_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<Pending>> queue_;
    bool stopping_ = false;
    std::uint64_t jobs_ = 0;    // guarded by mutex_
    std::uint64_t commits_ = 0; // guarded by mutex_
    std::thread thread_;
};

} // namespace agentd::memory::db
