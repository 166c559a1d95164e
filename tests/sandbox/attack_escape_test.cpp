// Escapes through the file system: setuid binaries, symlinks and FIFOs planted in a workspace
// for agentd to trip over, and one run reaching another run's workspace.
#include "agentd/test/env.h"

#include "sandbox_fixture.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>

namespace agentd::sandbox {
namespace {

using testing::python;
using testing::run;
using testing::sandbox;

class HostDir {
public:
    HostDir() : path_(agentd::test::make_temp_dir("sandbox")) {
        // The program runs as an unprivileged uid: it needs write access to its workspace.
        ::chmod(path_.c_str(), 0777);
    }
    ~HostDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

TEST(EscapeTest, SetuidBinariesGiveNothing) {
    if (!testing::running_as_root()) {
        GTEST_SKIP() << "needs root to create a setuid-root binary";
    }
    HostDir dir;
    const auto id = dir.path() / "id";
    std::filesystem::copy_file("/usr/bin/id", id);
    ASSERT_EQ(::chown(id.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(id.c_str(), 04755), 0);
    // Control: outside the sandbox, an unprivileged user running it gets euid 0.
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 1);
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
            ::_exit(1);
        }
        ::execl(id.c_str(), "id", "-u", nullptr);
        ::_exit(1);
    }
    ::close(out[1]);
    char buf[32] = {};
    ASSERT_GT(::read(out[0], buf, sizeof(buf) - 1), 0);
    ::close(out[0]);
    ::waitpid(pid, nullptr, 0);
    EXPECT_STREQ(buf, "0\n");

    RunRequest req = testing::bash("./id -u; /usr/bin/su -c true root </dev/null; echo su=$?");
    req.host_workspace = dir.path().string();
    const auto r = run(sandbox(), req);
    EXPECT_EQ(r.stdout_data.substr(0, 5), "1000\n") << r.stdout_data << r.stderr_data;
    EXPECT_NE(r.stdout_data.find("su=1"), std::string::npos) << r.stdout_data;
}

TEST(EscapeTest, HostWorkspaceIsTheOnlyWritableHostPath) {
    HostDir dir;
    RunRequest req = testing::bash("echo from-sandbox > /workspace/out.txt; ln -s /etc/shadow "
                                   "/workspace/link; cat /workspace/link 2>&1; echo rc=$?");
    req.host_workspace = dir.path().string();
    const auto r = run(sandbox(), req);
    EXPECT_NE(r.stdout_data.find("No such file or directory"), std::string::npos) << r.stdout_data;
    EXPECT_NE(r.stdout_data.find("rc=1"), std::string::npos);
    std::ifstream in(dir.path() / "out.txt");
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "from-sandbox");
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() / "out.txt").c_str(), &st), 0);
    if (testing::running_as_root()) {
        EXPECT_EQ(st.st_uid, 65534U); // written as the unprivileged sandbox uid
    }
}

TEST(EscapeTest, PlantedSymlinksAndFifosDoNotFoolAgentd) {
    Sandbox& sb = sandbox();
    ASSERT_TRUE(sb.create_workspace("escape"));
    const auto r = run(sb, [] {
        RunRequest req =
            testing::bash("ln -s /etc/shadow shadow; ln -s ../../../../etc/passwd up; ln -s / root;"
                          "mkdir d; ln -s /etc d/etc; mkfifo fifo; echo planted");
        req.workspace_id = "escape";
        return req;
    }());
    EXPECT_EQ(r.stdout_data, "planted\n") << r.stderr_data;
    for (const char* path : {"shadow", "up", "root/etc/shadow", "d/etc/passwd", "fifo",
                             "../escape/shadow", "/etc/passwd", "d/../../x"}) {
        auto read = sb.read_file("escape", path, 1 << 20);
        ASSERT_FALSE(read) << path << " was read";
        EXPECT_TRUE(read.error().code == make_error_code(errc::invalid_argument))
            << path << ": " << read.error().what();
        auto write = sb.write_file("escape", path, "owned");
        EXPECT_FALSE(write) << path << " was written";
    }
    EXPECT_TRUE(std::filesystem::exists("/etc/passwd"));
    auto list = sb.list_files("escape", 100);
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->empty()); // symlinks and FIFOs are not regular files; d/etc not followed
    EXPECT_TRUE(sb.remove_workspace("escape"));
}

TEST(EscapeTest, RunsCannotReachOtherWorkspaces) {
    for (bool warm : {false, true}) {
        Sandbox& sb = sandbox(warm);
        ASSERT_TRUE(sb.create_workspace("alice"));
        ASSERT_TRUE(sb.create_workspace("bob"));
        ASSERT_TRUE(sb.write_file("alice", "secret.txt", "alice-secret"));
        RunRequest req = python(R"PY(
import os
found = []
for root in ("/", "/.ws", "/tmp", "/run", "/proc/1/root"):
    try:
        for dirpath, dirs, files in os.walk(root):
            if dirpath.startswith(("/proc", "/sys", "/usr", "/dev")) and root != "/proc/1/root":
                dirs[:] = []
            if "secret.txt" in files:
                found.append(dirpath)
    except OSError:
        pass
print(found, sorted(os.listdir("/workspace")))
)PY",
                                warm);
        req.workspace_id = "bob";
        const auto r = run(sb, req);
        EXPECT_EQ(r.stdout_data, "[] []\n") << (warm ? "warm: " : "cold: ") << r.stderr_data;
        EXPECT_TRUE(sb.remove_workspace("alice"));
        EXPECT_TRUE(sb.remove_workspace("bob"));
    }
}

} // namespace
} // namespace agentd::sandbox
