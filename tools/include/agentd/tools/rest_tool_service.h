#pragma once
/// REST tool management: registration, removal and start-up loading, keeping the SQLite store
/// (memory::ToolStore) and the ToolRegistry in step. What POST/GET/DELETE /v1/tools call.
///
/// A registration is validated (parse_rest_registration), checked for a name clash, committed
/// to the store, then published in the registry (listeners fire, MCP sends list_changed). If
/// publishing fails the row is removed again, so store and registry agree.
///
/// Ownership: the gateway owns it; it borrows the registry and the store (both outlive it).
/// Thread-safety: thread-safe. register_tool, unregister and load_tenant BLOCK on SQLite: call
/// them from the blocking pool, never from an I/O thread.
/// Errors: invalid_argument / invalid_schema / forbidden (bad registration, 400), conflict
/// (409), not_found (404), limit_exceeded, storage_failed (the store failed; message says why).

#include "agentd/base/result.h"
#include "agentd/tools/http_client.h"
#include "agentd/tools/rest_tool.h"
#include "agentd/tools/tool_registry.h"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::memory {
class ToolStore;
}

namespace agentd::tools {

class RestToolService {
public:
    RestToolService(ToolRegistry& registry, memory::ToolStore& store,
                    std::shared_ptr<HttpClient> client, RestToolPolicy policy);

    /// Validates and registers; returns the published tool (its details() is the redacted
    /// registration).
    [[nodiscard]] base::Result<ToolPtr> register_tool(std::string_view tenant,
                                                      const nlohmann::json& body);
    /// Removes a REST tool. not_found when the tenant has no tool of that name; conflict when
    /// the tool is not a REST tool (built-ins are not managed here).
    [[nodiscard]] base::Result<void> unregister(std::string_view tenant, std::string_view name);

    struct LoadReport {
        std::size_t loaded = 0;
        std::vector<std::string> skipped; ///< "name: why" for rows the current policy refuses
    };
    /// Publishes every stored REST tool of `tenant` (start-up). Rows that no longer pass
    /// validation are skipped and reported, not deleted.
    [[nodiscard]] base::Result<LoadReport> load_tenant(std::string_view tenant);

    [[nodiscard]] const RestToolPolicy& policy() const { return policy_; }
    [[nodiscard]] ToolRegistry& registry() const { return registry_; }

private:
    ToolRegistry& registry_;
    memory::ToolStore& store_;
    std::shared_ptr<HttpClient> client_;
    RestToolPolicy policy_;
};

} // namespace agentd::tools
