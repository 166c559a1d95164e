// The OpenAI layer's pure parts: request validation (every field error names its param),
// message shaping for chat templates, response and chunk shapes, error bodies, engine config.
#include "agentd/inference/errc.h"
#include "agentd/inference/value_json.h"
#include "agentd/test/env.h"

#include "config/cli_options.h"
#include "config/config.h"
#include "openai/api_error.h"
#include "openai/chat_prompt.h"
#include "openai/chat_request.h"
#include "openai/response_json.h"

#include <gtest/gtest.h>

namespace agentd::gateway::openai {
namespace {

using inference::Value;

constexpr std::int32_t kVocab = 512;

Value parse(std::string_view text) {
    auto v = inference::parse_json(text);
    EXPECT_TRUE(v) << text;
    return v ? std::move(*v) : Value();
}

ApiResult<ChatRequest> chat(std::string_view body) {
    return parse_chat_request(parse(body), RequestLimits{}, kVocab);
}

/// Expects a 400 naming `param`.
void expect_rejected(std::string_view body, const std::string& param) {
    auto r = chat(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().status, 400u) << body;
    EXPECT_EQ(r.error().type, "invalid_request_error");
    EXPECT_EQ(r.error().param, param) << body << ": " << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
}

TEST(OpenAiRequest, BodyMustBeAJsonObjectWithinLimits) {
    RequestLimits limits;
    EXPECT_FALSE(parse_body("", limits));
    EXPECT_FALSE(parse_body("not json", limits));
    EXPECT_FALSE(parse_body("[1, 2]", limits));
    EXPECT_FALSE(parse_body(R"({"a": 1,})", limits));
    EXPECT_FALSE(parse_body(std::string(100, '[') + std::string(100, ']'), limits)); // depth
    limits.max_body_bytes = 16;
    EXPECT_FALSE(parse_body(R"({"messages": "long enough to exceed"})", limits));
    EXPECT_TRUE(parse_body(R"({"a": 1})", limits));
}

TEST(OpenAiRequest, CommonFieldsAreValidated) {
    const std::string m = R"("messages": [{"role": "user", "content": "hi"}])";
    expect_rejected("{" + m + R"(, "temperature": 2.5})", "temperature");
    expect_rejected("{" + m + R"(, "temperature": "hot"})", "temperature");
    expect_rejected("{" + m + R"(, "top_p": 1.5})", "top_p");
    expect_rejected("{" + m + R"(, "max_tokens": 0})", "max_tokens");
    expect_rejected("{" + m + R"(, "max_tokens": 1.5})", "max_tokens");
    expect_rejected("{" + m + R"(, "n": 2})", "n");
    expect_rejected("{" + m + R"(, "stop": ["a", "b", "c", "d", "e"]})", "stop");
    expect_rejected("{" + m + R"(, "stop": [""]})", "stop");
    expect_rejected("{" + m + R"(, "stop": 5})", "stop");
    expect_rejected("{" + m + R"(, "logit_bias": {"abc": 1}})", "logit_bias");
    expect_rejected("{" + m + R"(, "logit_bias": {"600": 1}})", "logit_bias");
    expect_rejected("{" + m + R"(, "logit_bias": {"5": 101}})", "logit_bias");
    expect_rejected("{" + m + R"(, "stream_options": {"include_usage": true}})", "stream_options");
    expect_rejected("{" + m + R"(, "presence_penalty": -3})", "presence_penalty");
    expect_rejected("{" + m + R"(, "model": 7})", "model");
    expect_rejected("{" + m + R"(, "top_logprobs": 3})", "top_logprobs");
    expect_rejected("{" + m + R"(, "top_logprobs": 21, "logprobs": true})", "top_logprobs");

    auto ok = chat("{" + m +
                   R"(, "model": "x", "temperature": 0, "max_tokens": 7, "max_completion_tokens": 9,
                   "stop": "END", "seed": 42, "logit_bias": {"5": -100}, "stream": true,
                   "stream_options": {"include_usage": true}, "logprobs": true,
                   "top_logprobs": 2, "top_k": 40, "min_p": 0.05, "ignore_eos": true,
                   "priority": 3, "temperature": null})");
    ASSERT_TRUE(ok) << ok.error().message;
    const CommonParams& c = ok->common;
    EXPECT_EQ(c.model, "x");
    EXPECT_EQ(c.max_tokens, 9) << "max_completion_tokens wins";
    EXPECT_EQ(c.stop, std::vector<std::string>{"END"});
    EXPECT_EQ(c.sampling.seed, 42u);
    EXPECT_FLOAT_EQ(c.sampling.temperature, 1.0f) << "null means the default";
    ASSERT_EQ(c.sampling.logit_bias.size(), 1u);
    EXPECT_EQ(c.sampling.logit_bias[0].first, 5);
    EXPECT_TRUE(c.stream);
    EXPECT_TRUE(c.include_usage);
    EXPECT_TRUE(c.sampling.logprobs);
    EXPECT_EQ(c.sampling.top_logprobs, 2);
    EXPECT_EQ(c.sampling.top_k, 40);
    EXPECT_TRUE(c.ignore_eos);
    EXPECT_EQ(c.priority, 3);
}

TEST(OpenAiRequest, MessagesAreValidatedAndNormalised) {
    expect_rejected(R"({})", "messages");
    expect_rejected(R"({"messages": []})", "messages");
    expect_rejected(R"({"messages": [1]})", "messages[0]");
    expect_rejected(R"({"messages": [{"content": "x"}]})", "messages[0].role");
    expect_rejected(R"({"messages": [{"role": "wizard", "content": "x"}]})", "messages[0].role");
    expect_rejected(R"({"messages": [{"role": "user"}]})", "messages[0].content");
    expect_rejected(R"({"messages": [{"role": "tool", "content": "x"}]})",
                    "messages[0].tool_call_id");
    expect_rejected(
        R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})",
        "messages[0].content");
    expect_rejected(R"({"messages": [{"role": "assistant", "tool_calls": [{"function": {}}]}]})",
                    "messages[0].tool_calls[0]");

    auto r = chat(R"({"messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"}]})");
    ASSERT_TRUE(r) << r.error().message;
    const auto& ms = r->messages.as_array();
    ASSERT_EQ(ms.size(), 4u);
    EXPECT_EQ(ms[0].find("role")->as_string(), "system");
    EXPECT_EQ(ms[1].find("content")->as_string(), "Hello there");
    EXPECT_TRUE(ms[2].find("content")->is_null());
    EXPECT_EQ(
        ms[2].find("tool_calls")->as_array()[0].find("function")->find("arguments")->as_string(),
        "{\"a\": 1}");
    EXPECT_EQ(ms[3].find("tool_call_id")->as_string(), "call_1");
}

