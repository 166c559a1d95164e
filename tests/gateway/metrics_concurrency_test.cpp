// Metrics updated from several threads while being rendered (runs under TSan: label concurrency).
#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <thread>

namespace agentd::gateway::metrics {
namespace {

TEST(MetricsRegistryTest, ConcurrentUpdatesAreNotLost) {
    Registry r;
    auto& fam = r.counter_family("hits_total", "Hits.", {"t"});
    auto& h = r.histogram("lat", "L.", Registry::latency_buckets());
    auto& g = r.gauge("open", "O.");
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10000; ++i) {
                fam.with({i % 2 == 0 ? "even" : "odd"}).inc();
                h.observe(0.001 * (t + 1));
                g.add(1);
                g.sub(1);
                if (i % 1000 == 0) {
                    (void)r.render();
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(fam.with({"even"}).value() + fam.with({"odd"}).value(), 40000u);
    EXPECT_EQ(h.snapshot().cumulative.back(), 40000u);
    EXPECT_EQ(g.value(), 0.0);
}

} // namespace
} // namespace agentd::gateway::metrics
