#include "agentd/base/result.h"
#include "agentd/memory/errc.h"

#include <gtest/gtest.h>

namespace agentd {
namespace {

base::Result<int> parse_positive(int v) {
    if (v <= 0) {
        return base::fail(memory::errc::invalid_argument, "value must be positive");
    }
    return v;
}

TEST(Result, CarriesValueOrError) {
    auto ok = parse_positive(3);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, 3);

    auto bad = parse_positive(-1);
    ASSERT_TRUE(bad.has_error());
    EXPECT_EQ(bad.error().code, memory::errc::invalid_argument);
    EXPECT_EQ(bad.error().what(), "value must be positive");
    EXPECT_STREQ(bad.error().code.category().name(), "agentd.memory");
}

TEST(Result, ValueOnErrorThrowsErrorException) {
    auto bad = parse_positive(0);
    try {
        (void)bad.value();
        FAIL() << "value() must throw";
    } catch (const base::ErrorException& e) {
        EXPECT_EQ(e.error().code, memory::errc::invalid_argument);
        EXPECT_STREQ(e.what(), "value must be positive");
    }
}

TEST(Result, ErrcZeroIsNeverAnError) {
    // error_code treats 0 as success; every module's first errc value must be 1.
    EXPECT_TRUE(static_cast<bool>(make_error_code(memory::errc::invalid_argument)));
    EXPECT_EQ(base::Error(memory::errc::not_found, "").what(), "not found");
}

} // namespace
} // namespace agentd
