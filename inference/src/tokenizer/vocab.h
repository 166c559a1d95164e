#pragma once
/// The internal representation behind agentd::inference::Tokenizer: the vocabulary, its flags,
/// the merge ranks and the pre-tokenizer, built once from GGUF metadata (vocab_load.cpp) and
/// immutable afterwards (thread-safe to share).

#include "agentd/base/result.h"
#include "agentd/inference/tokenizer.h"

#include "tokenizer/pre_tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace agentd::inference {
class GgufFile;
}

namespace agentd::inference::detail {

struct PairHash {
    size_t operator()(const std::pair<std::string_view, std::string_view>& p) const noexcept {
        const size_t a = std::hash<std::string_view>{}(p.first);
        const size_t b = std::hash<std::string_view>{}(p.second);
        return a ^ (b + 0x9E3779B97F4A7C15ULL + (a << 6) + (a >> 2));
    }
};

struct Vocab {
    TokenizerKind kind = TokenizerKind::spm;
    std::string model;
    std::string pre;

    std::vector<std::string> text;   // id -> vocabulary string
    std::vector<float> scores;       // id -> score
    std::vector<uint32_t> attrs;     // id -> token_attr bits
    std::vector<std::string> pieces; // id -> piece with special=true (llama.cpp's piece cache)
    std::unordered_map<std::string_view, TokenId> ids; // text -> id (last id wins on duplicates)
    size_t max_token_len = 0;

    // Merge ranks of BPE vocabularies, keyed by views into `merges`.
    std::vector<std::string> merges;
    std::unordered_map<std::pair<std::string_view, std::string_view>, int, PairHash> ranks;

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

    [[nodiscard]] bool valid(TokenId id) const noexcept {
        return id >= 0 && static_cast<size_t>(id) < text.size();
    }
    [[nodiscard]] TokenId find(std::string_view s) const noexcept {
        const auto it = ids.find(s);
        return it == ids.end() ? kNoToken : it->second;
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
