#pragma once
/// A small pool of read-only connections. acquire() leases one connection to the calling thread
/// (blocking while all are leased); the lease gives it back. A leased connection is used by that
/// thread alone, which is what SQLITE_OPEN_NOMUTEX requires. Thread-safe.

#include "agentd/base/result.h"

#include "sqlite/connection.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace agentd::memory::db {

class ReaderPool {
public:
    [[nodiscard]] static base::Result<std::unique_ptr<ReaderPool>>
    open(const std::string& path, unsigned count, const sqlite::ConnectionSettings& settings);

    class Lease {
    public:
        Lease(ReaderPool& pool, std::unique_ptr<sqlite::Connection> conn)
            : pool_(&pool), conn_(std::move(conn)) {}
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() {
            if (conn_) {
                pool_->give_back(std::move(conn_));
            }
        }
        sqlite::Connection& conn() noexcept { return *conn_; }

    private:
        ReaderPool* pool_;
        std::unique_ptr<sqlite::Connection> conn_;
    };

    [[nodiscard]] Lease acquire();

private:
    void give_back(std::unique_ptr<sqlite::Connection> conn);

    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<sqlite::Connection>> idle_;
};

} // namespace agentd::memory::db
