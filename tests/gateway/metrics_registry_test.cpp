#include "metrics/registry.h"

#include <gtest/gtest.h>

namespace agentd::gateway::metrics {
namespace {

TEST(MetricsRegistryTest, RendersCountersGaugesWithHelpAndType) {
    Registry r;
    r.counter("agentd_things_total", "Things seen.").inc(3);
    r.gauge("agentd_level", "A level.").set(2.5);
    auto& fam = r.counter_family("agentd_requests_total", "Requests.", {"route", "status"});
    fam.with({"/b", "200"}).inc();
    fam.with({"/a", "404"}).inc(2);
    const std::string text = r.render();
    EXPECT_EQ(text, "# HELP agentd_level A level.\n"
                    "# TYPE agentd_level gauge\n"
                    "agentd_level 2.5\n"
                    "# HELP agentd_requests_total Requests.\n"
                    "# TYPE agentd_requests_total counter\n"
                    "agentd_requests_total{route=\"/a\",status=\"404\"} 2\n"
                    "agentd_requests_total{route=\"/b\",status=\"200\"} 1\n"
                    "# HELP agentd_things_total Things seen.\n"
                    "# TYPE agentd_things_total counter\n"
                    "agentd_things_total 3\n");
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulative) {
    Registry r;
    auto& h = r.histogram("agentd_latency_seconds", "Latency.", {0.001, 0.01, 0.1});
    h.observe(0.0005);
    h.observe(0.001); // on the bound: counts in that bucket (le = less or equal)
    h.observe(0.05);
    h.observe(7);
    const std::string text = r.render();
    EXPECT_NE(text.find("# TYPE agentd_latency_seconds histogram\n"), std::string::npos);
    EXPECT_NE(text.find("agentd_latency_seconds_bucket{le=\"0.001\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("agentd_latency_seconds_bucket{le=\"0.01\"} 2\n"), std::string::npos);
    EXPECT_NE(text.find("agentd_latency_seconds_bucket{le=\"0.1\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("agentd_latency_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
    EXPECT_NE(text.find("agentd_latency_seconds_count 4\n"), std::string::npos);
    EXPECT_NE(text.find("agentd_latency_seconds_sum 7.0515\n"), std::string::npos);
}

TEST(MetricsRegistryTest, LabelledHistogramPutsLeLast) {
    Registry r;
    r.histogram_family("h", "H.", {"route"}, {1.0}).with({"/x"}).observe(0.5);
    const std::string text = r.render();
    EXPECT_NE(text.find("h_bucket{route=\"/x\",le=\"1\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("h_count{route=\"/x\"} 1\n"), std::string::npos);
}

TEST(MetricsRegistryTest, LabelValuesAndHelpAreEscaped) {
    Registry r;
    r.counter_family("c", "Help with \\ and\nnewline.", {"v"}).with({"a\"b\\c\nd"}).inc();
    const std::string text = r.render();
    EXPECT_NE(text.find("# HELP c Help with \\\\ and\\nnewline.\n"), std::string::npos) << text;
    EXPECT_NE(text.find("c{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
}

TEST(MetricsRegistryTest, SameRegistrationReturnsSameMetric) {
    Registry r;
    auto& a = r.counter("x_total", "X.");
    auto& b = r.counter("x_total", "X.");
    EXPECT_EQ(&a, &b);
}

TEST(MetricsRegistryTest, SeriesBeyondTheCapShareAnOverflowChild) {
    Registry r;
    auto& fam = r.counter_family("capped_total", "Capped.", {"k"}, /*max_series=*/2);
    fam.with({"a"}).inc();
    fam.with({"b"}).inc();
    fam.with({"c"}).inc();
    fam.with({"d"}).inc();
    const std::string text = r.render();
    EXPECT_NE(text.find("capped_total{k=\"_overflow\"} 2\n"), std::string::npos) << text;
    EXPECT_EQ(text.find("k=\"c\""), std::string::npos);
}

TEST(MetricsRegistryTest, CallbackGaugeIsReadAtScrape) {
    Registry r;
    double v = 1;
    r.gauge_callback("cb", "Callback.", [&v] { return v; });
    v = 42;
    EXPECT_NE(r.render().find("cb 42\n"), std::string::npos);
}

TEST(MetricsRegistryTest, SpecialValues) {
    Registry r;
    r.gauge("g_inf", "I.").set(std::numeric_limits<double>::infinity());
    r.gauge("g_nan", "N.").set(std::numeric_limits<double>::quiet_NaN());
    const std::string text = r.render();
    EXPECT_NE(text.find("g_inf +Inf\n"), std::string::npos);
    EXPECT_NE(text.find("g_nan NaN\n"), std::string::npos);
}

TEST(MetricsRegistryDeathTest, ConflictingRegistrationAborts) {
    Registry r;
    r.counter("dup", "D.");
    EXPECT_DEATH(r.gauge("dup", "D."), "registered once");
    EXPECT_DEATH(r.counter("bad name", "B."), "metric names");
    EXPECT_DEATH(r.counter_family("f", "F.", {"__reserved"}), "label names");
    EXPECT_DEATH(r.counter_family("f2", "F.", {"a"}).with({"x", "y"}), "label values");
}

} // namespace
} // namespace agentd::gateway::metrics
