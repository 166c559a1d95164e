// The server and the request pipeline in-process: handler failures, answers from other threads,
// response order under pipelining, client-gone notification, auth, shutdown of in-flight work.
#include "agentd/itest/http_client.h"

#include "auth/sha256.h"
#include "in_process_server.h"
#include "mailbox.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

#include <atomic>

namespace agentd::gateway::testing {
namespace {

using itest::HttpConnection;
using namespace std::chrono_literals;

TEST(ServerBehaviourTest, HandlerFailuresBecome500) {
    InProcessServer server(test_config(), [](app::AppContext& ctx) {
        ctx.router().add("GET", "/throw", [](http::Request&&, http::ResponseWriterPtr) {
            throw std::runtime_error("boom");
        });
        ctx.router().add("GET", "/drop", [](http::Request&&, http::ResponseWriterPtr) {});
        ctx.router().add("GET", "/split", [](http::Request&&, http::ResponseWriterPtr w) {
            http::Response r = http::Response::json(200, "{}");
            r.headers.add("X-Evil", "a\r\nSet-Cookie: stolen=1");
            w->respond(std::move(r));
        });
        ctx.router().add("GET", "/twice", [](http::Request&&, http::ResponseWriterPtr w) {
            w->respond(http::Response::json(201, "{\"first\":true}"));
            w->respond(http::Response::json(500, "{}"));
            EXPECT_TRUE(w->start_sse()->closed());
        });
    });
    HttpConnection c(server.port());
    auto r = c.request(itest::make_request("GET", "/throw"));
    EXPECT_EQ(r.status, 500u);
    EXPECT_NE(r.body.find("internal_error"), std::string::npos);
    EXPECT_EQ(r.body.find("boom"), std::string::npos); // internals are not leaked
    r = c.request(itest::make_request("GET", "/drop"));
    EXPECT_EQ(r.status, 500u);
    r = c.request(itest::make_request("GET", "/split"));
    EXPECT_EQ(r.status, 500u);
    EXPECT_FALSE(r.has_header("Set-Cookie"));
    r = c.request(itest::make_request("GET", "/twice"));
    EXPECT_EQ(r.status, 201u);
    EXPECT_EQ(r.body, "{\"first\":true}");
    EXPECT_EQ(c.request(itest::make_request("GET", "/healthz")).status, 200u);
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServerBehaviourTest, PipelinedResponsesKeepRequestOrder) {
    Mailbox<std::pair<std::string, http::ResponseWriterPtr>> held;
    InProcessServer server(test_config(), [&](app::AppContext& ctx) {
        ctx.router().add("GET", "/later/{n}",
                         [&held](http::Request&& r, http::ResponseWriterPtr w) {
                             held.put({std::string(r.path_param("n").value_or("")), std::move(w)});
                         });
    });
    server.add_teardown([&] { held.clear(); });
    HttpConnection c(server.port());
    c.send_raw("GET /later/1 HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /later/2 HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /later/3 HTTP/1.1\r\nHost: x\r\n\r\n");
    std::vector<std::pair<std::string, http::ResponseWriterPtr>> writers;
    for (int i = 0; i < 3; ++i) {
        auto w = held.take();
        ASSERT_TRUE(w.has_value());
        writers.push_back(std::move(*w));
    }
    // Answer in reverse order, from another thread.
    std::thread answer([&] {
        for (auto it = writers.rbegin(); it != writers.rend(); ++it) {
            it->second->respond(http::Response::json(200, "\"" + it->first + "\""));
        }
    });
    answer.join();
    for (const char* expected : {"\"1\"", "\"2\"", "\"3\""}) {
        EXPECT_EQ(c.read_response().body, expected);
    }
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServerBehaviourTest, PipeliningIsBoundedAndResumes) {
    auto cfg = test_config();
    cfg.limits.max_pipelined_requests = 2;
    std::atomic<int> seen{0};
    InProcessServer server(std::move(cfg), [&](app::AppContext& ctx) {
        ctx.router().add("GET", "/n", [&seen](http::Request&&, http::ResponseWriterPtr w) {
            w->respond(http::Response::json(200, std::to_string(++seen)));
        });
    });
    HttpConnection c(server.port());
    std::string burst;
    for (int i = 0; i < 20; ++i) {
        burst += "GET /n HTTP/1.1\r\nHost: x\r\n\r\n";
    }
    c.send_raw(burst);
    for (int i = 1; i <= 20; ++i) {
        EXPECT_EQ(c.read_response().body, std::to_string(i));
    }
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServerBehaviourTest, ClientGoneIsReportedToWaitingHandlers) {
    Mailbox<http::ResponseWriterPtr> held;
    Mailbox<int> gone;
    InProcessServer server(test_config(), [&](app::AppContext& ctx) {
        ctx.router().add("GET", "/wait", [&](http::Request&&, http::ResponseWriterPtr w) {
            w->on_client_gone([&gone] { gone.put(1); });
            held.put(std::move(w));
        });
    });
    server.add_teardown([&] {
        held.clear();
        gone.clear();
    });
    std::optional<http::ResponseWriterPtr> writer;
    {
        HttpConnection c(server.port());
        c.send(itest::make_request("GET", "/wait"));
        writer = held.take();
        ASSERT_TRUE(writer.has_value());
        c.close();
    }
    EXPECT_TRUE(gone.take().has_value());
    EXPECT_TRUE((*writer)->client_gone());
    EXPECT_FALSE(gone.take(50ms).has_value());
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServerBehaviourTest, AnswersFromTheBlockingPoolUnderConcurrency) {
    InProcessServer server(test_config(), [](app::AppContext& ctx) {
        auto& pool = ctx.blocking();
        ctx.router().add("POST", "/echo", [&pool](http::Request&& r, http::ResponseWriterPtr w) {
            boost::asio::post(pool, [body = std::move(r.body), w = std::move(w)]() mutable {
                w->respond(http::Response::json(200, std::move(body)));
            });
        });
    });
    constexpr int kThreads = 6;
    constexpr int kRequests = 40;
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < kThreads; ++t) {
        clients.emplace_back([&, t] {
            HttpConnection c(server.port());
            for (int i = 0; i < kRequests; ++i) {
                const std::string body =
                    "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
                const auto r = c.request(itest::make_request("POST", "/echo", body));
                if (r.status == 200 && r.body == body) {
                    ++ok;
                }
            }
        });
    }
    for (auto& t : clients) {
        t.join();
    }
    EXPECT_EQ(ok.load(), kThreads * kRequests);
    const auto metrics = itest::http_get(server.port(), "/metrics");
    EXPECT_NE(metrics.body.find("agentd_http_requests_total{route=\"/echo\",method=\"POST\","
                                "status=\"200\"} " +
                                std::to_string(kThreads * kRequests)),
              std::string::npos)
        << metrics.body;
    EXPECT_EQ(server.stop(), 0);
}

TEST(ServerBehaviourTest, ShutdownLetsInFlightRequestsFinish) {
    Mailbox<http::ResponseWriterPtr> held;
    InProcessServer server(test_config(), [&](app::AppContext& ctx) {
        ctx.router().add("GET", "/slow",
                         [&held](http::Request&&, http::ResponseWriterPtr w) { held.put(w); });
    });
    server.add_teardown([&] { held.clear(); });
    HttpConnection c(server.port());
    c.send(itest::make_request("GET", "/slow"));
    auto w = held.take();
    ASSERT_TRUE(w.has_value());
    server.app().request_stop();
    (*w)->respond(http::Response::json(200, "{\"done\":true}"));
    w->reset();
    const auto r = c.read_response();
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "{\"done\":true}");
    // Whether the response itself says "Connection: close" depends on which of the two posted
    // events the connection's strand ran first; either way the connection then closes.
    EXPECT_TRUE(c.wait_closed(10s));
    EXPECT_EQ(server.wait(20s), 0);
}

