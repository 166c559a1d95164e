#include "db/reader_pool.h"

namespace agentd::memory::db {

base::Result<std::unique_ptr<ReaderPool>>
ReaderPool::open(const std::string& path, unsigned count,
                 const sqlite::ConnectionSettings& settings) {
    auto pool = std::make_unique<ReaderPool>();
    for (unsigned i = 0; i < (count == 0 ? 1 : count); ++i) {
        auto conn = sqlite::Connection::open(path, settings);
        if (!conn) {
            return conn.error();
        }
        pool->idle_.push_back(std::move(*conn));
    }
    return pool;
}

ReaderPool::Lease ReaderPool::acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty(); });
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(conn));
}

void ReaderPool::give_back(std::unique_ptr<sqlite::Connection> conn) {
    {
        std::lock_guard lock(mutex_);
        idle_.push_back(std::move(conn));
    }
    available_.notify_one();
}

} // namespace agentd::memory::db
