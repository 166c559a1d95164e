#pragma once
/// Long-term memory as the server exposes it, shared by REST /v1/memory and the MCP tools
/// memory_store, memory_search and memory_delete. Every operation takes the caller's tenant
/// (from authentication, never from the body) and a JSON request, runs on the blocking pool and
/// answers a MemoryReply: an HTTP-like status and a JSON body (the result, or
/// {"error": {"code", "message"}}).
///
/// Embeddings: when a model is loaded, stored texts and search queries are embedded with the
/// served model (the mean-pooled, normalised hidden states of /v1/embeddings) and searches are
/// hybrid (vector + keyword, reciprocal rank fusion); without a model memories are stored
/// without vectors and searches are keyword-only (BM25) — every reply says which ("mode",
/// "embedded"). Clients may also send their own vectors (`embedding` + `embedding_model`).
///
/// Requests (fields; unknown fields are refused):
///   store:  {text, namespace?, metadata?: object, pinned?, embedding?, embedding_model?}
///           or {memories: [those, ≤ 100]}      → 201 {ids, embedded, mode, embedding_model?}
///   search: {query, namespace?: string|[strings], filter?: object, k? (1-100), pinned?,
///           mode?: "auto"|"hybrid"|"keyword"|"vector"} → 200 {results, mode, note?}
///   get(id) → 200 memory | 404;  remove(id) → 200 {deleted: 1} | 404
///   remove_many: {ids: [...]} or {namespace?, filter?, all?: true} → 200 {deleted}
///   list: {namespace?, limit?, cursor?}       → 200 {memories, next_cursor?}
///
/// Ownership: shared; holds the database and (optionally) the model module. Threads: every
/// member is thread-safe and returns at once; `done` runs on a blocking-pool thread.

#include "agentd/memory/database.h"
#include "agentd/memory/memory_store.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class thread_pool;
}

namespace agentd::gateway::openai {
struct OpenAiModule;
}

namespace agentd::gateway::builtin {

struct MemoryReply {
    unsigned status = 200;
    nlohmann::json body;
    [[nodiscard]] bool ok() const { return status < 400; }
    /// The message of an error reply.
    [[nodiscard]] std::string message() const;
};

class MemoryService : public std::enable_shared_from_this<MemoryService> {
public:
    using Done = std::function<void(MemoryReply)>;

    /// `model` may be null or hold no model (keyword-only).
    MemoryService(std::shared_ptr<memory::Database> database,
                  std::shared_ptr<openai::OpenAiModule> model, boost::asio::thread_pool& blocking);

    void store(std::string tenant, nlohmann::json body, Done done);
    void search(std::string tenant, nlohmann::json body, Done done);
    void get(std::string tenant, std::int64_t id, Done done);
    void remove(std::string tenant, std::int64_t id, Done done);
    void remove_many(std::string tenant, nlohmann::json body, Done done);
    void list(std::string tenant, nlohmann::json query, Done done);

    /// True when a model is loaded (hybrid search).
    [[nodiscard]] bool has_model() const;

    struct Embedder;

private:
    std::shared_ptr<memory::Database> database_;
    std::shared_ptr<openai::OpenAiModule> model_;
    boost::asio::thread_pool& blocking_;
};

/// The JSON form of a stored memory (id, namespace, text, metadata, pinned, model, dim,
/// provenance, created_at_ms, updated_at_ms).
[[nodiscard]] nlohmann::json memory_json(const memory::Memory& m);

} // namespace agentd::gateway::builtin
