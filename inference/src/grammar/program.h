#pragma once
// A grammar compiled to a recursive transition network: one epsilon-free NFA per rule over
// bytes, with call edges into other rules and token edges for special tokens. Rules that are
// not recursive are mostly inlined into their callers, so calls remain only where a rule is
// recursive or deliberately shared (its states, and the token masks cached for them, are then
// shared by every use).

#include "agentd/base/result.h"

#include "grammar/expr.h"

#include <cstdint>
#include <string>
#include <vector>

namespace agentd::inference::grammar {

using StateId = std::int32_t;

struct Edge {
    enum class Kind : std::uint8_t { byte, call, token };
    Kind kind = Kind::byte;
    std::uint8_t lo = 0;
    std::uint8_t hi = 0;
    StateId target = -1;   ///< next state (for a call: the return state in the caller)
    std::int32_t arg = -1; ///< call: callee rule; token: index into Program::tokens
};

struct State {
    std::int32_t first_edge = 0;
    std::int32_t num_edges = 0;
    bool accepting = false;       ///< the rule may end here
    bool has_input_edges = false; ///< has byte or token edges (a "core" state)
    RuleId rule = -1;
};

struct Program {
    std::vector<State> states;
    std::vector<Edge> edges;
    std::vector<StateId> rule_start; ///< per rule; -1 for rules that were inlined everywhere
    std::vector<std::string> rule_names;
    std::vector<std::string> tokens; ///< special-token texts referenced by token edges
    RuleId root = -1;

    [[nodiscard]] std::size_t memory_bytes() const {
        return states.size() * sizeof(State) + edges.size() * sizeof(Edge);
    }
};

struct CompileLimits {
    std::size_t max_states = 400000;
    std::int32_t max_repeat = 4096; ///< largest finite repetition bound
};

/// Compiles the builder's grammar (from `b.root`). Errors: errc::invalid_schema naming the
/// problem (undefined rule, left recursion, empty language, size limits).
[[nodiscard]] base::Result<Program> compile(const Builder& b, const CompileLimits& limits = {});

} // namespace agentd::inference::grammar
