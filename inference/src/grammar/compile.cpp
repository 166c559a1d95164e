// Grammar expressions -> per-rule epsilon-free NFAs (see program.h).

#include "agentd/inference/errc.h"

#include "grammar/program.h"
#include "grammar/utf8_ranges.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>

namespace agentd::inference::grammar {
namespace {

// Unwinds the recursive construction to compile(); never leaves this file.
struct CompileError {
    std::string message;
};

constexpr int kMaxInlineDepth = 64;
constexpr std::size_t kInlineSize = 24;

struct LEdge {
    Edge::Kind kind;
    std::uint8_t lo;
    std::uint8_t hi;
    int target;
    std::int32_t arg;
};

struct LState {
    std::vector<LEdge> edges;
    std::vector<int> eps;
};

class Compiler {
public:
    Compiler(const Builder& b, const CompileLimits& limits) : b_(b), limits_(limits) {}

    Program run() {
        if (b_.root < 0) {
            throw CompileError{"the grammar has no root rule"};
        }
        analyse();
        prog_.rule_start.assign(b_.rules().size(), -1);
        for (const auto& r : b_.rules()) {
            prog_.rule_names.push_back(r.name);
        }
        prog_.root = b_.root;
        queue_.push_back(b_.root);
        queued_.insert(b_.root);
        while (!queue_.empty()) {
            RuleId r = queue_.front();
            queue_.pop_front();
            compile_rule(r);
        }
        trim();
        check_left_recursion();
        return std::move(prog_);
    }

private:
    // ---- analysis: recursion and inlining decisions ---------------------------------------
    void collect_refs(ExprId e, std::vector<RuleId>& out, std::vector<bool>& seen) const {
        if (seen[static_cast<std::size_t>(e)]) {
            return;
        }
        seen[static_cast<std::size_t>(e)] = true;
        const Expr& x = b_.expr(e);
        if (x.kind == ExprKind::ref) {
            out.push_back(x.rule);
        }
        for (ExprId c : x.children) {
            collect_refs(c, out, seen);
        }
    }

    std::size_t expr_size(ExprId e, int depth) const {
        if (depth > 8) {
            return kInlineSize + 1;
        }
        const Expr& x = b_.expr(e);
        std::size_t n = 1;
        if (x.kind == ExprKind::bytes) {
            n = x.text.size();
        } else if (x.kind == ExprKind::chars) {
            n = 2 + x.set.ranges.size();
        } else if (x.kind == ExprKind::repeat) {
            std::size_t copies = x.max < 0 ? static_cast<std::size_t>(x.min) + 1
                                           : static_cast<std::size_t>(std::max(x.max, 1));
            n = copies * expr_size(x.children[0], depth + 1);
        }
        for (ExprId c : x.children) {
            if (x.kind != ExprKind::repeat) {
                n += expr_size(c, depth + 1);
            }
        }
        return std::min<std::size_t>(n, 1u << 20);
    }

    void analyse() {
        const auto n = b_.rules().size();
        refs_.assign(n, {});
        for (std::size_t r = 0; r < n; ++r) {
            const Rule& rule = b_.rules()[r];
            if (rule.body < 0) {
                continue;
            }
            std::vector<bool> seen(b_.expr_count(), false);
            collect_refs(rule.body, refs_[r], seen);
            for (RuleId callee : refs_[r]) {
                if (callee < 0 || static_cast<std::size_t>(callee) >= n ||
                    b_.rules()[static_cast<std::size_t>(callee)].body < 0) {
                    throw CompileError{
                        "rule '" + rule.name + "' refers to an undefined rule" +
                        (callee >= 0 && static_cast<std::size_t>(callee) < n
                             ? " '" + b_.rules()[static_cast<std::size_t>(callee)].name + "'"
                             : std::string())};
                }
            }
        }
        // A rule is recursive when it can reach itself through references.
        recursive_.assign(n, false);
        for (std::size_t r = 0; r < n; ++r) {
            std::vector<bool> seen(n, false);
            std::vector<RuleId> stack(refs_[r].begin(), refs_[r].end());
            while (!stack.empty()) {
                RuleId x = stack.back();
                stack.pop_back();
                if (static_cast<std::size_t>(x) == r) {
                    recursive_[r] = true;
                    break;
                }
                if (seen[static_cast<std::size_t>(x)]) {
                    continue;
                }
                seen[static_cast<std::size_t>(x)] = true;
                for (RuleId y : refs_[static_cast<std::size_t>(x)]) {
                    stack.push_back(y);
                }
            }
        }
        std::vector<int> uses(n, 0);
        for (std::size_t r = 0; r < n; ++r) {
            for (RuleId c : refs_[r]) {
                ++uses[static_cast<std::size_t>(c)];
            }
        }
        inline_.assign(n, false);
        for (std::size_t r = 0; r < n; ++r) {
            const Rule& rule = b_.rules()[r];
            if (rule.body < 0 || recursive_[r] || static_cast<RuleId>(r) == b_.root ||
                rule.inline_hint == Inline::never) {
                continue;
            }
            inline_[r] = uses[r] <= 1 || expr_size(rule.body, 0) <= kInlineSize;
        }
    }

