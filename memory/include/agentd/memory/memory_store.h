#pragma once
/// Long-term memories: text + JSON metadata + an optional embedding, in a namespace of a
/// tenant. Searched by exact k-NN over an in-memory mirror of the embeddings (SIMD,
/// multithreaded, optional int8 scan with float re-scoring), by keyword (SQLite FTS5, BM25), or
/// both fused with reciprocal rank fusion. Namespace and metadata filters are applied inside
/// the search, so a filtered query still returns its true top k.
///
/// Metadata filter language (JSON object; empty string = no filter):
///   {"field": value}                       equality (a dotted path reaches nested objects;
///                                          an array field matches when any element does)
///   {"field": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte": value}}   comparisons (numbers compare
///                                          with numbers, strings with strings)
///   {"field": {"$in"|"$nin": [values]}}   membership;   {"field": {"$exists": bool}}
///   {"$and": [filters]}, {"$or": [filters]}, {"$not": filter}
/// Several keys in one object are ANDed. Depth, size and values are bounded.
///
/// Ownership: a view owned by Database. Threads: thread-safe, blocking (see database.h);
/// searches of large collections also use the database's search workers.
/// Errors: invalid_argument (bad input, bad filter, keyword syntax error), not_found, and the
/// database errors of errc.h. Every call is confined to `tenant`.

#include "agentd/base/result.h"
#include "agentd/memory/common.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::memory {

namespace detail {
class DatabaseImpl;
}

struct NewMemory {
    std::string ns; // namespace ("" is the default one)
    std::string text;
    std::string metadata_json = "{}";
    std::vector<float> embedding;       // empty → keyword-only memory
    std::string model;                  // the embedding model's id (required with an embedding)
    bool pinned = false;                // always placed in the context (context builder)
    std::string provenance_json = "{}"; // where it came from: session, message, agent, tool
};

struct Memory {
    std::int64_t id = 0;
    std::string ns;
    std::string text;
    std::string metadata_json;
    bool pinned = false;
    std::vector<float> embedding; // filled only when asked for
    std::uint32_t dim = 0;
    std::string model;
    std::string provenance_json;
    std::int64_t created_at_ms = 0;
    std::int64_t updated_at_ms = 0;
};

/// Fields to change; nullopt keeps the current value. An empty `embedding` vector removes it.
struct MemoryUpdate {
    std::optional<std::string> text;
    std::optional<std::string> metadata_json;
    std::optional<bool> pinned;
    std::optional<std::vector<float>> embedding;
    std::optional<std::string> model;
};

enum class Metric { cosine, dot, l2 };

/// plain: the text is split into words, each matched literally, any word may match (BM25
/// ranks documents with more and rarer words first) — safe for raw user input.
/// fts5: the text is an FTS5 query (AND/OR/NOT, "phrases", prefix*); syntax errors are
/// invalid_argument.
enum class KeywordSyntax { plain, fts5 };

struct SearchQuery {
    std::string text; // keyword part; empty → none
    KeywordSyntax keyword_syntax = KeywordSyntax::plain;
    std::vector<float> embedding; // vector part; empty → none
    std::string model; // the embedding's model (vectors of other models are not compared)
    Metric metric = Metric::cosine;
    bool int8 = false;                   // scan int8 codes, then re-score candidates in float
    std::uint32_t rescore_factor = 8;    // int8: re-score k * factor candidates
    std::vector<std::string> namespaces; // empty → every namespace of the tenant
    std::string filter_json;             // metadata filter; empty → none
    std::size_t k = 10;
    std::uint32_t rrf_k = 60; // reciprocal rank fusion constant
    bool fetch_rows = true;   // false → hits carry only ids and scores
    bool include_embedding = false;
};

struct SearchHit {
    std::int64_t id = 0;
    double score = 0;                        // fused RRF score, or the single part's rank score
    std::optional<std::size_t> vector_rank;  // 1-based rank in the vector part
    std::optional<float> vector_score;       // cosine similarity, dot product or L2 distance
    std::optional<std::size_t> keyword_rank; // 1-based rank in the keyword part
    std::optional<double> keyword_score;     // BM25 (larger is better)
    std::optional<Memory> memory;            // with fetch_rows
};

struct MemoryListQuery {
    std::vector<std::string> namespaces; // empty → all
    std::string filter_json;
    std::optional<bool> pinned;
    PageRequest page;
};

class MemoryStore {
public:
    explicit MemoryStore(detail::DatabaseImpl& db) : db_(db) {}

    [[nodiscard]] base::Result<std::int64_t> put(std::string_view tenant, const NewMemory& m);
    /// All or nothing, in one transaction; ids in input order.
    [[nodiscard]] base::Result<std::vector<std::int64_t>> put_many(std::string_view tenant,
                                                                   std::span<const NewMemory> ms);
    [[nodiscard]] base::Result<Memory> get(std::string_view tenant, std::int64_t id,
                                           bool include_embedding = false);
    [[nodiscard]] base::Result<Memory> update(std::string_view tenant, std::int64_t id,
                                              const MemoryUpdate& u);
    /// Ordered by id.
    [[nodiscard]] base::Result<Page<Memory>> list(std::string_view tenant,
                                                  const MemoryListQuery& q);
    /// Pinned memories of the namespaces (empty → all), oldest first, at most `limit`.
    [[nodiscard]] base::Result<std::vector<Memory>> pinned(std::string_view tenant,
                                                           std::span<const std::string> namespaces,
                                                           std::size_t limit = 100);
    [[nodiscard]] base::Result<std::int64_t> count(std::string_view tenant,
                                                   std::span<const std::string> namespaces = {});
    /// Hard delete: the row, its vector and its keyword-index entry. False when absent.
    [[nodiscard]] base::Result<bool> remove(std::string_view tenant, std::int64_t id);
    /// Deletes the given ids (absent ones are skipped); returns how many were deleted.
    [[nodiscard]] base::Result<std::int64_t> remove_many(std::string_view tenant,
                                                         std::span<const std::int64_t> ids);
    /// Deletes every memory in the namespaces (empty → all) matching the filter (empty → all).
    [[nodiscard]] base::Result<std::int64_t> remove_where(std::string_view tenant,
                                                          std::span<const std::string> namespaces,
                                                          std::string_view filter_json);

    /// Top k by vector similarity, keyword relevance, or both fused (see SearchQuery).
    [[nodiscard]] base::Result<std::vector<SearchHit>> search(std::string_view tenant,
                                                              const SearchQuery& q);

private:
    detail::DatabaseImpl& db_;
};

} // namespace agentd::memory
