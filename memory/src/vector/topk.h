#pragma once
/// Keeps the k largest (score, id) pairs seen; ties prefer the smaller id so results are
/// deterministic. Not thread-safe (one per scanning thread, merged afterwards).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace agentd::memory::vector {

struct Scored {
    float score;
    std::uint32_t slot;
    std::int64_t id;
};

/// a ranks before b.
inline bool better(const Scored& a, const Scored& b) noexcept {
    return a.score > b.score || (a.score == b.score && a.id < b.id);
}

class TopK {
public:
    explicit TopK(std::size_t k) : k_(k) { heap_.reserve(k + 1); }

    /// The score a candidate must beat to enter (−inf until full).
    [[nodiscard]] float threshold() const noexcept {
        return heap_.size() < k_ ? -std::numeric_limits<float>::infinity() : heap_.front().score;
    }

    void push(const Scored& s) {
        if (k_ == 0) {
            return;
        }
        if (heap_.size() < k_) {
            heap_.push_back(s);
            std::push_heap(heap_.begin(), heap_.end(), better); // worst at front
        } else if (better(s, heap_.front())) {
            std::pop_heap(heap_.begin(), heap_.end(), better);
            heap_.back() = s;
            std::push_heap(heap_.begin(), heap_.end(), better);
        }
    }

    void merge(const TopK& other) {
        for (const auto& s : other.heap_) {
            push(s);
        }
    }

    /// Best first.
    [[nodiscard]] std::vector<Scored> sorted() && {
        std::sort(heap_.begin(), heap_.end(), better);
        return std::move(heap_);
    }

private:
    std::size_t k_;
    std::vector<Scored> heap_;
};

} // namespace agentd::memory::vector
