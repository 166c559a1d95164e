// Benign programs must keep working, in cold and warm runs alike, and every result must carry
// the isolation this host provides.
#include "sandbox_fixture.h"

#include <gtest/gtest.h>

#include <signal.h>

namespace agentd::sandbox {
namespace {

using testing::bash;
using testing::python;
using testing::run;
using testing::sandbox;

class PythonRunTest : public ::testing::TestWithParam<bool> {
protected:
    bool warm() const { return GetParam(); }
    RunResult py(std::string code, std::string stdin_data = {}) {
        auto req = python(std::move(code), warm());
        req.stdin_data = std::move(stdin_data);
        return run(sandbox(warm()), req);
    }
};

TEST_P(PythonRunTest, PrintsAndReportsEveryHostLayer) {
    const auto r = py("print('hello', 6 * 7)\n");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_FALSE(r.signal.has_value());
    EXPECT_EQ(r.stdout_data, "hello 42\n");
    EXPECT_EQ(r.stderr_data, "");
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.limit, LimitHit::none);
    EXPECT_EQ(r.warm, warm());
    EXPECT_EQ(r.isolation, testing::host_layers()) << ::testing::PrintToString(r.isolation.names());
    if (testing::running_as_root()) {
        // As root on a kernel with user namespaces every layer is available (CI and dev hosts).
        EXPECT_TRUE(r.isolation.contains(Layer::userns));
        EXPECT_TRUE(r.isolation.contains(Layer::nonroot_uid));
        EXPECT_TRUE(r.isolation.contains(Layer::seccomp));
        EXPECT_TRUE(r.isolation.contains(Layer::caps_dropped));
        EXPECT_TRUE(r.isolation.contains(Layer::pivot_root));
        EXPECT_TRUE(r.isolation.contains(Layer::netns));
    }
}

TEST_P(PythonRunTest, StdlibImportsWork) {
    const auto r = py(R"PY(
import json, re, math, hashlib, sqlite3, collections, itertools, datetime, decimal, fractions
import subprocess, threading, tempfile, pathlib, csv, io, random, statistics, zlib, base64
con = sqlite3.connect(":memory:")
con.execute("create table t(x)")
con.executemany("insert into t values (?)", [(i,) for i in range(10)])
print(con.execute("select sum(x) from t").fetchone()[0])
print(json.dumps({"pi": round(math.pi, 3)}), hashlib.sha256(b"x").hexdigest()[:8])
t = threading.Thread(target=lambda: print("thread"))
t.start(); t.join()
with tempfile.NamedTemporaryFile("w", dir="/tmp", delete=False) as f:
    f.write("tmp ok")
print(pathlib.Path(f.name).read_text())
print(subprocess.run(["/bin/echo", "child"], capture_output=True, text=True).stdout.strip())
)PY");
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "45\n{\"pi\": 3.142} 2d711642\nthread\ntmp ok\nchild\n");
}

TEST_P(PythonRunTest, StdinRoundTrip) {
    std::string input;
    for (int i = 0; i < 200000; ++i) {
        input += static_cast<char>('a' + i % 26);
    }
    input += "\n\xff\x00binary";
    const auto r = py("import sys\ndata = sys.stdin.buffer.read()\n"
                      "sys.stdout.buffer.write(data[::-1])\n",
                      input);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    EXPECT_EQ(r.stdout_data, std::string(input.rbegin(), input.rend()));
}

TEST_P(PythonRunTest, ExitCodesExceptionsAndArgs) {
    auto req = python("import sys\nprint(sys.argv[1:])\nsys.exit(int(sys.argv[1]))\n", warm());
    req.args = {"3", "two words"};
    auto r = run(sandbox(warm()), req);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.stdout_data, "['3', 'two words']\n");

    r = py("def f():\n    raise ValueError('boom')\nf()\n");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.stderr_data.find("Traceback (most recent call last):"), std::string::npos);
    EXPECT_NE(r.stderr_data.find("File \"/run/agentd/main.py\", line 3"), std::string::npos)
        << r.stderr_data;
    EXPECT_NE(r.stderr_data.find("ValueError: boom"), std::string::npos);

    r = py("x = (\n");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.stderr_data.find("SyntaxError"), std::string::npos) << r.stderr_data;

    r = py("import sys\nsys.exit('bye')\n");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.stderr_data, "bye\n");

    r = py("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n");
    EXPECT_FALSE(r.exit_code.has_value());
    EXPECT_EQ(r.signal, SIGTERM);
}

