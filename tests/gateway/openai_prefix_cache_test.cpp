// The prefix cache through the real OpenAI HTTP API (in-process App on loopback, stories260K):
// the namespace comes from the authenticated tenant, so the same tenant hits and another tenant
// misses; cached_tokens is reported in plain and streamed usage; /metrics shows the cache;
// `prefix_cache.enabled: false` turns it off and `shared_namespace` shares it on purpose.
// Threads (I/O, blocking pool, engine): label `concurrency`.
#include "agentd/itest/http_client.h"
#include "agentd/test/env.h"

#include "auth/sha256.h"
#include "in_process_server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd::gateway {
namespace {

using json = nlohmann::json;

const std::string kKeyA = "acme-key-0123456789abcdef";
const std::string kKeyB = "beta-key-0123456789abcdef";

class OpenAiPrefixCacheTest : public ::testing::Test {
protected:
    void start(const std::string& prefix_cache_json) {
        auto c = testing::test_config();
        const auto model = test::shared_file("models/stories260K.gguf");
        if (!model) {
            if (test::running_in_ci()) {
                FAIL() << "shared data missing under CI";
            }
            GTEST_SKIP() << "shared data not found";
        }
        c.model = *model;
        c.api_keys = {config::ApiKey{"a", "acme", {"*"}, auth::sha256(kKeyA)},
                      config::ApiKey{"b", "beta", {"*"}, auth::sha256(kKeyB)}};
        config::apply_config_json(c, R"({"engine": {"prefix_cache": )" + prefix_cache_json + "}}");
        server_ = std::make_unique<testing::InProcessServer>(std::move(c));
    }

    /// A chat completion as the holder of `key`; returns the parsed body (or fails).
    json chat(const std::string& key, bool stream = false) {
        json body = {{"messages",
                      {{{"role", "system"},
                        {"content", "You are a storyteller. Tell short stories about a little "
                                    "girl named Lily and her dog who live in a small house near "
                                    "the big park with tall trees and a blue pond."}},
                       {{"role", "user"}, {"content", "Once upon a time"}}}},
                     {"max_tokens", 16},
                     {"temperature", 0}};
        if (stream) {
            body["stream"] = true;
            body["stream_options"] = {{"include_usage", true}};
        }
        const auto r = itest::http_request(
            server_->port(), itest::make_request("POST", "/v1/chat/completions", body.dump(),
                                                 {{"Content-Type", "application/json"},
                                                  {"Authorization", "Bearer " + key}}));
        EXPECT_EQ(r.status, 200u) << r.body;
        if (!stream) {
            return json::parse(r.body);
        }
        // The usage chunk comes last before [DONE]; the content is joined into one message.
        json out = {{"choices", {{{"message", {{"content", ""}}}}}}};
        std::size_t pos = 0;
        while ((pos = r.body.find("data: ", pos)) != std::string::npos) {
            const auto end = r.body.find('\n', pos);
            const auto data = r.body.substr(pos + 6, end - pos - 6);
            pos = end;
            if (data == "[DONE]") {
                continue;
            }
            const auto chunk = json::parse(data);
            if (chunk.contains("usage") && chunk["usage"].is_object()) {
                out["usage"] = chunk["usage"];
            }
            if (!chunk["choices"].empty() && chunk["choices"][0]["delta"].contains("content")) {
                out["choices"][0]["message"]["content"] =
                    out["choices"][0]["message"]["content"].get<std::string>() +
                    chunk["choices"][0]["delta"]["content"].get<std::string>();
            }
        }
        return out;
    }

    static int cached(const json& r) {
        return r["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>();
    }
    static std::string content(const json& r) {
        return r["choices"][0]["message"]["content"].get<std::string>();
    }

    double metric(const std::string& name) {
        const auto text =
            itest::http_request(
                server_->port(),
                itest::make_request("GET", "/metrics", {}, {{"Authorization", "Bearer " + kKeyA}}))
                .body;
        const auto at = text.find("\n" + name + " ");
        return at == std::string::npos ? -1 : std::stod(text.substr(at + name.size() + 2));
    }

    std::unique_ptr<testing::InProcessServer> server_;
};

TEST_F(OpenAiPrefixCacheTest, SameTenantHitsOtherTenantMisses) {
    start("{}");
    const auto first = chat(kKeyA);
    ASSERT_TRUE(first.contains("usage")) << first.dump();
    EXPECT_EQ(cached(first), 0);
    const auto again = chat(kKeyA);
    EXPECT_GT(cached(again), 0);
    EXPECT_LT(cached(again), again["usage"]["prompt_tokens"].get<int>());
    EXPECT_EQ(content(again), content(first));
    const auto other = chat(kKeyB);
    EXPECT_EQ(cached(other), 0) << "another tenant never hits";
    EXPECT_EQ(content(other), content(first));
    const auto streamed = chat(kKeyB, true);
    ASSERT_TRUE(streamed.contains("usage")) << streamed.dump();
    EXPECT_GT(cached(streamed), 0) << "now beta has its own copy";
    EXPECT_EQ(content(streamed), content(first));
    EXPECT_GT(metric("agentd_prefix_cache_hit_tokens"), 0.0);
    EXPECT_GT(metric("agentd_prefix_cache_tree_blocks"), 0.0);
    EXPECT_GT(metric("agentd_prefix_cache_hit_rate"), 0.0);
    EXPECT_EQ(metric("agentd_prefix_cache_lookups"), 4.0);
}

TEST_F(OpenAiPrefixCacheTest, DisabledNeverHits) {
    start(R"({"enabled": false})");
    const auto first = chat(kKeyA);
    const auto again = chat(kKeyA, true);
    EXPECT_EQ(cached(again), 0);
    EXPECT_EQ(content(again), content(first));
    EXPECT_EQ(metric("agentd_prefix_cache_lookups"), 0.0);
}

TEST_F(OpenAiPrefixCacheTest, SharedNamespaceIsShared) {
    start(R"({"shared_namespace": true})");
    const auto first = chat(kKeyA);
    const auto other = chat(kKeyB);
    EXPECT_GT(cached(other), 0);
    EXPECT_EQ(content(other), content(first));
}

} // namespace
} // namespace agentd::gateway
