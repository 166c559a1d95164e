#pragma once
/// A compact open-addressing hash index from keys to int32 ids for the tokenizers' hot lookups
/// (token text -> id, merge pair -> rank). Keys are not stored: the caller's `same(id)` says
/// whether an id's key equals the probe. Linear probing over 8-byte slots keeps a lookup to
/// about one cache line plus the key comparison. Immutable after building; thread-safe to read.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace agentd::inference::detail {

/// A fast hash for short byte strings (tokens are a few bytes long).
inline uint64_t hash_bytes(std::string_view s) noexcept {
    const char* p = s.data();
    size_t n = s.size();
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xFF51AFD7ED558CCDULL);
    while (n >= 8) {
        uint64_t w = 0;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * 0x94D049BB133111EBULL;
    return h ^ (h >> 29);
}

class FlatIndex {
public:
    static constexpr int32_t kNone = -1;

    /// Empties the index and sizes it for `n` keys.
    void reset(size_t n) {
        size_t cap = 16;
        while (cap < n * 2) {
            cap <<= 1;
        }
        slots_.assign(cap, Slot{0, kNone});
        mask_ = cap - 1;
    }

    /// Maps the key with hash `h` to `id`, replacing the id of an equal key (`same(old_id)`).
    template <class Same>
    void put(uint64_t h, int32_t id, Same&& same) {
        const auto tag = static_cast<uint32_t>(h >> 32);
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            Slot& s = slots_[i];
            if (s.id == kNone) {
                s = {tag, id};
                return;
            }
            if (s.tag == tag && same(s.id)) {
                s.id = id;
                return;
            }
        }
    }

    /// The id of the key with hash `h` for which `same(id)` holds, or kNone.
    template <class Same>
    [[nodiscard]] int32_t find(uint64_t h, Same&& same) const {
        if (slots_.empty()) {
            return kNone;
        }
        const auto tag = static_cast<uint32_t>(h >> 32);
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.id == kNone) {
                return kNone;
            }
            if (s.tag == tag && same(s.id)) {
                return s.id;
            }
        }
    }

private:
    struct Slot {
        uint32_t tag;
        int32_t id;
    };
    std::vector<Slot> slots_;
    size_t mask_ = 0;
};

} // namespace agentd::inference::detail
