// The batched log sink on a real file: lines from many threads all arrive, each thread's in
// order, in far fewer write(2) calls than lines; flush() means written; a failing descriptor
// drops lines instead of stalling; back-pressure holds writers without losing anything.

#include "agentd/test/env.h"

#include "log/batched_sink.h"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace agentd::gateway::log {
namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

std::shared_ptr<spdlog::logger> logger_on(const std::shared_ptr<BatchedFdSink>& sink) {
    auto logger = std::make_shared<spdlog::logger>("batched-test", sink);
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
    return logger;
}

class BatchedSinkTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::make_temp_dir("batched-sink");
        path_ = dir_ / "log.txt";
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ASSERT_GE(fd_, 0);
    }
    void TearDown() override {
        ::close(fd_);
        std::filesystem::remove_all(dir_);
    }
    std::filesystem::path dir_;
    std::filesystem::path path_;
    int fd_ = -1;
};

TEST_F(BatchedSinkTest, EveryLineFromEveryThreadArrivesInOrderAndInBatches) {
    constexpr int kThreads = 4;
    constexpr int kLines = 5000;
    auto sink = std::make_shared<BatchedFdSink>(fd_);
    auto logger = logger_on(sink);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&logger, t] {
            for (int i = 0; i < kLines; ++i) {
                logger->info("t{} {}", t, i);
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    logger->flush(); // flush() returns once everything logged before it is written
    const std::string text = slurp(path_);
    std::istringstream in(text);
    std::map<int, int> next;
    std::string line;
    int count = 0;
    while (std::getline(in, line)) {
        int t = -1;
        int i = -1;
        ASSERT_EQ(std::sscanf(line.c_str(), "t%d %d", &t, &i), 2) << line;
        ASSERT_EQ(i, next[t]) << "thread " << t << " out of order";
        next[t] = i + 1;
        ++count;
    }
    EXPECT_EQ(count, kThreads * kLines);
    EXPECT_GE(sink->writes(), 1u);
    EXPECT_LT(sink->writes(), static_cast<std::uint64_t>(count));
}

TEST_F(BatchedSinkTest, DestructionWritesWhatIsPending) {
    {
        auto sink = std::make_shared<BatchedFdSink>(fd_);
        auto logger = logger_on(sink);
        for (int i = 0; i < 1000; ++i) {
            logger->info("line {}", i);
        }
    } // no flush: the destructor drains the buffer before joining the writer
    const std::string text = slurp(path_);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1000);
    EXPECT_NE(text.find("line 999\n"), std::string::npos);
}

TEST_F(BatchedSinkTest, BackPressureWithATinyBufferLosesNothing) {
    auto sink = std::make_shared<BatchedFdSink>(fd_, 64); // a few lines at most
    auto logger = logger_on(sink);
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&logger] {
            for (int i = 0; i < 2000; ++i) {
                logger->info("a line of some length {}", i);
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    logger->flush();
    const std::string text = slurp(path_);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6000);
}

TEST_F(BatchedSinkTest, AFailingDescriptorDropsLinesAndNeverStalls) {
    const int bad = ::open("/dev/null", O_RDONLY | O_CLOEXEC); // writes fail with EBADF
    ASSERT_GE(bad, 0);
    {
        auto sink = std::make_shared<BatchedFdSink>(bad, 256);
        auto logger = logger_on(sink);
        for (int i = 0; i < 10000; ++i) {
            logger->info("dropped {}", i);
        }
        logger->flush(); // returns: the failed batches count as done
        EXPECT_GE(sink->writes(), 1u);
    }
    ::close(bad);
}

} // namespace
} // namespace agentd::gateway::log
