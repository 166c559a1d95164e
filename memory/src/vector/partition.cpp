#include "vector/partition.h"

#include "agentd/base/check.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace agentd::memory::vector {
namespace {

constexpr std::size_t kBlock = 256;             // rows scored per kernel call
constexpr std::size_t kParallelMinRows = 32768; // below this one thread is faster

std::size_t round_up(std::size_t n, std::size_t m) {
    return (n + m - 1) / m * m;
}

} // namespace

template <class T>
void AlignedArray<T>::reserve(std::size_t count, std::size_t keep) {
    if (count <= capacity_) {
        return;
    }
    const std::size_t bytes = round_up(count * sizeof(T), 64);
    T* fresh = static_cast<T*>(std::aligned_alloc(64, bytes));
    AGENTD_CHECK(fresh != nullptr, "vector mirror allocation failed (out of memory)");
    std::memset(static_cast<void*>(fresh), 0, bytes);
    if (keep > 0) {
        std::memcpy(static_cast<void*>(fresh), data_.get(), keep * sizeof(T));
    }
    data_.reset(fresh);
    capacity_ = bytes / sizeof(T);
}

template class AlignedArray<float>;
template class AlignedArray<std::int8_t>;

float quantize_int8(const float* x, std::size_t dim, std::int8_t* out, std::int32_t* sum) {
    float max_abs = 0;
    for (std::size_t i = 0; i < dim; ++i) {
        max_abs = std::max(max_abs, std::fabs(x[i]));
    }
    std::int32_t total = 0;
    if (max_abs == 0) {
        std::fill(out, out + dim, std::int8_t{0});
        *sum = 0;
        return 0;
    }
    const float inv = 127.0f / max_abs;
    for (std::size_t i = 0; i < dim; ++i) {
        // Round half away from zero without libm (|v| <= 127 by construction of inv).
        const float v = x[i] * inv;
        const auto c = static_cast<std::int32_t>(v + (v >= 0.0f ? 0.5f : -0.5f));
        out[i] = static_cast<std::int8_t>(std::clamp(c, -127, 127));
    }
    for (std::size_t i = 0; i < dim; ++i) {
        total += out[i];
    }
    *sum = total;
    return max_abs / 127.0f;
}

Partition::Partition(std::uint32_t dim)
    : dim_(dim), stride_f_(round_up(dim, kFloatLanes)), stride_q_(round_up(dim, kInt8Lanes)),
      kernels_(best_kernels()) {}

void Partition::write_row(std::uint32_t slot, const VectorRecord& r) {
    float* row = f32_.data() + slot * stride_f_;
    std::memcpy(row, r.embedding.data(), dim_ * sizeof(float));
    std::fill(row + dim_, row + stride_f_, 0.0f);
    double sq = 0;
    for (std::uint32_t i = 0; i < dim_; ++i) {
        sq += double{row[i]} * row[i];
    }
    sqnorm_[slot] = static_cast<float>(sq);
    inv_norm_[slot] = sq > 0 ? static_cast<float>(1.0 / std::sqrt(sq)) : 0.0f;
    std::int8_t* codes = q8_.data() + slot * stride_q_;
    std::fill(codes, codes + stride_q_, std::int8_t{0});
    q8_scale_[slot] = quantize_int8(row, dim_, codes, &q8_sum_[slot]);
    ids_[slot] = r.id;
    auto [it, inserted] = ns_ids_.try_emplace(r.ns, static_cast<std::uint32_t>(ns_ids_.size()));
    ns_[slot] = it->second;
    meta_[slot] = r.meta.empty() ? nullptr : std::make_shared<const FlatMeta>(r.meta);
}

void Partition::copy_row(std::uint32_t from, std::uint32_t to) {
    std::memcpy(f32_.data() + to * stride_f_, f32_.data() + from * stride_f_,
                stride_f_ * sizeof(float));
    std::memcpy(q8_.data() + to * stride_q_, q8_.data() + from * stride_q_, stride_q_);
    sqnorm_[to] = sqnorm_[from];
    inv_norm_[to] = inv_norm_[from];
    q8_scale_[to] = q8_scale_[from];
    q8_sum_[to] = q8_sum_[from];
    ids_[to] = ids_[from];
    ns_[to] = ns_[from];
    meta_[to] = std::move(meta_[from]);
}

