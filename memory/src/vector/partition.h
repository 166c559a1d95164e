#pragma once
/// One (tenant, model, dim) group of vectors in structure-of-arrays form (see vector_index.h).
/// Mutated only under VectorIndex's exclusive lock; scanned under its shared lock.

#include "vector/kernels.h"
#include "vector/metadata_filter.h"
#include "vector/search_pool.h"
#include "vector/topk.h"
#include "vector/vector_index.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace agentd::memory::vector {

struct FreeDeleter {
    void operator()(void* p) const noexcept { std::free(p); }
};

/// A growable 64-byte-aligned array of trivially copyable T.
template <class T>
class AlignedArray {
public:
    [[nodiscard]] T* data() noexcept { return data_.get(); }
    [[nodiscard]] const T* data() const noexcept { return data_.get(); }
    /// Grows to at least `count` elements, keeping the first `keep`; new memory is zeroed.
    void reserve(std::size_t count, std::size_t keep);

private:
    std::unique_ptr<T, FreeDeleter> data_;
    std::size_t capacity_ = 0;
};

class Partition {
public:
    explicit Partition(std::uint32_t dim);

    void upsert(const VectorRecord& r);
    /// Removes the row of `id` (swapping the last row into its slot). False when absent.
    bool remove(std::int64_t id);
    [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }
    [[nodiscard]] std::uint32_t dim() const noexcept { return dim_; }
    [[nodiscard]] const std::vector<std::int64_t>& ids() const noexcept { return ids_; }

    [[nodiscard]] std::vector<VectorMatch> search(const VectorQuery& q, SearchPool& pool) const;

private:
    struct PreparedQuery {
        const float* f32 = nullptr;
        const std::int8_t* i8 = nullptr;
        float sqnorm = 0;
        float inv_norm = 0;
        float i8_scale = 0;
    };

    [[nodiscard]] float to_score(Metric m, float dot, std::uint32_t slot,
                                 const PreparedQuery& pq) const noexcept;
    [[nodiscard]] float to_value(Metric m, float score) const noexcept;
    struct Restriction {
        std::vector<std::uint32_t> namespaces; // empty → any
        const MetadataFilter* filter = nullptr;
        [[nodiscard]] bool active() const noexcept { return !namespaces.empty() || filter; }
    };
    void scan_range(Metric metric, const PreparedQuery& pq, bool int8, const Restriction& r,
                    std::size_t begin, std::size_t end, TopK& top) const;
    [[nodiscard]] bool allowed(const Restriction& r, std::uint32_t slot) const;
    void write_row(std::uint32_t slot, const VectorRecord& r);
    void copy_row(std::uint32_t from, std::uint32_t to);

    std::uint32_t dim_;
    std::size_t stride_f_; // floats per row (padded)
    std::size_t stride_q_; // int8 codes per row (padded)
    AlignedArray<float> f32_;
    AlignedArray<std::int8_t> q8_;
    std::size_t capacity_ = 0;
    std::vector<float> sqnorm_;
    std::vector<float> inv_norm_;
    std::vector<float> q8_scale_;
    std::vector<std::int32_t> q8_sum_;
    std::vector<std::int64_t> ids_;
    std::vector<std::uint32_t> ns_;
    std::vector<std::shared_ptr<const FlatMeta>> meta_; // null when empty
    std::unordered_map<std::int64_t, std::uint32_t> slot_of_;
    std::unordered_map<std::string, std::uint32_t> ns_ids_;
    const Kernels& kernels_;
};

/// Quantizes `x` (dim floats) into `out` (padded with zeros): code = round(x / scale), scale =
/// max|x| / 127. Returns the scale (0 for an all-zero vector) and the code sum.
float quantize_int8(const float* x, std::size_t dim, std::int8_t* out, std::int32_t* sum);

} // namespace agentd::memory::vector
