#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace agentd::inference::detail {
namespace {

// Categories of the Basic Multilingual Plane, expanded once from the range table.
const std::array<uint8_t, 0x10000>& bmp_categories() {
    static const auto table = [] {
        std::array<uint8_t, 0x10000> t{};
        for (size_t i = 0; i < kCategoryRangeCount; ++i) {
            const uint32_t start = kCategoryRanges[i] >> 8;
            const uint32_t end =
                i + 1 < kCategoryRangeCount ? kCategoryRanges[i + 1] >> 8 : 0x110000U;
            for (uint32_t cp = start; cp < end && cp < 0x10000; ++cp) {
                t[cp] = static_cast<uint8_t>(kCategoryRanges[i] & 0xFF);
            }
        }
        return t;
    }();
    return table;
}

uint32_t lookup_pair(const CodepointPair* table, size_t n, uint32_t cp) {
    const auto* end = table + n;
    const auto* it = std::lower_bound(table, end, cp,
                                      [](const CodepointPair& p, uint32_t v) { return p.cp < v; });
    return (it != end && it->cp == cp) ? it->value : cp;
}

struct Gpt2Bytes {
    std::array<std::string, 256> text;
    std::array<int16_t, 512> byte_of; // indexed by code point; stand-ins are all < 512
};

// GPT-2 maps the printable Latin-1 bytes to themselves and the rest, in order, to U+0100.. .
const Gpt2Bytes& gpt2_bytes() {
    static const Gpt2Bytes table = [] {
        Gpt2Bytes t;
        t.byte_of.fill(-1);
        const auto printable = [](int b) {
            return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        };
        int next = 256;
        for (int b = 0; b < 256; ++b) {
            const int cp = printable(b) ? b : next++;
            utf8_append(t.text[b], static_cast<uint32_t>(cp));
            t.byte_of[cp] = static_cast<int16_t>(b);
        }
        return t;
    }();
    return table;
}

} // namespace

CpCategory cp_category(uint32_t cp) noexcept {
    if (cp < 0x10000) {
        return static_cast<CpCategory>(bmp_categories()[cp]);
    }
    if (cp >= 0x110000) {
        return CpCategory::undefined;
    }
    const uint32_t key = (cp << 8) | 0xFF;
    const uint32_t* end = kCategoryRanges + kCategoryRangeCount;
    const uint32_t* it = std::upper_bound(kCategoryRanges, end, key);
    return static_cast<CpCategory>(*(it - 1) & 0xFF);
}

bool cp_is_whitespace(uint32_t cp) noexcept {
    if (cp < 0x80) {
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
    }
    return std::binary_search(kWhitespace, kWhitespace + kWhitespaceCount, cp);
}

uint32_t cp_to_lower(uint32_t cp) noexcept {
    if (cp < 0x80) {
        return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    }
    return lookup_pair(kLowercase, kLowercaseCount, cp);
}

uint32_t cp_nfd_first(uint32_t cp) noexcept {
    return cp < 0xC0 ? cp : lookup_pair(kNfdFirst, kNfdFirstCount, cp);
}

std::vector<uint32_t> utf8_decode(std::string_view text) {
    std::vector<uint32_t> out;
    out.reserve(text.size());
    const auto* s = reinterpret_cast<const uint8_t*>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    const auto cont = [&](size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
    while (i < n) {
        const uint8_t b = s[i];
        if (b < 0x80) {
            out.push_back(b);
            i += 1;
        } else if ((b & 0xE0) == 0xC0 && cont(1)) {
            out.push_back(((b & 0x1FU) << 6) | (s[i + 1] & 0x3FU));
            i += 2;
        } else if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
            out.push_back(((b & 0x0FU) << 12) | ((s[i + 1] & 0x3FU) << 6) | (s[i + 2] & 0x3FU));
            i += 3;
        } else if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
            const uint32_t cp = ((b & 0x07U) << 18) | ((s[i + 1] & 0x3FU) << 12) |
                                ((s[i + 2] & 0x3FU) << 6) | (s[i + 3] & 0x3FU);
            // llama.cpp accepts up to 0x1FFFFF here and then fails to re-encode it; beyond
            // Unicode's range we take the byte as invalid instead.
            if (cp <= 0x10FFFF) {
                out.push_back(cp);
                i += 4;
            } else {
                out.push_back(kReplacementChar);
                i += 1;
            }
        } else {
            out.push_back(kReplacementChar);
            i += 1;
        }
    }
    return out;
}

void utf8_append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string_view gpt2_byte_to_text(uint8_t b) noexcept {
    return gpt2_bytes().text[b];
}

int gpt2_text_to_byte(uint32_t cp) noexcept {
    return cp < 512 ? gpt2_bytes().byte_of[cp] : -1;
}

size_t utf8_valid_prefix(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    const size_t n = s.size();
    size_t i = 0;
    while (i < n) {
        const uint8_t b = p[i];
        size_t len = 0;
        uint32_t min = 0;
        if (b < 0x80) {
            ++i;
            continue;
        }
        if ((b & 0xE0) == 0xC0) {
            len = 2;
            min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3;
            min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4;
            min = 0x10000;
        } else {
            return i;
        }
        if (i + len > n) {
            return i;
        }
        uint32_t cp = b & (0x7FU >> len);
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return i;
            }
            cp = (cp << 6) | (p[i + k] & 0x3FU);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return i;
        }
        i += len;
    }
    return i;
}

} // namespace agentd::inference::detail
