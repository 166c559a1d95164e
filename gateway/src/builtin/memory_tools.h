#pragma once
/// The built-in MCP tools over the memory service (builtin/memory_service.h), each with an
/// outputSchema and structuredContent, scoped to the caller's tenant:
///   memory_store  {text, namespace?, metadata?, pinned?}        → {id, ids, embedded, note?}
///   memory_search {query, namespace?, filter?, k?, mode?}       → {results, mode, note?}
///   memory_delete {id} | {ids} | {namespace?, filter?, all?}    → {deleted}
/// Bad arguments and storage failures are tool errors (isError) with the precise message.
///
/// Ownership: the tools share the service. Threads: invoke() never blocks.

#include "agentd/base/result.h"
#include "agentd/tools/tool_registry.h"

#include "builtin/memory_service.h"

#include <memory>
#include <vector>

namespace agentd::gateway::builtin {

/// The three tools.
[[nodiscard]] base::Result<std::vector<tools::ToolPtr>>
make_memory_tools(std::shared_ptr<MemoryService> service);

} // namespace agentd::gateway::builtin
