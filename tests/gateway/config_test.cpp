#include "agentd/test/env.h"

#include "auth/sha256.h"
#include "config/cli_options.h"
#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace agentd::gateway::config {
namespace {

std::string error_of(const std::string& json) {
    Config c;
    try {
        apply_config_json(c, json);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(ConfigTest, DefaultsAreSane) {
    const Config c;
    EXPECT_EQ(c.listen.host, "127.0.0.1");
    EXPECT_EQ(c.listen.port, 8080);
    EXPECT_EQ(c.io_threads, 2u);
    EXPECT_TRUE(c.api_keys.empty());
    EXPECT_GT(c.limits.max_body_bytes, 0u);
}

TEST(ConfigTest, FullFileParses) {
    Config c;
    apply_config_json(c, R"({
        "listen": "[::1]:9000",
        "data_dir": "state",
        "conformance_fixtures": true,
        "log": {"level": "debug", "format": "json", "access_log": false},
        "server": {"io_threads": 4, "blocking_threads": 8, "max_connections": 10,
                   "max_header_bytes": 4096, "max_body_bytes": 1000,
                   "max_pipelined_requests": 3, "idle_timeout_ms": 1000,
                   "header_timeout_ms": 200, "body_timeout_ms": 300, "write_timeout_ms": 400,
                   "linger_timeout_ms": 0, "shutdown_grace_ms": 500, "sse_heartbeat_ms": 50,
                   "sse_max_queued_events": 5, "sse_max_queued_bytes": 2048},
        "security": {"allowed_origins": ["https://app.example.com", "*"],
                     "allowed_hosts": ["agentd.example.com"]},
        "auth": {"keys": [{"id": "ci", "tenant": "acme", "scopes": ["*"],
                           "key": "0123456789abcdef-secret"}]}
    })",
                      "/etc/agentd");
    EXPECT_EQ(c.listen.host, "::1");
    EXPECT_EQ(c.listen.port, 9000);
    EXPECT_EQ(c.data_dir, std::filesystem::path("/etc/agentd/state"));
    EXPECT_TRUE(c.conformance_fixtures);
    EXPECT_EQ(c.log_level, log::Level::debug);
    EXPECT_EQ(c.log_format, log::Format::json);
    EXPECT_FALSE(c.access_log);
    EXPECT_EQ(c.io_threads, 4u);
    EXPECT_EQ(c.blocking_threads, 8u);
    EXPECT_EQ(c.limits.max_connections, 10u);
    EXPECT_EQ(c.limits.max_header_bytes, 4096u);
    EXPECT_EQ(c.limits.max_body_bytes, 1000u);
    EXPECT_EQ(c.limits.max_pipelined_requests, 3u);
    EXPECT_EQ(c.limits.idle_timeout.count(), 1000);
    EXPECT_EQ(c.limits.header_timeout.count(), 200);
    EXPECT_EQ(c.limits.body_timeout.count(), 300);
    EXPECT_EQ(c.limits.write_timeout.count(), 400);
    EXPECT_EQ(c.limits.linger_timeout.count(), 0);
    EXPECT_EQ(c.shutdown_grace.count(), 500);
    EXPECT_EQ(c.limits.sse_heartbeat.count(), 50);
    EXPECT_EQ(c.limits.sse_max_queued_events, 5u);
    EXPECT_EQ(c.limits.sse_max_queued_bytes, 2048u);
    ASSERT_EQ(c.allowed_origins.size(), 2u);
    ASSERT_EQ(c.api_keys.size(), 1u);
    EXPECT_EQ(c.api_keys[0].id, "ci");
    EXPECT_EQ(c.api_keys[0].tenant, "acme");
    EXPECT_EQ(c.api_keys[0].sha256, auth::sha256("0123456789abcdef-secret"));
}

TEST(ConfigTest, ErrorsNameTheKey) {
    EXPECT_EQ(error_of(R"({"bogus": 1})"), "bogus: unknown key");
    EXPECT_EQ(error_of(R"({"server": {"max_conections": 1}})"),
              "server.max_conections: unknown key");
    EXPECT_NE(error_of(R"({"server": {"max_connections": "many"}})")
                  .find("server.max_connections: must be an integer"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"server": {"max_connections": 0}})")
                  .find("server.max_connections: must be an integer in [1, 1000000] (got 0)"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"server": {"io_threads": -1}})").find("server.io_threads"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"server": {"idle_timeout_ms": 1.5}})").find("server.idle_timeout_ms"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"log": {"level": "loud"}})").find("log.level: must be one of"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"log": {"format": "xml"}})").find("log.format"), std::string::npos);
    EXPECT_NE(error_of(R"({"conformance_fixtures": "yes"})").find("conformance_fixtures: must be"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"security": {"allowed_origins": ["example.com"]}})")
                  .find("security.allowed_origins[0]"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"security": {"allowed_hosts": [1]}})")
                  .find("security.allowed_hosts[0]: must be a string"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"server": []})").find("server: must be a JSON object"),
              std::string::npos);
    EXPECT_NE(error_of(R"([1,2])").find("config: must be a JSON object"), std::string::npos);
    EXPECT_NE(error_of(R"({"server": {"io_threads": 2,)").find("invalid JSON"), std::string::npos);
    EXPECT_EQ(error_of(R"({"log": {"level": "info", "level": "debug"}})"), "level: duplicate key");
}

