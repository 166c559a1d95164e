#pragma once
// UTF-8 helpers shared by the JSON codec, the template engine and the grammar compiler.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace agentd::inference::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

/// Decodes one code point at `s[i]`; advances `i`. Invalid or truncated sequences, overlongs,
/// surrogates and values past U+10FFFF yield U+FFFD and consume one byte.
inline char32_t decode(std::string_view s, std::size_t& i) noexcept {
    auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    int len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        cp = b0 & 0x1F;
        min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        cp = b0 & 0x0F;
        min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        ++i;
        return kReplacement;
    }
    if (i + static_cast<std::size_t>(len) > s.size()) {
        ++i;
        return kReplacement;
    }
    for (int k = 1; k < len; ++k) {
        auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return kReplacement;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return kReplacement;
    }
    i += static_cast<std::size_t>(len);
    return cp;
}

/// True when the bytes at s[i] start a valid sequence (decode would not substitute U+FFFD for an
/// error). Used to tell a real U+FFFD in the text from a decoding error.
inline bool valid_at(std::string_view s, std::size_t i) noexcept {
    std::size_t j = i;
    char32_t cp = decode(s, j);
    if (cp != kReplacement) {
        return true;
    }
    return j - i == 3; // a literal EF BF BD
}

inline void append(std::string& out, char32_t cp) {
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

/// True when every byte sequence in `s` is valid UTF-8.
inline bool is_valid(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        if (!valid_at(s, i)) {
            return false;
        }
        decode(s, i);
    }
    return true;
}

/// Number of code points (invalid bytes count one each).
inline std::size_t length(std::string_view s) noexcept {
    std::size_t n = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        decode(s, i);
        ++n;
    }
    return n;
}

/// Length of the longest prefix of `s` that does not end inside a multi-byte sequence; the bytes
/// after it may still be completed by later text.
inline std::size_t complete_prefix(std::string_view s) noexcept {
    std::size_t n = s.size();
    // Look back at most 3 bytes for a lead byte whose sequence is not complete yet.
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
        auto b = static_cast<unsigned char>(s[n - back]);
        if ((b & 0xC0) == 0x80) {
            continue; // continuation byte: keep looking for the lead
        }
        std::size_t need = 1;
        if ((b & 0xE0) == 0xC0) {
            need = 2;
        } else if ((b & 0xF0) == 0xE0) {
            need = 3;
        } else if ((b & 0xF8) == 0xF0) {
            need = 4;
        }
        return need > back ? n - back : n;
    }
    return n;
}

} // namespace agentd::inference::utf8
