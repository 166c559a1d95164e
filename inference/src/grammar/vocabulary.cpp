#include "agentd/inference/grammar.h"
#include "agentd/inference/tokenizer.h"

#include <algorithm>
#include <numeric>

namespace agentd::inference {
namespace {

// Tokens longer than this never match a grammar: keeps the trie (and its walks) bounded for
// odd vocabularies.
constexpr std::size_t kMaxTokenBytes = 1024;

} // namespace

std::shared_ptr<const GrammarVocabulary>
GrammarVocabulary::build(std::vector<std::string> token_bytes, std::vector<bool> special,
                         std::vector<std::int32_t> eos) {
    auto v = std::make_shared<GrammarVocabulary>();
    const std::size_t n = token_bytes.size();
    special.resize(n, false);
    v->token_bytes_ = std::move(token_bytes);
    v->special_ = std::move(special);
    for (std::int32_t id : eos) {
        if (id >= 0 && static_cast<std::size_t>(id) < n) {
            v->eos_.push_back(id);
        }
    }
    std::sort(v->eos_.begin(), v->eos_.end());
    v->eos_.erase(std::unique(v->eos_.begin(), v->eos_.end()), v->eos_.end());

    std::vector<std::int32_t> ids;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& b = v->token_bytes_[i];
        auto id = static_cast<std::int32_t>(i);
        if (!b.empty() && b.size() <= kMaxTokenBytes && !v->special_[i] && !v->is_eos(id)) {
            ids.push_back(id);
        }
    }
    std::sort(ids.begin(), ids.end(), [&](std::int32_t a, std::int32_t b) {
        const auto& x = v->token_bytes_[static_cast<std::size_t>(a)];
        const auto& y = v->token_bytes_[static_cast<std::size_t>(b)];
        return x < y || (x == y && a < b);
    });
    // Preorder construction with an explicit stack of (range of sorted ids, depth, node).
    struct Frame {
        std::size_t lo;
        std::size_t hi;
        std::size_t depth;
        std::int32_t node;
        std::size_t next; // next id index whose child is still to be created
    };
    auto byte_at = [&](std::size_t k, std::size_t depth) {
        return static_cast<std::uint8_t>(v->token_bytes_[static_cast<std::size_t>(ids[k])][depth]);
    };
    auto open = [&](std::size_t lo, std::size_t hi, std::size_t depth, std::uint8_t byte) {
        TrieNode node;
        node.byte = byte;
        node.first_token = static_cast<std::int32_t>(v->trie_tokens_.size());
        std::size_t k = lo;
        while (k < hi && v->token_bytes_[static_cast<std::size_t>(ids[k])].size() == depth) {
            v->trie_tokens_.push_back(ids[k]);
            ++k;
        }
        node.last_token = static_cast<std::int32_t>(v->trie_tokens_.size());
        v->trie_.push_back(node);
        return Frame{lo, hi, depth, static_cast<std::int32_t>(v->trie_.size() - 1), k};
    };
    std::vector<Frame> stack{open(0, ids.size(), 0, 0)};
    while (!stack.empty()) {
        Frame& f = stack.back();
        if (f.next >= f.hi) {
            v->trie_[static_cast<std::size_t>(f.node)].end =
                static_cast<std::int32_t>(v->trie_.size());
            stack.pop_back();
            continue;
        }
        std::uint8_t b = byte_at(f.next, f.depth);
        std::size_t end = f.next;
        while (end < f.hi && byte_at(end, f.depth) == b) {
            ++end;
        }
        std::size_t lo = f.next;
        std::size_t depth = f.depth + 1;
        f.next = end;
        stack.push_back(open(lo, end, depth, b)); // may invalidate f
    }
    return v;
}

std::shared_ptr<const GrammarVocabulary> GrammarVocabulary::from_tokenizer(const Tokenizer& tok) {
    const auto n = static_cast<std::int32_t>(tok.vocab_size());
    std::vector<std::string> bytes(static_cast<std::size_t>(n));
    std::vector<bool> special(static_cast<std::size_t>(n), false);
    std::vector<std::int32_t> eos;
    constexpr std::uint32_t kNotText =
        token_attr::control | token_attr::unknown | token_attr::unused;
    for (std::int32_t id = 0; id < n; ++id) {
        bool is_special = (tok.attributes(id) & kNotText) != 0;
        special[static_cast<std::size_t>(id)] = is_special;
        bytes[static_cast<std::size_t>(id)] = std::string(tok.piece(id, is_special));
        if (tok.is_eog(id)) {
            eos.push_back(id);
        }
    }
    return build(std::move(bytes), std::move(special), std::move(eos));
}

bool GrammarVocabulary::is_eos(std::int32_t id) const {
    return std::binary_search(eos_.begin(), eos_.end(), id);
}

std::int32_t GrammarVocabulary::find(std::string_view text) const {
    std::int32_t plain = -1;
    for (std::size_t i = 0; i < token_bytes_.size(); ++i) {
        if (token_bytes_[i] == text) {
            if (special_[i]) {
                return static_cast<std::int32_t>(i);
            }
            if (plain < 0) {
                plain = static_cast<std::int32_t>(i);
            }
        }
    }
    return plain;
}

} // namespace agentd::inference