TEST(ConfigTest, KeyEntriesAreValidated) {
    const auto key_error = [](const std::string& entry) {
        return error_of(R"({"auth": {"keys": [)" + entry + "]}}");
    };
    EXPECT_NE(key_error(R"({"tenant": "a", "scopes": ["*"], "key": "0123456789abcdef"})")
                  .find("auth.keys[0].id: is required"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "scopes": ["*"], "key": "0123456789abcdef"})")
                  .find("auth.keys[0].tenant: is required"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "tenant": "a b", "scopes": [], "key": "0123456789abcdef"})")
                  .find("auth.keys[0].tenant: must be"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "tenant": "a", "key": "0123456789abcdef"})")
                  .find("auth.keys[0].scopes: is required"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "tenant": "a", "scopes": [], "key": "short"})")
                  .find("auth.keys[0].key: keys must be at least 16"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "tenant": "a", "scopes": [], "key_sha256": "xyz"})")
                  .find("auth.keys[0].key_sha256: must be 64 hex digits"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "tenant": "a", "scopes": []})").find("exactly one of"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "tenant": "a", "scopes": [],
                           "key": "0123456789abcdef", "key_env": "X"})")
                  .find("exactly one of"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "tenant": "a", "scopes": [],
                           "key_env": "AGENTD_TEST_SURELY_UNSET_VARIABLE"})")
                  .find("AGENTD_TEST_SURELY_UNSET_VARIABLE is not set"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "tenant": "a", "scopes": [], "key": "0123456789abcdef"},
                         {"id": "k", "tenant": "b", "scopes": [], "key": "fedcba9876543210"})")
                  .find("auth.keys[1].id: duplicate key id"),
              std::string::npos);
    EXPECT_NE(key_error(R"({"id": "k", "tenant": "a", "scopes": [], "key": "0123456789abcdef"},
                         {"id": "j", "tenant": "b", "scopes": [], "key": "0123456789abcdef"})")
                  .find("configured twice"),
              std::string::npos);
}

TEST(ConfigTest, KeyFromEnvironmentAndDigest) {
    ::setenv("AGENTD_TEST_KEY_ENV", "env-secret-0123456789", 1);
    Config c;
    apply_config_json(c, R"({"auth": {"keys": [
        {"id": "e", "tenant": "t", "scopes": ["mcp"], "key_env": "AGENTD_TEST_KEY_ENV"},
        {"id": "d", "tenant": "t", "scopes": ["mcp"], "key_sha256": ")" +
                             auth::to_hex(auth::sha256("digest-secret-0123456789")) + R"("}]}})");
    ::unsetenv("AGENTD_TEST_KEY_ENV");
    ASSERT_EQ(c.api_keys.size(), 2u);
    EXPECT_EQ(c.api_keys[0].sha256, auth::sha256("env-secret-0123456789"));
    EXPECT_EQ(c.api_keys[1].sha256, auth::sha256("digest-secret-0123456789"));
}

