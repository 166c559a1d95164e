// The `agents`, `peers`, `a2a` and `tracing` config sections: defaults, every key, and errors
// that name the key; plus trace context parsing, the OTLP/JSON body and webhook URL checks.

#include "a2a/push_sender.h"
#include "config/config.h"
#include "runtime/trace.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace agentd::gateway {
namespace {

config::Config apply(const std::string& text) {
    config::Config c;
    config::apply_config_json(c, text);
    return c;
}

std::string error_of(const std::string& text) {
    try {
        apply(text);
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(RuntimeConfig, AgentsWithEveryKey) {
    const auto c = apply(R"({
      "agents": [{
        "name": "coder", "description": "d", "version": "2.0",
        "skills": [{"id": "py", "name": "Python", "description": "runs", "tags": ["x"],
                    "examples": ["e"]}],
        "system_prompt": "be brief",
        "sampling": {"temperature": 0.5, "top_p": 0.9, "top_k": 40, "seed": 7, "max_tokens": 64},
        "tools": ["run_python", "peer_helper"],
        "tool_choice": "run_python", "followup_tool_choice": "none",
        "tool_schemas": {"run_python": {"type": "object"}},
        "max_steps": 4, "time_budget_ms": 5000, "token_budget": 1000,
        "context": {"max_context_tokens": 2048, "recent_messages": 8, "summarize": true,
                    "retrieve_memories": true}
      }],
      "peers": [{"name": "helper", "card_url": "http://127.0.0.1:9/.well-known/agent-card.json",
                 "description": "helps", "timeout_ms": 1000}],
      "a2a": {"default_agent": "coder", "push_allow_loopback": false, "push_timeout_ms": 500,
              "push_max_attempts": 2, "max_live_tasks": 10},
      "tracing": {"otlp_endpoint": "http://127.0.0.1:4318/"}
    })");
    ASSERT_EQ(c.agents.agents.size(), 1u);
    const auto& a = c.agents.agents[0];
    EXPECT_EQ(a.name, "coder");
    EXPECT_EQ(a.skills.at(0).name, "Python");
    EXPECT_FLOAT_EQ(a.sampling.temperature, 0.5F);
    EXPECT_EQ(a.sampling.max_tokens, 64);
    EXPECT_EQ(a.tool_choice, "run_python");
    EXPECT_EQ(a.tool_schemas.at("run_python"), R"({"type":"object"})");
    EXPECT_EQ(a.max_steps, 4);
    EXPECT_EQ(a.time_budget.count(), 5000);
    EXPECT_TRUE(a.context.summarize);
    EXPECT_EQ(c.agents.peers.at(0).timeout.count(), 1000);
    EXPECT_EQ(c.agents.a2a.default_agent, "coder");
    EXPECT_EQ(c.agents.a2a.push_allow_loopback, false);
    EXPECT_FALSE(c.agents.a2a.push_allow_private.has_value());
    EXPECT_EQ(c.agents.a2a.push_max_attempts, 2u);
    EXPECT_EQ(c.agents.otlp_endpoint, "http://127.0.0.1:4318");
}

TEST(RuntimeConfig, ErrorsNameTheKey) {
    EXPECT_EQ(error_of(R"({"agents": {}})"), "agents: must be an array of agent objects");
    EXPECT_EQ(error_of(R"({"agents": [{"description": "x"}]})"), "agents[0].name: is required");
    EXPECT_EQ(error_of(R"({"agents": [{"name": "a b"}]})"),
              "agents[0].name: must be 1-64 characters of A-Z a-z 0-9 _ - (got \"a b\")");
    EXPECT_EQ(error_of(R"({"agents": [{"name": "a"}, {"name": "a"}]})"),
              "agents[1].name: duplicate agent name \"a\"");
    EXPECT_EQ(error_of(R"({"agents": [{"name": "a", "max_steps": 0}]})"),
              "agents[0].max_steps: must be an integer in [1, 64] (got 0)");
    EXPECT_EQ(error_of(R"({"agents": [{"name": "a", "colour": 1}]})"),
              "agents[0].colour: unknown key");
    EXPECT_EQ(error_of(R"({"agents": [{"name": "a", "tool_choice": "run_python"}]})"),
              "agents[0].tool_choice: must be auto, required, none or one of the agent's tools "
              "(got \"run_python\")");
    EXPECT_EQ(error_of(R"({"agents": [{"name": "a", "sampling": {"temperature": 9}}]})"),
              "agents[0].sampling.temperature: must be a number in [0.000000, 5.000000] (got 9)");
    EXPECT_EQ(error_of(R"({"peers": [{"name": "p", "card_url": "ftp://x"}]})"),
              "peers[0].card_url: must be an http:// or https:// URL");
    EXPECT_EQ(error_of(R"({"peers": [{"name": "p"}]})"), "peers[0].card_url: is required");
    EXPECT_EQ(error_of(R"({"a2a": {"push_max_attempts": 0}})"),
              "a2a.push_max_attempts: must be an integer in [1, 20] (got 0)");
    EXPECT_EQ(error_of(R"({"tracing": {"otlp_endpoint": "udp://x"}})"),
              "tracing.otlp_endpoint: must be an http:// or https:// URL");
}

TEST(RuntimeTrace, TraceParent) {
    const auto tp =
        runtime::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    ASSERT_TRUE(tp.has_value());
    EXPECT_EQ(tp->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(tp->span_id, "00f067aa0ba902b7");
    EXPECT_FALSE(runtime::parse_traceparent("").has_value());
    EXPECT_FALSE(
        runtime::parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
    EXPECT_FALSE(
        runtime::parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
    EXPECT_FALSE(
        runtime::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
    EXPECT_EQ(runtime::new_trace_id().size(), 32u);
    EXPECT_EQ(runtime::new_span_id().size(), 16u);
    EXPECT_NE(runtime::new_trace_id(), runtime::new_trace_id());
}

TEST(RuntimeTrace, OtlpJson) {
    runtime::SpanRecord s;
    s.trace_id = std::string(32, 'a');
    s.span_id = std::string(16, 'b');
    s.parent_id = std::string(16, 'c');
    s.name = "tool";
    s.start_unix_ns = 1;
    s.end_unix_ns = 2;
    s.attributes = {{"tool", std::string("run_python")},
                    {"sandbox.wall_ms", std::int64_t{12}},
                    {"ratio", 0.5},
                    {"ok", true}};
    const auto body = nlohmann::json::parse(runtime::otlp_json({s}, "agentd"));
    const auto& rs = body["resourceSpans"][0];
    EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "agentd");
    const auto& span = rs["scopeSpans"][0]["spans"][0];
    EXPECT_EQ(span["traceId"], s.trace_id);
    EXPECT_EQ(span["parentSpanId"], s.parent_id);
    EXPECT_EQ(span["startTimeUnixNano"], "1");
    EXPECT_EQ(span["attributes"][1]["value"]["intValue"], "12");
    EXPECT_EQ(span["attributes"][2]["value"]["doubleValue"], 0.5);
    EXPECT_EQ(span["attributes"][3]["value"]["boolValue"], true);
    EXPECT_EQ(span["status"]["code"], 1);
}

TEST(A2aPush, WebhookUrls) {
    tools::NetPolicy open;
    const auto u = a2a::validate_webhook_url("https://Hooks.example.com:8443/a/b?x=1#frag", open);
    ASSERT_TRUE(u.has_value()) << u.error().what();
    EXPECT_TRUE(u->tls);
    EXPECT_EQ(u->host, "Hooks.example.com");
    EXPECT_EQ(u->port, 8443);
    EXPECT_EQ(u->target, "/a/b?x=1");
    const auto v6 = a2a::validate_webhook_url("http://[::1]:9/h", open);
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(a2a::validate_webhook_url("http://h", open)->target, "/");
    for (const char* bad : {"ftp://h/x", "h/x", "http://user:pw@h/x", "http://h:0/x",
                            "http://h:99999/x", "http:///x", "http://h/a b", "http://[::1/x"}) {
        EXPECT_FALSE(a2a::validate_webhook_url(bad, open).has_value()) << bad;
    }
    tools::NetPolicy strict;
    strict.allow_loopback = false;
    strict.allow_private = false;
    EXPECT_FALSE(a2a::validate_webhook_url("http://127.0.0.1/x", strict).has_value());
    EXPECT_FALSE(a2a::validate_webhook_url("http://10.1.2.3/x", strict).has_value());
    EXPECT_FALSE(a2a::validate_webhook_url("http://169.254.169.254/x", open).has_value());
    EXPECT_TRUE(a2a::validate_webhook_url("http://93.184.216.34/x", strict).has_value());
}

} // namespace
} // namespace agentd::gateway
