#pragma once
// Configuration sets of the grammar automaton, interned and with memoised transitions (a DFA
// built lazily over the pushdown automaton).
//
// A configuration is (state, stack): an NFA state of some rule plus the stack of return states
// below it. Stacks are interned as linked nodes (node 0 is the empty stack), and sets of
// configurations are interned too, so equal sets share one id and `step(set, byte)` is computed
// once per (set, byte). Only "core" configurations (states with byte or token edges) are kept;
// `ended` records that the root rule (or, for a cache table, the rule under construction) can
// be complete at this point.

#include "grammar/program.h"

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace agentd::inference::grammar {

struct Config {
    StateId state;
    std::int32_t stack;
    friend bool operator==(const Config& a, const Config& b) {
        return a.state == b.state && a.stack == b.stack;
    }
    friend bool operator<(const Config& a, const Config& b) {
        return a.state < b.state || (a.state == b.state && a.stack < b.stack);
    }
};

struct StackNode {
    StateId ret;
    std::int32_t parent;
};

struct ConfigSet {
    std::vector<Config> cores;
    bool ended = false;
    std::unique_ptr<std::array<std::int32_t, 256>> next; // memoised byte transitions
};

class Tables {
public:
    static constexpr std::int32_t kDead = 0; ///< the empty set: nothing can follow

    explicit Tables(const Program& program);

    /// The set reached from `seeds` (any states) by following calls and returns.
    std::int32_t closure(std::span<const Config> seeds);
    /// The set after consuming `byte` (memoised).
    std::int32_t step(std::int32_t set, std::uint8_t byte);
    /// The set after a special token (program token index).
    std::int32_t step_token(std::int32_t set, std::int32_t token_index);
    /// Union of two sets.
    std::int32_t merge(std::int32_t a, std::int32_t b);
    /// The configurations after returning from the frame on top of `stack`.
    std::int32_t pop(std::int32_t stack);
    std::int32_t push(std::int32_t parent, StateId ret);

    [[nodiscard]] const ConfigSet& set(std::int32_t id) const {
        return sets_[static_cast<std::size_t>(id)];
    }
    [[nodiscard]] const StackNode& stack(std::int32_t id) const {
        return stacks_[static_cast<std::size_t>(id)];
    }
    [[nodiscard]] std::size_t set_count() const { return sets_.size(); }
    [[nodiscard]] std::size_t stack_count() const { return stacks_.size(); }
    [[nodiscard]] const Program& program() const { return prog_; }

    /// Copies `set` of `other` (and the stacks it uses) into this table; returns its id here.
    std::int32_t import(const Tables& other, std::int32_t set);

private:
    std::int32_t intern(std::vector<Config> cores, bool ended);

    struct VecHash {
        std::size_t operator()(const std::vector<Config>& v) const noexcept;
    };

    const Program& prog_;
    std::vector<StackNode> stacks_;
    std::unordered_map<std::uint64_t, std::int32_t> stack_index_;
    std::vector<ConfigSet> sets_;
    std::unordered_map<std::vector<Config>, std::int32_t, VecHash> set_index_[2]; // by ended
    // closure scratch
    std::vector<Config> work_;
    std::unordered_set<std::uint64_t> seen_;
};

} // namespace agentd::inference::grammar
