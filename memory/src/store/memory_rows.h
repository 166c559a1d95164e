#pragma once
/// Row-level helpers shared by the MemoryStore's source files (run on the connection's thread
/// inside a store call) and the checks of caller input.

#include "agentd/memory/memory_store.h"

#include "sqlite/connection.h"
#include "vector/metadata_filter.h"

#include <optional>
#include <span>
#include <string>

namespace agentd::memory::store::memories {

/// SELECT list for read_memory (embedding column last).
inline constexpr const char* kColumns =
    "id, namespace, text, metadata, pinned, dim, model, provenance, created_at, updated_at, "
    "embedding";
[[nodiscard]] Memory read_memory(const sqlite::Statement& s, bool include_embedding);
[[nodiscard]] base::Result<std::optional<Memory>>
load(sqlite::Connection& c, std::string_view tenant, std::int64_t id, bool include_embedding);

[[nodiscard]] base::Result<void> check_embedding(const Limits& l, std::span<const float> e,
                                                 std::string_view model);
[[nodiscard]] base::Result<void> check_namespaces(const Limits& l,
                                                  std::span<const std::string> namespaces);
/// A JSON array of the namespaces for `namespace IN (SELECT value FROM json_each(?))`, or
/// nullopt for "all namespaces".
[[nodiscard]] std::optional<std::string> namespaces_json(std::span<const std::string> namespaces);

} // namespace agentd::memory::store::memories
