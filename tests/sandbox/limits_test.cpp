#include "agentd/sandbox/config.h"
#include "agentd/sandbox/limits.h"

#include <gtest/gtest.h>

namespace agentd::sandbox {
namespace {

TEST(LimitsTest, DefaultsAreTheContractsAndValid) {
    const Limits l;
    EXPECT_EQ(l.wall_ms, 5000U);
    EXPECT_EQ(l.cpu_ms, 5000U);
    EXPECT_EQ(l.memory_bytes, 512 * kMiB);
    EXPECT_EQ(l.max_procs, 64U);
    EXPECT_EQ(l.max_open_files, 256U);
    EXPECT_EQ(l.max_file_bytes, 64 * kMiB);
    EXPECT_EQ(l.workspace_bytes, 256 * kMiB);
    EXPECT_EQ(l.max_output_bytes, 1 * kMiB);
    EXPECT_EQ(validate_limits(l), "");
    EXPECT_EQ(validate_limits(default_max_limits()), "");
    EXPECT_TRUE(within(l, default_max_limits()));
}

TEST(LimitsTest, RejectsOutOfRangeValues) {
    Limits l;
    l.wall_ms = 0;
    EXPECT_NE(validate_limits(l), "");
    l = Limits();
    l.memory_bytes = 1024;
    EXPECT_NE(validate_limits(l), "");
    l = Limits();
    l.max_procs = 0;
    EXPECT_NE(validate_limits(l), "");
    l = Limits();
    l.max_open_files = 3;
    EXPECT_NE(validate_limits(l), "");
    l = Limits();
    l.workspace_bytes = 10;
    EXPECT_NE(validate_limits(l), "");
    l = Limits();
    l.max_output_bytes = 2ULL << 30;
    EXPECT_NE(validate_limits(l), "");
}

TEST(LimitsTest, WithinComparesEveryField) {
    const Limits max = default_max_limits();
    Limits l;
    l.cpu_ms = max.cpu_ms + 1;
    EXPECT_FALSE(within(l, max));
    l = Limits();
    l.tmp_bytes = max.tmp_bytes + 1;
    EXPECT_FALSE(within(l, max));
    l = Limits();
    l.max_output_bytes = max.max_output_bytes;
    EXPECT_TRUE(within(l, max));
}

} // namespace
} // namespace agentd::sandbox