    // ---- Thompson construction into the current rule's local NFA --------------------------
    int new_state() {
        if (ls_.size() + prog_.states.size() >= limits_.max_states) {
            throw CompileError{"the grammar needs more than " + std::to_string(limits_.max_states) +
                               " automaton states"};
        }
        ls_.emplace_back();
        return static_cast<int>(ls_.size() - 1);
    }

    void edge(int from, Edge::Kind kind, std::uint8_t lo, std::uint8_t hi, int to,
              std::int32_t arg) {
        ls_[static_cast<std::size_t>(from)].edges.push_back(LEdge{kind, lo, hi, to, arg});
    }

    void eps(int from, int to) { ls_[static_cast<std::size_t>(from)].eps.push_back(to); }

    void build_chars(const CodePointSet& set, int from, int to) {
        // Share the tails: "k more continuation bytes in these ranges, then `to`".
        std::map<ByteRangeSeq, int> tails;
        for (const auto& seq : utf8_sequences(set)) {
            int cur = from;
            for (std::size_t i = 0; i < seq.size(); ++i) {
                if (i + 1 == seq.size()) {
                    edge(cur, Edge::Kind::byte, seq[i].first, seq[i].second, to, -1);
                    break;
                }
                ByteRangeSeq rest(seq.begin() + static_cast<std::ptrdiff_t>(i) + 1, seq.end());
                auto it = tails.find(rest);
                if (it != tails.end()) {
                    edge(cur, Edge::Kind::byte, seq[i].first, seq[i].second, it->second, -1);
                    break;
                }
                int next = new_state();
                tails.emplace(std::move(rest), next);
                edge(cur, Edge::Kind::byte, seq[i].first, seq[i].second, next, -1);
                cur = next;
            }
        }
    }

    std::int32_t token_index(const std::string& text) {
        auto it = std::find(prog_.tokens.begin(), prog_.tokens.end(), text);
        if (it != prog_.tokens.end()) {
            return static_cast<std::int32_t>(it - prog_.tokens.begin());
        }
        prog_.tokens.push_back(text);
        return static_cast<std::int32_t>(prog_.tokens.size() - 1);
    }

    void build(ExprId id, int from, int to, int depth) {
        const Expr& x = b_.expr(id);
        switch (x.kind) {
        case ExprKind::empty:
            eps(from, to);
            return;
        case ExprKind::bytes: {
            int cur = from;
            for (std::size_t i = 0; i < x.text.size(); ++i) {
                int next = i + 1 == x.text.size() ? to : new_state();
                auto c = static_cast<std::uint8_t>(x.text[i]);
                edge(cur, Edge::Kind::byte, c, c, next, -1);
                cur = next;
            }
            return;
        }
        case ExprKind::chars:
            build_chars(x.set, from, to);
            return;
        case ExprKind::byte_set:
            for (auto [lo, hi] : x.byte_ranges) {
                edge(from, Edge::Kind::byte, lo, hi, to, -1);
            }
            return;
        case ExprKind::seq: {
            int cur = from;
            for (std::size_t i = 0; i < x.children.size(); ++i) {
                int next = i + 1 == x.children.size() ? to : new_state();
                build(x.children[i], cur, next, depth);
                cur = next;
            }
            return;
        }
        case ExprKind::alt:
            for (ExprId c : x.children) {
                // A fresh entry per alternative keeps their loops apart.
                int entry = new_state();
                eps(from, entry);
                build(c, entry, to, depth);
            }
            return;
        case ExprKind::repeat:
            build_repeat(x, from, to, depth);
            return;
        case ExprKind::ref:
            if (inline_[static_cast<std::size_t>(x.rule)] && depth < kMaxInlineDepth) {
                build(b_.rules()[static_cast<std::size_t>(x.rule)].body, from, to, depth + 1);
                return;
            }
            edge(from, Edge::Kind::call, 0, 0, to, x.rule);
            if (queued_.insert(x.rule).second) {
                queue_.push_back(x.rule);
            }
            return;
        case ExprKind::token:
            edge(from, Edge::Kind::token, 0, 0, to, token_index(x.text));
            return;
        case ExprKind::until:
            build_until(x.text, from, to);
            return;
        }
    }

