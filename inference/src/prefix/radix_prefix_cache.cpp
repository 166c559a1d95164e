// The radix-tree prefix cache: matching, inserting, pinning, turn holds and LRU eviction
// (radix_prefix_cache.h). Invariant checks are in radix_prefix_cache_check.cpp.
#include "prefix/radix_prefix_cache.h"

#include "agentd/base/check.h"

#include "engine/engine_impl.h"

#include <algorithm>
#include <chrono>
#include <queue>

namespace agentd::inference {

namespace {

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

std::unique_ptr<PrefixCache> make_radix_prefix_cache(const PrefixCacheOptions& options) {
    return std::make_unique<RadixPrefixCache>(options);
}

RadixPrefixCache::RadixPrefixCache(const PrefixCacheOptions& options, NowMs now)
    : options_(options), now_(now ? std::move(now) : NowMs(&steady_ms)) {}

RadixPrefixCache::~RadixPrefixCache() {
    if (pool_ == nullptr) {
        return;
    }
    // The tree's references go back to the pool (the pool outlives the cache).
    std::vector<const Node*> stack;
    for (const auto& [ns, root] : roots_) {
        stack.push_back(root.get());
    }
    while (!stack.empty()) {
        const Node* n = stack.back();
        stack.pop_back();
        for (kv::BlockId b : n->blocks) {
            pool_->release(b);
        }
        for (const auto& [key, child] : n->children) {
            stack.push_back(child.get());
        }
    }
}

void RadixPrefixCache::attach(Engine& engine) {
    kv::KvCache& kv = *engine.impl().kv;
    attach(kv.pool(), kv.block_size());
}

void RadixPrefixCache::attach(kv::KvBlockPool& pool, int block_size) {
    AGENTD_CHECK(pool_ == nullptr, "a prefix cache is attached once");
    AGENTD_CHECK(block_size > 0, "positive block size");
    pool_ = &pool;
    block_size_ = block_size;
}

std::vector<TokenId> RadixPrefixCache::block_key(std::span<const TokenId> tokens,
                                                 std::size_t block) const {
    const auto bs = static_cast<std::size_t>(block_size_);
    return {tokens.begin() + static_cast<std::ptrdiff_t>(block * bs),
            tokens.begin() + static_cast<std::ptrdiff_t>((block + 1) * bs)};
}

bool RadixPrefixCache::block_equal(const Node& n, std::size_t nb, std::span<const TokenId> tokens,
                                   std::size_t tb) const {
    const auto bs = static_cast<std::size_t>(block_size_);
    return std::equal(n.tokens.begin() + static_cast<std::ptrdiff_t>(nb * bs),
                      n.tokens.begin() + static_cast<std::ptrdiff_t>((nb + 1) * bs),
                      tokens.begin() + static_cast<std::ptrdiff_t>(tb * bs));
}

/// Cuts `n` after its first `k` blocks: a new node takes n's place under its parent with those
/// blocks, and `n` (keeping its pins, which cover the longer path) becomes its only child.
RadixPrefixCache::Node* RadixPrefixCache::split(Node* n, std::size_t k) {
    AGENTD_CHECK(k > 0 && k < n->blocks.size(), "a split inside the node");
    const auto cut = static_cast<std::ptrdiff_t>(k * static_cast<std::size_t>(block_size_));
    auto head = std::make_unique<Node>();
    head->parent = n->parent;
    head->tokens.assign(n->tokens.begin(), n->tokens.begin() + cut);
    head->blocks.assign(n->blocks.begin(), n->blocks.begin() + static_cast<std::ptrdiff_t>(k));
    head->last_use = n->last_use;
    n->tokens.erase(n->tokens.begin(), n->tokens.begin() + cut);
    n->blocks.erase(n->blocks.begin(), n->blocks.begin() + static_cast<std::ptrdiff_t>(k));
    auto& slot = n->parent->children.at(block_key(head->tokens, 0));
    std::unique_ptr<Node> self = std::move(slot);
    self->parent = head.get();
    Node* h = head.get();
    h->children.emplace(block_key(n->tokens, 0), std::move(self));
    slot = std::move(head);
    return h;
}

/// Marks the path to `n` as used now (a parent is never older than its children).
void RadixPrefixCache::touch(Node* n) {
    const std::uint64_t now = ++tick_;
    for (; n != nullptr; n = n->parent) {
        n->last_use = now;
    }
}

PrefixCache::Match RadixPrefixCache::match_impl(std::string_view ns,
                                                std::span<const TokenId> tokens) {
    Match m;
    if (pool_ == nullptr) {
        return m;
    }
    auto r = roots_.find(std::string(ns));
    if (r == roots_.end()) {
        return m;
    }
    const std::size_t n_blocks = tokens.size() / static_cast<std::size_t>(block_size_);
    Node* node = r->second.get();
    std::size_t at = 0; // blocks matched
    while (at < n_blocks) {
        auto it = node->children.find(block_key(tokens, at));
        if (it == node->children.end()) {
            break;
        }
        Node* c = it->second.get();
        std::size_t k = 1;
        while (k < c->blocks.size() && at + k < n_blocks && block_equal(*c, k, tokens, at + k)) {
            ++k;
        }
        if (k < c->blocks.size()) {
            c = split(c, k);
        }
        m.blocks.insert(m.blocks.end(), c->blocks.begin(), c->blocks.end());
        at += k;
        node = c;
    }
    const auto bs = static_cast<std::size_t>(block_size_);
    std::size_t partial = 0;
    if (Node* c = partial_child(*node, tokens.subspan(at * bs), partial); c != nullptr) {
        // The next block matches only in its first `partial` tokens: the sequence shares it
        // and copies it before its first write (KvCache copy-on-write), so the cached block
        // itself is never written.
        if (c->blocks.size() > 1) {
            c = split(c, 1);
        }
        m.blocks.push_back(c->blocks.front());
        node = c;
    }
    if (node->parent == nullptr) {
        return m; // nothing matched
    }
    touch(node);
    ++node->pins;
    m.pin = next_pin_++;
    pins_.emplace(m.pin, node);
    m.tokens = static_cast<std::int32_t>(at * bs + partial);
    return m;
}

/// The child of `n` whose first block shares the longest proper prefix (1 to block_size - 1
/// tokens, at most rest.size()) with `rest`; `shared` receives its length.
RadixPrefixCache::Node* RadixPrefixCache::partial_child(const Node& n,
                                                        std::span<const TokenId> rest,
                                                        std::size_t& shared) const {
    const std::size_t limit = std::min(rest.size(), static_cast<std::size_t>(block_size_ - 1));
    Node* best = nullptr;
    shared = 0;
    if (limit == 0) {
        return nullptr;
    }
    // Children are ordered by their first block, so those sharing a first token are adjacent.
    for (auto it = n.children.lower_bound(std::vector<TokenId>{rest.front()});
         it != n.children.end() && it->first.front() == rest.front(); ++it) {
        std::size_t k = 0;
        while (k < limit && it->first[k] == rest[k]) {
            ++k;
        }
        if (k > shared) {
            shared = k;
            best = it->second.get();
        }
    }
    return best;
}

PrefixCache::Match RadixPrefixCache::match(std::string_view ns, std::span<const TokenId> tokens) {
    expire_holds();
    Match m = match_impl(ns, tokens);
    lookups_.fetch_add(1, std::memory_order_relaxed);
    lookup_tokens_.fetch_add(tokens.size(), std::memory_order_relaxed);
    if (m.tokens > 0) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        hit_tokens_.fetch_add(static_cast<std::uint64_t>(m.tokens), std::memory_order_relaxed);
    }
    after_change();
    return m;
}

void RadixPrefixCache::unpin(std::uint64_t pin) {
    auto it = pins_.find(pin);
    if (it == pins_.end()) {
        return;
    }
    AGENTD_CHECK(it->second->pins > 0, "a pinned node counts its pins");
    --it->second->pins;
    pins_.erase(it);
}

void RadixPrefixCache::unhold(const Hold& h) {
    auto it = pins_.find(h.pin);
    AGENTD_CHECK(it != pins_.end() && it->second->held > 0, "a hold's pin is in the pin table");
    --it->second->held;
    unpin(h.pin);
}

void RadixPrefixCache::release(std::uint64_t pin) {
    unpin(pin);
    after_change();
}

void RadixPrefixCache::insert(std::string_view ns, std::span<const TokenId> tokens,
                              std::span<const std::int32_t> blocks) {
    if (pool_ == nullptr) {
        return;
    }
    expire_holds();
    const std::size_t n_blocks =
        std::min(tokens.size() / static_cast<std::size_t>(block_size_), blocks.size());
    if (n_blocks == 0) {
        return;
    }
    auto& root = roots_[std::string(ns)];
    if (!root) {
        root = std::make_unique<Node>();
        root->ns = std::string(ns);
    }
    Node* node = root.get();
    std::size_t at = 0;
    while (at < n_blocks) {
        const auto key = block_key(tokens, at);
        auto it = node->children.find(key);
        if (it == node->children.end()) {
            // The rest is new: the tree takes its own references to the sequence's blocks.
            auto leaf = std::make_unique<Node>();
            leaf->parent = node;
            const auto bs = static_cast<std::ptrdiff_t>(block_size_);
            leaf->tokens.assign(tokens.begin() + static_cast<std::ptrdiff_t>(at) * bs,
                                tokens.begin() + static_cast<std::ptrdiff_t>(n_blocks) * bs);
            for (std::size_t b = at; b < n_blocks; ++b) {
                pool_->retain(blocks[b]);
                leaf->blocks.push_back(blocks[b]);
            }
            inserted_blocks_.fetch_add(n_blocks - at, std::memory_order_relaxed);
            node = node->children.emplace(key, std::move(leaf)).first->second.get();
            break;
        }
        Node* c = it->second.get();
        std::size_t k = 1;
        while (k < c->blocks.size() && at + k < n_blocks && block_equal(*c, k, tokens, at + k)) {
            ++k;
        }
        if (k < c->blocks.size() && at + k < n_blocks) {
            c = split(c, k); // diverges inside c: the new suffix becomes c's sibling
        }
        at += k;
        node = c;
    }
    touch(node);
    after_change();
}

void RadixPrefixCache::remove_leaf(Node* leaf, const std::vector<TokenId>& key) {
    Node* parent = leaf->parent;
    parent->children.erase(key);
    if (parent->parent == nullptr && parent->children.empty()) {
        roots_.erase(parent->ns);
    }
}

int RadixPrefixCache::evict(int n_blocks) {
    expire_holds();
    if (pool_ == nullptr || n_blocks <= 0) {
        return 0;
    }
    int freed = evict_unpinned(n_blocks);
    while (freed < n_blocks && !holds_.empty()) {
        unhold(holds_.front());
        held_blocks_ -= holds_.front().blocks;
        holds_.pop_front();
        freed += evict_unpinned(n_blocks - freed);
    }
    evicted_blocks_.fetch_add(static_cast<std::uint64_t>(freed), std::memory_order_relaxed);
    after_change();
    return freed;
}

/// Frees up to `n_blocks` blocks of unpinned leaves, least recently used first.
int RadixPrefixCache::evict_unpinned(int n_blocks) {
    auto older = [](const Node* a, const Node* b) { return a->last_use > b->last_use; };
    std::priority_queue<Node*, std::vector<Node*>, decltype(older)> leaves(older);
    auto offer = [&](Node* n) {
        if (n->parent != nullptr && n->children.empty() && n->pins == 0 && !n->blocks.empty() &&
            pool_->refcount(n->blocks.back()) == 1) {
            leaves.push(n);
        }
    };
    std::vector<Node*> stack;
    for (auto& [ns, root] : roots_) {
        stack.push_back(root.get());
    }
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        offer(n);
        for (auto& [key, child] : n->children) {
            stack.push_back(child.get());
        }
    }
    int freed = 0;
    while (freed < n_blocks && !leaves.empty()) {
        Node* leaf = leaves.top();
        leaves.pop();
        const auto key = block_key(leaf->tokens, 0);
        while (freed < n_blocks && !leaf->blocks.empty() &&
               pool_->refcount(leaf->blocks.back()) == 1) {
            pool_->release(leaf->blocks.back());
            leaf->blocks.pop_back();
            leaf->tokens.resize(leaf->tokens.size() - static_cast<std::size_t>(block_size_));
            ++freed;
        }
        if (leaf->blocks.empty()) {
            Node* parent = leaf->parent;
            // A root left without children is destroyed with its last leaf: decide first.
            const bool parent_is_root = parent->parent == nullptr;
            remove_leaf(leaf, key); // destroys leaf (and an emptied root)
            if (!parent_is_root) {
                offer(parent);
            }
        }
    }
    return freed;
}

