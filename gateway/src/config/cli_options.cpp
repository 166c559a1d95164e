#include "config/cli_options.h"

#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <cstdio>
#include <sstream>

namespace agentd::gateway::config {
namespace po = boost::program_options;

namespace {

unsigned parse_threads(const std::string& text) {
    if (text.empty() || text.size() > 3 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        throw ConfigError("--threads: must be an integer in [1, 256] (got \"" + text + "\")");
    }
    const unsigned long n = std::stoul(text);
    if (n < 1 || n > 256) {
        throw ConfigError("--threads: must be an integer in [1, 256] (got \"" + text + "\")");
    }
    return static_cast<unsigned>(n);
}

} // namespace

ServerCli::ServerCli(std::string command) : command_(std::move(command)), options_("options") {
    options_.add_options()            //
        ("help,h", "print this help") //
        ("listen", po::value<std::string>()->value_name("HOST:PORT"),
         "address to listen on (default 127.0.0.1:8080; port 0 picks a free port)") //
        ("model", po::value<std::string>()->value_name("FILE.gguf"),
         "GGUF model to load (without it, model endpoints answer 503)") //
        ("device", po::value<std::string>()->value_name("DEVICE"),
         "compute device for the model: auto|cpu|cuda:N (default auto)") //
        ("data", po::value<std::string>()->value_name("DIR"),
         "state directory (default $AGENTD_DATA_DIR, else $XDG_DATA_HOME/agentd, else "
         "~/.local/share/agentd)") //
        ("config", po::value<std::string>()->value_name("FILE"),
         "JSON config file (docs/CONFIG.md)") //
        ("no-prefix-cache", po::bool_switch(),
         "serve without the prefix cache (engine.prefix_cache.enabled = false)") //
        ("conformance-fixtures", po::bool_switch(),
         "serve the MCP/A2A conformance fixtures (tests only)") //
        ("threads", po::value<std::string>()->value_name("N"),
         "I/O threads (default 2)") //
        ("log-level", po::value<std::string>()->value_name("LEVEL"),
         "trace|debug|info|warn|error|critical|off (default info)") //
        ("log-format", po::value<std::string>()->value_name("FORMAT"), "text|json (default text)");
}

std::string ServerCli::usage() const {
    std::ostringstream out;
    out << "usage: agentd " << command_ << " [options]\n\n" << options_;
    return out.str();
}

std::optional<Config> ServerCli::parse(const std::vector<std::string>& args) {
    vm_.clear();
    try {
        po::store(po::command_line_parser(args).options(options_).run(), vm_);
        po::notify(vm_);
    } catch (const po::error& e) {
        throw ConfigError(std::string(e.what()) + " (see `agentd " + command_ + " --help`)");
    }
    if (vm_.count("help") != 0) {
        std::fputs(usage().c_str(), stdout);
        return std::nullopt;
    }

    Config config;
    if (vm_.count("config") != 0) {
        apply_config_file(config, vm_["config"].as<std::string>());
    }
    if (vm_.count("listen") != 0) {
        config.listen = parse_listen(vm_["listen"].as<std::string>(), "--listen");
    }
    if (vm_.count("model") != 0) {
        config.model = vm_["model"].as<std::string>();
    }
    if (vm_.count("device") != 0) {
        config.device = parse_device_name(vm_["device"].as<std::string>(), "--device");
    }
    if (vm_.count("data") != 0) {
        const auto data = vm_["data"].as<std::string>();
        if (data.empty()) {
            throw ConfigError("--data: must not be empty");
        }
        config.data_dir = data;
    }
    if (vm_["no-prefix-cache"].as<bool>()) {
        config.engine.prefix_cache.enabled = false;
    }
    if (vm_["conformance-fixtures"].as<bool>()) {
        config.conformance_fixtures = true;
    }
    if (vm_.count("threads") != 0) {
        config.io_threads = parse_threads(vm_["threads"].as<std::string>());
    }
    if (vm_.count("log-level") != 0) {
        const auto text = vm_["log-level"].as<std::string>();
        auto level = log::parse_level(text);
        if (!level) {
            throw ConfigError("--log-level: must be one of trace, debug, info, warn, error, "
                              "critical, off (got \"" +
                              text + "\")");
        }
        config.log_level = *level;
    }
    if (vm_.count("log-format") != 0) {
        const auto text = vm_["log-format"].as<std::string>();
        auto format = log::parse_format(text);
        if (!format) {
            throw ConfigError("--log-format: must be text or json (got \"" + text + "\")");
        }
        config.log_format = *format;
    }
    finalize(config);
    return config;
}

} // namespace agentd::gateway::config