    // Text without `term` (ASCII): the KMP automaton over code points, every state accepting.
    // State i means "the last i characters are term's first i"; reaching term.size() is not
    // allowed. Non-ASCII characters reset to state 0.
    void build_until(const std::string& term, int from, int to) {
        if (term.empty() || !std::all_of(term.begin(), term.end(), [](char c) {
                return static_cast<unsigned char>(c) < 0x80;
            })) {
            throw CompileError{"an 'until' terminator must be non-empty ASCII"};
        }
        const std::size_t k = term.size();
        std::vector<int> q(k);
        for (std::size_t i = 0; i < k; ++i) {
            q[i] = new_state();
        }
        eps(from, q[0]);
        // KMP failure function.
        std::vector<std::size_t> fail(k + 1, 0);
        for (std::size_t i = 1, j = 0; i < k; ++i) {
            while (j > 0 && term[i] != term[j]) {
                j = fail[j];
            }
            if (term[i] == term[j]) {
                ++j;
            }
            fail[i + 1] = j;
        }
        auto next = [&](std::size_t state, char c) {
            while (state > 0 && term[state] != c) {
                state = fail[state];
            }
            return term[state] == c ? state + 1 : 0;
        };
        CodePointSet non_ascii = CodePointSet::of({{0x80, 0x10FFFF}});
        for (std::size_t i = 0; i < k; ++i) {
            eps(q[i], to);
            for (int b = 0; b < 0x80; ++b) {
                std::size_t n = next(i, static_cast<char>(b));
                if (n < k) {
                    edge(q[i], Edge::Kind::byte, static_cast<std::uint8_t>(b),
                         static_cast<std::uint8_t>(b), q[n], -1);
                }
            }
            build_chars(non_ascii, q[i], q[0]);
        }
    }

    void build_repeat(const Expr& x, int from, int to, int depth) {
        if (x.min < 0 || (x.max >= 0 && x.max < x.min)) {
            throw CompileError{"invalid repetition bounds"};
        }
        if (x.min > limits_.max_repeat || x.max > limits_.max_repeat) {
            throw CompileError{"repetition bound above " + std::to_string(limits_.max_repeat)};
        }
        ExprId child = x.children[0];
        int cur = from;
        for (std::int32_t i = 0; i < x.min; ++i) {
            int next = new_state();
            build(child, cur, next, depth);
            cur = next;
        }
        if (x.max < 0) {
            int loop = new_state();
            eps(cur, loop);
            int body_end = new_state();
            build(child, loop, body_end, depth);
            eps(body_end, loop);
            eps(loop, to);
            return;
        }
        for (std::int32_t i = x.min; i < x.max; ++i) {
            eps(cur, to);
            int next = new_state();
            build(child, cur, next, depth);
            cur = next;
        }
        eps(cur, to);
    }

