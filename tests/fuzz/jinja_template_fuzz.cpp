// Fuzz target: the Jinja lexer, parser and evaluator. Any template text must either fail with a
// template error or render within the limits; never crash, hang or exhaust memory.

#include "agentd/inference/chat_template.h"
#include "agentd/inference/value_json.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace agentd::inference;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 1 << 16) {
        return 0;
    }
    std::string_view text(reinterpret_cast<const char*>(data), size);
    ChatTemplateLimits limits;
    limits.max_steps = 200000;
    limits.max_output_bytes = 1 << 20;
    limits.max_call_depth = 32;
    auto t = ChatTemplate::parse(text, limits);
    if (!t) {
        return 0;
    }
    static const Value messages = *parse_json(R"([
        {"role": "system", "content": "sys"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "abcdefghi", "type": "function",
          "function": {"name": "f", "arguments": {"x": [1, 2.5, "s", null, true]}}}]},
        {"role": "tool", "tool_call_id": "abcdefghi", "content": "{\"ok\": 1}"},
        {"role": "user", "content": "more \u00e9 \ud83d\ude00"}])");
    static const Value tools = *parse_json(
        R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])");
    ChatRenderInputs in;
    in.messages = messages;
    in.tools = tools;
    in.bos_token = "<s>";
    in.eos_token = "</s>";
    in.now = std::chrono::system_clock::time_point{};
    (void)t->render(in);
    return 0;
}
