#include "sandbox_fixture.h"

#include <gtest/gtest.h>

namespace agentd::sandbox {
namespace {

bool is(const base::Error& e, errc code) {
    return e.code == make_error_code(code);
}

TEST(ConfigTest, RejectsBadConfigurations) {
    SandboxConfig c;
    c.python_path = "python3";
    auto sb = Sandbox::create(c);
    ASSERT_FALSE(sb);
    EXPECT_TRUE(is(sb.error(), errc::invalid_argument)) << sb.error().what();

    c = SandboxConfig();
    c.default_limits.wall_ms = c.max_limits.wall_ms + 1;
    sb = Sandbox::create(c);
    ASSERT_FALSE(sb);
    EXPECT_TRUE(is(sb.error(), errc::invalid_argument));

    c = SandboxConfig();
    c.staging_dir = "/nonexistent-agentd-staging";
    sb = Sandbox::create(c);
    ASSERT_FALSE(sb);
    EXPECT_TRUE(is(sb.error(), errc::invalid_argument));

    c = SandboxConfig();
    c.workspace_root = "/nonexistent-agentd-workspaces";
    sb = Sandbox::create(c);
    ASSERT_FALSE(sb);
    EXPECT_TRUE(is(sb.error(), errc::invalid_argument));

    c = SandboxConfig();
    c.max_concurrent_runs = 0;
    sb = Sandbox::create(c);
    ASSERT_FALSE(sb);
    EXPECT_TRUE(is(sb.error(), errc::invalid_argument));
}

TEST(ConfigTest, RefusesWhenARequiredLayerCannotBeVerified) {
    if (!testing::running_as_root()) {
        GTEST_SKIP() << "needs root (the refusal is provoked by running programs as uid 0)";
    }
    // Mapping the program to host uid 0 makes nonroot_uid unverifiable: demanding it refuses.
    SandboxConfig c;
    c.sandbox_uid = 0;
    c.sandbox_gid = 0;
    c.required.insert(Layer::nonroot_uid);
    auto sb = Sandbox::create(c);
    ASSERT_FALSE(sb);
    EXPECT_TRUE(is(sb.error(), errc::unavailable)) << sb.error().what();
    EXPECT_NE(sb.error().what().find("nonroot_uid"), std::string::npos) << sb.error().what();

    // Without the demand it runs, and honestly reports the layer as missing.
    c.required = LayerSet();
    sb = Sandbox::create(c);
    ASSERT_TRUE(sb) << sb.error().what();
    const auto r = testing::run(**sb, testing::bash("echo ok"));
    EXPECT_EQ(r.stdout_data, "ok\n");
    EXPECT_FALSE(r.isolation.contains(Layer::nonroot_uid));
    EXPECT_FALSE((*sb)->host().layers.contains(Layer::nonroot_uid));
}

TEST(ConfigTest, RequiredLayersThatHoldAreAccepted) {
    SandboxConfig c;
    c.required = testing::host_layers();
    auto sb = Sandbox::create(c);
    ASSERT_TRUE(sb) << sb.error().what();
    const auto r = testing::run(**sb, testing::python("print('fine')"));
    EXPECT_EQ(r.stdout_data, "fine\n");
    EXPECT_TRUE(r.isolation.contains_all(c.required));
}

TEST(ConfigTest, MissingInterpreterIsASpawnError) {
    SandboxConfig c;
    c.python_path = "/usr/bin/agentd-no-such-python";
    auto sb = Sandbox::create(c);
    ASSERT_TRUE(sb) << sb.error().what(); // the self-test uses bash
    auto r = (*sb)->run(testing::python("print(1)"));
    ASSERT_FALSE(r);
    EXPECT_TRUE(is(r.error(), errc::spawn_failed)) << r.error().what();
    EXPECT_NE(r.error().what().find("agentd-no-such-python"), std::string::npos)
        << r.error().what();
}

} // namespace
} // namespace agentd::sandbox
