// The asynchronous API: wait_fd readiness, try_result, cancellation, many concurrent runs.
#include "sandbox_fixture.h"

#include <gtest/gtest.h>

#include <poll.h>

#include <thread>

namespace agentd::sandbox {
namespace {

using testing::sandbox;

TEST(AsyncTest, WaitFdBecomesReadableWhenDone) {
    auto handle = sandbox().start(testing::bash("echo hi"));
    ASSERT_TRUE(handle) << handle.error().what();
    pollfd p{handle->wait_fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 30000), 1);
    auto r = handle->try_result();
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(*r) << (*r).error().what();
    EXPECT_EQ((*r)->exit_code, 0);
    EXPECT_EQ((*r)->stdout_data, "hi\n");
    auto again = handle->try_result();
    ASSERT_TRUE(again.has_value());
    EXPECT_FALSE(*again);
}

TEST(AsyncTest, TryResultIsEmptyWhileRunning) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    auto req = testing::bash("read -r x; echo \"got $x\"");
    req.stdin_fd = p[0];
    auto handle = sandbox().start(req);
    ASSERT_TRUE(handle) << handle.error().what();
    // Nothing has been written to the program's stdin: it cannot finish.
    EXPECT_FALSE(handle->try_result().has_value());
    ASSERT_EQ(::write(p[1], "go\n", 3), 3);
    ::close(p[1]);
    auto r = handle->wait();
    ::close(p[0]);
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->stdout_data, "got go\n");
}

TEST(AsyncTest, CancelKillsTheRun) {
    const std::string marker = "4242." + std::to_string(::getpid());
    auto handle = sandbox().start(testing::bash("sleep " + marker));
    ASSERT_TRUE(handle);
    // Wait until the program is running on the host, then cancel.
    for (int i = 0; i < 5000 && testing::host_processes_with(marker).empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_FALSE(testing::host_processes_with(marker).empty());
    handle->cancel();
    auto r = handle->wait();
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().code == make_error_code(errc::cancelled)) << r.error().what();
    for (int i = 0; i < 5000 && !testing::host_processes_with(marker).empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(testing::host_processes_with(marker).empty());
}

TEST(AsyncTest, DroppingTheHandleKillsTheRun) {
    const std::string marker = "4343." + std::to_string(::getpid());
    {
        auto handle = sandbox().start(testing::bash("sleep " + marker));
        ASSERT_TRUE(handle);
        for (int i = 0; i < 5000 && testing::host_processes_with(marker).empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    for (int i = 0; i < 5000 && !testing::host_processes_with(marker).empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(testing::host_processes_with(marker).empty());
}

TEST(AsyncTest, ManyConcurrentRunsFromManyThreads) {
    for (bool warm : {false, true}) {
        Sandbox& sb = sandbox(warm);
        constexpr int kThreads = 4;
        constexpr int kRunsPerThread = 6;
        std::vector<std::thread> threads;
        std::vector<int> ok(kThreads, 0);
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kRunsPerThread; ++i) {
                    const int v = t * 100 + i;
                    auto r = sb.run(testing::python("print(" + std::to_string(v) + " * 2)", warm));
                    if (r && r->stdout_data == std::to_string(v * 2) + "\n" && r->warm == warm) {
                        ++ok[static_cast<std::size_t>(t)];
                    }
                }
            });
        }
        for (auto& th : threads) {
            th.join();
        }
        for (int t = 0; t < kThreads; ++t) {
            EXPECT_EQ(ok[static_cast<std::size_t>(t)], kRunsPerThread) << "warm=" << warm;
        }
    }
}

TEST(AsyncTest, QueueOverflowIsBusy) {
    SandboxConfig config;
    config.max_concurrent_runs = 1;
    config.max_queued_runs = 1;
    auto sb = Sandbox::create(config);
    ASSERT_TRUE(sb) << sb.error().what();
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    auto blocking = testing::bash("read -r x");
    blocking.stdin_fd = p[0];
    std::vector<RunHandle> handles;
    for (int i = 0; i < 4; ++i) {
        auto h = (*sb)->start(blocking);
        ASSERT_TRUE(h);
        handles.push_back(std::move(*h));
    }
    // One runs (blocked on stdin) and one waits in the queue: at least two are refused. (The
    // self-test's monitor may not be reaped yet and still hold the only slot: then three.)
    ::close(p[1]); // end of input: accepted runs finish, one after the other
    int busy = 0;
    for (auto& h : handles) {
        auto r = h.wait();
        if (!r) {
            EXPECT_TRUE(r.error().code == make_error_code(errc::busy)) << r.error().what();
            ++busy;
        } else {
            EXPECT_EQ(r->exit_code, 1); // `read` at end of file
        }
    }
    EXPECT_GE(busy, 2);
    EXPECT_LE(busy, 3);
    ::close(p[0]);
}

TEST(AsyncTest, InvalidRequestsAreRefused) {
    Sandbox& sb = sandbox();
    RunRequest req = testing::bash("true");
    Limits l;
    l.memory_bytes = 1ULL << 50;
    req.limits = l;
    auto r = sb.start(req);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().code == make_error_code(errc::invalid_argument));
    req = testing::bash(std::string(5 * kMiB, '#'));
    r = sb.start(req);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().code == make_error_code(errc::invalid_argument));
    req = testing::bash("true");
    req.workspace_id = "a";
    req.host_workspace = "/tmp";
    EXPECT_FALSE(sb.start(req));
    req.workspace_id.clear();
    req.host_workspace = "relative/dir";
    EXPECT_FALSE(sb.start(req));
    req.host_workspace = "/nonexistent/agentd";
    EXPECT_FALSE(sb.start(req));
    req.host_workspace.clear();
    req.args = {std::string("a\0b", 3)};
    EXPECT_FALSE(sb.start(req));
}

} // namespace
} // namespace agentd::sandbox
