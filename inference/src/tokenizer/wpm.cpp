// WordPiece (BERT): normalise and split into words (white space separates, punctuation and CJK
// characters stand alone), then greedily take the longest vocabulary entry at each position of
// "▁" + word; a word that cannot be covered becomes the unknown token.

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

#include <algorithm>

namespace agentd::inference::detail {
namespace {

bool is_chinese(uint32_t cp) {
    // The ranges BERT's tokenizer treats as CJK (including its 0x2B920 quirk).
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::vector<std::string> words_of(const Vocab& vocab, std::string_view text) {
    std::vector<std::string> words(1);
    for (uint32_t cp : utf8_decode(text)) {
        if (vocab.strip_accents) {
            cp = cp_nfd_first(cp);
        }
        if (cp_is_whitespace(cp)) {
            if (!words.back().empty()) {
                words.emplace_back();
            }
            continue;
        }
        const CpCategory cat = cp_category(cp);
        if (cp == 0 || cp == kReplacementChar || cat == CpCategory::control) {
            continue;
        }
        if (vocab.strip_accents && cat == CpCategory::mark) {
            continue;
        }
        std::string s;
        utf8_append(s, vocab.lowercase ? cp_to_lower(cp) : cp);
        if (cat == CpCategory::punctuation || (cp < 0x7F && cat == CpCategory::symbol) ||
            is_chinese(cp)) {
            if (!words.back().empty()) {
                words.emplace_back();
            }
            words.back() = std::move(s);
            words.emplace_back();
        } else {
            words.back() += s;
        }
    }
    if (words.back().empty()) {
        words.pop_back();
    }
    return words;
}

} // namespace

void tokenize_wpm(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
    for (const std::string& word : words_of(vocab, text)) {
        if (word.empty()) {
            continue;
        }
        const std::string w = "\xE2\x96\x81" + word;
        const size_t n = w.size();
        const size_t before = out.size();
        for (size_t i = 0; i < n; ++i) {
            bool matched = false;
            for (size_t j = std::min(n, i + vocab.max_token_len + 1); j > i; --j) {
                const TokenId id = vocab.find(std::string_view(w).substr(i, j - i));
                if (id != kNoToken) {
                    out.push_back(id);
                    matched = true;
                    i = j - 1;
                    break;
                }
            }
            if (!matched) {
                out.resize(before); // the whole word is unknown
                break;
            }
        }
        if (out.size() == before && vocab.unk != kNoToken) {
            out.push_back(vocab.unk);
        }
    }
}

} // namespace agentd::inference::detail
