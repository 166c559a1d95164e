#include "config/config.h"

#include "agentd/inference/backend_info.h"

#include "auth/sha256.h"
#include "config/config_json.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace agentd::gateway::config {
namespace {

using json = nlohmann::json;

constexpr std::uint64_t kMaxMs = 24ULL * 3600 * 1000;

void parse_server(Config& c, const json& obj, const std::string& path) {
    auto& l = c.limits;
    for (const auto& [k, v] : require_object(obj, path).items()) {
        const std::string key = join(path, k);
        if (k == "io_threads") {
            c.io_threads = static_cast<unsigned>(get_uint(v, key, 1, 256));
        } else if (k == "blocking_threads") {
            c.blocking_threads = static_cast<unsigned>(get_uint(v, key, 1, 1024));
        } else if (k == "max_connections") {
            l.max_connections = get_uint(v, key, 1, 1'000'000);
        } else if (k == "max_header_bytes") {
            l.max_header_bytes = get_uint(v, key, 1024, 1024 * 1024);
        } else if (k == "max_body_bytes") {
            l.max_body_bytes = get_uint(v, key, 0, 1ULL << 32);
        } else if (k == "max_pipelined_requests") {
            l.max_pipelined_requests = get_uint(v, key, 1, 1024);
        } else if (k == "idle_timeout_ms") {
            l.idle_timeout = get_ms(v, key, 1, kMaxMs);
        } else if (k == "header_timeout_ms") {
            l.header_timeout = get_ms(v, key, 1, kMaxMs);
        } else if (k == "body_timeout_ms") {
            l.body_timeout = get_ms(v, key, 1, kMaxMs);
        } else if (k == "write_timeout_ms") {
            l.write_timeout = get_ms(v, key, 1, kMaxMs);
        } else if (k == "linger_timeout_ms") {
            l.linger_timeout = get_ms(v, key, 0, 60'000);
        } else if (k == "shutdown_grace_ms") {
            c.shutdown_grace = get_ms(v, key, 0, kMaxMs);
        } else if (k == "sse_heartbeat_ms") {
            l.sse_heartbeat = get_ms(v, key, 1, kMaxMs);
        } else if (k == "sse_max_queued_events") {
            l.sse_max_queued_events = get_uint(v, key, 1, 1'000'000);
        } else if (k == "sse_max_queued_bytes") {
            l.sse_max_queued_bytes = get_uint(v, key, 1024, 1ULL << 32);
        } else {
            fail(key, "unknown key");
        }
    }
}

void parse_log(Config& c, const json& obj, const std::string& path) {
    for (const auto& [k, v] : require_object(obj, path).items()) {
        const std::string key = join(path, k);
        if (k == "level") {
            auto level = log::parse_level(get_string(v, key));
            if (!level) {
                fail(key, "must be one of trace, debug, info, warn, error, critical, off");
            }
            c.log_level = *level;
        } else if (k == "format") {
            auto format = log::parse_format(get_string(v, key));
            if (!format) {
                fail(key, "must be \"text\" or \"json\"");
            }
            c.log_format = *format;
        } else if (k == "access_log") {
            c.access_log = get_bool(v, key);
        } else {
            fail(key, "unknown key");
        }
    }
}

void parse_security(Config& c, const json& obj, const std::string& path) {
    for (const auto& [k, v] : require_object(obj, path).items()) {
        const std::string key = join(path, k);
        if (k == "allowed_origins") {
            c.allowed_origins = get_string_array(v, key);
            for (std::size_t i = 0; i < c.allowed_origins.size(); ++i) {
                const auto& o = c.allowed_origins[i];
                if (o != "*" && o.find("://") == std::string::npos) {
                    fail(key + "[" + std::to_string(i) + "]",
                         "must be an origin like \"https://app.example.com\" or \"*\"");
                }
            }
        } else if (k == "allowed_hosts") {
            c.allowed_hosts = get_string_array(v, key);
        } else {
            fail(key, "unknown key");
        }
    }
}

bool valid_tenant(std::string_view t) {
    if (t.empty() || t.size() > 64) {
        return false;
    }
    for (char ch : t) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

constexpr std::size_t kMinKeyLength = 16;

ApiKey parse_key(const json& obj, const std::string& path) {
    ApiKey key;
    int secrets = 0;
    bool have_tenant = false;
    bool have_scopes = false;
    for (const auto& [k, v] : require_object(obj, path).items()) {
        const std::string kp = join(path, k);
        if (k == "id") {
            key.id = get_string(v, kp);
        } else if (k == "tenant") {
            key.tenant = get_string(v, kp);
            if (!valid_tenant(key.tenant)) {
                fail(kp, "must be 1-64 characters of [A-Za-z0-9._-]");
            }
            have_tenant = true;
        } else if (k == "scopes") {
            key.scopes = get_string_array(v, kp);
            have_scopes = true;
        } else if ((k == "key" || k == "key_env" || k == "key_sha256") && secrets > 0) {
            fail(path, "needs exactly one of \"key\", \"key_env\", \"key_sha256\"");
        } else if (k == "key" || k == "key_env") {
            std::string secret = get_string(v, kp);
            if (k == "key_env") {
                const char* env = std::getenv(secret.c_str());
                if (env == nullptr || *env == '\0') {
                    fail(kp, "environment variable " + secret + " is not set");
                }
                secret = env;
            }
            if (secret.size() < kMinKeyLength) {
                fail(kp,
                     "keys must be at least " + std::to_string(kMinKeyLength) + " characters long");
            }
            for (char ch : secret) {
                if (static_cast<unsigned char>(ch) <= 0x20 ||
                    static_cast<unsigned char>(ch) >= 0x7F) {
                    fail(kp, "keys must be printable ASCII without spaces");
                }
            }
            key.sha256 = auth::sha256(secret);
            ++secrets;
        } else if (k == "key_sha256") {
            auto d = auth::digest_from_hex(get_string(v, kp));
            if (!d) {
                fail(kp, "must be 64 hex digits (the SHA-256 of the key)");
            }
            key.sha256 = *d;
            ++secrets;
        } else {
            fail(kp, "unknown key");
        }
    }
    if (key.id.empty()) {
        fail(join(path, "id"), "is required (a non-secret name for the key)");
    }
    if (!have_tenant) {
        fail(join(path, "tenant"), "is required");
    }
    if (!have_scopes) {
        fail(join(path, "scopes"), "is required (use [\"*\"] for every scope)");
    }
    if (secrets != 1) {
        fail(path, "needs exactly one of \"key\", \"key_env\", \"key_sha256\"");
    }
    return key;
}

void parse_auth(Config& c, const json& obj, const std::string& path) {
    for (const auto& [k, v] : require_object(obj, path).items()) {
        const std::string key = join(path, k);
        if (k != "keys") {
            fail(key, "unknown key");
        }
        if (!v.is_array()) {
            fail(key, "must be an array of key objects");
        }
        std::vector<ApiKey> keys;
        for (std::size_t i = 0; i < v.size(); ++i) {
            const std::string kp = key + "[" + std::to_string(i) + "]";
            ApiKey parsed = parse_key(v[i], kp);
            for (const auto& other : keys) {
                if (other.id == parsed.id) {
                    fail(kp + ".id", "duplicate key id \"" + parsed.id + "\"");
                }
                if (other.sha256 == parsed.sha256) {
                    fail(kp, "the same key is configured twice (also as \"" + other.id + "\")");
                }
            }
            keys.push_back(std::move(parsed));
        }
        c.api_keys = std::move(keys);
    }
}

/// Parses with nlohmann, rejecting duplicate object keys (nlohmann would keep the last one).
json parse_strict(std::string_view text) {
    std::vector<std::set<std::string>> seen;
    std::string duplicate;
    auto cb = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) {
            seen.emplace_back();
        } else if (event == json::parse_event_t::object_end) {
            if (!seen.empty()) {
                seen.pop_back();
            }
        } else if (event == json::parse_event_t::key && !seen.empty()) {
            const auto k = parsed.get<std::string>();
            if (!seen.back().insert(k).second && duplicate.empty()) {
                duplicate = k;
            }
        }
        return true;
    };
    json j;
    try {
        j = json::parse(text.begin(), text.end(), cb);
    } catch (const json::parse_error& e) {
        throw ConfigError(std::string("invalid JSON: ") + e.what());
    }
    if (!duplicate.empty()) {
        throw ConfigError(duplicate + ": duplicate key");
    }
    return j;
}

} // namespace

