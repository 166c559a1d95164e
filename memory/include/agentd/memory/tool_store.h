#pragma once
/// REST tool registrations (POST /v1/tools), persisted per tenant. The store checks shape
/// (name charset and length, JSON validity and size); semantic validation (JSON Schema, URL
/// policy) belongs to tools/, which owns the registry built from these rows.
///
/// Ownership: a view owned by Database. Threads: thread-safe, blocking (see database.h).
/// Errors: invalid_argument, not_found, conflict (create of an existing name), and the
/// database errors of errc.h. Every call is confined to `tenant`.

#include "agentd/base/result.h"
#include "agentd/memory/common.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace agentd::memory {

namespace detail {
class DatabaseImpl;
}

struct ToolRecord {
    std::string name; // [A-Za-z0-9_.-]{1,128}
    std::string description;
    std::string input_schema_json;  // JSON Schema object
    std::string output_schema_json; // "" when none
    std::string endpoint_json;      // {url, method, headers?}
    std::int64_t timeout_ms = 30000;
    std::int64_t created_at_ms = 0; // set by the store
    std::int64_t updated_at_ms = 0; // set by the store
};

class ToolStore {
public:
    explicit ToolStore(detail::DatabaseImpl& db) : db_(db) {}

    /// Registers a new tool; conflict when the name exists for this tenant.
    [[nodiscard]] base::Result<ToolRecord> create(std::string_view tenant, const ToolRecord& tool);
    /// Registers or replaces (keeps created_at on replace).
    [[nodiscard]] base::Result<ToolRecord> upsert(std::string_view tenant, const ToolRecord& tool);
    [[nodiscard]] base::Result<ToolRecord> get(std::string_view tenant, std::string_view name);
    /// Ordered by name (deterministic, for MCP tools/list pagination).
    [[nodiscard]] base::Result<Page<ToolRecord>> list(std::string_view tenant,
                                                      const PageRequest& page);
    [[nodiscard]] base::Result<std::int64_t> count(std::string_view tenant);
    [[nodiscard]] base::Result<bool> remove(std::string_view tenant, std::string_view name);

private:
    detail::DatabaseImpl& db_;
};

} // namespace agentd::memory
