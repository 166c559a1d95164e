// Byte-level BPE: pre-tokenize into words, then within each word repeatedly apply the merge of
// lowest rank among adjacent pairs (ties: leftmost first).

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

#include <algorithm>

namespace agentd::inference::detail {
namespace {

struct Symbol {
    int prev;
    int next;
    const char* text;
    size_t n;
};

struct Bigram {
    int left;
    int right;
    int rank;
    size_t left_n;
    size_t right_n;
};

// std::push_heap keeps the "largest" on top: the lowest rank, then the leftmost pair.
bool after(const Bigram& l, const Bigram& r) {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
}

class WordMerger {
public:
    explicit WordMerger(const Vocab& vocab) : vocab_(vocab) {}

    void tokenize(std::string_view word, std::vector<TokenId>& out) {
        split(word);
        for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) {
            add(i - 1, i);
        }
        while (!heap_.empty()) {
            std::pop_heap(heap_.begin(), heap_.end(), after);
            const Bigram b = heap_.back();
            heap_.pop_back();
            Symbol& l = symbols_[static_cast<size_t>(b.left)];
            Symbol& r = symbols_[static_cast<size_t>(b.right)];
            if (l.n != b.left_n || r.n != b.right_n) {
                continue; // outdated: one side changed since the pair was queued
            }
            l.n += r.n;
            r.n = 0;
            l.next = r.next;
            if (r.next >= 0) {
                symbols_[static_cast<size_t>(r.next)].prev = b.left;
            }
            add(l.prev, b.left);
            add(b.left, l.next);
        }
        for (const Symbol& s : symbols_) {
            if (s.n > 0) {
                emit(std::string_view(s.text, s.n), out);
            }
        }
    }

private:
    void split(std::string_view word) {
        symbols_.clear();
        heap_.clear();
        const bool whole =
            (vocab_.ignore_merges ||
             (vocab_.pre == "gemma4" && word.find_first_not_of('\n') == std::string_view::npos)) &&
            vocab_.find(word) != kNoToken;
        if (whole) {
            symbols_.push_back({-1, -1, word.data(), word.size()});
            return;
        }
        for (size_t off = 0; off < word.size();) {
            const size_t n = std::min(utf8_len(word[off]), word.size() - off);
            const int index = static_cast<int>(symbols_.size());
            symbols_.push_back(
                {index - 1, off + n == word.size() ? -1 : index + 1, word.data() + off, n});
            off += n;
        }
    }

    void add(int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        const Symbol& l = symbols_[static_cast<size_t>(left)];
        const Symbol& r = symbols_[static_cast<size_t>(right)];
        const int rank = vocab_.rank(std::string_view(l.text, l.n), std::string_view(r.text, r.n));
        if (rank < 0) {
            return;
        }
        heap_.push_back({left, right, rank, l.n, r.n});
        std::push_heap(heap_.begin(), heap_.end(), after);
    }

    void emit(std::string_view piece, std::vector<TokenId>& out) const {
        const TokenId id = vocab_.find(piece);
        if (id != kNoToken) {
            out.push_back(id);
            return;
        }
        // Not a token: each byte of the (byte-encoded) text that is a token by itself.
        for (const char c : piece) {
            const TokenId b = vocab_.byte_encode ? vocab_.find(std::string_view(&c, 1))
                                                 : vocab_.byte_token(static_cast<uint8_t>(c));
            if (b != kNoToken) {
                out.push_back(b);
            }
        }
    }

    const Vocab& vocab_;
    std::vector<Symbol> symbols_;
    std::vector<Bigram> heap_;
};

} // namespace

void tokenize_bpe(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
    std::vector<std::string> words;
    vocab.pre_tokenizer->split(text, vocab.byte_encode, words);
    WordMerger merger(vocab);
    for (const std::string& w : words) {
        merger.tokenize(w, out);
    }
}

} // namespace agentd::inference::detail
