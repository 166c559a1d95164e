#pragma once
/// The JSON shapes of OpenAI responses: chat completions and their stream chunks, text
/// completions and their chunks, usage, and log-probabilities in both the chat and the legacy
/// completions shape.
///
/// Thread affinity: none (pure functions over values). Errors: none.

#include "agentd/inference/scheduler.h"
#include "agentd/inference/value.h"

#include "openai/openai_module.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::gateway::openai {

/// What every response of one call repeats.
struct CallInfo {
    std::string id; ///< "chatcmpl-..." / "cmpl-..."
    std::string model;
    std::int64_t created = 0;
    CallOptions::Kind kind = CallOptions::Kind::chat;
};

/// The bytes of a token as the client sees them.
using PieceFn = std::function<std::string_view(inference::TokenId)>;

/// "chatcmpl-" or "cmpl-" followed by 24 random alphanumerics.
[[nodiscard]] std::string make_call_id(CallOptions::Kind kind);
[[nodiscard]] std::int64_t unix_now();

[[nodiscard]] const char* finish_reason_name(inference::FinishReason reason) noexcept;
[[nodiscard]] inference::Value usage_value(const inference::RequestUsage& usage);

/// Chat logprob entries ({token, logprob, bytes, top_logprobs}) for `tokens`.
void append_chat_logprobs(inference::Array& content,
                          const std::vector<inference::GeneratedToken>& tokens, int top,
                          const PieceFn& piece);

/// Legacy completions logprobs ({tokens, token_logprobs, top_logprobs, text_offset}).
class TextLogprobs {
public:
    void add(const std::vector<inference::GeneratedToken>& tokens, int top, const PieceFn& piece);
    [[nodiscard]] inference::Value value() const;
    [[nodiscard]] bool empty() const noexcept { return tokens_.empty(); }
    void clear();

private:
    inference::Array tokens_;
    inference::Array logprobs_;
    inference::Array top_;
    inference::Array offsets_;
    std::size_t offset_ = 0;
};

/// One stream chunk: chat (`delta`) or text (`text` in delta's place); `logprobs` null when
/// absent; `finish` null while running. With include_usage every chunk carries "usage": null.
[[nodiscard]] std::string chunk_json(const CallInfo& info, inference::Value delta,
                                     inference::Value logprobs, const char* finish,
                                     bool include_usage);
/// The last chunk of a stream with include_usage: no choices, the usage.
[[nodiscard]] std::string usage_chunk_json(const CallInfo& info,
                                           const inference::RequestUsage& usage);

/// A finished tool call of a chat response.
struct ToolCallOut {
    std::string id;
    std::string name;
    std::string arguments;
};

/// The whole chat completion.
[[nodiscard]] std::string chat_response_json(const CallInfo& info, const std::string& content,
                                             const std::string& reasoning,
                                             const std::vector<ToolCallOut>& calls,
                                             inference::Value logprobs, const char* finish,
                                             const inference::RequestUsage& usage);
/// The whole text completion.
[[nodiscard]] std::string text_response_json(const CallInfo& info, const std::string& text,
                                             inference::Value logprobs, const char* finish,
                                             const inference::RequestUsage& usage);

} // namespace agentd::gateway::openai
