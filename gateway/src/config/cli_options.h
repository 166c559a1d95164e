#pragma once
/// The options `agentd serve` and `agentd mcp --stdio` share (CONTRACT.md): --listen, --model,
/// --data, --config, --conformance-fixtures, --threads, --log-level, --log-format, --help.
///
/// A command may add its own options to options() before parse() (e.g. mcp's --stdio) and read
/// them from variables() afterwards. Precedence: defaults < config file < command-line flags.
/// Errors: parse() throws ConfigError for unknown options, bad values and config file errors.
/// Thread affinity: main thread, at start-up.

#include "config/config.h"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <optional>
#include <string>
#include <vector>

namespace agentd::gateway::config {

class ServerCli {
public:
    /// `command` is the name shown in usage ("serve", "mcp").
    explicit ServerCli(std::string command);

    [[nodiscard]] boost::program_options::options_description& options() { return options_; }

    /// Parses `args` (the arguments after the command name) into a finalized Config. Returns
    /// nullopt when --help was given (the usage is then printed on stdout).
    [[nodiscard]] std::optional<Config> parse(const std::vector<std::string>& args);

    [[nodiscard]] const boost::program_options::variables_map& variables() const { return vm_; }
    [[nodiscard]] std::string usage() const;

private:
    std::string command_;
    boost::program_options::options_description options_;
    boost::program_options::variables_map vm_;
};

} // namespace agentd::gateway::config
