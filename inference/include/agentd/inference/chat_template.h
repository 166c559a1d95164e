#pragma once
/// Chat templates: renders a model's `tokenizer.chat_template` (Jinja) into the prompt text.
///
/// The interpreter implements the Jinja2 subset real chat templates use, with Hugging Face's
/// settings (trim_blocks, lstrip_blocks, loop controls, `{% generation %}`), Hugging Face's
/// globals (`raise_exception`, `strftime_now`) and its `tojson` (Python json.dumps semantics:
/// ensure_ascii off, `indent`, `separators`, `sort_keys`). Rendering matches Python's jinja2
/// byte for byte on the templates under tests/inference/data/templates (see docs/CHAT.md for
/// the subset and its known divergences).
///
/// Ownership: a ChatTemplate is an immutable, cheaply copyable handle (shared parsed program).
/// Thread affinity: none; render() is const and may run concurrently on any threads.
/// Errors: parse() and render() return errc::template_error with the line, column and the
/// construct or reason (an unsupported filter, tag or method names itself; `raise_exception`
/// messages are passed through with a "raise_exception: " prefix). Rendering is bounded in
/// steps, output size and macro depth, so hostile templates fail instead of hanging.

#include "agentd/base/result.h"
#include "agentd/inference/value.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::inference {

namespace jinja {
struct Program;
}

struct ChatTemplateLimits {
    std::uint64_t max_steps = 20'000'000;     ///< statements + expressions evaluated
    std::size_t max_output_bytes = 64u << 20; ///< rendered text, and any single value built
    int max_call_depth = 64;                  ///< nested macro calls
};

/// What a template is rendered with; these become the template's variables exactly as
/// transformers' apply_chat_template passes them.
struct ChatRenderInputs {
    /// Array of message objects: role, content (string, null, or an array of parts such as
    /// {"type": "text", "text": ...}), and optionally tool_calls (OpenAI shape), tool_call_id,
    /// name, reasoning_content.
    Value messages;
    /// Array of tool definitions ({"type": "function", "function": {...}}), or null: the
    /// template then sees `tools` defined as None, as with transformers.
    Value tools;
    bool add_generation_prompt = true;
    std::string bos_token;
    std::string eos_token;
    /// Additional variables (an object), e.g. {"enable_thinking": false}; they override the
    /// variables above when names collide.
    Value extra = Object{};
    /// The time strftime_now() formats (in UTC); the current time when unset.
    std::optional<std::chrono::system_clock::time_point> now;
};

/// What a template can express, found by rendering probe conversations once at parse time.
struct ChatTemplateCaps {
    bool system_role = false;         ///< a system message's text appears in the prompt
    bool tools = false;               ///< tool definitions appear in the prompt
    bool tool_calls = false;          ///< assistant tool_calls are rendered
    bool parallel_tool_calls = false; ///< two tool calls in one message are both rendered
    bool tool_responses = false;      ///< role "tool" messages are rendered
    /// Tool-call arguments must be given as an object (the template applies tojson or
    /// iterates them); false when it concatenates them as a JSON string.
    bool object_arguments = false;
    bool thinking = false; ///< the template reads enable_thinking / reasoning_content
};

class ChatTemplate {
public:
    /// Parses `source`. Errors: errc::template_error naming the position and construct.
    [[nodiscard]] static base::Result<ChatTemplate> parse(std::string_view source,
                                                          const ChatTemplateLimits& limits = {});

    /// The ChatML template used when a model file carries no chat template.
    [[nodiscard]] static ChatTemplate chatml();

    /// Renders the prompt. Errors: errc::template_error (with the template's own message for
    /// raise_exception), never an exception.
    [[nodiscard]] base::Result<std::string> render(const ChatRenderInputs& inputs) const;

    [[nodiscard]] const std::string& source() const noexcept { return *source_; }
    [[nodiscard]] const ChatTemplateCaps& caps() const noexcept { return caps_; }

private:
    ChatTemplate() = default;
    void probe_caps();

    std::shared_ptr<const jinja::Program> program_;
    std::shared_ptr<const std::string> source_;
    ChatTemplateLimits limits_;
    ChatTemplateCaps caps_;
};

} // namespace agentd::inference
