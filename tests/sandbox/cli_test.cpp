// `agentd sandbox run` through the real binary (CONTRACT.md).
#include "agentd/test/env.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace agentd::sandbox {
namespace {

struct Cli {
    int status = -1;
    std::string out;
    std::string err;
};

Cli run_cli(const std::vector<std::string>& args, const std::string& input) {
    int in[2], out[2], err[2];
    Cli r;
    if (::pipe(in) != 0 || ::pipe(out) != 0 || ::pipe(err) != 0) {
        return r;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
            ::close(fd);
        }
        std::vector<char*> argv;
        const std::string bin = agentd::test::agentd_binary().string();
        argv.push_back(const_cast<char*>(bin.c_str()));
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        ::execv(bin.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    if (!input.empty()) {
        (void)!::write(in[1], input.data(), input.size());
    }
    ::close(in[1]);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof(buf))) > 0) {
        r.out.append(buf, static_cast<std::size_t>(n));
    }
    while ((n = ::read(err[0], buf, sizeof(buf))) > 0) {
        r.err.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    ::close(err[0]);
    int st = 0;
    ::waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

std::filesystem::path write_program(const std::string& name, const std::string& text) {
    static const auto dir = agentd::test::make_temp_dir("sandbox-cli");
    const auto path = dir / name;
    std::ofstream(path) << text;
    return path;
}

TEST(CliTest, RunsPythonAndPrintsTheContractsJson) {
    const auto file = write_program("a.py", "import sys\nprint(sys.stdin.read().upper())\n"
                                            "sys.exit(4)\n");
    const auto r = run_cli({"sandbox", "run", "--lang", "python", file.string()}, "piped in");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    for (const char* key : {"exit_code", "signal", "stdout", "stderr", "timed_out", "wall_ms",
                            "cpu_ms", "max_rss_kb", "isolation"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j["exit_code"], 4);
    EXPECT_TRUE(j["signal"].is_null());
    EXPECT_EQ(j["stdout"], "PIPED IN\n");
    EXPECT_EQ(j["timed_out"], false);
    EXPECT_TRUE(j["isolation"].is_array());
    EXPECT_FALSE(j["isolation"].empty());
}

TEST(CliTest, TimeoutMemoryAndWorkspaceOptions) {
    const auto loop = write_program("loop.sh", "while :; do :; done\n");
    auto r =
        run_cli({"sandbox", "run", "--lang", "bash", loop.string(), "--timeout-ms", "300"}, "");
    ASSERT_EQ(r.status, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["timed_out"], true);
    EXPECT_EQ(j["signal"], 9);

    const auto hog = write_program("hog.py", "try:\n    b = bytearray(200 << 20)\n"
                                             "except MemoryError:\n    print('capped')\n");
    r = run_cli({"sandbox", "run", "--lang", "python", hog.string(), "--memory-mb", "64"}, "");
    ASSERT_EQ(r.status, 0) << r.err;
    j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["stdout"], "capped\n");

    const auto ws = agentd::test::make_temp_dir("sandbox-cli-ws");
    std::filesystem::permissions(ws, std::filesystem::perms::all);
    const auto writer = write_program("w.sh", "echo kept > /workspace/out.txt\n");
    r = run_cli({"sandbox", "run", "--lang", "bash", writer.string(), "--workspace", ws.string()},
                "");
    ASSERT_EQ(r.status, 0) << r.err;
    std::ifstream in(ws / "out.txt");
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "kept");
    std::filesystem::remove_all(ws);
}

TEST(CliTest, BadUsageIsRefused) {
    EXPECT_EQ(run_cli({"sandbox"}, "").status, 2);
    EXPECT_EQ(run_cli({"sandbox", "run", "--lang", "ruby", "x"}, "").status, 2);
    EXPECT_EQ(run_cli({"sandbox", "run", "--lang", "bash"}, "").status, 2);
    EXPECT_EQ(run_cli({"sandbox", "run", "--lang", "bash", "x", "--timeout-ms", "abc"}, "").status,
              2);
    const auto r = run_cli({"sandbox", "run", "--lang", "bash", "/nonexistent/agentd.sh"}, "");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
    const auto req = run_cli({"sandbox", "run", "--lang", "bash", "x", "--require", "bogus"}, "");
    EXPECT_EQ(req.status, 2);
}

} // namespace
} // namespace agentd::sandbox
