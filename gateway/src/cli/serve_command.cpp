// agentd serve: the HTTP gateway (CONTRACT.md "Commands").
#include "app/app.h"
#include "cli/commands.h"
#include "config/cli_options.h"
#include "log/logging.h"

#include <cstdio>

namespace agentd::gateway::cli {

int serve_command(const Args& args) {
    config::ServerCli cli("serve");
    auto config = cli.parse(args);
    if (!config) {
        return 0; // --help
    }
    log::init_logging(config->log_level, config->log_format);
    log::log_event(log::Level::info, "starting",
                   {{"version", "0.1.0"},
                    {"data_dir", config->data_dir.string()},
                    {"model", config->model.empty() ? std::string("none") : config->model.string()},
                    {"io_threads", config->io_threads},
                    {"api_keys", config->api_keys.size()},
                    {"conformance_fixtures", config->conformance_fixtures}});
    app::App app(std::move(*config));
    // The contract line scripts and tests wait for (the real port when port 0 was asked for).
    std::fprintf(stderr, "listening on %s\n", app.listen_address().c_str());
    std::fflush(stderr);
    const int status = app.run();
    log::log_event(log::Level::info, "stopped", {});
    return status;
}

} // namespace agentd::gateway::cli
