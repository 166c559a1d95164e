// The OpenAI routes in a real App on loopback with stories260K: concurrent streams agree with
// plain greedy answers, a client that disconnects frees its sequence, a graceful stop lets a
// stream finish, bad requests get OpenAI-shaped errors, and without a model the model endpoints
// answer 503. Threads (I/O, blocking pool, engine) are involved: label `concurrency`.
#include "agentd/itest/http_client.h"
#include "agentd/test/env.h"

#include "in_process_server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

namespace agentd::gateway {
namespace {

using json = nlohmann::json;
using itest::HttpConnection;
using itest::make_request;

itest::HttpResponse post(std::uint16_t port, const std::string& target, const json& body) {
    return itest::http_request(
        port, make_request("POST", target, body.dump(), {{"Content-Type", "application/json"}}));
}

/// The data: payloads of an SSE body, in order.
std::vector<std::string> sse_data(const std::string& body) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos) {
        const auto end = body.find('\n', pos);
        out.push_back(body.substr(pos + 6, end - pos - 6));
        pos = end;
    }
    return out;
}

/// A metric's value from /metrics text (first sample), or -1.
double metric(std::uint16_t port, const std::string& name) {
    const auto text = itest::http_get(port, "/metrics").body;
    const auto at = text.find("\n" + name + " ");
    if (at == std::string::npos) {
        return -1;
    }
    return std::stod(text.substr(at + name.size() + 2));
}

class OpenAiServerTest : public ::testing::Test {
protected:
    void start(bool with_model, const std::string& engine_json = "{}") {
        auto c = testing::test_config();
        if (with_model) {
            const auto model = test::shared_file("models/stories260K.gguf");
            if (!model) {
                if (test::running_in_ci()) {
                    FAIL() << "shared data missing under CI";
                }
                GTEST_SKIP() << "shared data not found";
            }
            c.model = *model;
            config::apply_config_json(c, R"({"engine": )" + engine_json + "}");
        }
        server_ = std::make_unique<testing::InProcessServer>(std::move(c));
    }
    std::uint16_t port() const { return server_->port(); }

    std::unique_ptr<testing::InProcessServer> server_;
};

