#include "grammar/automaton.h"

#include <algorithm>
#include <functional>

namespace agentd::inference::grammar {
namespace {

std::uint64_t key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
           static_cast<std::uint32_t>(b);
}

} // namespace

std::size_t Tables::VecHash::operator()(const std::vector<Config>& v) const noexcept {
    std::uint64_t h = 1469598103934665603ULL;
    for (const auto& c : v) {
        h ^= key(c.state, c.stack);
        h *= 1099511628211ULL;
        h ^= h >> 29;
    }
    return static_cast<std::size_t>(h);
}

Tables::Tables(const Program& program) : prog_(program) {
    stacks_.push_back(StackNode{-1, -1}); // node 0: the empty stack
    sets_.emplace_back();                 // set 0: dead
    set_index_[0].emplace(std::vector<Config>{}, kDead);
}

std::int32_t Tables::push(std::int32_t parent, StateId ret) {
    auto [it, inserted] = stack_index_.emplace(key(parent, ret), 0);
    if (inserted) {
        it->second = static_cast<std::int32_t>(stacks_.size());
        stacks_.push_back(StackNode{ret, parent});
    }
    return it->second;
}

std::int32_t Tables::intern(std::vector<Config> cores, bool ended) {
    std::sort(cores.begin(), cores.end());
    cores.erase(std::unique(cores.begin(), cores.end()), cores.end());
    auto& index = set_index_[ended ? 1 : 0];
    auto it = index.find(cores);
    if (it != index.end()) {
        return it->second;
    }
    auto id = static_cast<std::int32_t>(sets_.size());
    ConfigSet s;
    s.cores = cores;
    s.ended = ended;
    sets_.push_back(std::move(s));
    index.emplace(std::move(cores), id);
    return id;
}

std::int32_t Tables::closure(std::span<const Config> seeds) {
    work_.assign(seeds.begin(), seeds.end());
    seen_.clear();
    std::vector<Config> cores;
    bool ended = false;
    while (!work_.empty()) {
        Config c = work_.back();
        work_.pop_back();
        if (!seen_.insert(key(c.state, c.stack)).second) {
            continue;
        }
        const State& st = prog_.states[static_cast<std::size_t>(c.state)];
        if (st.has_input_edges) {
            cores.push_back(c);
        }
        if (st.accepting) {
            if (c.stack == 0) {
                ended = true;
            } else {
                const StackNode& n = stacks_[static_cast<std::size_t>(c.stack)];
                work_.push_back(Config{n.ret, n.parent});
            }
        }
        for (std::int32_t k = 0; k < st.num_edges; ++k) {
            const Edge& e = prog_.edges[static_cast<std::size_t>(st.first_edge + k)];
            if (e.kind == Edge::Kind::call) {
                StateId start = prog_.rule_start[static_cast<std::size_t>(e.arg)];
                work_.push_back(Config{start, push(c.stack, e.target)});
            }
        }
    }
    return intern(std::move(cores), ended);
}

std::int32_t Tables::step(std::int32_t set, std::uint8_t byte) {
    if (set == kDead) {
        return kDead;
    }
    {
        ConfigSet& s = sets_[static_cast<std::size_t>(set)];
        if (s.next && (*s.next)[byte] >= 0) {
            return (*s.next)[byte];
        }
    }
    std::vector<Config> seeds;
    for (const Config& c : sets_[static_cast<std::size_t>(set)].cores) {
        const State& st = prog_.states[static_cast<std::size_t>(c.state)];
        for (std::int32_t k = 0; k < st.num_edges; ++k) {
            const Edge& e = prog_.edges[static_cast<std::size_t>(st.first_edge + k)];
            if (e.kind == Edge::Kind::byte && byte >= e.lo && byte <= e.hi) {
                seeds.push_back(Config{e.target, c.stack});
            }
        }
    }
    std::int32_t next = seeds.empty() ? kDead : closure(seeds);
    ConfigSet& s = sets_[static_cast<std::size_t>(set)]; // closure may have grown sets_
    if (!s.next) {
        s.next = std::make_unique<std::array<std::int32_t, 256>>();
        s.next->fill(-1);
    }
    (*s.next)[byte] = next;
    return next;
}

std::int32_t Tables::step_token(std::int32_t set, std::int32_t token_index) {
    std::vector<Config> seeds;
    for (const Config& c : sets_[static_cast<std::size_t>(set)].cores) {
        const State& st = prog_.states[static_cast<std::size_t>(c.state)];
        for (std::int32_t k = 0; k < st.num_edges; ++k) {
            const Edge& e = prog_.edges[static_cast<std::size_t>(st.first_edge + k)];
            if (e.kind == Edge::Kind::token && e.arg == token_index) {
                seeds.push_back(Config{e.target, c.stack});
            }
        }
    }
    return seeds.empty() ? kDead : closure(seeds);
}

std::int32_t Tables::merge(std::int32_t a, std::int32_t b) {
    if (a == kDead || a == b) {
        return b;
    }
    if (b == kDead) {
        return a;
    }
    std::vector<Config> cores = sets_[static_cast<std::size_t>(a)].cores;
    const auto& other = sets_[static_cast<std::size_t>(b)].cores;
    cores.insert(cores.end(), other.begin(), other.end());
    return intern(std::move(cores), set(a).ended || set(b).ended);
}

std::int32_t Tables::pop(std::int32_t stack_id) {
    const StackNode& n = stacks_[static_cast<std::size_t>(stack_id)];
    Config c{n.ret, n.parent};
    return closure(std::span<const Config>(&c, 1));
}

std::int32_t Tables::import(const Tables& other, std::int32_t set_id) {
    std::unordered_map<std::int32_t, std::int32_t> mapped{{0, 0}};
    std::function<std::int32_t(std::int32_t)> map_stack = [&](std::int32_t s) -> std::int32_t {
        auto it = mapped.find(s);
        if (it != mapped.end()) {
            return it->second;
        }
        const StackNode& n = other.stack(s);
        std::int32_t id = push(map_stack(n.parent), n.ret);
        mapped.emplace(s, id);
        return id;
    };
    std::vector<Config> cores;
    for (const Config& c : other.set(set_id).cores) {
        cores.push_back(Config{c.state, map_stack(c.stack)});
    }
    if (set_id != kDead && cores.empty() && !other.set(set_id).ended) {
        return kDead;
    }
    return intern(std::move(cores), other.set(set_id).ended);
}

} // namespace agentd::inference::grammar