/// Blocks evict() could free in n's subtree; `whole` tells whether the subtree would vanish.
int RadixPrefixCache::freeable(const Node& n, bool& whole) const {
    int sum = 0;
    bool all = true;
    for (const auto& [key, child] : n.children) {
        bool w = false;
        sum += freeable(*child, w);
        all = all && w;
    }
    if (!all || n.pins > n.held) { // holds yield to eviction; matches in use never do
        whole = false;
        return sum;
    }
    std::size_t tail = 0;
    while (tail < n.blocks.size() && pool_->refcount(n.blocks[n.blocks.size() - 1 - tail]) == 1) {
        ++tail;
    }
    whole = tail == n.blocks.size();
    return sum + static_cast<int>(tail);
}

int RadixPrefixCache::evictable_blocks() const {
    int sum = 0;
    for (const auto& [ns, root] : roots_) {
        bool whole = false;
        sum += freeable(*root, whole);
    }
    return sum;
}

void RadixPrefixCache::hold(std::string_view ns, std::string_view key,
                            std::span<const TokenId> tokens) {
    expire_holds();
    drop(key);
    Match m = match_impl(ns, tokens);
    if (m.pin != 0) {
        ++pins_.at(m.pin)->held;
        const int blocks = static_cast<int>(m.blocks.size());
        holds_.push_back({std::string(key), m.pin, blocks, now_() + options_.pin_ttl_ms});
        held_blocks_ += blocks;
        while (held_blocks_ > options_.max_pinned_blocks && !holds_.empty()) {
            unhold(holds_.front());
            held_blocks_ -= holds_.front().blocks;
            holds_.pop_front();
        }
    }
    after_change();
}