std::string ListenAddress::to_string() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string parse_device_name(std::string_view text, std::string_view key) {
    if (text != "auto" && !inference::parse_device(text)) {
        fail(std::string(key),
             "must be auto, cpu, cuda or cuda:N (got \"" + std::string(text) + "\")");
    }
    return std::string(text);
}

ListenAddress parse_listen(std::string_view text, std::string_view key) {
    const std::string k(key);
    const auto bad = [&](const std::string& why) {
        fail(k, why + " (expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:0; got \"" +
                    std::string(text) + "\")");
    };
    ListenAddress out;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            bad("malformed IPv6 address");
        }
        out.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            bad("missing port");
        }
        out.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
        if (out.host.find(':') != std::string::npos) {
            bad("IPv6 addresses need brackets");
        }
    }
    if (out.host.empty()) {
        bad("missing host");
    }
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
        bad("port must be a number in [0, 65535]");
    }
    const unsigned long n = std::stoul(std::string(port));
    if (n > 65535) {
        bad("port must be a number in [0, 65535]");
    }
    out.port = static_cast<std::uint16_t>(n);
    return out;
}

void apply_config_json(Config& c, std::string_view text, const std::filesystem::path& base_dir) {
    const json root = parse_strict(text);
    require_object(root, "");
    for (const auto& [k, v] : root.items()) {
        if (k == "listen") {
            c.listen = parse_listen(get_string(v, k), k);
        } else if (k == "data_dir") {
            c.data_dir = resolve(base_dir, get_string(v, k));
        } else if (k == "model") {
            c.model = resolve(base_dir, get_string(v, k));
        } else if (k == "device") {
            c.device = parse_device_name(get_string(v, k), k);
        } else if (k == "conformance_fixtures") {
            c.conformance_fixtures = get_bool(v, k);
        } else if (k == "server") {
            parse_server(c, v, k);
        } else if (k == "log") {
            parse_log(c, v, k);
        } else if (k == "security") {
            parse_security(c, v, k);
        } else if (k == "auth") {
            parse_auth(c, v, k);
        } else if (k == "agents") {
            runtime::parse_agents(c.agents, v, k);
        } else if (k == "peers") {
            runtime::parse_peers(c.agents, v, k);
        } else if (k == "a2a") {
            runtime::parse_a2a(c.agents, v, k);
        } else if (k == "tracing") {
            runtime::parse_tracing(c.agents, v, k);
        } else if (k == "tools") {
            routes::parse_tools_config(c.tools, v, k, base_dir);
        } else if (k == "sandbox") {
            builtin::parse_sandbox_config(c.sandbox, v, k);
        } else if (k == "memory") {
            builtin::parse_memory_config(c.memory, v, k);
        } else if (k == "engine") {
            openai::parse_engine_config(c.engine, v, k);
        } else {
            fail(k, "unknown key");
        }
    }
}

