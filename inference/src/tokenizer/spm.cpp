// SentencePiece-style BPE: start from UTF-8 characters and repeatedly merge the adjacent pair
// whose concatenation is the highest-scoring token (ties: leftmost first); pieces that are not
// tokens fall back to byte tokens.

#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

#include <algorithm>
#include <queue>

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
    float score;
    size_t size;
};

// Highest score first; on equal scores the leftmost pair first.
struct BigramOrder {
    bool operator()(const Bigram& l, const Bigram& r) const {
        return l.score < r.score || (l.score == r.score && l.left > r.left);
    }
};

// Tokenizes one chunk: the whole text, or a piece of it no token can cross.
void tokenize_chunk(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
    std::vector<Symbol> symbols;
    symbols.reserve(text.size());
    for (size_t off = 0; off < text.size();) {
        const size_t n = std::min(utf8_len(text[off]), text.size() - off);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back(
            {index - 1, off + n == text.size() ? -1 : index + 1, text.data() + off, n});
        off += n;
    }
    if (symbols.empty()) {
        return;
    }
    std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
    const auto try_add = [&](int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        const Symbol& l = symbols[static_cast<size_t>(left)];
        const Symbol& r = symbols[static_cast<size_t>(right)];
        const std::string_view joined(l.text, l.n + r.n);
        const TokenId id = vocab.find(joined);
        if (id == kNoToken) {
            return;
        }
        queue.push({left, right, vocab.scores[static_cast<size_t>(id)], joined.size()});
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) {
        try_add(i - 1, i);
    }
    while (!queue.empty()) {
        const Bigram b = queue.top();
        queue.pop();
        Symbol& l = symbols[static_cast<size_t>(b.left)];
        Symbol& r = symbols[static_cast<size_t>(b.right)];
        if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) {
            continue; // one side was merged since this pair was queued
        }
        l.n += r.n;
        r.n = 0;
        l.next = r.next;
        if (r.next >= 0) {
            symbols[static_cast<size_t>(r.next)].prev = b.left;
        }
        try_add(l.prev, b.left);
        try_add(b.left, l.next);
    }
    for (int i = 0; i != -1; i = symbols[static_cast<size_t>(i)].next) {
        const Symbol& s = symbols[static_cast<size_t>(i)];
        const TokenId id = vocab.find(std::string_view(s.text, s.n));
        if (id != kNoToken) {
            out.push_back(id);
            continue;
        }
        // Not a token: its bytes. (A vocabulary without byte tokens gets the unknown token.)
        for (size_t k = 0; k < s.n; ++k) {
            const TokenId b = vocab.byte_token(static_cast<uint8_t>(s.text[k]));
            if (b != kNoToken) {
                out.push_back(b);
            } else if (vocab.unk != kNoToken) {
                out.push_back(vocab.unk);
            }
        }
    }
}

} // namespace

// Merges never create a symbol that is not a token, so where no token can span a position the
// text splits into chunks that tokenize independently with the same result: each chunk's
// merges happen in the same relative order as in one run over the whole text. Small chunks keep
// the priority queue small, which is what makes long texts fast.
void tokenize_spm(const Vocab& vocab, std::string_view text, std::vector<TokenId>& out) {
    constexpr size_t kMinChunk = 1024;
    size_t start = 0;
    size_t pos = 0; // walks symbol boundaries, exactly as the chunk tokenizer splits symbols
    while (pos < text.size()) {
        const size_t next = pos + std::min(utf8_len(text[pos]), text.size() - pos);
        if (pos - start >= kMinChunk && next < text.size() &&
            !vocab.inner_pair(static_cast<uint8_t>(text[pos - 1]),
                              static_cast<uint8_t>(text[pos]))) {
            tokenize_chunk(vocab, text.substr(start, pos - start), out);
            start = pos;
        }
        pos = next;
    }
    tokenize_chunk(vocab, text.substr(start), out);
}

} // namespace agentd::inference::detail
