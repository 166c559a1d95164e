// MemoryStore::search: vector k-NN over the mirror, FTS5 keyword search, RRF fusion.
#include "agentd/memory/errc.h"
#include "agentd/memory/memory_store.h"

#include "db/database_impl.h"
#include "store/fts_query.h"
#include "store/memory_rows.h"
#include "store/validate.h"

#include <algorithm>
#include <unordered_map>

namespace agentd::memory {

namespace rows = store::memories;

namespace {

struct KeywordHit {
    std::int64_t id;
    double score; // −bm25: larger is better
};

base::Result<void> check_query(const Limits& l, std::string_view tenant, const SearchQuery& q) {
    if (auto r = store::check_tenant(l, tenant); !r) {
        return r;
    }
    if (q.k == 0 || q.k > l.max_k) {
        return base::fail(errc::invalid_argument, "k: must be in 1.." + std::to_string(l.max_k));
    }
    if (q.text.empty() && q.embedding.empty()) {
        return base::fail(errc::invalid_argument, "search needs text, an embedding, or both");
    }
    if (auto r = store::check_text("text", q.text, 4096); !r) {
        return r;
    }
    if (q.rescore_factor == 0 || q.rescore_factor > 1000 || q.rrf_k > 100000) {
        return base::fail(errc::invalid_argument, "rescore_factor or rrf_k out of range");
    }
    if (!q.embedding.empty()) {
        if (auto r = rows::check_embedding(l, q.embedding, q.model); !r) {
            return r;
        }
    }
    return rows::check_namespaces(l, q.namespaces);
}

base::Result<std::vector<KeywordHit>> keyword_search(sqlite::Connection& c, std::string_view tenant,
                                                     std::string_view match,
                                                     const std::optional<std::string>& ns,
                                                     const vector::MetadataFilter& filter,
                                                     std::size_t limit) {
    auto stmt = c.prepare(
        "SELECT m.id, -bm25(memories_fts), m.metadata FROM memories_fts "
        "JOIN memories m ON m.id = memories_fts.rowid WHERE memories_fts MATCH ?1 AND "
        "m.tenant_id = ?2 AND (?3 IS NULL OR m.namespace IN (SELECT value FROM json_each(?3))) "
        "ORDER BY bm25(memories_fts), m.id");
    if (!stmt) {
        return stmt.error();
    }
    stmt->bind(1, match).bind(2, tenant);
    if (ns) {
        stmt->bind(3, *ns);
    } else {
        stmt->bind_null(3);
    }
    std::vector<KeywordHit> out;
    while (out.size() < limit) {
        auto row = stmt->step();
        if (!row) {
            // The only statement error a caller can cause here is the query syntax (fts5 mode).
            auto e = row.error();
            if (e.code == errc::internal) {
                e.code = errc::invalid_argument;
                e.message = "keyword query: " + e.message;
            }
            return e;
        }
        if (!*row) {
            break;
        }
        if (!filter.matches_all() &&
            !filter.matches(vector::FlatMeta::from_json(stmt->text_view(2)))) {
            continue;
        }
        out.push_back({stmt->int64(0), stmt->real(1)});
    }
    return out;
}

} // namespace

base::Result<std::vector<SearchHit>> MemoryStore::search(std::string_view tenant,
                                                         const SearchQuery& q) {
    const Limits& l = db_.options.limits;
    if (auto r = check_query(l, tenant, q); !r) {
        return r.error();
    }
    auto filter = vector::MetadataFilter::compile(q.filter_json);
    if (!filter) {
        return filter.error();
    }
    const bool both = !q.text.empty() && !q.embedding.empty();
    // Each part contributes more candidates than k when fused, so that an item ranked
    // moderately by both parts can still make the fused top k.
    const std::size_t per_part = both ? std::max<std::size_t>(q.k * 4, 40) : q.k;

    std::vector<vector::VectorMatch> vec_hits;
    if (!q.embedding.empty()) {
        vector::VectorQuery vq;
        vq.embedding = q.embedding;
        vq.model = q.model;
        vq.metric = q.metric;
        vq.int8 = q.int8;
        vq.rescore_factor = q.rescore_factor;
        vq.k = per_part;
        vq.namespaces = q.namespaces;
        vq.filter = &*filter;
        vec_hits = db_.vectors->search(tenant, vq);
    }
    std::string match;
    if (!q.text.empty()) {
        match = q.keyword_syntax == KeywordSyntax::plain ? store::plain_fts_query(q.text) : q.text;
    }
    const auto ns = rows::namespaces_json(q.namespaces);
    using Hits = std::vector<SearchHit>;
    return db_.read<Hits>([&](sqlite::Connection& c) -> base::Result<Hits> {
        std::vector<KeywordHit> kw_hits;
        if (!match.empty()) {
            auto k = keyword_search(c, tenant, match, ns, *filter, per_part);
            if (!k) {
                return k.error();
            }
            kw_hits = std::move(*k);
        }
        std::unordered_map<std::int64_t, SearchHit> fused;
        const double rrf_k = q.rrf_k;
        for (std::size_t i = 0; i < vec_hits.size(); ++i) {
            SearchHit& h = fused[vec_hits[i].id];
            h.id = vec_hits[i].id;
            h.vector_rank = i + 1;
            h.vector_score = vec_hits[i].value;
            h.score += 1.0 / (rrf_k + static_cast<double>(i + 1));
        }
        for (std::size_t i = 0; i < kw_hits.size(); ++i) {
            SearchHit& h = fused[kw_hits[i].id];
            h.id = kw_hits[i].id;
            h.keyword_rank = i + 1;
            h.keyword_score = kw_hits[i].score;
            h.score += 1.0 / (rrf_k + static_cast<double>(i + 1));
        }
        Hits out;
        out.reserve(fused.size());
        for (auto& [id, h] : fused) {
            out.push_back(std::move(h));
        }
        std::sort(out.begin(), out.end(), [](const SearchHit& a, const SearchHit& b) {
            return a.score > b.score || (a.score == b.score && a.id < b.id);
        });
        if (!q.fetch_rows) {
            out.resize(std::min(out.size(), q.k));
            return out;
        }
        // Rows deleted since the mirror was read are dropped; the next ones move up.
        Hits kept;
        for (SearchHit& h : out) {
            if (kept.size() == q.k) {
                break;
            }
            auto m = rows::load(c, tenant, h.id, q.include_embedding);
            if (!m) {
                return m.error();
            }
            if (*m) {
                h.memory = std::move(**m);
                kept.push_back(std::move(h));
            }
        }
        return kept;
    });
}

} // namespace agentd::memory
