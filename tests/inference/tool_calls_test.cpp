// Tool calls: format detection on the real templates, streaming parsing of every format (split
// at every byte), false starts and broken calls, and grammars whose every path is a call that
// parses back and whose arguments validate against the tool's schema.

#include "agentd/inference/errc.h"
#include "agentd/inference/tool_calls.h"
#include "agentd/inference/value_json.h"
#include "agentd/test/env.h"

#include "schema_validator.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

namespace agentd::inference {
namespace {

std::string template_text(const std::string& name) {
    std::ifstream in(test::source_dir() / "tests/inference/data/templates" / (name + ".jinja"));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(ToolCallFormat, DetectedFromTheRealTemplates) {
    const std::vector<std::pair<const char*, ToolCallFormat>> cases = {
        {"Qwen-Qwen2.5-7B-Instruct", ToolCallFormat::hermes},
        {"Qwen-Qwen3-0.6B", ToolCallFormat::hermes},
        {"Qwen-QwQ-32B", ToolCallFormat::hermes},
        {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use", ToolCallFormat::hermes},
        {"HuggingFaceTB-SmolLM3-3B", ToolCallFormat::hermes},
        {"agentd-chatml-fallback", ToolCallFormat::hermes},
        {"meta-llama-Llama-3.1-8B-Instruct", ToolCallFormat::llama3_json},
        {"meta-llama-Llama-3.2-3B-Instruct", ToolCallFormat::llama3_json},
        {"mistralai-Mistral-7B-Instruct-v0.3", ToolCallFormat::mistral},
        {"mistralai-Mistral-Nemo-Instruct-2407", ToolCallFormat::mistral},
        {"Mistral-Small-3.2-24B-Instruct-2506", ToolCallFormat::mistral_v11},
        {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", ToolCallFormat::deepseek_v3},
        {"deepseek-ai-DeepSeek-R1-0528", ToolCallFormat::deepseek_v3},
        {"deepseek-ai-DeepSeek-V3.1", ToolCallFormat::deepseek_v31},
        {"microsoft-Phi-4-mini-instruct", ToolCallFormat::phi4_mini},
        {"microsoft-phi-4", ToolCallFormat::none},
        {"microsoft-Phi-3.5-mini-instruct", ToolCallFormat::none},
        {"google-gemma-2-2b-it", ToolCallFormat::none},
        {"google-gemma-3-12b-it", ToolCallFormat::none},
        {"HuggingFaceTB-SmolLM2-1.7B-Instruct", ToolCallFormat::none},
    };
    for (const auto& [name, want] : cases) {
        std::string t = template_text(name);
        ASSERT_FALSE(t.empty()) << name;
        EXPECT_EQ(detect_tool_call_format(t), want)
            << name << ": got " << format_name(detect_tool_call_format(t));
    }
    EXPECT_TRUE(detect_reasoning(template_text("Qwen-Qwen3-0.6B")));
    EXPECT_TRUE(detect_reasoning(template_text("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B")));
    EXPECT_FALSE(detect_reasoning(template_text("Qwen-Qwen2.5-7B-Instruct")));
    EXPECT_TRUE(prompt_opens_reasoning("<｜Assistant｜><think>\n"));
    EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n"));
}

TEST(ToolCallIds, FollowTheFormatsRules) {
    std::string m = make_tool_call_id(ToolCallFormat::mistral, 42);
    EXPECT_EQ(m.size(), 9u);
    EXPECT_TRUE(std::all_of(m.begin(), m.end(),
                            [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }));
    std::string o = make_tool_call_id(ToolCallFormat::hermes, 42);
    EXPECT_EQ(o.rfind("call_", 0), 0u);
    EXPECT_EQ(o.size(), 29u);
    EXPECT_NE(make_tool_call_id(ToolCallFormat::hermes, 43), o);
}

struct Parsed {
    std::string content;
    std::string reasoning;
    std::vector<ParsedToolCall> calls;
    bool error = false;
};

// Rebuilds the result from the deltas alone (what a streaming client sees).
Parsed run(const ToolCallParserOptions& opt, const std::vector<std::string_view>& pieces) {
    ToolCallParser p(opt);
    Parsed r;
    auto apply = [&](const std::vector<ChatDelta>& deltas) {
        for (const auto& d : deltas) {
            switch (d.kind) {
            case ChatDelta::Kind::content:
                r.content += d.text;
                break;
            case ChatDelta::Kind::reasoning:
                r.reasoning += d.text;
                break;
            case ChatDelta::Kind::tool_call_begin:
                EXPECT_EQ(d.index, r.calls.size());
                r.calls.push_back(ParsedToolCall{d.id, d.text, {}});
                break;
            case ChatDelta::Kind::tool_call_args:
                EXPECT_EQ(d.index + 1, r.calls.size());
                r.calls.back().arguments += d.text;
                break;
            case ChatDelta::Kind::tool_call_end:
                EXPECT_EQ(d.index + 1, r.calls.size());
                break;
            }
        }
    };
    for (auto piece : pieces) {
        apply(p.feed(piece));
    }
    auto fin = p.finish();
    if (fin) {
        apply(*fin);
    } else {
        r.error = true;
    }
    // The accumulated view must agree with the deltas.
    EXPECT_EQ(p.content(), r.content);
    EXPECT_EQ(p.reasoning(), r.reasoning);
    EXPECT_EQ(p.tool_calls().size(), r.calls.size());
    return r;
}

Value args_value(const std::string& text) {
    auto v = parse_json(text);
    EXPECT_TRUE(v) << "arguments are not JSON: " << text;
    return v ? *v : Value();
}

struct Sample {
    ToolCallFormat format;
    bool reasoning;
    bool starts_open;
    std::string output;
    std::string content;
    std::string reasoning_text;
    std::vector<std::pair<std::string, std::string>> calls; // name, arguments JSON
};

std::vector<Sample> samples() {
    return {
        {ToolCallFormat::hermes,
         true,
         false,
         "<think>\nThe user wants weather.\n</think>\n\nLet me check.\n<tool_call>\n{\"name\": "
         "\"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": "
         "2}}\n</tool_call>\n<tool_call>\n{\"name\": \"search_docs\", \"arguments\": {\"query\": "
         "\"umbrella \\\"x\\\" }\"}}\n</tool_call>",
         "Let me check.\n",
         "The user wants weather.",
         {{"get_weather", R"({"city": "Paris", "days": 2})"},
          {"search_docs", R"({"query": "umbrella \"x\" }"})"}}},
        {ToolCallFormat::hermes,
         false,
         false,
         "Plain answer with <b>html</b> and a < sign.",
         "Plain answer with <b>html</b> and a < sign.",
         "",
         {}},
        {ToolCallFormat::hermes,
         false,
         false,
         "<tool_call>{\"arguments\": {\"q\": 1}, \"name\": \"late_name\"}</tool_call>",
         "",
         "",
         {{"late_name", R"({"q": 1})"}}},
        {ToolCallFormat::llama3_json,
         false,
         false,
         " {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Tokyo\"}}",
         "",
         "",
         {{"get_weather", R"({"city": "Tokyo"})"}}},
        {ToolCallFormat::llama3_json,
         false,
         false,
         "<|python_tag|>{\"type\": \"function\", \"name\": \"f\", \"parameters\": {}}; {\"name\": "
         "\"g\", \"parameters\": {\"a\": [1]}}",
         "",
         "",
         {{"f", "{}"}, {"g", R"({"a": [1]})"}}},
        {ToolCallFormat::llama3_json,
         false,
         false,
         "<|python_tag|>brave_search.call(query=\"weather in Paris\")",
         "",
         "",
         {{"brave_search", R"({"query": "weather in Paris"})"}}},
        {ToolCallFormat::llama3_json,
         false,
         false,
         "{not a call} just text",
         "{not a call} just text",
         "",
         {}},
        {ToolCallFormat::mistral,
         false,
         false,
         "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": "
         "\"a1B2c3D4e\"}, {\"name\": \"search_docs\", \"arguments\": \"{\\\"query\\\": "
         "\\\"x\\\"}\"}]",
         "",
         "",
         {{"get_weather", R"({"city": "Paris"})"}, {"search_docs", R"({"query": "x"})"}}},
        {ToolCallFormat::mistral_v11,
         false,
         false,
         "Sure.[TOOL_CALLS]get_weather[ARGS]{\"city\": "
         "\"Lyon\"}[TOOL_CALLS]search_docs[ARGS]{\"query\": \"q\"}",
         "Sure.",
         "",
         {{"get_weather", R"({"city": "Lyon"})"}, {"search_docs", R"({"query": "q"})"}}},
        {ToolCallFormat::deepseek_v3,
         true,
         true,
         "Thinking about "
         "it.\n</"
         "think>\n\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n`"
         "``json\n{\"city\": "
         "\"Berlin\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>search_"
         "docs\n```json\n{\"query\": \"z\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
         "",
         "Thinking about it.",
         {{"get_weather", R"({"city": "Berlin"})"}, {"search_docs", R"({"query": "z"})"}}},
        {ToolCallFormat::deepseek_v31,
         false,
         false,
         "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": "
         "\"Rome\"}<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
         "",
         "",
         {{"get_weather", R"({"city": "Rome"})"}}},
        {ToolCallFormat::phi4_mini,
         false,
         false,
         "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}, "
         "{\"name\": \"x\", \"arguments\": {}}]<|/tool_call|>",
         "",
         "",
         {{"get_weather", R"({"city": "Oslo"})"}, {"x", "{}"}}},
        {ToolCallFormat::hermes,
         false,
         false,
         "Text <tool_call>oops not json",
         "Text <tool_call>oops not json",
         "",
         {}},
        {ToolCallFormat::mistral,
         false,
         false,
         "Use [TOOL_CALLS] wisely.",
         "Use [TOOL_CALLS] wisely.",
         "",
         {}},
    };
}

void expect_sample(const Sample& s, const Parsed& r, const std::string& how) {
    SCOPED_TRACE(std::string(format_name(s.format)) + " " + how + ": " + s.output);
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.content, s.content);
    EXPECT_EQ(r.reasoning, s.reasoning_text);
    ASSERT_EQ(r.calls.size(), s.calls.size());
    for (std::size_t i = 0; i < s.calls.size(); ++i) {
        EXPECT_EQ(r.calls[i].name, s.calls[i].first);
        EXPECT_EQ(args_value(r.calls[i].arguments), args_value(s.calls[i].second))
            << r.calls[i].arguments;
    }
}

TEST(ToolCallParser, ParsesEveryFormatWholeAndSplitAtEveryByte) {
    for (const auto& s : samples()) {
        ToolCallParserOptions opt;
        opt.format = s.format;
        opt.reasoning = s.reasoning;
        opt.starts_in_reasoning = s.starts_open;
        expect_sample(s, run(opt, {s.output}), "whole");
        for (std::size_t cut = 1; cut < s.output.size(); ++cut) {
            std::string_view o = s.output;
            Parsed r = run(opt, {o.substr(0, cut), o.substr(cut)});
            if (r.content != s.content || r.calls.size() != s.calls.size()) {
                expect_sample(s, r, "split at " + std::to_string(cut));
                break;
            }
        }
        std::vector<std::string_view> bytes;
        for (std::size_t i = 0; i < s.output.size(); ++i) {
            bytes.push_back(std::string_view(s.output).substr(i, 1));
        }
        expect_sample(s, run(opt, bytes), "byte by byte");
    }
}

TEST(ToolCallParser, ArgumentsStreamBeforeTheCallEnds) {
    ToolCallParserOptions opt;
    opt.format = ToolCallFormat::hermes;
    ToolCallParser p(opt);
    auto d1 = p.feed("<tool_call>{\"name\": \"f\", \"arguments\": {\"text\": \"hel");
    ASSERT_GE(d1.size(), 2u);
    EXPECT_EQ(d1[0].kind, ChatDelta::Kind::tool_call_begin);
    EXPECT_EQ(d1[0].text, "f");
    EXPECT_EQ(d1[1].kind, ChatDelta::Kind::tool_call_args);
    EXPECT_EQ(d1[1].text, "{\"text\": \"hel");
    auto d2 = p.feed("lo\"}}</tool_call>");
    ASSERT_EQ(d2.size(), 2u);
    EXPECT_EQ(d2[0].text, "lo\"}");
    EXPECT_EQ(d2[1].kind, ChatDelta::Kind::tool_call_end);
}

TEST(ToolCallParser, IncompleteCallIsReported) {
    ToolCallParserOptions opt;
    opt.format = ToolCallFormat::hermes;
    ToolCallParser p(opt);
    (void)p.feed("<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": ");
    auto fin = p.finish();
    ASSERT_FALSE(fin);
    EXPECT_EQ(fin.error().code, make_error_code(errc::invalid_argument));
    EXPECT_NE(fin.error().message.find("'f'"), std::string::npos);

    ToolCallParser q(opt);
    (void)q.feed("<tool_call>{\"name\": \"f\", \"arguments\": {}, \"name\": \"g\"}</tool_call>");
    EXPECT_FALSE(q.finish()); // two names: malformed after the call began
}

TEST(ToolCallParser, BoundsHeldText) {
    ToolCallParserOptions opt;
    opt.format = ToolCallFormat::llama3_json;
    opt.max_buffer_bytes = 64;
    ToolCallParser p(opt);
    std::string content;
    for (int i = 0; i < 100; ++i) {
        for (const auto& d : p.feed("<|python_tag")) { // never completes the marker
            content += d.text;
        }
    }
    EXPECT_GT(content.size(), 1000u);
}

// ---- grammars -----------------------------------------------------------------------------

Value weather_tools() {
    return *parse_json(R"([
      {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
        "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["c", "f"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7}}, "required": ["city"]}}},
      {"type": "function", "function": {"name": "search_docs", "parameters": {"type": "object",
        "properties": {"query": {"type": "string", "maxLength": 8}}, "required": ["query"]}}},
      {"type": "function", "function": {"name": "ping"}}])");
}

std::shared_ptr<const GrammarVocabulary> tool_vocab() {
    std::vector<std::string> t;
    for (int b = 0; b < 256; ++b) {
        t.emplace_back(1, static_cast<char>(b));
    }
    for (const char* s :
         {"{\"",       "\":",       "\": ",       "\",",         "\"}",         "}}",
          "name",      "arguments", "parameters", "get_weather", "search_docs", "ping",
          "city",      "query",     "function",   "```",         "json",        "\n```",
          "```json\n", "\": {\"",   "Paris",      " \"",         "<tool",       "_call>"}) {
        t.emplace_back(s);
    }
    std::vector<bool> special(t.size(), false);
    for (auto m :
         {"<tool_call>", "</tool_call>", "<|python_tag|>", "[TOOL_CALLS]", "[ARGS]",
          "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>",
          "<｜tool▁call▁end｜>", "<｜tool▁sep｜>", "<|tool_call|>", "<|/tool_call|>", "<|eos|>"}) {
        t.emplace_back(m);
        special.push_back(true);
    }
    return GrammarVocabulary::build(t, special, {static_cast<std::int32_t>(t.size() - 1)});
}

TEST(ToolCallGrammar, ForcedCallsAlwaysParseAndValidate) {
    Value tools = weather_tools();
    auto vocab = tool_vocab();
    for (ToolCallFormat f :
         {ToolCallFormat::hermes, ToolCallFormat::llama3_json, ToolCallFormat::mistral,
          ToolCallFormat::mistral_v11, ToolCallFormat::deepseek_v3, ToolCallFormat::deepseek_v31,
          ToolCallFormat::phi4_mini}) {
        SCOPED_TRACE(format_name(f));
        ToolGrammarOptions gopt;
        gopt.allow_reasoning = f == ToolCallFormat::deepseek_v3;
        auto g = tool_call_grammar(f, tools, ToolChoice{ToolChoice::Kind::required, {}}, gopt);
        ASSERT_TRUE(g) << g.error().what();
        EXPECT_FALSE(g->triggers.empty());
        auto cg = *CompiledGrammar::create(g->grammar, vocab);
        std::mt19937 rng(99);
        int finished = 0;
        for (int walk = 0; walk < 25; ++walk) {
            GrammarMatcher m(cg);
            std::vector<std::uint32_t> mask(m.mask_words());
            std::string text;
            for (int step = 0; step < 300 && !m.is_terminated(); ++step) {
                m.fill_next_token_bitmask(mask);
                std::vector<std::int32_t> allowed;
                std::vector<std::int32_t> preferred;
                for (std::int32_t t = 0; t < vocab->size(); ++t) {
                    if ((mask[static_cast<std::size_t>(t) / 32] >> (t % 32)) & 1u) {
                        allowed.push_back(t);
                        const std::string& b = vocab->bytes(t);
                        if (vocab->is_eos(t) || vocab->is_special(t) || b.size() > 1 || b == "}" ||
                            b == "\"" || b == "]") {
                            preferred.push_back(t);
                        }
                    }
                }
                ASSERT_FALSE(allowed.empty()) << text;
                const auto& pool =
                    (!preferred.empty() && std::uniform_int_distribution<int>(0, 9)(rng) < 7)
                        ? preferred
                        : allowed;
                std::int32_t t =
                    pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
                ASSERT_TRUE(m.accept_token(t));
                if (!vocab->is_eos(t)) {
                    text += vocab->bytes(t);
                }
            }
            if (!m.is_terminated()) {
                continue;
            }
            ++finished;
            ToolCallParserOptions popt;
            popt.format = f;
            popt.reasoning = gopt.allow_reasoning;
            Parsed r = run(popt, {text});
            ASSERT_FALSE(r.error) << text;
            ASSERT_FALSE(r.calls.empty()) << "no call parsed from: " << text;
            EXPECT_EQ(r.content, "") << text;
            for (const auto& c : r.calls) {
                const Value* schema = nullptr;
                for (const auto& tool : tools.as_array()) {
                    if (tool.find("function")->find("name")->as_string() == c.name) {
                        schema = tool.find("function")->find("parameters");
                    }
                }
                Value any_object(Object{{"type", Value("object")}});
                const Value& s = schema != nullptr ? *schema : any_object;
                auto args = parse_json(c.arguments);
                ASSERT_TRUE(args) << c.arguments;
                EXPECT_TRUE(schema_test::validate(*args, s, s)) << c.name << " " << c.arguments;
            }
        }
        EXPECT_GE(finished, 10);
    }
}

TEST(ToolCallGrammar, NamedChoiceAllowsOnlyThatTool) {
    auto g = tool_call_grammar(ToolCallFormat::hermes, weather_tools(),
                               ToolChoice{ToolChoice::Kind::named, "search_docs"});
    ASSERT_TRUE(g);
    auto cg = *CompiledGrammar::create(g->grammar, tool_vocab());
    GrammarMatcher m(cg);
    EXPECT_TRUE(m.accept_text(
        "<tool_call>{\"name\": \"search_docs\", \"arguments\": {\"query\": \"ab\"}}</tool_call>"));
    EXPECT_TRUE(m.is_complete());
    GrammarMatcher other(cg);
    EXPECT_FALSE(other.accept_text("<tool_call>{\"name\": \"get_weather\""));
    auto bad = tool_call_grammar(ToolCallFormat::hermes, weather_tools(),
                                 ToolChoice{ToolChoice::Kind::named, "nope"});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("nope"), std::string::npos);
}

TEST(ToolCallGrammar, ReasoningBlockCannotHideTheTerminator) {
    ToolGrammarOptions o;
    o.allow_reasoning = true;
    auto g = tool_call_grammar(ToolCallFormat::hermes, weather_tools(),
                               ToolChoice{ToolChoice::Kind::required, {}}, o);
    ASSERT_TRUE(g);
    auto cg = *CompiledGrammar::create(g->grammar, tool_vocab());
    GrammarMatcher m(cg);
    ASSERT_TRUE(m.accept_text("<think>a </thin </</think "));
    EXPECT_FALSE(m.accept_text("</think><think>")); // once </think> appears the block is over
    ASSERT_TRUE(
        m.accept_text("</think>\n<tool_call>{\"name\": \"ping\", \"arguments\": {}}</tool_call>"));
    EXPECT_TRUE(m.is_complete());
}

} // namespace
} // namespace agentd::inference
