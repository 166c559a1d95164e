#include "grammar/utf8_ranges.h"

namespace agentd::inference::grammar {
namespace {

int encoded_length(char32_t c) {
    return c < 0x80 ? 1 : (c < 0x800 ? 2 : (c < 0x10000 ? 3 : 4));
}

void encode(char32_t c, int n, std::uint8_t* out) {
    switch (n) {
    case 1:
        out[0] = static_cast<std::uint8_t>(c);
        break;
    case 2:
        out[0] = static_cast<std::uint8_t>(0xC0 | (c >> 6));
        out[1] = static_cast<std::uint8_t>(0x80 | (c & 0x3F));
        break;
    case 3:
        out[0] = static_cast<std::uint8_t>(0xE0 | (c >> 12));
        out[1] = static_cast<std::uint8_t>(0x80 | ((c >> 6) & 0x3F));
        out[2] = static_cast<std::uint8_t>(0x80 | (c & 0x3F));
        break;
    default:
        out[0] = static_cast<std::uint8_t>(0xF0 | (c >> 18));
        out[1] = static_cast<std::uint8_t>(0x80 | ((c >> 12) & 0x3F));
        out[2] = static_cast<std::uint8_t>(0x80 | ((c >> 6) & 0x3F));
        out[3] = static_cast<std::uint8_t>(0x80 | (c & 0x3F));
        break;
    }
}

// [lo, hi] with lo and hi of the same encoded length: split until every byte position is an
// independent range, then emit one sequence.
void split_same_length(char32_t lo, char32_t hi, std::vector<ByteRangeSeq>& out) {
    int n = encoded_length(lo);
    for (int i = 1; i < n; ++i) {
        char32_t m = (char32_t{1} << (6 * i)) - 1;
        if ((lo & ~m) != (hi & ~m)) {
            if ((lo & m) != 0) {
                split_same_length(lo, lo | m, out);
                split_same_length((lo | m) + 1, hi, out);
                return;
            }
            if ((hi & m) != m) {
                split_same_length(lo, (hi & ~m) - 1, out);
                split_same_length(hi & ~m, hi, out);
                return;
            }
        }
    }
    std::uint8_t a[4];
    std::uint8_t b[4];
    encode(lo, n, a);
    encode(hi, n, b);
    ByteRangeSeq seq;
    for (int i = 0; i < n; ++i) {
        seq.emplace_back(a[i], b[i]);
    }
    out.push_back(std::move(seq));
}

} // namespace

std::vector<ByteRangeSeq> utf8_sequences(const CodePointSet& set) {
    std::vector<ByteRangeSeq> out;
    static const char32_t kLimits[] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
    for (auto [lo, hi] : set.ranges) {
        for (char32_t limit : kLimits) {
            if (lo > hi) {
                break;
            }
            if (lo <= limit) {
                char32_t end = hi < limit ? hi : limit;
                split_same_length(lo, end, out);
                lo = end + 1;
            }
        }
    }
    return out;
}

} // namespace agentd::inference::grammar
