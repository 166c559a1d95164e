#pragma once
/// agentd's runtime configuration: defaults, overridden by a JSON config file (--config), then by
/// command-line flags. docs/CONFIG.md documents every key.
///
/// Ownership: a plain value; the App keeps one immutable copy and hands out const references.
/// Errors: parsing throws ConfigError (start-up only) with a message that names the offending
/// key, e.g. `server.max_connections: must be an integer in [1, 1000000]`.

#include "builtin/builtin_config.h"
#include "http/server_limits.h"
#include "log/logging.h"
#include "openai/engine_config.h"
#include "routes/tools_config.h"
#include "runtime/agents_config.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::gateway::config {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// "HOST:PORT" with HOST an IPv4 address, a name, or "[IPv6]".
struct ListenAddress {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    [[nodiscard]] std::string to_string() const;
};

/// Parses "HOST:PORT" (port 0 = any free port). `key` names the source in the error.
[[nodiscard]] ListenAddress parse_listen(std::string_view text, std::string_view key);

/// Checks a compute device name ("auto", "cpu", "cuda", "cuda:N") and returns it; throws
/// ConfigError naming `key` otherwise. "auto" is kept as is (resolved when the engine starts).
[[nodiscard]] std::string parse_device_name(std::string_view text, std::string_view key);

/// An API key from the config. Only the key's SHA-256 is kept in memory.
struct ApiKey {
    std::string id;                  ///< non-secret name, logged and put in Principal
    std::string tenant;              ///< [A-Za-z0-9._-]{1,64}
    std::vector<std::string> scopes; ///< "*" = every scope
    std::array<std::uint8_t, 32> sha256{};
};

struct Config {
    ListenAddress listen;
    std::filesystem::path data_dir; ///< resolved by finalize() (default_data_dir() when unset)
    std::filesystem::path model;    ///< empty: no model
    /// Compute device for the model: "auto", "cpu", "cuda" or "cuda:N" (inference::parse_device
    /// resolves it when the engine is created; syntax checked here).
    std::string device = "auto";
    bool conformance_fixtures = false;

    unsigned io_threads = 2;
    unsigned blocking_threads = 4;
    http::ServerLimits limits;
    std::chrono::milliseconds shutdown_grace{10'000};

    log::Level log_level = log::Level::info;
    log::Format log_format = log::Format::text;
    bool access_log = true;

    std::vector<std::string> allowed_origins; ///< exact origins, or "*" for any
    std::vector<std::string> allowed_hosts;   ///< extra Host names accepted by the Host check

    std::vector<ApiKey> api_keys;

    routes::ToolsConfig tools;   ///< "tools" section (routes/tools_config.h)
    openai::EngineConfig engine; ///< "engine" section (openai/engine_config.h)

    /// `agents`, `peers` and `a2a` (runtime/agents_config.h, docs/AGENTS.md).
    runtime::AgentsConfig agents;

    builtin::SandboxExposeConfig sandbox; ///< "sandbox" section (builtin/builtin_config.h)
    builtin::MemoryExposeConfig memory;   ///< "memory" section (builtin/builtin_config.h)
};

/// Applies a config file's JSON text to `config`. Unknown keys, duplicate keys, wrong types and
/// out-of-range values throw ConfigError naming the key. Relative paths resolve against
/// `base_dir` (the file's directory).
void apply_config_json(Config& config, std::string_view text,
                       const std::filesystem::path& base_dir = {});

/// Reads `file` and applies it (errors are prefixed with the file name).
void apply_config_file(Config& config, const std::filesystem::path& file);

/// $AGENTD_DATA_DIR, else $XDG_DATA_HOME/agentd, else $HOME/.local/share/agentd. Throws
/// ConfigError when none of them is set.
[[nodiscard]] std::filesystem::path default_data_dir();

/// Fills defaults that depend on the environment (data_dir), creates the data directory (0700)
/// and checks cross-field rules. Throws ConfigError.
void finalize(Config& config);

} // namespace agentd::gateway::config
