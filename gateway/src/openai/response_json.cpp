#include "openai/response_json.h"

#include "agentd/inference/value_json.h"

#include <chrono>
#include <random>

namespace agentd::gateway::openai {

using inference::Array;
using inference::Object;
using inference::Value;

namespace {

std::string dump(const Value& v) {
    inference::JsonWriteOptions o;
    o.allow_nan = false; // JSON has no NaN or infinity: a -inf log-probability becomes null
    return inference::to_json(v, o);
}

Value bytes_of(std::string_view s) {
    Array a;
    a.reserve(s.size());
    for (char c : s) {
        a.emplace_back(static_cast<int>(static_cast<unsigned char>(c)));
    }
    return Value(std::move(a));
}

Value base_object(const CallInfo& info, bool chunk) {
    const bool chat = info.kind == CallOptions::Kind::chat;
    Object o;
    o.set("id", info.id);
    o.set("object",
          chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
    o.set("created", static_cast<long long>(info.created));
    o.set("model", info.model);
    return Value(std::move(o));
}

} // namespace

std::string make_call_id(CallOptions::Kind kind) {
    static constexpr char kAlnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string id = kind == CallOptions::Kind::chat ? "chatcmpl-" : "cmpl-";
    for (int i = 0; i < 24; ++i) {
        id.push_back(kAlnum[rng() % (sizeof(kAlnum) - 1)]);
    }
    return id;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const char* finish_reason_name(inference::FinishReason reason) noexcept {
    switch (reason) {
    case inference::FinishReason::length:
        return "length";
    case inference::FinishReason::tool_calls:
        return "tool_calls";
    case inference::FinishReason::none:
    case inference::FinishReason::stop:
    case inference::FinishReason::cancelled:
        break;
    }
    return "stop";
}

Value usage_value(const inference::RequestUsage& u) {
    return Value(Object{{"prompt_tokens", u.prompt_tokens},
                        {"completion_tokens", u.completion_tokens},
                        {"total_tokens", u.prompt_tokens + u.completion_tokens},
                        {"prompt_tokens_details", Object{{"cached_tokens", u.cached_tokens}}}});
}

void append_chat_logprobs(Array& content, const std::vector<inference::GeneratedToken>& tokens,
                          int top, const PieceFn& piece) {
    for (const auto& t : tokens) {
        const std::string_view p = piece(t.token);
        Array alternatives;
        for (std::size_t i = 0; i < t.top.size() && static_cast<int>(i) < top; ++i) {
            const std::string_view q = piece(t.top[i].token);
            alternatives.push_back(Value(Object{{"token", q},
                                                {"logprob", static_cast<double>(t.top[i].logprob)},
                                                {"bytes", bytes_of(q)}}));
        }
        content.push_back(Value(Object{{"token", p},
                                       {"logprob", static_cast<double>(t.logprob)},
                                       {"bytes", bytes_of(p)},
                                       {"top_logprobs", std::move(alternatives)}}));
    }
}

void TextLogprobs::add(const std::vector<inference::GeneratedToken>& tokens, int top,
                       const PieceFn& piece) {
    for (const auto& t : tokens) {
        const std::string_view p = piece(t.token);
        tokens_.emplace_back(p);
        logprobs_.emplace_back(static_cast<double>(t.logprob));
        Object alternatives;
        for (std::size_t i = 0; i < t.top.size() && static_cast<int>(i) < top; ++i) {
            alternatives.set(std::string(piece(t.top[i].token)),
                             static_cast<double>(t.top[i].logprob));
        }
        top_.emplace_back(std::move(alternatives));
        offsets_.emplace_back(static_cast<long long>(offset_));
        offset_ += p.size();
    }
}

Value TextLogprobs::value() const {
    return Value(Object{{"tokens", tokens_},
                        {"token_logprobs", logprobs_},
                        {"top_logprobs", top_},
                        {"text_offset", offsets_}});
}

void TextLogprobs::clear() {
    tokens_.clear();
    logprobs_.clear();
    top_.clear();
    offsets_.clear();
}

std::string chunk_json(const CallInfo& info, Value delta, Value logprobs, const char* finish,
                       bool include_usage) {
    Value o = base_object(info, true);
    Object choice;
    choice.set("index", 0);
    if (info.kind == CallOptions::Kind::chat) {
        choice.set("delta", std::move(delta));
    } else {
        choice.set("text", std::move(delta));
    }
    choice.set("logprobs", std::move(logprobs));
    choice.set("finish_reason", finish != nullptr ? Value(finish) : Value(nullptr));
    o.as_object().set("choices", Array{Value(std::move(choice))});
    if (include_usage) {
        o.as_object().set("usage", nullptr);
    }
    return dump(o);
}

std::string usage_chunk_json(const CallInfo& info, const inference::RequestUsage& usage) {
    Value o = base_object(info, true);
    o.as_object().set("choices", Array{});
    o.as_object().set("usage", usage_value(usage));
    return dump(o);
}

std::string chat_response_json(const CallInfo& info, const std::string& content,
                               const std::string& reasoning, const std::vector<ToolCallOut>& calls,
                               Value logprobs, const char* finish,
                               const inference::RequestUsage& usage) {
    Value o = base_object(info, false);
    Object message;
    message.set("role", "assistant");
    // With tool calls and no text, content is null (OpenAI's shape).
    message.set("content", content.empty() && !calls.empty() ? Value(nullptr) : Value(content));
    if (!reasoning.empty()) {
        message.set("reasoning_content", reasoning);
    }
    if (!calls.empty()) {
        Array list;
        for (const auto& c : calls) {
            list.push_back(
                Value(Object{{"id", c.id},
                             {"type", "function"},
                             {"function", Object{{"name", c.name}, {"arguments", c.arguments}}}}));
        }
        message.set("tool_calls", std::move(list));
    }
    Object choice{{"index", 0},
                  {"message", std::move(message)},
                  {"logprobs", std::move(logprobs)},
                  {"finish_reason", finish}};
    o.as_object().set("choices", Array{Value(std::move(choice))});
    o.as_object().set("usage", usage_value(usage));
    return dump(o);
}

std::string text_response_json(const CallInfo& info, const std::string& text, Value logprobs,
                               const char* finish, const inference::RequestUsage& usage) {
    Value o = base_object(info, false);
    Object choice{
        {"text", text}, {"index", 0}, {"logprobs", std::move(logprobs)}, {"finish_reason", finish}};
    o.as_object().set("choices", Array{Value(std::move(choice))});
    o.as_object().set("usage", usage_value(usage));
    return dump(o);
}

} // namespace agentd::gateway::openai