    // ---- epsilon elimination and emission into the program --------------------------------
    void compile_rule(RuleId r) {
        ls_.clear();
        int start = new_state();
        int final_state = new_state();
        build(b_.rules()[static_cast<std::size_t>(r)].body, start, final_state, 0);
        const std::size_t n = ls_.size();
        // Epsilon closures.
        std::vector<std::vector<int>> closure(n);
        std::vector<int> mark(n, -1);
        for (std::size_t s = 0; s < n; ++s) {
            std::vector<int> stack{static_cast<int>(s)};
            mark[s] = static_cast<int>(s);
            while (!stack.empty()) {
                int x = stack.back();
                stack.pop_back();
                closure[s].push_back(x);
                for (int y : ls_[static_cast<std::size_t>(x)].eps) {
                    if (mark[static_cast<std::size_t>(y)] != static_cast<int>(s)) {
                        mark[static_cast<std::size_t>(y)] = static_cast<int>(s);
                        stack.push_back(y);
                    }
                }
            }
        }
        // Reachable states of the epsilon-free automaton, numbered in discovery order.
        std::vector<int> global(n, -1);
        std::vector<int> order;
        auto visit = [&](int s) {
            if (global[static_cast<std::size_t>(s)] < 0) {
                global[static_cast<std::size_t>(s)] =
                    static_cast<int>(prog_.states.size() + order.size());
                order.push_back(s);
            }
        };
        visit(start);
        for (std::size_t k = 0; k < order.size(); ++k) {
            for (int c : closure[static_cast<std::size_t>(order[k])]) {
                for (const auto& e : ls_[static_cast<std::size_t>(c)].edges) {
                    visit(e.target);
                }
            }
        }
        prog_.rule_start[static_cast<std::size_t>(r)] = global[static_cast<std::size_t>(start)];
        for (int s : order) {
            State st;
            st.rule = r;
            st.first_edge = static_cast<std::int32_t>(prog_.edges.size());
            std::vector<Edge> edges;
            for (int c : closure[static_cast<std::size_t>(s)]) {
                if (c == final_state) {
                    st.accepting = true;
                }
                for (const auto& e : ls_[static_cast<std::size_t>(c)].edges) {
                    edges.push_back(Edge{e.kind, e.lo, e.hi,
                                         global[static_cast<std::size_t>(e.target)], e.arg});
                }
            }
            normalise_edges(edges);
            for (const auto& e : edges) {
                st.has_input_edges = st.has_input_edges || e.kind != Edge::Kind::call;
                prog_.edges.push_back(e);
            }
            st.num_edges = static_cast<std::int32_t>(edges.size());
            prog_.states.push_back(st);
        }
    }

    static void normalise_edges(std::vector<Edge>& edges) {
        std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
            return std::tie(a.kind, a.target, a.arg, a.lo, a.hi) <
                   std::tie(b.kind, b.target, b.arg, b.lo, b.hi);
        });
        std::vector<Edge> out;
        for (const auto& e : edges) {
            if (!out.empty()) {
                Edge& last = out.back();
                bool same = last.kind == e.kind && last.target == e.target && last.arg == e.arg;
                if (same && e.kind != Edge::Kind::byte) {
                    continue; // duplicate call or token edge
                }
                if (same && e.lo <= static_cast<int>(last.hi) + 1) {
                    last.hi = std::max(last.hi, e.hi); // overlapping or adjacent byte ranges
                    continue;
                }
            }
            out.push_back(e);
        }
        edges = std::move(out);
    }

    // ---- trimming: remove what cannot lead to a complete match ----------------------------
    void trim() {
        const auto nrules = prog_.rule_start.size();
        std::vector<bool> productive(nrules, false);
        std::vector<bool> coreach;
        bool changed = true;
        auto edge_ok = [&](const Edge& e) {
            return e.kind != Edge::Kind::call || productive[static_cast<std::size_t>(e.arg)];
        };
        auto compute_coreach = [&]() {
            // Reverse reachability from accepting states over usable edges.
            const auto n = prog_.states.size();
            std::vector<std::vector<int>> rev(n);
            for (std::size_t s = 0; s < n; ++s) {
                const State& st = prog_.states[s];
                for (int k = 0; k < st.num_edges; ++k) {
                    const Edge& e = prog_.edges[static_cast<std::size_t>(st.first_edge + k)];
                    if (edge_ok(e)) {
                        rev[static_cast<std::size_t>(e.target)].push_back(static_cast<int>(s));
                    }
                }
            }
            coreach.assign(n, false);
            std::vector<int> stack;
            for (std::size_t s = 0; s < n; ++s) {
                if (prog_.states[s].accepting) {
                    coreach[s] = true;
                    stack.push_back(static_cast<int>(s));
                }
            }
            while (!stack.empty()) {
                int s = stack.back();
                stack.pop_back();
                for (int p : rev[static_cast<std::size_t>(s)]) {
                    if (!coreach[static_cast<std::size_t>(p)]) {
                        coreach[static_cast<std::size_t>(p)] = true;
                        stack.push_back(p);
                    }
                }
            }
        };
        while (changed) {
            changed = false;
            compute_coreach();
            for (std::size_t r = 0; r < nrules; ++r) {
                StateId s = prog_.rule_start[r];
                if (s >= 0 && !productive[r] && coreach[static_cast<std::size_t>(s)]) {
                    productive[r] = true;
                    changed = true;
                }
            }
        }
        if (!productive[static_cast<std::size_t>(prog_.root)]) {
            throw CompileError{"the grammar matches no string"};
        }
        // Rebuild the edge list without dead edges.
        std::vector<Edge> edges;
        for (auto& st : prog_.states) {
            std::int32_t first = static_cast<std::int32_t>(edges.size());
            bool input = false;
            for (int k = 0; k < st.num_edges; ++k) {
                const Edge& e = prog_.edges[static_cast<std::size_t>(st.first_edge + k)];
                if (edge_ok(e) && coreach[static_cast<std::size_t>(e.target)]) {
                    edges.push_back(e);
                    input = input || e.kind != Edge::Kind::call;
                }
            }
            st.first_edge = first;
            st.num_edges = static_cast<std::int32_t>(edges.size()) - first;
            st.has_input_edges = input;
        }
        prog_.edges = std::move(edges);
    }