json story_request(int max_tokens, bool stream) {
    json body = {{"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
                 {"max_tokens", max_tokens},
                 {"temperature", 0}};
    if (stream) {
        body["stream"] = true;
    }
    return body;
}

TEST_F(OpenAiServerTest, WithoutAModelModelEndpointsAnswer503) {
    start(false);
    for (const char* target : {"/v1/chat/completions", "/v1/completions", "/v1/embeddings"}) {
        const auto r = post(port(), target, story_request(4, false));
        EXPECT_EQ(r.status, 503u) << target;
        const auto body = json::parse(r.body);
        EXPECT_EQ(body["error"]["code"], "model_not_loaded") << r.body;
        EXPECT_EQ(body["error"]["type"], "server_error");
    }
    const auto models = itest::http_get(port(), "/v1/models");
    EXPECT_EQ(models.status, 200u);
    EXPECT_EQ(json::parse(models.body)["data"].size(), 0u);
    EXPECT_EQ(itest::http_get(port(), "/v1/models/x").status, 404u);
}

TEST_F(OpenAiServerTest, ConcurrentStreamsMatchPlainGreedyAnswers) {
    start(true, R"({"max_sequences": 4, "token_budget": 32})");
    const auto plain = post(port(), "/v1/chat/completions", story_request(40, false));
    ASSERT_EQ(plain.status, 200u) << plain.body;
    const std::string want = json::parse(plain.body)["choices"][0]["message"]["content"];
    constexpr int kClients = 10; // more than max_sequences: some wait for admission
    std::vector<std::string> got(kClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back([&, i] {
            const auto r = post(port(), "/v1/chat/completions", story_request(40, true));
            if (r.status != 200u || r.header("Content-Type").find("text/event-stream") != 0) {
                got[static_cast<std::size_t>(i)] = "HTTP " + std::to_string(r.status) + r.body;
                return;
            }
            const auto events = sse_data(r.body);
            std::string text;
            for (const auto& e : events) {
                if (e == "[DONE]") {
                    continue;
                }
                const auto chunk = json::parse(e);
                const auto& delta = chunk["choices"][0]["delta"];
                if (delta.contains("content")) {
                    text += delta["content"].get<std::string>();
                }
            }
            if (events.empty() || events.back() != "[DONE]") {
                text += "<no [DONE]>";
            }
            got[static_cast<std::size_t>(i)] = text;
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (int i = 0; i < kClients; ++i) {
        EXPECT_EQ(got[static_cast<std::size_t>(i)], want) << "client " << i;
    }
}

TEST_F(OpenAiServerTest, ClientDisconnectCancelsItsSequence) {
    start(true);
    json body = story_request(1'000'000, true);
    body["ignore_eos"] = true; // would run to the end of the context
    {
        HttpConnection conn(port());
        conn.send(make_request("POST", "/v1/chat/completions", body.dump(),
                               {{"Content-Type", "application/json"}}));
        const auto head = conn.read_head();
        ASSERT_EQ(head.status, 200u);
        bool done = false;
        std::string seen;
        while (seen.find("\"content\":\"") == std::string::npos || seen.size() < 2000) {
            seen += conn.read_body_some(&done);
            ASSERT_FALSE(done);
        }
        conn.close();
    }
    // The sequence is cancelled and its KV freed long before the 2048-token context is full.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (metric(port(), "vllm:num_requests_running") != 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    EXPECT_EQ(metric(port(), "vllm:num_requests_running"), 0);
    EXPECT_EQ(metric(port(), "vllm:kv_cache_usage_perc"), 0);
    EXPECT_LT(metric(port(), "agentd_generation_tokens_total"), 2000);
}

TEST_F(OpenAiServerTest, GracefulStopEndsStreamsWithAnErrorEvent) {
    start(true);
    HttpConnection conn(port(), std::chrono::seconds(60));
    json body = story_request(1'000'000, true);
    body["ignore_eos"] = true;
    conn.send(make_request("POST", "/v1/chat/completions", body.dump(),
                           {{"Content-Type", "application/json"}}));
    const auto head = conn.read_head();
    ASSERT_EQ(head.status, 200u);
    bool done = false;
    std::string text = conn.read_body_some(&done);
    std::thread stopper([&] { EXPECT_EQ(server_->stop(), 0); });
    while (!done) {
        text += conn.read_body_some(&done);
    }
    stopper.join();
    const auto events = sse_data(text);
    ASSERT_FALSE(events.empty());
    const auto last = json::parse(events.back());
    EXPECT_EQ(last["error"]["code"], "shutting_down") << events.back();
}

TEST_F(OpenAiServerTest, BadRequestsGetOpenAiErrors) {
    start(true);
    const auto not_json =
        itest::http_request(port(), make_request("POST", "/v1/chat/completions", "{oops",
                                                 {{"Content-Type", "application/json"}}));
    EXPECT_EQ(not_json.status, 400u);
    EXPECT_EQ(json::parse(not_json.body)["error"]["type"], "invalid_request_error");

    json wrong_model = story_request(4, false);
    wrong_model["model"] = "gpt-4o";
    const auto nf = post(port(), "/v1/chat/completions", wrong_model);
    EXPECT_EQ(nf.status, 404u);
    EXPECT_EQ(json::parse(nf.body)["error"]["code"], "model_not_found");

    json huge = story_request(4, false);
    huge["messages"][0]["content"] = std::string(20000, 'a'); // > the 2048-token context
    const auto too_long = post(port(), "/v1/chat/completions", huge);
    EXPECT_EQ(too_long.status, 400u);
    EXPECT_EQ(json::parse(too_long.body)["error"]["code"], "context_length_exceeded");

    json streaming_error = huge;
    streaming_error["stream"] = true;
    const auto se = post(port(), "/v1/chat/completions", streaming_error);
    EXPECT_EQ(se.status, 400u) << "refused before the stream starts: " << se.body;
    EXPECT_EQ(json::parse(se.body)["error"]["code"], "context_length_exceeded");

    const auto bad_schema =
        post(port(), "/v1/chat/completions",
             {{"messages", {{{"role", "user"}, {"content", "x"}}}},
              {"response_format",
               {{"type", "json_schema"},
                {"json_schema", {{"name", "a"}, {"schema", {{"$ref", "#/nowhere"}}}}}}}});
    EXPECT_EQ(bad_schema.status, 400u) << bad_schema.body;
    EXPECT_EQ(json::parse(bad_schema.body)["error"]["param"], "response_format.json_schema.schema");

    const auto emb = post(port(), "/v1/embeddings", {{"input", json::array()}});
    EXPECT_EQ(emb.status, 400u);
    const auto emb_dims = post(port(), "/v1/embeddings", {{"input", "x"}, {"dimensions", 3}});
    EXPECT_EQ(emb_dims.status, 400u);
    const auto comp = post(port(), "/v1/completions", {{"prompt", "x"}, {"echo", true}});
    EXPECT_EQ(comp.status, 400u);
    EXPECT_EQ(json::parse(comp.body)["error"]["param"], "echo");
}

} // namespace
} // namespace agentd::gateway