TEST(ServerBehaviourTest, ShutdownGraceExpiryClosesStuckRequests) {
    auto cfg = test_config();
    cfg.shutdown_grace = 50ms;
    Mailbox<http::ResponseWriterPtr> held;
    Mailbox<int> gone;
    InProcessServer server(std::move(cfg), [&](app::AppContext& ctx) {
        ctx.router().add("GET", "/never", [&](http::Request&&, http::ResponseWriterPtr w) {
            w->on_client_gone([&gone] { gone.put(1); });
            held.put(w);
        });
    });
    server.add_teardown([&] {
        held.clear();
        gone.clear();
    });
    HttpConnection c(server.port());
    c.send(itest::make_request("GET", "/never"));
    auto w = held.take();
    ASSERT_TRUE(w.has_value());
    EXPECT_EQ(server.stop(), 0);
    EXPECT_TRUE(gone.take().has_value()); // the stuck handler learns its client is gone
    EXPECT_TRUE((*w)->client_gone());
    (*w)->respond(http::Response::json(200, "{}")); // too late: ignored, nothing crashes
    EXPECT_TRUE(c.wait_closed(10s));
}

TEST(ServerBehaviourTest, ReadinessReportsChecksAndShutdown) {
    std::atomic<bool> db_open{false};
    Mailbox<http::ResponseWriterPtr> held;
    InProcessServer server(test_config(), [&](app::AppContext& ctx) {
        ctx.readiness().add("db", [&db_open] { return db_open ? "" : "not open yet"; });
        ctx.router().add("GET", "/slow",
                         [&held](http::Request&&, http::ResponseWriterPtr w) { held.put(w); });
    });
    server.add_teardown([&] { held.clear(); });
    auto r = itest::http_get(server.port(), "/readyz");
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(r.body, R"({"status":"not_ready","checks":{"db":"not open yet"}})");
    db_open = true;
    r = itest::http_get(server.port(), "/readyz");
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, R"({"status":"ready","checks":{"db":"ok"}})");
    // Keep a connection busy so the server stays up while shutting down.
    HttpConnection busy(server.port());
    busy.send(itest::make_request("GET", "/slow"));
    auto w = held.take();
    ASSERT_TRUE(w.has_value());
    HttpConnection probe(server.port());
    server.app().request_stop();
    // The already-open keep-alive connection may still ask; new ones are refused.
    EXPECT_TRUE(probe.wait_closed(10s)); // idle connections are closed at shutdown
    (*w)->respond(http::Response::json(200, "{}"));
    EXPECT_EQ(busy.read_response().status, 200u);
    EXPECT_EQ(server.wait(20s), 0);
}

