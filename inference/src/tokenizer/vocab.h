#pragma once
/// The internal representation behind agentd::inference::Tokenizer: the vocabulary, its flags,
/// the merge ranks and the pre-tokenizer, built once from GGUF metadata (vocab_load.cpp) and
/// immutable afterwards (thread-safe to share).

#include "agentd/base/result.h"
#include "agentd/inference/tokenizer.h"

#include "tokenizer/flat_index.h"
#include "tokenizer/pre_tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace agentd::inference {
class GgufFile;
}

namespace agentd::inference::detail {

struct Vocab {
    TokenizerKind kind = TokenizerKind::spm;
    std::string model;
    std::string pre;

    std::vector<std::string> text;   // id -> vocabulary string
    std::vector<float> scores;       // id -> score
    std::vector<uint32_t> attrs;     // id -> token_attr bits
    std::vector<std::string> pieces; // id -> piece with special=true (llama.cpp's piece cache)
    FlatIndex ids;                   // text -> id (a later duplicate wins, as in llama.cpp)
    size_t max_token_len = 0;

    // Merge ranks of BPE vocabularies: rank -> its two sides (views into `merges`), and the
    // index from a pair of sides to the first rank that has them.
    std::vector<std::string> merges;
    std::vector<std::pair<std::string_view, std::string_view>> merge_sides;
    FlatIndex ranks;

    TokenId bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken,
            sep = kNoToken, pad = kNoToken, mask = kNoToken, linefeed = kNoToken;
    TokenId fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken, fim_pad = kNoToken,
            fim_rep = kNoToken, fim_sep = kNoToken;
    std::unordered_set<TokenId> eog;

    bool add_space_prefix = false;
    bool add_bos = false;
    bool add_eos = false;
    bool add_sep = false;
    bool ignore_merges = false;
    bool clean_spaces = false;
    bool remove_extra_whitespaces = false;
    bool escape_whitespaces = true;
    bool byte_encode = true; // BPE: GPT-2 byte-to-character encoding of the words
    bool lowercase = false;  // WordPiece normalizer
    bool strip_accents = false;

    /// Control, user-defined and unknown-type tokens, longest text first: the tokens searched
    /// for in the input before tokenizing.
    std::vector<TokenId> special_tokens;

    std::unique_ptr<PreTokenizer> pre_tokenizer; // BPE only

    /// Bit (a << 8 | b) is set when bytes a, b are adjacent inside some token: a cut between two
    /// such bytes in the text might split a token, any other cut cannot (SentencePiece uses it
    /// to work on long texts in independent chunks).
    std::vector<uint64_t> inner_pairs;
    [[nodiscard]] bool inner_pair(uint8_t a, uint8_t b) const noexcept {
        const unsigned bit = (unsigned{a} << 8) | b;
        return ((inner_pairs[bit >> 6] >> (bit & 63)) & 1U) != 0;
    }

    [[nodiscard]] bool valid(TokenId id) const noexcept {
        return id >= 0 && static_cast<size_t>(id) < text.size();
    }
    [[nodiscard]] TokenId find(std::string_view s) const noexcept {
        return ids.find(hash_bytes(s),
                        [&](int32_t id) { return text[static_cast<size_t>(id)] == s; });
    }
    [[nodiscard]] static uint64_t pair_hash(std::string_view a, std::string_view b) noexcept {
        return hash_bytes(a) * 0x9E3779B97F4A7C15ULL + hash_bytes(b);
    }
    /// The rank of merging `a` and `b`, or -1.
    [[nodiscard]] int rank(std::string_view a, std::string_view b) const noexcept {
        return ranks.find(pair_hash(a, b), [&](int32_t r) {
            const auto& sides = merge_sides[static_cast<size_t>(r)];
            return sides.first == a && sides.second == b;
        });
    }
    /// The token of raw byte `b` (byte fallback); kNoToken when the vocabulary lacks it.
    [[nodiscard]] TokenId byte_token(uint8_t b) const noexcept;
};

/// Loads the vocabulary of `file` (vocab_load.cpp).
[[nodiscard]] base::Result<std::unique_ptr<Vocab>> load_vocab(const GgufFile& file);

/// The tokenizer algorithms, each appending the ids of one text fragment to `out`.
void tokenize_spm(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);
void tokenize_bpe(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);
void tokenize_wpm(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out);

/// The piece of `id` computed from its text and attributes (what `pieces` caches).
std::string compute_piece(const Vocab& vocab, TokenId id);

} // namespace agentd::inference::detail