TEST(OpenAiRequest, ToolsToolChoiceAndResponseFormat) {
    const std::string m = R"("messages": [{"role": "user", "content": "hi"}])";
    const std::string tool =
        R"({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}})";
    expect_rejected("{" + m + R"(, "tools": {}})", "tools");
    expect_rejected("{" + m +
                        R"(, "tools": [{"type": "function", "function": {"name": "bad name"}}]})",
                    "tools[0].function.name");
    expect_rejected("{" + m + R"(, "tools": [)" + tool + "," + tool + "]}", "tools[1]");
    expect_rejected(
        "{" + m +
            R"(, "tools": [{"type": "function", "function": {"name": "f", "parameters": 3}}]})",
        "tools[0].function.parameters");
    expect_rejected("{" + m + R"(, "tool_choice": "required"})", "tool_choice");
    expect_rejected("{" + m + R"(, "tools": [)" + tool +
                        R"(], "tool_choice": {"type": "function", "function": {"name": "other"}}})",
                    "tool_choice");
    expect_rejected("{" + m + R"(, "tools": [)" + tool + R"(], "tool_choice": "sometimes"})",
                    "tool_choice");
    expect_rejected("{" + m + R"(, "response_format": {"type": "xml"}})", "response_format.type");
    expect_rejected("{" + m + R"(, "response_format": {"type": "json_schema"}})",
                    "response_format.json_schema");
    expect_rejected(
        "{" + m + R"(, "response_format": {"type": "json_schema", "json_schema": {"name": "a"}}})",
        "response_format.json_schema.schema");

    auto automatic = chat("{" + m + R"(, "tools": [)" + tool + "]}");
    ASSERT_TRUE(automatic);
    EXPECT_EQ(automatic->tool_mode, ChatRequest::ToolMode::automatic);
    EXPECT_TRUE(automatic->tools.as_array()[0].find("function")->find("parameters")->is_object());

    auto named =
        chat("{" + m + R"(, "tools": [)" + tool +
             R"(], "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
                      "parallel_tool_calls": false})");
    ASSERT_TRUE(named);
    EXPECT_EQ(named->tool_mode, ChatRequest::ToolMode::named);
    EXPECT_EQ(named->tool_name, "get_weather");
    EXPECT_FALSE(named->parallel_tool_calls);

    auto none = chat("{" + m + R"(, "tools": [)" + tool + R"(], "tool_choice": "none"})");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->tool_mode, ChatRequest::ToolMode::none);

    auto schema = chat("{" + m + R"(, "response_format": {"type": "json_schema",
        "json_schema": {"name": "a", "strict": false, "schema": {"type": "object"}}}})");
    ASSERT_TRUE(schema);
    EXPECT_EQ(schema->format, ChatRequest::Format::json_schema);
    EXPECT_FALSE(schema->schema_strict);
}

