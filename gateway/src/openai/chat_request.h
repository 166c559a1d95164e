#pragma once
/// A validated /v1/chat/completions request: messages normalised to the shape chat templates
/// expect (roles checked, text parts joined, tool-call arguments as JSON text), tools, tool
/// choice, response format and the shared sampling parameters.
///
/// Thread affinity: none. Errors: ApiError (400) naming the offending field, e.g.
/// `messages[2].tool_call_id`.

#include "agentd/inference/value.h"

#include "openai/request_fields.h"

#include <string>

namespace agentd::gateway::openai {

struct ChatRequest {
    CommonParams common;
    /// Array of {role, content (string or null), name?, tool_calls?, tool_call_id?,
    /// reasoning_content?}; "developer" is mapped to "system". tool_calls follow OpenAI's shape
    /// with `arguments` as JSON text.
    inference::Value messages;
    inference::Value tools; ///< array of {"type": "function", "function": {...}} or null

    enum class ToolMode : std::uint8_t { none, automatic, required, named };
    ToolMode tool_mode = ToolMode::none;
    std::string tool_name; ///< for ToolMode::named
    bool parallel_tool_calls = true;
    bool strict_tools = false; ///< a tool has "strict": true (auto mode: lazy grammar)

    enum class Format : std::uint8_t { text, json_object, json_schema };
    Format format = Format::text;
    inference::Value schema; ///< json_schema
    bool schema_strict = true;

    bool logprobs = false;
    int top_logprobs = 0;
    inference::Value template_kwargs = inference::Object{}; ///< chat_template_kwargs
};

[[nodiscard]] ApiResult<ChatRequest>
parse_chat_request(const inference::Value& body, const RequestLimits& limits, std::int32_t n_vocab);

} // namespace agentd::gateway::openai
