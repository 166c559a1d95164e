#pragma once
/// The in-memory mirror of every stored embedding, searched by exact k-NN.
///
/// Rows are grouped in partitions by (tenant, model, dim): a search only ever scans the
/// caller's tenant and the query's model, which is both the isolation rule and the fast path.
/// Each partition keeps float32 rows (64-byte aligned, zero-padded to 16 lanes), int8 codes
/// with a per-row scale, squared and inverse norms, ids, namespaces and flattened metadata.
///
/// Threads: search() is thread-safe and may run concurrently with other searches; upsert(),
/// remove() and remove_tenant() are called by the writer thread after a commit (or at open)
/// and take the lock exclusively, ahead of waiting searches (no writer starvation).

#include "agentd/memory/memory_store.h"

#include "vector/metadata_filter.h"
#include "vector/search_pool.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agentd::memory::vector {

struct VectorRecord {
    std::int64_t id = 0;
    std::string tenant;
    std::string ns;
    std::string model;
    std::vector<float> embedding;
    FlatMeta meta;
};

struct VectorQuery {
    std::span<const float> embedding;
    std::string_view model;
    Metric metric = Metric::cosine;
    bool int8 = false;
    std::uint32_t rescore_factor = 8;
    std::size_t k = 10;
    std::span<const std::string> namespaces; // empty → all
    const MetadataFilter* filter = nullptr;  // null → none
};

struct VectorMatch {
    std::int64_t id = 0;
    float score = 0; // larger is better (−squared distance for L2)
    float value = 0; // cosine similarity, dot product, or L2 distance
};

class Partition;

class VectorIndex {
public:
    explicit VectorIndex(unsigned search_threads);
    VectorIndex(const VectorIndex&) = delete;
    VectorIndex& operator=(const VectorIndex&) = delete;
    ~VectorIndex();

    /// Inserts or replaces the vector of record.id (moving it across partitions if its tenant,
    /// model or dim changed).
    void upsert(VectorRecord record);
    void remove(std::int64_t id);
    void remove_tenant(std::string_view tenant);

    /// The k best matches of the tenant's vectors of q.model with q's dimension, restricted by
    /// namespaces and filter, best first.
    [[nodiscard]] std::vector<VectorMatch> search(std::string_view tenant,
                                                  const VectorQuery& q) const;

    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] const char* kernel_name() const noexcept;

private:
    std::unique_lock<std::shared_mutex> lock_exclusive();
    void remove_locked(std::int64_t id);

    mutable std::mutex gate_; // taken briefly by searches, held by writers while they wait
    mutable std::shared_mutex mutex_;
    std::unordered_map<std::string, std::unique_ptr<Partition>> partitions_;
    std::unordered_map<std::int64_t, Partition*> where_;
    std::unique_ptr<SearchPool> pool_;
};

} // namespace agentd::memory::vector
