// The real binary under many, slow and excess connections, and a SIGTERM while they are open
// (labels integration + concurrency).
#include "agentd/itest/agentd_process.h"
#include "agentd/itest/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace agentd::itest {
namespace {

TEST(LoadTest, SlowClientsDoNotBlockOthersAndTimeOut) {
    const auto config = write_temp_file("slow.json", R"({"server": {"header_timeout_ms": 500,
        "body_timeout_ms": 500}})");
    auto p = AgentdProcess::serve({"--config", config.string()});
    // Slowloris: connections that start a request and never finish its header or body.
    std::vector<HttpConnection> slow;
    for (int i = 0; i < 20; ++i) {
        slow.emplace_back(p->port());
        slow.back().send_raw(i % 2 == 0 ? "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
                                        : "POST /healthz HTTP/1.1\r\nHost: x\r\n"
                                          "Content-Length: 100\r\n\r\npartial");
    }
    // Everyone else is served meanwhile.
    HttpConnection fast(p->port());
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(fast.request(make_request("GET", "/healthz")).status, 200u);
    }
    // The slow ones get 408 and are closed once their deadline passes.
    for (auto& c : slow) {
        std::string received;
        EXPECT_TRUE(c.wait_closed(20s, &received));
        EXPECT_EQ(received.rfind("HTTP/1.1 408 ", 0), 0u) << received.substr(0, 40);
    }
    EXPECT_EQ(fast.request(make_request("GET", "/healthz")).status, 200u);
    EXPECT_EQ(p->stop().exit_code, 0);
    std::filesystem::remove_all(config.parent_path());
}

TEST(LoadTest, ManyConcurrentConnections) {
    auto p = AgentdProcess::serve({"--log-level", "warn"});
    constexpr int kThreads = 8;
    constexpr int kConnectionsPerThread = 25;
    constexpr int kRequests = 4;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            std::vector<HttpConnection> conns;
            for (int i = 0; i < kConnectionsPerThread; ++i) {
                conns.emplace_back(p->port());
            }
            for (int round = 0; round < kRequests; ++round) {
                for (auto& c : conns) {
                    c.send(make_request("GET", "/healthz"));
                }
                for (auto& c : conns) {
                    if (c.read_response().status == 200) {
                        ++ok;
                    }
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), kThreads * kConnectionsPerThread * kRequests);
    const auto metrics = http_get(p->port(), "/metrics"); // one more connection
    EXPECT_NE(metrics.body.find("agentd_http_connections_total " +
                                std::to_string(kThreads * kConnectionsPerThread + 1) + "\n"),
              std::string::npos);
    EXPECT_EQ(p->stop().exit_code, 0);
}

TEST(LoadTest, ConnectionLimitAnswers503AndRecovers) {
    const auto config = write_temp_file("limit.json", R"({"server": {"max_connections": 4}})");
    auto p = AgentdProcess::serve({"--config", config.string()});
    std::vector<HttpConnection> held;
    for (int i = 0; i < 4; ++i) {
        held.emplace_back(p->port());
        EXPECT_EQ(held.back().request(make_request("GET", "/healthz")).status, 200u);
    }
    {
        HttpConnection extra(p->port());
        std::string received;
        EXPECT_TRUE(extra.wait_closed(10s, &received));
        EXPECT_EQ(received.rfind("HTTP/1.1 503 ", 0), 0u) << received;
        EXPECT_NE(received.find("too_many_connections"), std::string::npos);
    }
    // Let the server close one: the slot is free by the time the client sees the close.
    auto r = held.back().request(make_request("GET", "/healthz", "", {{"Connection", "close"}}));
    EXPECT_EQ(r.status, 200u);
    EXPECT_TRUE(held.back().wait_closed(10s));
    held.pop_back();
    HttpConnection again(p->port());
    EXPECT_EQ(again.request(make_request("GET", "/healthz")).status, 200u);
    const auto metrics = again.request(make_request("GET", "/metrics"));
    EXPECT_NE(metrics.body.find("agentd_http_rejected_connections_total 1\n"), std::string::npos);
    EXPECT_EQ(p->stop().exit_code, 0);
    std::filesystem::remove_all(config.parent_path());
}

TEST(LoadTest, SigtermWithBusyConnectionsExitsZero) {
    auto p = AgentdProcess::serve({"--log-level", "warn"});
    std::atomic<bool> stop{false};
    std::atomic<int> served{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&] {
            while (!stop) {
                try {
                    HttpConnection c(p->port());
                    for (int i = 0; i < 20 && !stop; ++i) {
                        if (c.request(make_request("GET", "/healthz")).status == 200) {
                            ++served;
                        }
                    }
                } catch (const HttpClientError&) {
                    return; // the server went away: expected once it stops
                }
            }
        });
    }
    // Wait for real traffic (bounded: the clients stop by themselves if the server dies).
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (served.load() < 200 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    EXPECT_GE(served.load(), 200);
    const auto result = p->stop(SIGTERM);
    stop = true;
    for (auto& t : clients) {
        t.join();
    }
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_FALSE(result.timed_out);
}

} // namespace
} // namespace agentd::itest
