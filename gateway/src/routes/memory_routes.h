#pragma once
/// The "memory" route module: REST /v1/memory over builtin::MemoryService (scope "memory"),
/// tenant-scoped by the caller's principal, and — with config memory.tools — the MCP tools
/// memory_store, memory_search and memory_delete:
///   POST   /v1/memory          store one ({text, ...}) or many ({memories: [...]}) → 201
///   GET    /v1/memory          list (?namespace=, ?limit=1..1000, ?cursor=) → 200
///   POST   /v1/memory/search   search {query, namespace?, filter?, k?, mode?} → 200
///   POST   /v1/memory/delete   bulk delete {ids} | {namespace?, filter?, all?} → 200 {deleted}
///   GET    /v1/memory/{id}     one memory → 200 | 404
///   DELETE /v1/memory/{id}     → 204 | 404
/// Errors are {"error": {"code", "message"}}: 400 invalid_json / invalid_request (the field
/// named), 404 memory_not_found, 415 for non-JSON bodies, 503 busy / model_not_loaded, 507
/// storage_full. Registered after the OpenAI module (embeddings come from its model).
///
/// Ownership: the App keeps the service. Threads: handlers never block an I/O thread.
/// Errors: start-up throws std::runtime_error when the database is missing.

namespace agentd::gateway::app {
class AppContext;
}

namespace agentd::gateway::routes {

void register_memory_module(app::AppContext& context);

} // namespace agentd::gateway::routes
