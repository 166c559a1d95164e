#include "mcp/mcp_service.h"

#include "fixtures/conformance_fixtures.h"

namespace agentd::gateway::mcp {

protocols::mcp::Providers make_providers(const config::Config& config,
                                         const std::shared_ptr<protocols::mcp::Timers>& timers) {
    protocols::mcp::Providers providers;
    if (config.conformance_fixtures) {
        providers = fixtures::conformance_fixtures(timers);
    }
    // The tools module's per-tenant catalogue (REST, sandbox and memory tools) is appended here
    // when it is wired into the App.
    return providers;
}

protocols::mcp::ServerOptions make_server_options(const config::Config& config) {
    protocols::mcp::ServerOptions options;
    options.name = "agentd";
    options.title = "agentd";
    options.version = kServerVersion;
    if (config.conformance_fixtures) {
        options.instructions = "agentd conformance fixtures: test tools, resources and prompts "
                               "of the MCP conformance suite.";
    }
    return options;
}

} // namespace agentd::gateway::mcp
