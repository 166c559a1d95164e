#pragma once
// The token-mask cache of a CompiledGrammar. For an automaton state s, a walk over the token
// trie starting from s alone (with an empty stack that stands for "whatever called this rule")
// finds:
//   - the tokens accepted while staying inside the rule (or its callees): accepted whatever the
//     stack below is, so they are cached once per state;
//   - the trie nodes where the rule can end ("exits"): tokens below such a node continue in the
//     caller, so the matcher finishes them at run time with the actual stack.
// Shared by all matchers of the grammar; building an entry takes the mutex.

#include "agentd/inference/grammar.h"

#include "grammar/automaton.h"

#include <memory>
#include <mutex>
#include <vector>

namespace agentd::inference::grammar {

struct MaskEntry {
    std::vector<std::uint32_t> bits; ///< accepted tokens as a bitmask (dense case), or
    std::vector<std::int32_t> ids;   ///< accepted tokens as a list (sparse case)
    std::vector<std::int32_t> exits; ///< trie nodes where the rule may end (0: before any byte)
};

class MaskCache {
public:
    MaskCache(const Program& program, const GrammarVocabulary& vocab);

    /// The entry for state `s`, built on first use. The reference stays valid for the cache's
    /// lifetime.
    const MaskEntry& entry(StateId s);

    [[nodiscard]] std::size_t entries() const;
    [[nodiscard]] std::size_t bytes() const;

private:
    MaskEntry build(StateId s);

    const Program& program_;
    const GrammarVocabulary& vocab_;
    mutable std::mutex mutex_;
    std::unique_ptr<Tables> tables_;
    std::vector<std::unique_ptr<MaskEntry>> entries_;
    std::size_t built_ = 0;
    std::size_t bytes_ = 0;
};

} // namespace agentd::inference::grammar
