#pragma once
/// The context builder: chooses what goes into a model prompt under a token budget, in an
/// order that keeps the prompt's prefix byte-stable from turn to turn (so the engine's prefix
/// cache keeps hitting):
///
///   1. system prompt, 2. tool catalogue          — always, verbatim, never trimmed
///   3. pinned memories (in the given order)      — up to policy.max_pinned_tokens
///   4. retrieved memories (best first)           — up to policy.max_retrieved_tokens
///   5. rolling summary of older turns            — up to policy.max_summary_tokens
///   6. the most recent turns, verbatim           — as many as fit, newest kept
///
/// The summary only ever grows at its end (SessionStore::append_summary), so appending to it
/// never rewrites what the cache holds. With RetrievedPlacement::before_last_user the
/// retrieved memories move next to the last user turn instead, so a per-turn retrieval does
/// not invalidate the cached summary and older turns.
///
/// Pure function of its inputs: thread-safe, allocates only its result. Errors:
/// budget_exceeded when the system prompt, tool catalogue and policy.min_recent_turns newest
/// turns do not fit; invalid_argument for an inconsistent policy.

#include "agentd/base/result.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::memory {

enum class RetrievedPlacement { before_summary, before_last_user };

/// Per-agent policy (from the agent's config).
struct ContextPolicy {
    std::size_t budget_tokens = 4096; // prompt budget (context window minus the reply's)
    std::size_t max_pinned_tokens = 512;
    std::size_t max_retrieved_tokens = 1024;
    std::size_t max_summary_tokens = 512;
    std::size_t min_recent_turns = 1; // kept even when memories must give way
    std::size_t max_recent_turns = 64;
    std::size_t per_segment_overhead = 4; // tokens the chat template adds per message
    RetrievedPlacement retrieved_placement = RetrievedPlacement::before_summary;
};

struct ContextTurn {
    std::int64_t seq = 0;
    std::string role; // "user", "assistant", "tool", ...
    std::string content;
    std::size_t tokens = 0; // 0 → counted with the TokenCounter
};

struct ContextMemory {
    std::int64_t id = 0;
    std::string text;
};

struct ContextInputs {
    std::string system_prompt;
    std::string tool_catalogue;
    std::vector<ContextMemory> pinned;
    std::vector<ContextMemory> retrieved; // best first
    std::string summary;                  // covers turns with seq <= summary_through
    std::int64_t summary_through = 0;
    std::vector<ContextTurn> turns; // oldest first; those <= summary_through are skipped
};

enum class SegmentKind { system, tools, pinned_memory, retrieved_memory, summary, turn };

struct ContextSegment {
    SegmentKind kind = SegmentKind::turn;
    std::string role; // "system" for everything but turns
    std::string text;
    std::size_t tokens = 0;     // including per_segment_overhead
    std::int64_t source_id = 0; // memory id or turn seq
};

struct BuiltContext {
    std::vector<ContextSegment> segments; // in prompt order
    std::size_t total_tokens = 0;
    std::size_t dropped_pinned = 0;
    std::size_t dropped_retrieved = 0;
    bool summary_trimmed = false; // older summary paragraphs left out: compact the summary
    /// Turns after the summary that were left out: seq of the newest one (0 when none). The
    /// runtime should summarize turns up to here and append_summary(..., through = this).
    std::int64_t summarize_through = 0;
};

/// Counts the tokens of a text for the agent's model.
using TokenCounter = std::function<std::size_t(std::string_view)>;

[[nodiscard]] base::Result<BuiltContext> build_context(const ContextPolicy& policy,
                                                       const ContextInputs& in,
                                                       const TokenCounter& count_tokens);

} // namespace agentd::memory
