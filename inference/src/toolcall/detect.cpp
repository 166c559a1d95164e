// Tool-call format detection from a chat template's text, and tool-call ids.

#include "agentd/inference/tool_calls.h"

#include "toolcall/syntax.h"

namespace agentd::inference {
namespace {

bool has(std::string_view s, std::string_view what) {
    return s.find(what) != std::string_view::npos;
}

} // namespace

const char* format_name(ToolCallFormat format) noexcept {
    switch (format) {
    case ToolCallFormat::none:
        return "none";
    case ToolCallFormat::hermes:
        return "hermes";
    case ToolCallFormat::llama3_json:
        return "llama3_json";
    case ToolCallFormat::mistral:
        return "mistral";
    case ToolCallFormat::mistral_v11:
        return "mistral_v11";
    case ToolCallFormat::deepseek_v3:
        return "deepseek_v3";
    case ToolCallFormat::deepseek_v31:
        return "deepseek_v31";
    case ToolCallFormat::phi4_mini:
        return "phi4_mini";
    }
    return "unknown";
}

ToolCallFormat detect_tool_call_format(std::string_view t) noexcept {
    using namespace toolcall;
    if (has(t, kDsCallsBegin) || has(t, kDsCallBegin)) {
        // V3/R1 wrap the arguments in a ```json fence after "function<｜tool▁sep｜>name";
        // V3.1 writes name<｜tool▁sep｜>arguments.
        return has(t, "```json") ? ToolCallFormat::deepseek_v3 : ToolCallFormat::deepseek_v31;
    }
    if (has(t, kMistralCalls)) {
        return has(t, kMistralArgs) ? ToolCallFormat::mistral_v11 : ToolCallFormat::mistral;
    }
    if (has(t, kPhiCallBegin) || (has(t, "<|tool|>") && has(t, "<|/tool|>"))) {
        return ToolCallFormat::phi4_mini;
    }
    if (has(t, kHermesBegin)) {
        return ToolCallFormat::hermes;
    }
    if (has(t, kPythonTag) || (has(t, "<|start_header_id|>") && has(t, "\"parameters\": "))) {
        return ToolCallFormat::llama3_json;
    }
    return ToolCallFormat::none;
}

bool detect_reasoning(std::string_view t) noexcept {
    return has(t, "<think>");
}

bool prompt_opens_reasoning(std::string_view p) noexcept {
    std::size_t end = p.size();
    while (end > 0 && (p[end - 1] == '\n' || p[end - 1] == ' ' || p[end - 1] == '\r')) {
        --end;
    }
    p = p.substr(0, end);
    return p.size() >= 7 && p.substr(p.size() - 7) == "<think>";
}

std::string make_tool_call_id(ToolCallFormat format, std::uint64_t random) {
    static const char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::size_t n =
        (format == ToolCallFormat::mistral || format == ToolCallFormat::mistral_v11) ? 9 : 24;
    std::string id = n == 9 ? "" : "call_";
    std::uint64_t x = random;
    for (std::size_t i = 0; i < n; ++i) {
        // splitmix64 steps: independent characters from one seed
        x += 0x9E3779B97F4A7C15ULL;
        std::uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        id.push_back(kAlnum[z % 62]);
    }
    return id;
}

} // namespace agentd::inference