TEST(ServerBehaviourTest, BearerKeysScopesAndPublicRoutes) {
    auto cfg = test_config();
    config::ApiKey admin{"admin", "acme", {"*"}, auth::sha256("admin-key-0123456789")};
    config::ApiKey reader{"reader", "beta", {"probe"}, auth::sha256("reader-key-0123456789")};
    cfg.api_keys = {admin, reader};
    InProcessServer server(std::move(cfg), [](app::AppContext& ctx) {
        http::RouteOptions scoped;
        scoped.scope = "probe:write";
        ctx.router().add("GET", "/whoami",
                         [](http::Request&& r, http::ResponseWriterPtr w) {
                             w->respond(
                                 http::Response::json(200, "\"" + r.principal.tenant + "\""));
                         },
                         {});
        ctx.router().add(
            "POST", "/whoami",
            [](http::Request&&, http::ResponseWriterPtr w) {
                w->respond(http::Response::json(200, "{}"));
            },
            scoped);
    });
    const std::uint16_t port = server.port();
    EXPECT_EQ(itest::http_get(port, "/healthz").status, 200u);
    EXPECT_EQ(itest::http_get(port, "/readyz").status, 200u);
    auto r = itest::http_get(port, "/whoami");
    EXPECT_EQ(r.status, 401u);
    EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer realm=\"agentd\"");
    r = itest::http_get(port, "/whoami", {{"Authorization", "Bearer wrong-key-0123456789"}});
    EXPECT_EQ(r.status, 401u);
    r = itest::http_get(port, "/whoami", {{"Authorization", "Bearer reader-key-0123456789"}});
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.body, "\"beta\"");
    r = itest::http_request(
        port, itest::make_request("POST", "/whoami", "",
                                  {{"Authorization", "Bearer reader-key-0123456789"}}));
    EXPECT_EQ(r.status, 403u);
    r = itest::http_request(
        port, itest::make_request("POST", "/whoami", "",
                                  {{"Authorization", "Bearer admin-key-0123456789"}}));
    EXPECT_EQ(r.status, 200u);
    // /metrics needs the "metrics" scope.
    EXPECT_EQ(itest::http_get(port, "/metrics").status, 401u);
    EXPECT_EQ(itest::http_get(port, "/metrics", {{"Authorization", "Bearer reader-key-0123456789"}})
                  .status,
              403u);
    EXPECT_EQ(itest::http_get(port, "/metrics", {{"Authorization", "Bearer admin-key-0123456789"}})
                  .status,
              200u);
    EXPECT_EQ(server.stop(), 0);
}

} // namespace
} // namespace agentd::gateway::testing