TEST(OpenAiPrompt, MessagesAreShapedForWhatTheTemplateCanExpress) {
    const Value messages = parse(R"([
        {"role": "system", "content": "Rules."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"a\": [1]}"}}]}])");
    inference::ChatTemplateCaps caps;
    caps.system_role = false;
    caps.object_arguments = true;
    const Value shaped = shape_messages(messages, caps);
    const auto& ms = shaped.as_array();
    ASSERT_EQ(ms.size(), 2u) << "the system text moved into the user turn";
    EXPECT_EQ(ms[0].find("content")->as_string(), "Rules.\n\nHi");
    EXPECT_EQ(ms[1].find("content")->as_string(), "");
    const Value* args = ms[1].find("tool_calls")->as_array()[0].find("function")->find("arguments");
    ASSERT_TRUE(args->is_object());
    EXPECT_EQ(inference::to_json(*args), R"({"a":[1]})");

    caps.system_role = true;
    caps.object_arguments = false;
    const Value kept = shape_messages(messages, caps);
    ASSERT_EQ(kept.as_array().size(), 3u);
    EXPECT_TRUE(kept.as_array()[2]
                    .find("tool_calls")
                    ->as_array()[0]
                    .find("function")
                    ->find("arguments")
                    ->is_string());

    caps.system_role = false;
    const Value only_system =
        shape_messages(parse(R"([{"role": "system", "content": "S"}])"), caps);
    ASSERT_EQ(only_system.as_array().size(), 1u);
    EXPECT_EQ(only_system.as_array()[0].find("role")->as_string(), "user");
}

TEST(OpenAiResponse, ChunksAndResponsesHaveOpenAiShapes) {
    CallInfo info{"chatcmpl-x", "m", 1700000000, CallOptions::Kind::chat};
    const auto chunk = parse(chunk_json(info, Value(inference::Object{{"content", "Hi"}}),
                                        Value(nullptr), nullptr, true));
    EXPECT_EQ(chunk.find("object")->as_string(), "chat.completion.chunk");
    EXPECT_TRUE(chunk.find("usage")->is_null());
    const auto& choice = chunk.find("choices")->as_array()[0];
    EXPECT_EQ(choice.find("delta")->find("content")->as_string(), "Hi");
    EXPECT_TRUE(choice.find("finish_reason")->is_null());

    inference::RequestUsage usage{10, 5, 4};
    const auto last = parse(usage_chunk_json(info, usage));
    EXPECT_TRUE(last.find("choices")->as_array().empty());
    EXPECT_EQ(last.find("usage")->find("total_tokens")->as_int(), 15);
    EXPECT_EQ(last.find("usage")->find("prompt_tokens_details")->find("cached_tokens")->as_int(),
              4);

    const auto full = parse(chat_response_json(info, "", "", {{"call_1", "f", "{}"}},
                                               Value(nullptr), "tool_calls", usage));
    const auto& message = full.find("choices")->as_array()[0].find("message");
    EXPECT_TRUE(message->find("content")->is_null()) << "tool calls without text: null content";
    EXPECT_EQ(
        message->find("tool_calls")->as_array()[0].find("function")->find("name")->as_string(),
        "f");

    CallInfo text{"cmpl-x", "m", 1, CallOptions::Kind::text};
    const auto t = parse(text_response_json(text, "abc", Value(nullptr), "length", usage));
    EXPECT_EQ(t.find("object")->as_string(), "text_completion");
    EXPECT_EQ(t.find("choices")->as_array()[0].find("text")->as_string(), "abc");

    EXPECT_STREQ(finish_reason_name(inference::FinishReason::length), "length");
    EXPECT_STREQ(finish_reason_name(inference::FinishReason::tool_calls), "tool_calls");
    EXPECT_STREQ(finish_reason_name(inference::FinishReason::stop), "stop");
    EXPECT_EQ(make_call_id(CallOptions::Kind::chat).size(), 9u + 24u);
}