TEST_P(PythonRunTest, ProcessesSeeOnlyTheirNamespace) {
    const auto r = py(R"PY(
import os, socket
print(os.getuid(), os.getgid(), os.getpid(), socket.gethostname(), os.getcwd())
print(sorted(p for p in os.listdir('/proc') if p.isdigit()))
print(os.environ.get('HOME'), os.environ.get('PATH'))
)PY");
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    if (testing::host_layers().contains(Layer::pidns) &&
        testing::host_layers().contains(Layer::userns)) {
        EXPECT_EQ(r.stdout_data, "1000 1000 2 sandbox /workspace\n['1', '2']\n"
                                 "/workspace /usr/local/bin:/usr/bin:/bin\n");
    }
}

INSTANTIATE_TEST_SUITE_P(ColdAndWarm, PythonRunTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "warm" : "cold"; });

TEST(RunTest, BashPipelinesAndFiles) {
    const auto r = run(sandbox(), bash(R"PY(
set -euo pipefail
seq 1 100 | awk '{s += $1} END {print s}'
printf 'b\na\nc\n' | sort | tr '\n' ' '; echo
echo data > /workspace/file && cat /workspace/file
mkdir -p /tmp/x/y && touch /tmp/x/y/z && find /tmp/x | wc -l
echo err >&2
exit 7
)PY"));
    EXPECT_EQ(r.exit_code, 7);
    EXPECT_EQ(r.stdout_data, "5050\na b c \ndata\n3\n");
    EXPECT_EQ(r.stderr_data, "err\n");
    EXPECT_EQ(r.isolation, testing::host_layers());
    EXPECT_FALSE(r.warm);
}

TEST(RunTest, BashStdinAndSignals) {
    auto req = bash("read -r line; echo \"got:$line\"; kill -SEGV $$\n");
    req.stdin_data = "hello world\n";
    const auto r = run(sandbox(), req);
    EXPECT_EQ(r.stdout_data, "got:hello world\n");
    EXPECT_EQ(r.signal, SIGSEGV);
    EXPECT_FALSE(r.exit_code.has_value());
}

TEST(RunTest, StdinFromDescriptorIsPumped) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    const std::string text = "line one\nline two\n";
    ASSERT_EQ(::write(p[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(p[1]);
    auto req = bash("cat; echo end");
    req.stdin_fd = p[0];
    req.stdin_data = "ignored";
    const auto r = run(sandbox(), req);
    ::close(p[0]);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stdout_data, text + "end\n");
}

TEST(RunTest, OutputIsCappedAndCounted) {
    auto req =
        python("import sys\nsys.stdout.write('x' * 3_000_000)\nsys.stderr.write('e' * 10)\n");
    Limits l = testing::test_limits();
    l.max_output_bytes = 100'000;
    req.limits = l;
    const auto r = run(sandbox(), req);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.stdout_data, std::string(100'000, 'x'));
    EXPECT_TRUE(r.stdout_truncated);
    EXPECT_EQ(r.stdout_bytes, 3'000'000U);
    EXPECT_EQ(r.stderr_data, "eeeeeeeeee");
    EXPECT_FALSE(r.stderr_truncated);
    EXPECT_EQ(r.stderr_bytes, 10U);
}

TEST(RunTest, ReportsResourceUse) {
    const auto r = run(sandbox(), python("x = bytearray(50 * 1024 * 1024)\n"
                                         "s = 0\nfor i in range(2_000_000): s += i\nprint(s)\n"));
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    EXPECT_GT(r.max_rss_kb, 50U * 1024U);
    EXPECT_LT(r.max_rss_kb, 512U * 1024U);
    EXPECT_GT(r.cpu_ms, 0U);
}

} // namespace
} // namespace agentd::sandbox
