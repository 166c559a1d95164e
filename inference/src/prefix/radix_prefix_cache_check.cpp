// RadixPrefixCache's gauges and invariant checks (radix_prefix_cache.h).
#include "agentd/base/check.h"

#include "prefix/radix_prefix_cache.h"

#include <unordered_set>

namespace agentd::inference {

/// Publishes the gauges (tree size, pinned blocks) and, in debug builds, checks every
/// invariant after each operation.
void RadixPrefixCache::after_change() {
    std::int64_t blocks = 0;
    std::int64_t nodes = 0;
    std::int64_t pinned = 0;
    // Post-order: a node's blocks are pinned when it or a descendant is pinned.
    auto visit = [&](auto&& self, const Node& n) -> bool {
        bool below = n.pins > 0;
        for (const auto& [key, child] : n.children) {
            below = self(self, *child) || below;
        }
        if (n.parent != nullptr) {
            ++nodes;
            blocks += static_cast<std::int64_t>(n.blocks.size());
            if (below) {
                pinned += static_cast<std::int64_t>(n.blocks.size());
            }
        }
        return below;
    };
    for (const auto& [ns, root] : roots_) {
        visit(visit, *root);
    }
    tree_blocks_.store(blocks, std::memory_order_relaxed);
    tree_nodes_.store(nodes, std::memory_order_relaxed);
    pinned_blocks_.store(pinned, std::memory_order_relaxed);
    holds_count_.store(static_cast<std::int64_t>(holds_.size()), std::memory_order_relaxed);
#if defined(AGENTD_DEBUG) || !defined(NDEBUG)
    std::string why;
    if (!check_invariants(&why)) {
        AGENTD_CHECK(false, why.c_str());
    }
#endif
}

bool RadixPrefixCache::check_invariants(std::string* why) const {
    auto fail = [&](std::string msg) {
        if (why != nullptr) {
            *why = "prefix cache: " + std::move(msg);
        }
        return false;
    };
    const auto bs = static_cast<std::size_t>(block_size_);
    std::unordered_set<kv::BlockId> seen;
    std::unordered_map<const Node*, int> pins_by_node;
    for (const auto& [pin, node] : pins_) {
        ++pins_by_node[node];
    }
    std::size_t pinned_nodes_found = 0;
    std::size_t held_on_nodes = 0;
    std::vector<const Node*> stack;
    for (const auto& [ns, root] : roots_) {
        if (root->parent != nullptr || !root->blocks.empty() || !root->tokens.empty() ||
            root->pins != 0 || root->ns != ns) {
            return fail("root of namespace '" + ns + "' is malformed");
        }
        if (root->children.empty()) {
            return fail("namespace '" + ns + "' has an empty tree");
        }
        stack.push_back(root.get());
    }
    while (!stack.empty()) {
        const Node* n = stack.back();
        stack.pop_back();
        if (n->parent != nullptr) {
            if (n->blocks.empty() || n->tokens.size() != n->blocks.size() * bs) {
                return fail("a node's tokens do not fill its blocks");
            }
            if (n->last_use > n->parent->last_use && n->parent->parent != nullptr) {
                return fail("a node was used after its parent");
            }
        }
        const auto found = pins_by_node.find(n);
        const int expected = found == pins_by_node.end() ? 0 : found->second;
        if (n->pins != expected) {
            return fail("a node's pin count disagrees with the pin table");
        }
        if (n->held < 0 || n->held > n->pins) {
            return fail("a node's hold count is outside [0, pins]");
        }
        held_on_nodes += static_cast<std::size_t>(n->held);
        pinned_nodes_found += found == pins_by_node.end() ? 0 : 1;
        for (kv::BlockId b : n->blocks) {
            if (b < 0 || b >= pool_->total() || pool_->refcount(b) < 1) {
                return fail("block " + std::to_string(b) + " is not referenced in the pool");
            }
            if (!seen.insert(b).second) {
                return fail("block " + std::to_string(b) + " appears twice in the tree");
            }
        }
        for (const auto& [key, child] : n->children) {
            if (child->parent != n) {
                return fail("a child's parent pointer is wrong");
            }
            if (key.size() != bs || child->tokens.size() < bs ||
                !std::equal(key.begin(), key.end(), child->tokens.begin())) {
                return fail("a child's key is not its first block");
            }
            stack.push_back(child.get());
        }
    }
    if (pinned_nodes_found != pins_by_node.size()) {
        return fail("a pin refers to a node outside the tree");
    }
    int held = 0;
    for (const Hold& h : holds_) {
        if (pins_.count(h.pin) == 0) {
            return fail("a turn hold lost its pin");
        }
        held += h.blocks;
    }
    if (held_on_nodes != holds_.size()) {
        return fail("hold counts on nodes disagree with the holds");
    }
    if (held != held_blocks_) {
        return fail("held block count is off");
    }
    if (held_blocks_ > options_.max_pinned_blocks) {
        return fail("turn holds exceed max_pinned_blocks");
    }
    return true;
}

std::vector<std::vector<TokenId>> RadixPrefixCache::cached_prefixes(std::string_view ns) const {
    std::vector<std::vector<TokenId>> out;
    auto r = roots_.find(std::string(ns));
    if (r == roots_.end()) {
        return out;
    }
    const auto bs = static_cast<std::size_t>(block_size_);
    auto visit = [&](auto&& self, const Node& n, std::vector<TokenId>& path) -> void {
        for (std::size_t b = 0; b < n.blocks.size(); ++b) {
            path.insert(path.end(), n.tokens.begin() + static_cast<std::ptrdiff_t>(b * bs),
                        n.tokens.begin() + static_cast<std::ptrdiff_t>((b + 1) * bs));
            out.push_back(path);
        }
        for (const auto& [key, child] : n.children) {
            self(self, *child, path);
        }
        path.resize(path.size() - n.tokens.size());
    };
    std::vector<TokenId> path;
    visit(visit, *r->second, path);
    return out;
}

} // namespace agentd::inference