TEST(OpenAiResponse, LogprobsBothShapes) {
    const PieceFn piece = [](inference::TokenId id) -> std::string_view {
        return id == 1 ? "a" : "bc";
    };
    std::vector<inference::GeneratedToken> tokens{{1, -0.5f, {{1, -0.5f}, {2, -1.5f}}},
                                                  {2, -0.25f, {{2, -0.25f}}}};
    inference::Array chat;
    append_chat_logprobs(chat, tokens, 1, piece);
    ASSERT_EQ(chat.size(), 2u);
    EXPECT_EQ(chat[0].find("token")->as_string(), "a");
    EXPECT_EQ(chat[0].find("top_logprobs")->as_array().size(), 1u);
    EXPECT_EQ(chat[1].find("bytes")->as_array().size(), 2u);

    TextLogprobs text;
    text.add(tokens, 2, piece);
    const Value v = text.value();
    EXPECT_EQ(v.find("text_offset")->as_array()[1].as_int(), 1);
    EXPECT_EQ(v.find("top_logprobs")->as_array()[0].as_object().size(), 2u);
}

TEST(OpenAiErrors, EngineErrorsMapToStatusAndShape) {
    using inference::errc;
    EXPECT_EQ(from_error(base::Error(errc::context_overflow, "too long")).status, 400u);
    EXPECT_EQ(from_error(base::Error(errc::context_overflow, "x")).code, "context_length_exceeded");
    EXPECT_EQ(from_error(base::Error(errc::overloaded, "x")).status, 503u);
    EXPECT_EQ(from_error(base::Error(errc::cancelled, "x")).status, 503u);
    EXPECT_EQ(from_error(base::Error(errc::invalid_schema, "x")).status, 400u);
    EXPECT_EQ(from_error(base::Error(errc::io_error, "x")).status, 500u);
    const auto body = parse(error_body(invalid_request("bad \"x\"", "temperature")));
    const auto* e = body.find("error");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->find("message")->as_string(), "bad \"x\"");
    EXPECT_EQ(e->find("type")->as_string(), "invalid_request_error");
    EXPECT_EQ(e->find("param")->as_string(), "temperature");
    EXPECT_TRUE(e->find("code")->is_null());
    EXPECT_EQ(no_model().status, 503u);
}

TEST(OpenAiConfig, EngineSectionIsValidated) {
    config::Config c;
    config::apply_config_json(c, R"({"engine": {"threads": 2, "context": 1024, "kv_memory_mb": 64,
        "kv_type": "f16", "max_sequences": 8, "max_waiting": 10, "token_budget": 64,
        "model_name": "tiny", "default_max_tokens": 256}})");
    EXPECT_EQ(c.engine.threads, 2);
    EXPECT_EQ(c.engine.context, 1024);
    EXPECT_EQ(c.engine.kv_memory_mb, 64u);
    EXPECT_EQ(c.engine.kv_type, "f16");
    EXPECT_EQ(c.engine.max_sequences, 8);
    EXPECT_EQ(c.engine.token_budget, 64);
    EXPECT_EQ(c.engine.model_name, "tiny");
    EXPECT_EQ(c.engine.default_max_tokens, 256);
    for (const char* bad : {R"({"engine": {"threads": -1}})", R"({"engine": {"kv_type": "q8"}})",
                            R"({"engine": {"max_sequences": 64, "token_budget": 8}})",
                            R"({"engine": {"bogus": 1}})", R"({"engine": []})"}) {
        config::Config d;
        EXPECT_THROW(config::apply_config_json(d, bad), config::ConfigError) << bad;
    }
}

TEST(OpenAiConfig, PrefixCacheSectionAndSwitch) {
    config::Config c;
    EXPECT_TRUE(c.engine.prefix_cache.enabled);
    EXPECT_FALSE(c.engine.prefix_cache.shared_namespace);
    config::apply_config_json(c, R"({"engine": {"prefix_cache": {"enabled": true,
        "shared_namespace": true, "max_pinned_blocks": 12, "pin_ttl_ms": 500}}})");
    EXPECT_TRUE(c.engine.prefix_cache.shared_namespace);
    EXPECT_EQ(c.engine.prefix_cache.max_pinned_blocks, 12);
    EXPECT_EQ(c.engine.prefix_cache.pin_ttl_ms, 500);
    for (const char* bad : {R"({"engine": {"prefix_cache": {"enabled": 1}}})",
                            R"({"engine": {"prefix_cache": {"pin_ttl_ms": -5}}})",
                            R"({"engine": {"prefix_cache": {"namespace": "x"}}})",
                            R"({"engine": {"prefix_cache": true}})"}) {
        config::Config d;
        EXPECT_THROW(config::apply_config_json(d, bad), config::ConfigError) << bad;
    }
    const auto dir = agentd::test::make_temp_dir("prefix-cli");
    config::ServerCli cli("serve");
    auto off = cli.parse({"--data", (dir / "data").string(), "--no-prefix-cache"});
    ASSERT_TRUE(off.has_value());
    EXPECT_FALSE(off->engine.prefix_cache.enabled);
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace agentd::gateway::openai