void Partition::upsert(const VectorRecord& r) {
    AGENTD_CHECK(r.embedding.size() == dim_, "upsert into a partition of another dimension");
    if (auto it = slot_of_.find(r.id); it != slot_of_.end()) {
        write_row(it->second, r);
        return;
    }
    const std::size_t n = ids_.size();
    if (n == capacity_) {
        const std::size_t grown = std::max<std::size_t>(64, capacity_ * 2);
        f32_.reserve(grown * stride_f_, n * stride_f_);
        q8_.reserve(grown * stride_q_, n * stride_q_);
        capacity_ = grown;
    }
    sqnorm_.emplace_back();
    inv_norm_.emplace_back();
    q8_scale_.emplace_back();
    q8_sum_.emplace_back();
    ids_.emplace_back();
    ns_.emplace_back();
    meta_.emplace_back();
    const auto slot = static_cast<std::uint32_t>(n);
    write_row(slot, r);
    slot_of_.emplace(r.id, slot);
}

bool Partition::remove(std::int64_t id) {
    auto it = slot_of_.find(id);
    if (it == slot_of_.end()) {
        return false;
    }
    const std::uint32_t slot = it->second;
    slot_of_.erase(it);
    const auto last = static_cast<std::uint32_t>(ids_.size() - 1);
    if (slot != last) {
        copy_row(last, slot);
        slot_of_[ids_[slot]] = slot;
    }
    // Hard delete: the vacated row's values do not linger in the mirror.
    std::memset(f32_.data() + last * stride_f_, 0, stride_f_ * sizeof(float));
    std::memset(q8_.data() + last * stride_q_, 0, stride_q_);
    sqnorm_.pop_back();
    inv_norm_.pop_back();
    q8_scale_.pop_back();
    q8_sum_.pop_back();
    ids_.pop_back();
    ns_.pop_back();
    meta_.pop_back();
    return true;
}

float Partition::to_score(Metric m, float dot, std::uint32_t slot,
                          const PreparedQuery& pq) const noexcept {
    switch (m) {
    case Metric::dot:
        return dot;
    case Metric::cosine:
        return dot * inv_norm_[slot] * pq.inv_norm;
    case Metric::l2:
        return -(sqnorm_[slot] - 2.0f * dot + pq.sqnorm);
    }
    return dot;
}

float Partition::to_value(Metric m, float score) const noexcept {
    return m == Metric::l2 ? std::sqrt(std::max(0.0f, -score)) : score;
}

bool Partition::allowed(const Restriction& r, std::uint32_t slot) const {
    if (!r.namespaces.empty() &&
        std::find(r.namespaces.begin(), r.namespaces.end(), ns_[slot]) == r.namespaces.end()) {
        return false;
    }
    if (r.filter != nullptr) {
        static const FlatMeta kEmpty;
        const FlatMeta* meta = meta_[slot] ? meta_[slot].get() : &kEmpty;
        return r.filter->matches(*meta);
    }
    return true;
}

void Partition::scan_range(Metric metric, const PreparedQuery& pq, bool int8, const Restriction& r,
                           std::size_t begin, std::size_t end, TopK& top) const {
    float dots[kBlock];
    std::int32_t idots[kBlock];
    std::uint32_t picked[kBlock];
    for (std::size_t b = begin; b < end; b += kBlock) {
        const std::size_t n = std::min(kBlock, end - b);
        std::size_t count = n;
        bool dense = true;
        if (r.active()) {
            count = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const auto slot = static_cast<std::uint32_t>(b + i);
                if (allowed(r, slot)) {
                    picked[count++] = slot;
                }
            }
            dense = count == n;
            if (count == 0) {
                continue;
            }
        }
        if (dense) {
            if (int8) {
                kernels_.dot_i8_rows(pq.i8, q8_.data() + b * stride_q_, stride_q_, n,
                                     q8_sum_.data() + b, idots);
            } else {
                kernels_.dot_f32_rows(pq.f32, f32_.data() + b * stride_f_, stride_f_, n, dots);
            }
            for (std::size_t i = 0; i < n; ++i) {
                picked[i] = static_cast<std::uint32_t>(b + i);
            }
        } else {
            for (std::size_t i = 0; i < count; ++i) {
                const std::uint32_t slot = picked[i];
                if (int8) {
                    kernels_.dot_i8_rows(pq.i8, q8_.data() + slot * stride_q_, stride_q_, 1,
                                         q8_sum_.data() + slot, idots + i);
                } else {
                    kernels_.dot_f32_rows(pq.f32, f32_.data() + slot * stride_f_, stride_f_, 1,
                                          dots + i);
                }
            }
        }
        for (std::size_t i = 0; i < count; ++i) {
            const std::uint32_t slot = picked[i];
            const float dot =
                int8 ? static_cast<float>(idots[i]) * q8_scale_[slot] * pq.i8_scale : dots[i];
            const float score = to_score(metric, dot, slot, pq);
            if (score >= top.threshold()) {
                top.push({score, slot, ids_[slot]});
            }
        }
    }
}

