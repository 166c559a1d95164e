#include "grammar/expr.h"

#include <algorithm>

namespace agentd::inference::grammar {

namespace {
constexpr char32_t kMaxCodePoint = 0x10FFFF;
} // namespace

CodePointSet CodePointSet::of(std::initializer_list<std::pair<char32_t, char32_t>> r) {
    CodePointSet s;
    for (auto [lo, hi] : r) {
        s.add(lo, hi);
    }
    return s;
}

void CodePointSet::add(char32_t lo, char32_t hi) {
    if (lo > hi) {
        return;
    }
    ranges.emplace_back(lo, std::min(hi, kMaxCodePoint));
    normalize();
}

void CodePointSet::normalize() {
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<char32_t, char32_t>> merged;
    for (auto r : ranges) {
        if (!merged.empty() && r.first <= merged.back().second + 1) {
            merged.back().second = std::max(merged.back().second, r.second);
        } else {
            merged.push_back(r);
        }
    }
    // Surrogates have no UTF-8 encoding: never part of a set.
    std::vector<std::pair<char32_t, char32_t>> out;
    for (auto [lo, hi] : merged) {
        if (hi < 0xD800 || lo > 0xDFFF) {
            out.emplace_back(lo, hi);
            continue;
        }
        if (lo < 0xD800) {
            out.emplace_back(lo, 0xD7FF);
        }
        if (hi > 0xDFFF) {
            out.emplace_back(0xE000, hi);
        }
    }
    ranges = std::move(out);
}

CodePointSet CodePointSet::complement() const {
    CodePointSet out;
    char32_t next = 0;
    for (auto [lo, hi] : ranges) {
        if (lo > next) {
            out.ranges.emplace_back(next, lo - 1);
        }
        next = hi + 1;
    }
    if (next <= kMaxCodePoint) {
        out.ranges.emplace_back(next, kMaxCodePoint);
    }
    out.normalize();
    return out;
}

CodePointSet CodePointSet::minus(const CodePointSet& other) const {
    CodePointSet c = other.complement();
    CodePointSet out;
    // Intersection of this with the complement of other.
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < ranges.size() && j < c.ranges.size()) {
        char32_t lo = std::max(ranges[i].first, c.ranges[j].first);
        char32_t hi = std::min(ranges[i].second, c.ranges[j].second);
        if (lo <= hi) {
            out.ranges.emplace_back(lo, hi);
        }
        if (ranges[i].second < c.ranges[j].second) {
            ++i;
        } else {
            ++j;
        }
    }
    return out;
}

bool CodePointSet::contains(char32_t c) const {
    auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                               [](char32_t v, const auto& r) { return v < r.first; });
    return it != ranges.begin() && (it - 1)->second >= c;
}

RuleId Builder::add_rule(std::string name, Inline hint) {
    rules_.push_back(Rule{std::move(name), -1, hint});
    return static_cast<RuleId>(rules_.size() - 1);
}

RuleId Builder::find_rule(const std::string& name) const {
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        if (rules_[i].name == name) {
            return static_cast<RuleId>(i);
        }
    }
    return -1;
}

RuleId Builder::rule_named(const std::string& name) {
    RuleId r = find_rule(name);
    return r >= 0 ? r : add_rule(name);
}

ExprId Builder::add(Expr e) {
    exprs_.push_back(std::move(e));
    return static_cast<ExprId>(exprs_.size() - 1);
}

ExprId Builder::empty() {
    return add(Expr{});
}

ExprId Builder::bytes(std::string text) {
    if (text.empty()) {
        return empty();
    }
    Expr e;
    e.kind = ExprKind::bytes;
    e.text = std::move(text);
    return add(std::move(e));
}

ExprId Builder::chars(CodePointSet set) {
    Expr e;
    e.kind = ExprKind::chars;
    e.set = std::move(set);
    return add(std::move(e));
}

ExprId Builder::byte_set(std::vector<std::pair<std::uint8_t, std::uint8_t>> ranges) {
    Expr e;
    e.kind = ExprKind::byte_set;
    e.byte_ranges = std::move(ranges);
    return add(std::move(e));
}

ExprId Builder::seq(std::vector<ExprId> children) {
    if (children.empty()) {
        return empty();
    }
    if (children.size() == 1) {
        return children[0];
    }
    Expr e;
    e.kind = ExprKind::seq;
    e.children = std::move(children);
    return add(std::move(e));
}

ExprId Builder::alt(std::vector<ExprId> children) {
    if (children.size() == 1) {
        return children[0];
    }
    Expr e;
    e.kind = ExprKind::alt;
    e.children = std::move(children);
    return add(std::move(e));
}

ExprId Builder::repeat(ExprId child, std::int32_t min, std::int32_t max) {
    if (min == 1 && max == 1) {
        return child;
    }
    Expr e;
    e.kind = ExprKind::repeat;
    e.children = {child};
    e.min = min;
    e.max = max;
    return add(std::move(e));
}

ExprId Builder::ref(RuleId rule) {
    Expr e;
    e.kind = ExprKind::ref;
    e.rule = rule;
    return add(std::move(e));
}

ExprId Builder::until(std::string terminator) {
    Expr e;
    e.kind = ExprKind::until;
    e.text = std::move(terminator);
    return add(std::move(e));
}

ExprId Builder::token(std::string text) {
    Expr e;
    e.kind = ExprKind::token;
    e.text = std::move(text);
    return add(std::move(e));
}

} // namespace agentd::inference::grammar
