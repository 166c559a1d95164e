#pragma once
/// Tool calls in each model family's own syntax: detection from the chat template, incremental
/// (streaming) parsing of model output into content / reasoning / tool-call deltas, and the
/// grammar that forces a well-formed call whose arguments satisfy the tool's JSON Schema.
///
/// Formats:
///   hermes       <tool_call>{"name": N, "arguments": A}</tool_call>  (Qwen2.5/3, QwQ, Hermes,
///                SmolLM3, agentd's ChatML fallback)
///   llama3_json  {"name": N, "parameters": A}, optionally after <|python_tag|> (Llama 3.1-3.3);
///                also <|python_tag|>tool.call(k="v") for built-in tools
///   mistral      [TOOL_CALLS][{"name": N, "arguments": A, "id": I}, ...] (v0.3, Nemo)
///   mistral_v11  [TOOL_CALLS]N[ARGS]A ... (Mistral Small 3.2, Magistral, Devstral 2507)
///   deepseek_v3  <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>N
///                ```json A ```<｜tool▁call▁end｜>...<｜tool▁calls▁end｜> (V3, R1 and distills)
///   deepseek_v31 <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>N<｜tool▁sep｜>A<｜tool▁call▁end｜>...
///   phi4_mini    <|tool_call|>[{"name": N, "arguments": A}, ...]<|/tool_call|>
/// Reasoning in <think>...</think> is split out as reasoning content when enabled.
///
/// Ownership: plain values. Thread affinity: a ToolCallParser belongs to one sequence and one
/// thread at a time; the free functions are thread-safe. Errors: the parser never fails while
/// streaming (malformed call syntax turns back into content); finish() reports a call left
/// incomplete; tool_call_grammar() returns errc::invalid_schema for a bad tool definition.

#include "agentd/base/result.h"
#include "agentd/inference/grammar.h"
#include "agentd/inference/value.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::inference {

enum class ToolCallFormat : std::uint8_t {
    none,
    hermes,
    llama3_json,
    mistral,
    mistral_v11,
    deepseek_v3,
    deepseek_v31,
    phi4_mini,
};

[[nodiscard]] const char* format_name(ToolCallFormat format) noexcept;

/// The format a chat template writes tool calls in (none when it shows no tool-call syntax).
[[nodiscard]] ToolCallFormat detect_tool_call_format(std::string_view chat_template) noexcept;

/// Whether a template uses <think> reasoning blocks.
[[nodiscard]] bool detect_reasoning(std::string_view chat_template) noexcept;

/// Whether a rendered prompt leaves the model inside an open <think> block (templates such as
/// DeepSeek-R1's end the generation prompt with "<think>\n").
[[nodiscard]] bool prompt_opens_reasoning(std::string_view rendered_prompt) noexcept;

/// A tool-call id in the shape the format's template accepts (Mistral: 9 alphanumerics;
/// otherwise "call_" + 24 alphanumerics), derived from `random`.
[[nodiscard]] std::string make_tool_call_id(ToolCallFormat format, std::uint64_t random);

/// One streaming event.
struct ChatDelta {
    enum class Kind : std::uint8_t {
        content,         ///< text: visible answer text
        reasoning,       ///< text: reasoning (inside <think>)
        tool_call_begin, ///< index, text = function name, id = model-given id (may be empty)
        tool_call_args,  ///< index, text = next fragment of the arguments JSON
        tool_call_end,   ///< index
    };
    Kind kind = Kind::content;
    std::size_t index = 0;
    std::string text;
    std::string id;
};

struct ParsedToolCall {
    std::string id; ///< as given by the model (Mistral), else empty
    std::string name;
    std::string arguments; ///< the arguments' JSON text as the model wrote it
};

struct ToolCallParserOptions {
    ToolCallFormat format = ToolCallFormat::none;
    bool reasoning = false;                  ///< split <think>...</think> out as reasoning
    bool starts_in_reasoning = false;        ///< the prompt ended inside <think>
    std::size_t max_buffer_bytes = 1u << 20; ///< bound on text held while deciding
};

class ToolCallParser {
public:
    explicit ToolCallParser(ToolCallParserOptions options);
    ToolCallParser(ToolCallParser&&) noexcept;
    ToolCallParser& operator=(ToolCallParser&&) noexcept;
    ~ToolCallParser();

    /// Consumes the next piece of model text; returns the deltas it completes. Text that may
    /// still turn out to start a tool call (or a </think>) is held back.
    [[nodiscard]] std::vector<ChatDelta> feed(std::string_view text);

    /// Ends the stream: flushes held text. Errors: errc::invalid_argument when a tool call was
    /// begun but not completed (its deltas were already emitted).
    [[nodiscard]] base::Result<std::vector<ChatDelta>> finish();

    /// Everything parsed so far.
    [[nodiscard]] const std::string& content() const noexcept;
    [[nodiscard]] const std::string& reasoning() const noexcept;
    [[nodiscard]] const std::vector<ParsedToolCall>& tool_calls() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// How tool use is constrained for one request.
struct ToolChoice {
    enum class Kind : std::uint8_t { automatic, required, named };
    Kind kind = Kind::automatic;
    std::string name; ///< for named
};

struct ToolGrammarOptions {
    bool parallel_calls = true;   ///< allow several calls in one turn
    bool allow_reasoning = false; ///< allow a leading <think>...</think> block
    JsonSchemaOptions schema;     ///< applied to every tool's parameters schema
};

/// A grammar for a turn that consists of tool calls in `format`, each naming one of `tools`
/// (OpenAI tool definitions: {"type": "function", "function": {"name", "parameters", ...}})
/// with arguments matching that tool's parameters schema. `triggers` are the texts that open
/// the tool-call section: with tool_choice "auto" and a strict tool, the scheduler applies the
/// grammar lazily from a trigger on (the text before it is free); with "required"/"named" the
/// grammar applies from the first token.
struct ToolCallGrammar {
    Grammar grammar;
    std::vector<std::string> triggers;
};

[[nodiscard]] base::Result<ToolCallGrammar>
tool_call_grammar(ToolCallFormat format, const Value& tools, const ToolChoice& choice,
                  const ToolGrammarOptions& options = {});

} // namespace agentd::inference