void apply_config_file(Config& c, const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw ConfigError("config file " + file.string() + ": cannot be opened");
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    try {
        apply_config_json(c, buf.str(), file.parent_path());
    } catch (const ConfigError& e) {
        throw ConfigError("config file " + file.string() + ": " + e.what());
    }
}

std::filesystem::path default_data_dir() {
    if (const char* d = std::getenv("AGENTD_DATA_DIR"); d != nullptr && *d != '\0') {
        return d;
    }
    if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x == '/') {
        return std::filesystem::path(x) / "agentd";
    }
    if (const char* h = std::getenv("HOME"); h != nullptr && *h == '/') {
        return std::filesystem::path(h) / ".local" / "share" / "agentd";
    }
    throw ConfigError("data directory: none of AGENTD_DATA_DIR, XDG_DATA_HOME, HOME is set; "
                      "pass --data DIR");
}

void finalize(Config& c) {
    if (c.data_dir.empty()) {
        c.data_dir = default_data_dir();
    }
    std::error_code ec;
    const bool created = std::filesystem::create_directories(c.data_dir, ec);
    if (ec) {
        throw ConfigError("data directory " + c.data_dir.string() + ": " + ec.message());
    }
    if (!std::filesystem::is_directory(c.data_dir, ec)) {
        throw ConfigError("data directory " + c.data_dir.string() + ": not a directory");
    }
    // Directories we create are private: state includes tenants' sessions and memories.
    if (created) {
        ::chmod(c.data_dir.c_str(), 0700);
    }
    if (!c.model.empty() && !std::filesystem::is_regular_file(c.model, ec)) {
        throw ConfigError("model " + c.model.string() + ": no such file");
    }
}

} // namespace agentd::gateway::config
