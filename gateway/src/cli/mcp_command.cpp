// agentd mcp --stdio: MCP over standard streams (CONTRACT.md "Commands").
#include "cli/commands.h"
#include "config/cli_options.h"
#include "log/logging.h"
#include "mcp/stdio_transport.h"

#include <boost/program_options.hpp>

#include <cstdio>

namespace agentd::gateway::cli {

int mcp_command(const Args& args) {
    config::ServerCli cli("mcp");
    cli.options().add_options()(
        "stdio", boost::program_options::bool_switch(),
        "serve MCP on stdin/stdout (newline-delimited JSON-RPC; logs go to stderr)");
    auto config = cli.parse(args);
    if (!config) {
        return 0; // --help
    }
    if (!cli.variables()["stdio"].as<bool>()) {
        std::fputs("agentd mcp: the transport is required: agentd mcp --stdio [options]\n"
                   "(MCP over HTTP is served by `agentd serve` at /mcp)\n",
                   stderr);
        return 2;
    }
    log::init_logging(config->log_level, config->log_format);
    return mcp::run_stdio(*config);
}

} // namespace agentd::gateway::cli
