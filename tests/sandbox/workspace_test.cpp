#include "sandbox_fixture.h"

#include <gtest/gtest.h>

namespace agentd::sandbox {
namespace {

using testing::run;
using testing::sandbox;

RunRequest in_workspace(RunRequest req, const std::string& id) {
    req.workspace_id = id;
    return req;
}

TEST(WorkspaceTest, PersistsAcrossRunsAndCarriesFilesBothWays) {
    for (bool warm : {false, true}) {
        Sandbox& sb = sandbox(warm);
        const std::string id = warm ? "persist-warm" : "persist-cold";
        ASSERT_TRUE(sb.create_workspace(id));
        ASSERT_TRUE(sb.create_workspace(id)); // idempotent
        ASSERT_TRUE(sb.write_file(id, "in/data.txt", "from agentd"));
        auto r =
            run(sb, in_workspace(testing::python("import os\nprint(open('in/data.txt').read())\n"
                                                 "os.makedirs('out', exist_ok=True)\n"
                                                 "open('out/result.txt', 'w').write('from run 1')\n"
                                                 "open('in/data.txt', 'a').write(' + run 1')\n",
                                                 warm),
                                 id));
        EXPECT_EQ(r.stdout_data, "from agentd\n") << r.stderr_data;
        EXPECT_EQ(r.isolation.contains(Layer::workspace_quota),
                  testing::host_layers().contains(Layer::workspace_quota));
        r = run(sb, in_workspace(testing::bash("cat out/result.txt; echo; cat in/data.txt"), id));
        EXPECT_EQ(r.stdout_data, "from run 1\nfrom agentd + run 1") << r.stderr_data;
        auto read = sb.read_file(id, "out/result.txt", 1024);
        ASSERT_TRUE(read) << read.error().what();
        EXPECT_EQ(*read, "from run 1");
        auto list = sb.list_files(id, 10);
        ASSERT_TRUE(list);
        std::sort(list->begin(), list->end());
        EXPECT_EQ(*list, (std::vector<std::string>{"in/data.txt", "out/result.txt"}));
        EXPECT_TRUE(sb.remove_workspace(id));
        auto gone = sb.read_file(id, "out/result.txt", 1024);
        ASSERT_FALSE(gone);
        EXPECT_TRUE(gone.error().code == make_error_code(errc::not_found));
        auto run_gone = sb.run(in_workspace(testing::bash("true"), id));
        ASSERT_FALSE(run_gone);
        EXPECT_TRUE(run_gone.error().code == make_error_code(errc::not_found));
    }
}

TEST(WorkspaceTest, SizeIsCappedByTheKernel) {
    Sandbox& sb = sandbox();
    if (!sb.host().layers.contains(Layer::workspace_quota)) {
        GTEST_SKIP() << "no tmpfs workspaces on this host";
    }
    ASSERT_TRUE(sb.create_workspace("quota"));
    // 256 MiB default: 300 MiB in 64 MiB files (under the per-file limit) must hit ENOSPC.
    const auto r = run(sb, in_workspace(testing::python(R"PY(
import errno
written = 0
try:
    for i in range(5):
        with open(f"f{i}", "wb") as f:
            for j in range(64):
                f.write(b"x" * (1 << 20))
                written += 1 << 20
except OSError as e:
    print(errno.errorcode[e.errno], 250 <= written // (1 << 20) <= 256)
)PY"),
                                        "quota"));
    EXPECT_EQ(r.stdout_data, "ENOSPC True\n") << r.stderr_data;
    auto w = sb.write_file("quota", "more.bin", std::string(8 << 20, 'y'));
    ASSERT_FALSE(w);
    EXPECT_TRUE(w.error().code == make_error_code(errc::limit_exceeded)) << w.error().what();
    EXPECT_TRUE(sb.remove_workspace("quota"));
}

TEST(WorkspaceTest, RejectsBadIdsAndPaths) {
    Sandbox& sb = sandbox();
    for (const char* bad : {"", ".", "..", "a/b", "x y", "../etc", "\x01",
                            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
        auto r = sb.create_workspace(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_TRUE(r.error().code == make_error_code(errc::invalid_argument));
    }
    ASSERT_TRUE(sb.create_workspace("paths"));
    for (const std::string& bad :
         std::vector<std::string>{"", "/abs", "../x", "a/../../b", std::string(5000, 'a')}) {
        EXPECT_FALSE(sb.write_file("paths", bad, "x")) << bad;
        EXPECT_FALSE(sb.read_file("paths", bad, 10)) << bad;
    }
    ASSERT_TRUE(sb.write_file("paths", "./a//b/./c.txt", "abc"));
    auto read = sb.read_file("paths", "a/b/c.txt", 10);
    ASSERT_TRUE(read);
    EXPECT_EQ(*read, "abc");
    auto small = sb.read_file("paths", "a/b/c.txt", 2);
    ASSERT_FALSE(small);
    EXPECT_TRUE(small.error().code == make_error_code(errc::limit_exceeded));
    auto missing = sb.read_file("paths", "nope", 10);
    ASSERT_FALSE(missing);
    EXPECT_TRUE(missing.error().code == make_error_code(errc::not_found));
    EXPECT_FALSE(sb.remove_workspace("never-created"));
    auto run_unknown = sb.run(in_workspace(testing::bash("true"), "never-created"));
    ASSERT_FALSE(run_unknown);
    EXPECT_TRUE(run_unknown.error().code == make_error_code(errc::not_found));
    EXPECT_TRUE(sb.remove_workspace("paths"));
}

TEST(WorkspaceTest, IdleWorkspacesExpire) {
    SandboxConfig config;
    config.max_workspaces = 2;
    config.workspace_idle_ttl_s = 0;
    auto sb = Sandbox::create(config);
    ASSERT_TRUE(sb) << sb.error().what();
    ASSERT_TRUE((*sb)->create_workspace("one"));
    ASSERT_TRUE((*sb)->write_file("one", "x", "1"));
    // A TTL of 0: everything is idle. Creating a workspace sweeps first, so a third fits.
    ASSERT_TRUE((*sb)->create_workspace("two"));
    auto r = (*sb)->read_file("one", "x", 1);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().code == make_error_code(errc::not_found));
    EXPECT_EQ((*sb)->sweep_idle_workspaces(), 1U);
    EXPECT_EQ((*sb)->sweep_idle_workspaces(), 0U);
}

TEST(WorkspaceTest, CountLimitIsEnforced) {
    SandboxConfig config;
    config.max_workspaces = 2;
    auto sb = Sandbox::create(config);
    ASSERT_TRUE(sb) << sb.error().what();
    ASSERT_TRUE((*sb)->create_workspace("one"));
    ASSERT_TRUE((*sb)->create_workspace("two"));
    auto third = (*sb)->create_workspace("three");
    ASSERT_FALSE(third);
    EXPECT_TRUE(third.error().code == make_error_code(errc::limit_exceeded));
    ASSERT_TRUE((*sb)->remove_workspace("one"));
    EXPECT_TRUE((*sb)->create_workspace("three"));
}

} // namespace
} // namespace agentd::sandbox