    // A rule that can call itself before consuming any input would make the matcher's
    // closure infinite (left recursion); reject it with the rule's name.
    void check_left_recursion() {
        const auto nrules = prog_.rule_start.size();
        std::vector<bool> nullable(nrules, false);
        auto reach_without_input = [&](StateId start, std::vector<RuleId>* calls) {
            std::vector<bool> seen(prog_.states.size(), false);
            std::vector<StateId> stack{start};
            bool accepts = false;
            while (!stack.empty()) {
                StateId s = stack.back();
                stack.pop_back();
                if (seen[static_cast<std::size_t>(s)]) {
                    continue;
                }
                seen[static_cast<std::size_t>(s)] = true;
                const State& st = prog_.states[static_cast<std::size_t>(s)];
                accepts = accepts || st.accepting;
                for (int k = 0; k < st.num_edges; ++k) {
                    const Edge& e = prog_.edges[static_cast<std::size_t>(st.first_edge + k)];
                    if (e.kind != Edge::Kind::call) {
                        continue;
                    }
                    if (calls != nullptr) {
                        calls->push_back(e.arg);
                    }
                    if (nullable[static_cast<std::size_t>(e.arg)]) {
                        stack.push_back(e.target);
                    }
                }
            }
            return accepts;
        };
        bool changed = true;
        while (changed) {
            changed = false;
            for (std::size_t r = 0; r < nrules; ++r) {
                if (prog_.rule_start[r] >= 0 && !nullable[r] &&
                    reach_without_input(prog_.rule_start[r], nullptr)) {
                    nullable[r] = true;
                    changed = true;
                }
            }
        }
        std::vector<std::vector<RuleId>> left(nrules);
        for (std::size_t r = 0; r < nrules; ++r) {
            if (prog_.rule_start[r] >= 0) {
                reach_without_input(prog_.rule_start[r], &left[r]);
            }
        }
        std::vector<int> color(nrules, 0);
        std::function<void(std::size_t)> dfs = [&](std::size_t r) {
            color[r] = 1;
            for (RuleId c : left[r]) {
                auto ci = static_cast<std::size_t>(c);
                if (color[ci] == 1) {
                    throw CompileError{"left recursion through rule '" + prog_.rule_names[ci] +
                                       "'"};
                }
                if (color[ci] == 0) {
                    dfs(ci);
                }
            }
            color[r] = 2;
        };
        for (std::size_t r = 0; r < nrules; ++r) {
            if (prog_.rule_start[r] >= 0 && color[r] == 0) {
                dfs(r);
            }
        }
    }

    const Builder& b_;
    CompileLimits limits_;
    std::vector<std::vector<RuleId>> refs_;
    std::vector<bool> recursive_;
    std::vector<bool> inline_;
    std::vector<LState> ls_;
    std::deque<RuleId> queue_;
    std::set<RuleId> queued_;
    Program prog_;
};

} // namespace

base::Result<Program> compile(const Builder& b, const CompileLimits& limits) {
    try {
        Compiler c(b, limits);
        return c.run();
    } catch (const CompileError& e) {
        return base::Error(errc::invalid_schema, "grammar: " + e.message);
    } catch (const std::bad_alloc&) {
        return base::Error(errc::invalid_schema, "grammar: too large for memory");
    }
}

} // namespace agentd::inference::grammar
