#include "agentd/memory/context_builder.h"

#include "agentd/memory/errc.h"

#include <algorithm>

namespace agentd::memory {
namespace {

struct Sized {
    const ContextTurn* turn;
    std::size_t tokens;
};

/// The longest suffix of the summary's paragraphs ("\n\n"-separated) that fits in `limit`.
ContextSegment fit_summary(const std::string& summary, std::size_t limit, std::size_t overhead,
                           const TokenCounter& count, bool& trimmed) {
    ContextSegment seg{SegmentKind::summary, "system", summary, 0, 0};
    seg.tokens = count(summary) + overhead;
    trimmed = false;
    if (seg.tokens <= limit) {
        return seg;
    }
    trimmed = true;
    std::size_t start = summary.size();
    ContextSegment best{SegmentKind::summary, "system", "", 0, 0};
    while (start > 0) {
        const std::size_t sep = summary.rfind("\n\n", start - 1);
        const std::size_t from = sep == std::string::npos ? 0 : sep + 2;
        std::string candidate = summary.substr(from);
        const std::size_t tokens = count(candidate) + overhead;
        if (tokens > limit) {
            break;
        }
        best.text = std::move(candidate);
        best.tokens = tokens;
        if (sep == std::string::npos) {
            break;
        }
        start = sep;
    }
    return best;
}

} // namespace

base::Result<BuiltContext> build_context(const ContextPolicy& policy, const ContextInputs& in,
                                         const TokenCounter& count_tokens) {
    if (!count_tokens) {
        return base::fail(errc::invalid_argument, "context: no token counter");
    }
    if (policy.max_recent_turns < policy.min_recent_turns) {
        return base::fail(errc::invalid_argument,
                          "context policy: max_recent_turns < min_recent_turns");
    }
    const std::size_t overhead = policy.per_segment_overhead;
    auto tokens_of = [&](std::string_view text) { return count_tokens(text) + overhead; };

    BuiltContext out;
    std::vector<ContextSegment> head;
    if (!in.system_prompt.empty()) {
        head.push_back(
            {SegmentKind::system, "system", in.system_prompt, tokens_of(in.system_prompt), 0});
    }
    if (!in.tool_catalogue.empty()) {
        head.push_back(
            {SegmentKind::tools, "system", in.tool_catalogue, tokens_of(in.tool_catalogue), 0});
    }
    std::size_t fixed = 0;
    for (const auto& s : head) {
        fixed += s.tokens;
    }

    std::vector<Sized> turns; // eligible: after the summary, oldest first
    for (const auto& t : in.turns) {
        if (t.seq > in.summary_through) {
            turns.push_back({&t, (t.tokens != 0 ? t.tokens : count_tokens(t.content)) + overhead});
        }
    }
    const std::size_t must = std::min(policy.min_recent_turns, turns.size());
    std::size_t must_tokens = 0;
    for (std::size_t i = turns.size() - must; i < turns.size(); ++i) {
        must_tokens += turns[i].tokens;
    }
    if (fixed + must_tokens > policy.budget_tokens) {
        return base::fail(errc::budget_exceeded,
                          "context: system prompt, tools and the last " + std::to_string(must) +
                              " turn(s) need " + std::to_string(fixed + must_tokens) +
                              " tokens; the budget is " + std::to_string(policy.budget_tokens));
    }
    std::size_t remaining = policy.budget_tokens - fixed - must_tokens;

    // Pinned memories: a prefix of the list, so what is cached stays put.
    std::vector<ContextSegment> pinned;
    std::size_t used = 0;
    for (const auto& m : in.pinned) {
        const std::size_t t = tokens_of(m.text);
        if (used + t > std::min(policy.max_pinned_tokens, remaining)) {
            break;
        }
        used += t;
        pinned.push_back({SegmentKind::pinned_memory, "system", m.text, t, m.id});
    }
    out.dropped_pinned = in.pinned.size() - pinned.size();
    remaining -= used;

    std::vector<ContextSegment> summary;
    if (!in.summary.empty()) {
        auto seg = fit_summary(in.summary, std::min(policy.max_summary_tokens, remaining), overhead,
                               count_tokens, out.summary_trimmed);
        if (!seg.text.empty()) {
            remaining -= seg.tokens;
            summary.push_back(std::move(seg));
        }
    }

    // Retrieved memories: best first; one that does not fit is skipped, smaller ones may.
    std::vector<ContextSegment> retrieved;
    used = 0;
    for (const auto& m : in.retrieved) {
        const std::size_t t = tokens_of(m.text);
        if (used + t <= std::min(policy.max_retrieved_tokens, remaining)) {
            used += t;
            retrieved.push_back({SegmentKind::retrieved_memory, "system", m.text, t, m.id});
        }
    }
    out.dropped_retrieved = in.retrieved.size() - retrieved.size();
    remaining -= used;

    // Older turns, newest first, while they fit.
    std::size_t first = turns.size() - must;
    while (first > 0 && turns.size() - first < policy.max_recent_turns &&
           turns[first - 1].tokens <= remaining) {
        --first;
        remaining -= turns[first].tokens;
    }
    // A tool result without the call that asked for it confuses models: drop it too.
    while (first < turns.size() - must && turns[first].turn->role == "tool") {
        remaining += turns[first].tokens;
        ++first;
    }
    if (first > 0) {
        out.summarize_through = turns[first - 1].turn->seq;
    }

    std::vector<ContextSegment> window;
    for (std::size_t i = first; i < turns.size(); ++i) {
        window.push_back({SegmentKind::turn, turns[i].turn->role, turns[i].turn->content,
                          turns[i].tokens, turns[i].turn->seq});
    }

    auto append = [&](std::vector<ContextSegment>& from) {
        for (auto& s : from) {
            out.total_tokens += s.tokens;
            out.segments.push_back(std::move(s));
        }
    };
    append(head);
    append(pinned);
    if (policy.retrieved_placement == RetrievedPlacement::before_summary) {
        append(retrieved);
        append(summary);
        append(window);
    } else {
        append(summary);
        auto last_user = std::find_if(window.rbegin(), window.rend(),
                                      [](const ContextSegment& s) { return s.role == "user"; });
        const auto split = last_user == window.rend()
                               ? window.begin()
                               : std::prev(last_user.base()); // at the last user turn
        std::vector<ContextSegment> before(std::make_move_iterator(window.begin()),
                                           std::make_move_iterator(split));
        std::vector<ContextSegment> after(std::make_move_iterator(split),
                                          std::make_move_iterator(window.end()));
        append(before);
        append(retrieved);
        append(after);
    }
    return out;
}

} // namespace agentd::memory
