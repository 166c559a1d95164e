#include "agentd/base/check.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/grammar.h"

#include "grammar/automaton.h"
#include "grammar/mask_cache.h"

#include <algorithm>
#include <unordered_set>

namespace agentd::inference {
namespace {

// Runtime tables past this many sets are rebuilt around the current position.
constexpr std::size_t kMaxMatcherSets = 20000;

void set_bit(std::span<std::uint32_t> mask, std::int32_t id) {
    mask[static_cast<std::size_t>(id) / 32] |= 1u << (static_cast<std::uint32_t>(id) % 32);
}

} // namespace

std::size_t Grammar::state_count() const {
    return program_->states.size();
}

base::Result<std::shared_ptr<CompiledGrammar>>
CompiledGrammar::create(const Grammar& grammar, std::shared_ptr<const GrammarVocabulary> vocab) {
    if (!vocab || vocab->size() == 0) {
        return base::Error(errc::invalid_argument, "grammar: empty vocabulary");
    }
    auto c = std::shared_ptr<CompiledGrammar>(new CompiledGrammar());
    c->program_ = grammar.shared_program();
    c->vocab_ = std::move(vocab);
    for (const auto& text : c->program_->tokens) {
        c->token_ids_.push_back(c->vocab_->find(text));
    }
    c->cache_ = std::make_unique<grammar::MaskCache>(*c->program_, *c->vocab_);
    return c;
}

CompiledGrammar::~CompiledGrammar() = default;

std::size_t CompiledGrammar::cached_states() const {
    return cache_->entries();
}
std::size_t CompiledGrammar::cache_bytes() const {
    return cache_->bytes();
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<CompiledGrammar> grammar)
    : grammar_(std::move(grammar)),
      tables_(std::make_unique<grammar::Tables>(grammar_->program())) {
    const auto& prog = grammar_->program();
    grammar::Config start{prog.rule_start[static_cast<std::size_t>(prog.root)], 0};
    history_.push_back(tables_->closure(std::span<const grammar::Config>(&start, 1)));
}

GrammarMatcher::GrammarMatcher(GrammarMatcher&&) noexcept = default;
GrammarMatcher& GrammarMatcher::operator=(GrammarMatcher&&) noexcept = default;
GrammarMatcher::~GrammarMatcher() = default;

std::size_t GrammarMatcher::mask_words() const {
    return (static_cast<std::size_t>(grammar_->vocab().size()) + 31) / 32;
}

bool GrammarMatcher::is_complete() const {
    return tables_->set(history_.back()).ended;
}

bool GrammarMatcher::only_end_allowed() const {
    const auto& s = tables_->set(history_.back());
    return s.ended && s.cores.empty();
}

std::int32_t GrammarMatcher::advance_bytes(std::int32_t set, std::string_view bytes) {
    for (char c : bytes) {
        set = tables_->step(set, static_cast<std::uint8_t>(c));
        if (set == grammar::Tables::kDead) {
            break;
        }
    }
    return set;
}

bool GrammarMatcher::allows_for_test(std::int32_t token) {
    if (!accept_token(token)) {
        return false;
    }
    if (terminated_) {
        terminated_ = false;
    } else {
        history_.pop_back();
    }
    return true;
}

bool GrammarMatcher::accept_token(std::int32_t token) {
    const auto& vocab = grammar_->vocab();
    if (terminated_ || token < 0 || token >= vocab.size()) {
        return false;
    }
    std::int32_t cur = history_.back();
    if (vocab.is_eos(token)) {
        if (!tables_->set(cur).ended) {
            return false;
        }
        terminated_ = true;
        return true;
    }
    std::int32_t next = grammar::Tables::kDead;
    const auto& prog = grammar_->program();
    for (std::size_t i = 0; i < prog.tokens.size(); ++i) {
        if (grammar_->token_id(static_cast<std::int32_t>(i)) == token) {
            next = tables_->merge(next, tables_->step_token(cur, static_cast<std::int32_t>(i)));
        }
    }
    const std::string& bytes = vocab.bytes(token);
    if (!vocab.is_special(token) && !bytes.empty()) {
        next = tables_->merge(next, advance_bytes(cur, bytes));
    }
    if (next == grammar::Tables::kDead) {
        return false;
    }
    history_.push_back(next);
    compact_if_large();
    return true;
}

bool GrammarMatcher::accept_text(std::string_view text) {
    if (terminated_) {
        return false;
    }
    std::int32_t next = advance_bytes(history_.back(), text);
    if (next == grammar::Tables::kDead) {
        return false;
    }
    history_.push_back(next);
    compact_if_large();
    return true;
}

bool GrammarMatcher::rollback(std::size_t n) {
    if (n >= history_.size()) {
        return false;
    }
    history_.resize(history_.size() - n);
    terminated_ = false;
    return true;
}

void GrammarMatcher::compact_if_large() {
    if (tables_->set_count() <= kMaxMatcherSets) {
        return;
    }
    auto fresh = std::make_unique<grammar::Tables>(grammar_->program());
    std::int32_t cur = fresh->import(*tables_, history_.back());
    tables_ = std::move(fresh);
    history_.assign(1, cur);
}

void GrammarMatcher::fill_next_token_bitmask(std::span<std::uint32_t> mask) {
    AGENTD_CHECK(mask.size() >= mask_words(), "token mask too small for the vocabulary");
    std::fill(mask.begin(), mask.end(), 0u);
    if (terminated_) {
        return;
    }
    const auto& vocab = grammar_->vocab();
    const auto& trie = vocab.trie();
    const auto& trie_tokens = vocab.trie_tokens();
    const auto& prog = grammar_->program();
    auto& cache = grammar_->cache();
    std::unordered_set<std::int32_t> sets_done;
    std::unordered_set<std::uint64_t> walks_done;
    std::vector<std::pair<std::int32_t, std::int32_t>> walk; // (trie node, set)

    // Tokens below trie node `from` that the continuation `set` accepts.
    auto walk_subtree = [&](std::int32_t from, std::int32_t set) {
        walk.clear();
        walk.emplace_back(from, set);
        while (!walk.empty()) {
            auto [node, s] = walk.back();
            walk.pop_back();
            for (std::int32_t c = node + 1; c < trie[static_cast<std::size_t>(node)].end;
                 c = trie[static_cast<std::size_t>(c)].end) {
                std::int32_t next = tables_->step(s, trie[static_cast<std::size_t>(c)].byte);
                if (next == grammar::Tables::kDead) {
                    continue;
                }
                const auto& n = trie[static_cast<std::size_t>(c)];
                for (std::int32_t k = n.first_token; k < n.last_token; ++k) {
                    set_bit(mask, trie_tokens[static_cast<std::size_t>(k)]);
                }
                if (!tables_->set(next).cores.empty()) {
                    walk.emplace_back(c, next);
                }
            }
        }
    };

    std::vector<std::int32_t> pending{history_.back()};
    while (!pending.empty()) {
        std::int32_t set_id = pending.back();
        pending.pop_back();
        if (!sets_done.insert(set_id).second) {
            continue;
        }
        const grammar::ConfigSet& set = tables_->set(set_id);
        if (set.ended) {
            for (std::int32_t id : vocab.eos()) {
                set_bit(mask, id);
            }
        }
        // Copy: the walks below may grow the tables and move the set's storage.
        std::vector<grammar::Config> cores = set.cores;
        for (const auto& core : cores) {
            const grammar::MaskEntry& e = cache.entry(core.state);
            if (!e.bits.empty()) {
                for (std::size_t w = 0; w < e.bits.size(); ++w) {
                    mask[w] |= e.bits[w];
                }
            }
            for (std::int32_t id : e.ids) {
                set_bit(mask, id);
            }
            const grammar::State& st = prog.states[static_cast<std::size_t>(core.state)];
            for (std::int32_t k = 0; k < st.num_edges; ++k) {
                const grammar::Edge& edge = prog.edges[static_cast<std::size_t>(st.first_edge + k)];
                if (edge.kind == grammar::Edge::Kind::token) {
                    std::int32_t id = grammar_->token_id(edge.arg);
                    if (id >= 0) {
                        set_bit(mask, id);
                    }
                }
            }
            if (e.exits.empty() || core.stack == 0) {
                continue; // at the root, ending the rule ends the grammar: only EOS follows
            }
            std::int32_t parent = tables_->pop(core.stack);
            if (parent == grammar::Tables::kDead) {
                continue;
            }
            for (std::int32_t node : e.exits) {
                if (node == 0) {
                    pending.push_back(
                        parent); // the caller continues from scratch: its cache applies
                    continue;
                }
                auto key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(node)) << 32) |
                           static_cast<std::uint32_t>(parent);
                if (walks_done.insert(key).second) {
                    walk_subtree(node, parent);
                }
            }
        }
    }
    // Bits past the vocabulary must stay clear.
    const auto n = static_cast<std::size_t>(vocab.size());
    if (n % 32 != 0) {
        mask[n / 32] &= (1u << (n % 32)) - 1;
    }
}

} // namespace agentd::inference