std::vector<VectorMatch> Partition::search(const VectorQuery& q, SearchPool& pool) const {
    const std::size_t n = ids_.size();
    if (n == 0 || q.k == 0 || q.embedding.size() != dim_) {
        return {};
    }
    Restriction restrict;
    restrict.filter = (q.filter != nullptr && !q.filter->matches_all()) ? q.filter : nullptr;
    for (const auto& name : q.namespaces) {
        if (auto it = ns_ids_.find(name); it != ns_ids_.end()) {
            restrict.namespaces.push_back(it->second);
        }
    }
    if (!q.namespaces.empty()&& restrict.namespaces.empty()) {
        return {}; // none of the asked namespaces has vectors here
    }
    AlignedArray<float> qf;
    qf.reserve(stride_f_, 0);
    std::memcpy(qf.data(), q.embedding.data(), dim_ * sizeof(float));
    PreparedQuery pq;
    pq.f32 = qf.data();
    double sq = 0;
    for (std::uint32_t i = 0; i < dim_; ++i) {
        sq += double{qf.data()[i]} * qf.data()[i];
    }
    pq.sqnorm = static_cast<float>(sq);
    pq.inv_norm = sq > 0 ? static_cast<float>(1.0 / std::sqrt(sq)) : 0.0f;
    AlignedArray<std::int8_t> qi;
    if (q.int8) {
        qi.reserve(stride_q_, 0);
        std::int32_t unused_sum = 0;
        pq.i8_scale = quantize_int8(qf.data(), dim_, qi.data(), &unused_sum);
        pq.i8 = qi.data();
    }
    const std::size_t candidates =
        q.int8 ? std::max<std::size_t>(q.k, q.k * std::max<std::uint32_t>(1, q.rescore_factor))
               : q.k;

    // A few chunks per worker so a thread slowed by other load does not hold up the answer.
    const std::size_t chunks =
        (n >= kParallelMinRows && pool.width() > 1)
            ? std::min<std::size_t>(std::size_t{pool.width()} * 4, n / (kParallelMinRows / 4))
            : 1;
    std::vector<TopK> partial(chunks, TopK(candidates));
    const std::size_t per = round_up((n + chunks - 1) / chunks, kBlock);
    pool.parallel_for(chunks, [&](std::size_t c) {
        const std::size_t begin = std::min(n, c * per);
        const std::size_t end = std::min(n, begin + per);
        scan_range(q.metric, pq, q.int8, restrict, begin, end, partial[c]);
    });
    TopK merged(candidates);
    for (const auto& p : partial) {
        merged.merge(p);
    }
    std::vector<Scored> best = std::move(merged).sorted();
    if (q.int8) {
        TopK exact(q.k); // re-score the int8 candidates with the float rows
        for (const Scored& s : best) {
            float dot = 0;
            kernels_.dot_f32_rows(pq.f32, f32_.data() + s.slot * stride_f_, stride_f_, 1, &dot);
            exact.push({to_score(q.metric, dot, s.slot, pq), s.slot, s.id});
        }
        best = std::move(exact).sorted();
    }
    std::vector<VectorMatch> out;
    out.reserve(best.size());
    for (const Scored& s : best) {
        out.push_back({s.id, s.score, to_value(q.metric, s.score)});
    }
    return out;
}

} // namespace agentd::memory::vector
