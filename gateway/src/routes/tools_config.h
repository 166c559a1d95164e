#pragma once
/// The "tools" section of the config file: REST tool policy (network targets, timeouts, sizes),
/// registry limits and the outbound HTTP client's limits. Keys (docs/TOOLS.md):
///
///   "tools": {
///     "max_tools_per_tenant": 1000,
///     "rest": {
///       "allow_loopback": true, "allow_private": true, "allow_link_local": false,
///       "allow_metadata": false, "denied_hosts": ["..."],
///       "default_timeout_ms": 30000, "max_timeout_ms": 300000,
///       "max_response_bytes": 4194304, "max_in_flight": 256, "max_per_host": 32,
///       "max_waiting": 1024, "extra_ca_file": "ca.pem"
///     }
///   }
///
/// Plain value. Errors: parse_tools_config throws config::ConfigError naming the key.

#include "agentd/tools/rest_tool.h"
#include "agentd/tools/tool_registry.h"

#include "http_client/beast_http_client.h"

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <string>

namespace agentd::gateway::routes {

struct ToolsConfig {
    tools::RestToolPolicy rest;
    tools::RegistryLimits registry;
    http_client::HttpClientOptions http;
};

/// Applies the JSON object `section` (the value of "tools") at `path` ("tools"). Relative file
/// names resolve against `base_dir`.
void parse_tools_config(ToolsConfig& config, const nlohmann::json& section, const std::string& path,
                        const std::filesystem::path& base_dir);

} // namespace agentd::gateway::routes
