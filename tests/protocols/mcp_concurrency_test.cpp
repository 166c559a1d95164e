// Races the MCP server on purpose: requests from many threads, completions from other threads,
// cancellations racing completions, change notifications racing everything. Every request must
// end exactly once (RecordingChannel fails the test on a second ending) and nothing may remain
// in flight. Label `concurrency`: the TSan tree runs it.

#include "mcp_test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace agentd::protocols::mcp::test {
namespace {

TEST(McpConcurrency, RequestsCompletionsAndCancellationsRace) {
    Harness h;
    h.initialize();
    constexpr int kThreads = 6;
    constexpr int kPerThread = 150;
    std::vector<std::vector<std::shared_ptr<RecordingChannel>>> channels(kThreads);
    std::atomic<bool> stop{false};

    // Completes whatever slow calls exist, from its own thread.
    std::thread completer([&] {
        std::size_t done = 0;
        while (!stop.load()) {
            auto calls = h.tools->slow_calls();
            for (; done < calls.size(); ++done) {
                calls[done]->progress(1);
                calls[done]->complete({{"content", json::array()}});
            }
            std::this_thread::yield();
        }
    });
    std::thread notifier([&] {
        for (int i = 0; i < 500 && !stop.load(); ++i) {
            h.tools->fire({ChangeEvent::Kind::tools_list_changed, "", ""});
        }
    });
    std::vector<std::thread> senders;
    for (int t = 0; t < kThreads; ++t) {
        senders.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const std::string id = std::to_string(t) + "-" + std::to_string(i);
                const char* tool = i % 3 == 0 ? "echo" : (i % 3 == 1 ? "slow" : "progress");
                channels[t].push_back(h.send(request(
                    id, "tools/call", {{"name", tool}, {"_meta", {{"progressToken", id}}}})));
                if (i % 3 == 1) {
                    (void)h.send({{"jsonrpc", "2.0"},
                                  {"method", "notifications/cancelled"},
                                  {"params", {{"requestId", id}}}});
                }
            }
        });
    }
    for (auto& s : senders) {
        s.join();
    }
    // Every slow call is either cancelled or completed by now or soon; wait for the completer to
    // catch up with the last one.
    while (h.connection->in_flight() != 0) {
        std::this_thread::yield();
    }
    stop = true;
    completer.join();
    notifier.join();
    for (const auto& per_thread : channels) {
        for (const auto& ch : per_thread) {
            EXPECT_TRUE(ch->response().has_value() || ch->ended_without_response());
        }
    }
    EXPECT_EQ(h.connection->in_flight(), 0u);
}

} // namespace
} // namespace agentd::protocols::mcp::test
