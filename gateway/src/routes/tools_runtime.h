#pragma once
/// Everything the tools module runs on, built once at start-up from the config: the tool
/// registry (shared with MCP), the database that keeps REST registrations, the outbound HTTP
/// client and the REST tool service. Used by `agentd serve` (register_tools_module) and usable
/// by `agentd mcp --stdio` (which serves the stored tools of its local tenant).
///
/// Ownership: shared; the App keeps it for its lifetime. Thread-safety: the members are
/// thread-safe. Errors: make_tools_runtime throws std::runtime_error on start-up failures (the
/// database cannot be opened); stored tools that no longer validate are skipped with a warning.

#include "agentd/memory/database.h"
#include "agentd/tools/http_client.h"
#include "agentd/tools/rest_tool_service.h"
#include "agentd/tools/tool_registry.h"

#include "config/config.h"

#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace agentd::gateway::routes {

struct ToolsRuntime {
    std::shared_ptr<memory::Database> database;
    std::shared_ptr<tools::ToolRegistry> registry;
    std::shared_ptr<tools::HttpClient> http;
    std::unique_ptr<tools::RestToolService> rest;
};

/// The database file inside the data directory.
[[nodiscard]] std::filesystem::path database_path(const config::Config& config);

/// Opens the agentd database (data_dir/agentd.db). Throws std::runtime_error.
[[nodiscard]] std::shared_ptr<memory::Database> open_database(const config::Config& config);

/// The tenants whose stored tools are loaded: those of the configured API keys, or "local".
[[nodiscard]] std::vector<std::string> configured_tenants(const config::Config& config);

/// Builds the runtime on `io` (the HTTP client's executor), using `database` (opened when null),
/// and loads the stored REST tools of each of `tenants` (`agentd serve`: configured_tenants;
/// `agentd mcp --stdio`: its one local tenant).
[[nodiscard]] std::shared_ptr<ToolsRuntime>
make_tools_runtime(const config::Config& config, boost::asio::io_context& io,
                   const std::vector<std::string>& tenants,
                   std::shared_ptr<memory::Database> database = nullptr);

} // namespace agentd::gateway::routes