void RadixPrefixCache::drop(std::string_view key) {
    auto it =
        std::find_if(holds_.begin(), holds_.end(), [&](const Hold& h) { return h.key == key; });
    if (it != holds_.end()) {
        unhold(*it);
        held_blocks_ -= it->blocks;
        holds_.erase(it);
    }
    after_change();
}

void RadixPrefixCache::expire_holds() {
    if (holds_.empty()) {
        return;
    }
    const std::int64_t now = now_();
    for (auto it = holds_.begin(); it != holds_.end();) {
        if (it->deadline_ms <= now) {
            unhold(*it);
            held_blocks_ -= it->blocks;
            it = holds_.erase(it);
        } else {
            ++it;
        }
    }
}

PrefixCacheStats RadixPrefixCache::stats() const {
    PrefixCacheStats s;
    s.lookups = lookups_.load(std::memory_order_relaxed);
    s.hits = hits_.load(std::memory_order_relaxed);
    s.lookup_tokens = lookup_tokens_.load(std::memory_order_relaxed);
    s.hit_tokens = hit_tokens_.load(std::memory_order_relaxed);
    s.inserted_blocks = inserted_blocks_.load(std::memory_order_relaxed);
    s.evicted_blocks = evicted_blocks_.load(std::memory_order_relaxed);
    s.tree_blocks = tree_blocks_.load(std::memory_order_relaxed);
    s.tree_nodes = tree_nodes_.load(std::memory_order_relaxed);
    s.pinned_blocks = pinned_blocks_.load(std::memory_order_relaxed);
    s.holds = holds_count_.load(std::memory_order_relaxed);
    return s;
}

} // namespace agentd::inference
