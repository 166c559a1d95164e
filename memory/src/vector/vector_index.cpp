#include "vector/vector_index.h"

#include "vector/kernels.h"
#include "vector/partition.h"

#include <algorithm>

namespace agentd::memory::vector {
namespace {

std::string partition_key(std::string_view tenant, std::string_view model, std::size_t dim) {
    std::string key;
    key.reserve(tenant.size() + model.size() + 16);
    key.append(tenant).push_back('\0');
    key.append(model).push_back('\0');
    key.append(std::to_string(dim));
    return key;
}

} // namespace

VectorIndex::VectorIndex(unsigned search_threads)
    : pool_(std::make_unique<SearchPool>(search_threads)) {}

VectorIndex::~VectorIndex() = default;

std::unique_lock<std::shared_mutex> VectorIndex::lock_exclusive() {
    // Holding the gate while waiting keeps new searches out, so a steady stream of searches
    // cannot starve the writer (glibc's rwlock prefers readers).
    std::lock_guard gate(gate_);
    return std::unique_lock(mutex_);
}

void VectorIndex::upsert(VectorRecord record) {
    auto lock = lock_exclusive();
    const std::string key = partition_key(record.tenant, record.model, record.embedding.size());
    auto [it, inserted] = partitions_.try_emplace(key);
    if (inserted) {
        it->second =
            std::make_unique<Partition>(static_cast<std::uint32_t>(record.embedding.size()));
    }
    Partition* target = it->second.get();
    if (auto w = where_.find(record.id); w != where_.end() && w->second != target) {
        remove_locked(record.id);
    }
    target->upsert(record);
    where_[record.id] = target;
}

void VectorIndex::remove_locked(std::int64_t id) {
    auto w = where_.find(id);
    if (w == where_.end()) {
        return;
    }
    w->second->remove(id);
    where_.erase(w);
}

void VectorIndex::remove(std::int64_t id) {
    auto lock = lock_exclusive();
    remove_locked(id);
}

void VectorIndex::remove_tenant(std::string_view tenant) {
    auto lock = lock_exclusive();
    std::string prefix(tenant);
    prefix.push_back('\0');
    for (auto it = partitions_.begin(); it != partitions_.end();) {
        if (it->first.compare(0, prefix.size(), prefix) == 0) {
            for (std::int64_t id : it->second->ids()) {
                where_.erase(id);
            }
            it = partitions_.erase(it);
        } else {
            ++it;
        }
    }
}

std::vector<VectorMatch> VectorIndex::search(std::string_view tenant, const VectorQuery& q) const {
    { std::lock_guard gate(gate_); } // wait behind a writer that is waiting for the lock
    std::shared_lock lock(mutex_);
    auto it = partitions_.find(partition_key(tenant, q.model, q.embedding.size()));
    if (it == partitions_.end()) {
        return {};
    }
    return it->second->search(q, *pool_);
}

std::size_t VectorIndex::size() const {
    std::shared_lock lock(mutex_);
    return where_.size();
}

const char* VectorIndex::kernel_name() const noexcept {
    return best_kernels().name;
}

} // namespace agentd::memory::vector
