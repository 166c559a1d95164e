#pragma once
/// Assembles agentd's MCP server from the configuration: which providers it serves (the
/// conformance fixtures behind --conformance-fixtures; the catalogues of other modules as they
/// join) and its protocol options. Shared by the HTTP routes and `agentd mcp --stdio`.
///
/// Ownership: returns shared objects the caller keeps. Thread affinity: start-up (main thread).
/// Errors: throws on start-up failures only.

#include "agentd/protocols/mcp/server.h"

#include "config/config.h"

#include <memory>

namespace agentd::gateway::mcp {

/// The agentd version reported as MCP serverInfo.version.
inline constexpr const char* kServerVersion = "0.1.0";

/// The providers for `config`: fixtures first (when enabled), then the default catalogue.
[[nodiscard]] protocols::mcp::Providers
make_providers(const config::Config& config, const std::shared_ptr<protocols::mcp::Timers>& timers);

/// Protocol options for `config`.
[[nodiscard]] protocols::mcp::ServerOptions make_server_options(const config::Config& config);

} // namespace agentd::gateway::mcp
