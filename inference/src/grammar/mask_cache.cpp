#include "grammar/mask_cache.h"

namespace agentd::inference::grammar {
namespace {

// The cache's own automaton tables only speed up entry construction; past this many sets they
// are dropped between entries (the entries themselves do not refer to them).
constexpr std::size_t kMaxCacheSets = 40000;

} // namespace

MaskCache::MaskCache(const Program& program, const GrammarVocabulary& vocab)
    : program_(program), vocab_(vocab), tables_(std::make_unique<Tables>(program)),
      entries_(program.states.size()) {}

const MaskEntry& MaskCache::entry(StateId s) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = entries_[static_cast<std::size_t>(s)];
    if (!slot) {
        slot = std::make_unique<MaskEntry>(build(s));
        ++built_;
        bytes_ += slot->bits.size() * 4 + slot->ids.size() * 4 + slot->exits.size() * 4;
        if (tables_->set_count() > kMaxCacheSets) {
            tables_ = std::make_unique<Tables>(program_);
        }
    }
    return *slot;
}

std::size_t MaskCache::entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return built_;
}

std::size_t MaskCache::bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bytes_;
}

MaskEntry MaskCache::build(StateId s) {
    MaskEntry e;
    const auto& trie = vocab_.trie();
    const auto& tokens = vocab_.trie_tokens();
    Config start{s, 0};
    std::int32_t s0 = tables_->closure(std::span<const Config>(&start, 1));
    if (tables_->set(s0).ended) {
        e.exits.push_back(0);
    }
    struct Item {
        std::int32_t node;
        std::int32_t set;
    };
    std::vector<Item> stack;
    auto push_children = [&](std::int32_t node, std::int32_t set) {
        for (std::int32_t c = node + 1; c < trie[static_cast<std::size_t>(node)].end;
             c = trie[static_cast<std::size_t>(c)].end) {
            std::int32_t next = tables_->step(set, trie[static_cast<std::size_t>(c)].byte);
            if (next != Tables::kDead) {
                stack.push_back(Item{c, next});
            }
        }
    };
    if (!tables_->set(s0).cores.empty()) {
        push_children(0, s0);
    }
    while (!stack.empty()) {
        Item it = stack.back();
        stack.pop_back();
        const auto& node = trie[static_cast<std::size_t>(it.node)];
        for (std::int32_t k = node.first_token; k < node.last_token; ++k) {
            e.ids.push_back(tokens[static_cast<std::size_t>(k)]);
        }
        const ConfigSet& set = tables_->set(it.set);
        if (set.ended) {
            e.exits.push_back(it.node);
        }
        if (!set.cores.empty()) {
            push_children(it.node, it.set);
        }
    }
    // A bitmask when that is smaller than the list.
    const auto words = (static_cast<std::size_t>(vocab_.size()) + 31) / 32;
    if (e.ids.size() > words) {
        e.bits.assign(words, 0);
        for (std::int32_t id : e.ids) {
            e.bits[static_cast<std::size_t>(id) / 32] |= 1u
                                                         << (static_cast<std::uint32_t>(id) % 32);
        }
        e.ids.clear();
        e.ids.shrink_to_fit();
    }
    return e;
}

} // namespace agentd::inference::grammar