TEST(ListenAddressTest, ParsesHostPortForms) {
    auto a = parse_listen("127.0.0.1:0", "--listen");
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 0);
    a = parse_listen("[::1]:8080", "--listen");
    EXPECT_EQ(a.host, "::1");
    EXPECT_EQ(a.port, 8080);
    EXPECT_EQ(a.to_string(), "[::1]:8080");
    a = parse_listen("localhost:65535", "--listen");
    EXPECT_EQ(a.host, "localhost");
    EXPECT_EQ(a.port, 65535);
}

TEST(ListenAddressTest, RejectsMalformed) {
    for (const char* bad : {"127.0.0.1", ":80", "host:", "host:65536", "host:-1", "host:8o",
                            "::1:80", "[::1", "[::1]80", "host:123456"}) {
        EXPECT_THROW((void)parse_listen(bad, "--listen"), ConfigError) << bad;
    }
    try {
        (void)parse_listen("nope", "--listen");
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("--listen: missing port"), std::string::npos);
    }
}

TEST(ConfigTest, DefaultDataDirFollowsEnvironment) {
    const auto save = [](const char* n) {
        const char* v = std::getenv(n);
        return v ? std::optional<std::string>(v) : std::nullopt;
    };
    const auto restore = [](const char* n, const std::optional<std::string>& v) {
        if (v) {
            ::setenv(n, v->c_str(), 1);
        } else {
            ::unsetenv(n);
        }
    };
    const auto a = save("AGENTD_DATA_DIR");
    const auto x = save("XDG_DATA_HOME");
    const auto h = save("HOME");
    ::setenv("AGENTD_DATA_DIR", "/srv/agentd", 1);
    EXPECT_EQ(default_data_dir(), std::filesystem::path("/srv/agentd"));
    ::unsetenv("AGENTD_DATA_DIR");
    ::setenv("XDG_DATA_HOME", "/xdg", 1);
    EXPECT_EQ(default_data_dir(), std::filesystem::path("/xdg/agentd"));
    ::unsetenv("XDG_DATA_HOME");
    ::setenv("HOME", "/home/u", 1);
    EXPECT_EQ(default_data_dir(), std::filesystem::path("/home/u/.local/share/agentd"));
    ::unsetenv("HOME");
    EXPECT_THROW((void)default_data_dir(), ConfigError);
    restore("AGENTD_DATA_DIR", a);
    restore("XDG_DATA_HOME", x);
    restore("HOME", h);
}

TEST(ServerCliTest, FlagsOverrideConfigFile) {
    const auto dir = agentd::test::make_temp_dir("cli");
    const auto file = dir / "agentd.json";
    std::ofstream(file) << R"({"listen": "127.0.0.1:1234", "server": {"io_threads": 3},
                              "log": {"level": "warn"}})";
    ServerCli cli("serve");
    auto c = cli.parse({"--config", file.string(), "--listen", "127.0.0.1:0", "--data",
                        (dir / "data").string(), "--threads", "5", "--log-format", "json",
                        "--conformance-fixtures"});
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->listen.port, 0);
    EXPECT_EQ(c->io_threads, 5u);
    EXPECT_EQ(c->log_level, log::Level::warn);
    EXPECT_EQ(c->log_format, log::Format::json);
    EXPECT_TRUE(c->conformance_fixtures);
    EXPECT_TRUE(std::filesystem::is_directory(dir / "data"));
    std::filesystem::remove_all(dir);
}

TEST(ServerCliTest, BadFlagsAreErrors) {
    const auto fails = [](std::vector<std::string> args, const std::string& needle) {
        ServerCli cli("serve");
        try {
            (void)cli.parse(args);
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            return;
        }
        ADD_FAILURE() << "no error for " << needle;
    };
    fails({"--bogus"}, "bogus");
    fails({"--threads", "0", "--data", "/tmp"}, "--threads");
    fails({"--threads", "-2", "--data", "/tmp"}, "--threads");
    fails({"--log-level", "chatty", "--data", "/tmp"}, "--log-level");
    fails({"--log-format", "yaml", "--data", "/tmp"}, "--log-format");
    fails({"--listen", "nowhere", "--data", "/tmp"}, "--listen");
    fails({"--config", "/nonexistent/agentd.json"}, "cannot be opened");
    fails({"--model", "/nonexistent/model.gguf", "--data", "/tmp"}, "no such file");
}

} // namespace
} // namespace agentd::gateway::config
