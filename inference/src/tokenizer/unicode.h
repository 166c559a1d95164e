#pragma once
/// Code point helpers for the tokenizers: UTF-8 decoding with llama.cpp's error handling, the
/// Unicode 15.1 classes its pre-tokenizers use, lowercase/NFD for WordPiece, and GPT-2's
/// byte-to-character table. Pure functions over constant tables: thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::inference::detail {

/// General category, grouped as the tokenizers need it.
enum class CpCategory : uint8_t {
    undefined = 0, // unassigned
    number = 1,
    letter = 2,
    separator = 3,
    mark = 4,
    punctuation = 5,
    symbol = 6,
    control = 7, // Cc, Cf, Co, Cs
};

struct CodepointPair {
    uint32_t cp;
    uint32_t value;
};

// Generated tables (unicode_tables.cpp).
extern const uint32_t kCategoryRanges[];
extern const size_t kCategoryRangeCount;
extern const uint32_t kWhitespace[];
extern const size_t kWhitespaceCount;
extern const CodepointPair kLowercase[];
extern const size_t kLowercaseCount;
extern const CodepointPair kNfdFirst[];
extern const size_t kNfdFirstCount;

inline constexpr uint32_t kReplacementChar = 0xFFFD;

CpCategory cp_category(uint32_t cp) noexcept;
bool cp_is_whitespace(uint32_t cp) noexcept;
uint32_t cp_to_lower(uint32_t cp) noexcept;
/// First code point of cp's canonical decomposition (cp itself when it has none).
uint32_t cp_nfd_first(uint32_t cp) noexcept;

/// Length of the UTF-8 sequence announced by lead byte `b` (1 for continuation and invalid
/// bytes), the table SentencePiece-style splitting uses.
inline size_t utf8_len(char b) noexcept {
    constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLen[static_cast<uint8_t>(b) >> 4];
}

/// Decodes `text`; each byte that does not start a well-formed sequence becomes U+FFFD and
/// decoding resumes at the next byte.
std::vector<uint32_t> utf8_decode(std::string_view text);

/// Appends the UTF-8 encoding of `cp` (which must be <= 0x10FFFF).
void utf8_append(std::string& out, uint32_t cp);

/// GPT-2's printable stand-in for byte `b`, UTF-8 encoded.
std::string_view gpt2_byte_to_text(uint8_t b) noexcept;
/// The byte whose GPT-2 stand-in is `cp`, or -1.
int gpt2_text_to_byte(uint32_t cp) noexcept;

/// The length of the longest prefix of `s` that is complete, valid UTF-8 (the rest is either
/// an incomplete final character or invalid).
size_t utf8_valid_prefix(std::string_view s) noexcept;

} // namespace agentd::inference::detail
