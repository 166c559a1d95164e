// The "sandbox" and "memory" config sections, the tenant-private workspace ids of sandbox
// sessions and the shared result object of a sandboxed run.
#include "builtin/sandbox_runner.h"
#include "builtin/sandbox_tools.h"
#include "config/config.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace agentd::gateway {
namespace {

std::string config_error(const std::string& text) {
    config::Config c;
    try {
        config::apply_config_json(c, text);
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(BuiltinConfigTest, DefaultsKeepTheToolsOff) {
    const config::Config c;
    EXPECT_FALSE(c.sandbox.enabled);
    EXPECT_TRUE(c.sandbox.tools);
    EXPECT_FALSE(c.memory.tools);
    EXPECT_EQ(c.sandbox.default_timeout_ms, 5000u);
}

TEST(BuiltinConfigTest, SectionsParse) {
    config::Config c;
    config::apply_config_json(c, R"({
        "sandbox": {"enabled": true, "tools": false, "max_concurrent_runs": 4,
                    "max_queued_runs": 10, "warm_python": true, "default_timeout_ms": 1000,
                    "max_timeout_ms": 2000, "default_memory_mb": 64, "max_memory_mb": 128},
        "memory": {"tools": true}})");
    EXPECT_TRUE(c.sandbox.enabled);
    EXPECT_FALSE(c.sandbox.tools);
    EXPECT_EQ(c.sandbox.max_concurrent_runs, 4u);
    EXPECT_EQ(c.sandbox.max_queued_runs, 10u);
    EXPECT_TRUE(c.memory.tools);
    const auto sc = builtin::make_sandbox_config(c.sandbox);
    EXPECT_EQ(sc.max_concurrent_runs, 4u);
    EXPECT_EQ(sc.default_limits.wall_ms, 1000u);
    EXPECT_EQ(sc.default_limits.memory_bytes, 64 * sandbox::kMiB);
    EXPECT_TRUE(sc.warm_python);
}

TEST(BuiltinConfigTest, BadValuesNameTheKey) {
    EXPECT_NE(config_error(R"({"sandbox": {"enabled": 1}})").find("sandbox.enabled"),
              std::string::npos);
    EXPECT_NE(config_error(R"({"sandbox": {"max_concurrent_runs": 0}})")
                  .find("sandbox.max_concurrent_runs"),
              std::string::npos);
    EXPECT_NE(config_error(R"({"sandbox": {"colour": "red"}})").find("sandbox.colour"),
              std::string::npos);
    EXPECT_NE(config_error(R"({"sandbox": {"default_timeout_ms": 9000, "max_timeout_ms": 10}})")
                  .find("default_timeout_ms"),
              std::string::npos);
    EXPECT_NE(config_error(R"({"memory": {"tools": "yes"}})").find("memory.tools"),
              std::string::npos);
    EXPECT_NE(config_error(R"({"memory": []})").find("memory"), std::string::npos);
}

TEST(BuiltinConfigTest, WorkspaceIdsArePerTenantAndValid) {
    const auto a = builtin::workspace_id("alpha", "s1");
    EXPECT_NE(a, builtin::workspace_id("beta", "s1"));
    EXPECT_NE(a, builtin::workspace_id("alpha", "s2"));
    EXPECT_EQ(a, builtin::workspace_id("alpha", "s1"));
    // No tenant/session split can collide ("a\nb" + "c" vs "a" + "b\nc" are not both valid
    // inputs: tenants have no newline), and the id fits the sandbox's workspace id rule.
    EXPECT_LE(a.size(), 64u);
    EXPECT_EQ(a.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-"), std::string::npos);
}

TEST(BuiltinConfigTest, ResultObjectAndToolResult) {
    sandbox::RunResult r;
    r.exit_code = 2;
    r.stdout_data = "out\xff";
    r.stderr_data = "err";
    r.limit = sandbox::LimitHit::none;
    const auto j = builtin::result_json(r);
    for (const char* key : {"exit_code", "signal", "stdout", "stderr", "timed_out", "wall_ms",
                            "cpu_ms", "max_rss_kb", "isolation", "limit"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
    const auto tool = builtin::to_tool_result(r);
    EXPECT_TRUE(tool.is_error);
    EXPECT_NE(tool.joined_text().find("exited with status 2"), std::string::npos);
    ASSERT_TRUE(tool.structured_content);
    // Invalid UTF-8 in program output is replaced, so the result always serialises.
    EXPECT_EQ((*tool.structured_content)["stdout"], "out\xef\xbf\xbd");
    EXPECT_EQ((*tool.structured_content)["exit_code"], 2);
}

} // namespace
} // namespace agentd::gateway
