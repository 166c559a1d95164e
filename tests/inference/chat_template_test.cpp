#include "agentd/inference/chat_template.h"
#include "agentd/inference/errc.h"
#include "agentd/inference/value_json.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace agentd::inference {
namespace {

base::Result<std::string> render(std::string_view source, Value extra = Object{},
                                 ChatTemplateLimits limits = {}) {
    auto t = ChatTemplate::parse(source, limits);
    if (!t) {
        return t.error();
    }
    ChatRenderInputs in;
    in.extra = std::move(extra);
    return t->render(in);
}

std::string error_of(std::string_view source, Value extra = Object{},
                     ChatTemplateLimits limits = {}) {
    auto r = render(source, std::move(extra), limits);
    EXPECT_FALSE(r) << "unexpectedly rendered: " << *r;
    if (r) {
        return {};
    }
    EXPECT_EQ(r.error().code, make_error_code(errc::template_error));
    return r.error().message;
}

bool has(const std::string& s, std::string_view what) {
    return s.find(what) != std::string::npos;
}

TEST(ChatTemplateErrors, UnsupportedConstructsAreNamedWithPosition) {
    std::string e = error_of("line one\n  {% include 'other.jinja' %}");
    EXPECT_TRUE(has(e, "'{% include %}'")) << e;
    EXPECT_TRUE(has(e, "line 2, column 6")) << e; // the tag name

    e = error_of("{{ x | frobnicate }}");
    EXPECT_TRUE(has(e, "unsupported filter 'frobnicate'")) << e;
    EXPECT_TRUE(has(e, "line 1, column 8")) << e;

    e = error_of("{% if x is prime %}{% endif %}");
    EXPECT_TRUE(has(e, "unsupported test 'prime'")) << e;

    e = error_of("{% for x in y recursive %}{% endfor %}");
    EXPECT_TRUE(has(e, "recursive")) << e;

    e = error_of("{{ 'abc'.zfill(5) }}");
    EXPECT_TRUE(has(e, "zfill")) << e;

    e = error_of("{{ f(*args) }}");
    EXPECT_TRUE(has(e, "*args")) << e;
}

TEST(ChatTemplateErrors, SyntaxErrorsArePrecise) {
    EXPECT_TRUE(has(error_of("{% if x %}never closed"), "'{% endif %}'"));
    EXPECT_TRUE(has(error_of("{{ 'unterminated }}"), "unterminated string"));
    EXPECT_TRUE(has(error_of("{# no end"), "missing end of comment"));
    EXPECT_TRUE(has(error_of("{{ (1 }}"), "unexpected"));
    EXPECT_TRUE(has(error_of("{{ 1 + }}"), "unexpected"));
    EXPECT_TRUE(has(error_of("{% endfor %}"), "endfor"));
    EXPECT_TRUE(has(error_of("{% raw %}x"), "raw"));
    EXPECT_TRUE(has(error_of("{{ x ! y }}"), "unexpected character '!'"));
}

TEST(ChatTemplateErrors, RuntimeErrorsNameTheProblem) {
    EXPECT_TRUE(has(error_of("{{ raise_exception('Roles must alternate') }}"),
                    "raise_exception: Roles must alternate"));
    EXPECT_TRUE(has(error_of("{{ m.content.upper() }}", Object{{"m", Value(Object{})}}),
                    "has no attribute 'content'"));
    EXPECT_TRUE(
        has(error_of("{{ 'a' + 1 }}"), "unsupported operand type(s) for +: 'str' and 'int'"));
    EXPECT_TRUE(has(error_of("{{ x | tojson }}", Object{}), "not JSON serializable"));
    EXPECT_TRUE(has(error_of("{% set a, b = [1] %}"), "cannot unpack"));
    EXPECT_TRUE(has(error_of("{% set x.y = 1 %}", Object{{"x", Value(Object{})}}), "namespace"));
    EXPECT_TRUE(has(error_of("{% break %}"), "outside of a loop"));
    EXPECT_TRUE(has(error_of("{{ 9223372036854775807 + 1 }}"), "overflow"));
}

TEST(ChatTemplateLimits, HostileTemplatesFailInsteadOfHanging) {
    ChatTemplateLimits small;
    small.max_steps = 100000;
    EXPECT_TRUE(has(error_of("{% for i in range(1000000) %}{{ i }}{% endfor %}", Object{}, small),
                    "evaluation steps"));
    small = {};
    small.max_output_bytes = 1000;
    EXPECT_TRUE(has(error_of("{{ 'x' * 5000 }}", Object{}, small), "larger than"));
    EXPECT_TRUE(has(error_of("{% for i in range(20) %}{{ 'abcdefghijklmnopqrstuvwxyz0123456789"
                             "abcdefghijklmnopqrstuvwxyz' }}{% endfor %}",
                             Object{}, small),
                    "larger than"));
    EXPECT_TRUE(has(error_of("{{ range(100) | list }}", Object{}, small), "range() too large"));
    EXPECT_TRUE(has(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
                    "macro calls nested deeper"));
    EXPECT_TRUE(has(error_of("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"),
                    "nested deeper"));
    EXPECT_TRUE(has(error_of("{{ " + std::string(5000, '-') + "1 }}"), "nested deeper"));
    EXPECT_TRUE(has(error_of("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}"),
                    "nested deeper"));
    EXPECT_TRUE(has(error_of("{{ " + std::string(5000, '[') + " }}"), "unexpected '}'"));
    std::string deep_ifs;
    for (int i = 0; i < 500; ++i) {
        deep_ifs += "{% if true %}";
    }
    EXPECT_TRUE(has(error_of(deep_ifs), "nested deeper"));
    // Doubling a string each step: bounded by the value size limit, not by memory.
    small.max_output_bytes = 1u << 20;
    EXPECT_TRUE(has(error_of("{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
                             "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                             Object{}, small),
                    "larger than"));
    EXPECT_TRUE(has(error_of("{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
                             "{% set ns.l = ns.l + ns.l %}{% endfor %}",
                             Object{}, small),
                    "larger than"));
}

TEST(ChatTemplate, TrailingNewlineAndCrlfFollowJinja) {
    EXPECT_EQ(*render("a\n"), "a");
    EXPECT_EQ(*render("a\n\n"), "a\n");
    EXPECT_EQ(*render("a\r\nb\r\n"), "a\nb");
}

TEST(ChatTemplate, ListAppendAndDictUpdateAreAllowed) {
    // transformers' sandbox rejects these; llama.cpp-style engines allow them and some
    // community templates rely on it.
    EXPECT_EQ(*render("{% set x = [] %}{% do x.append(1) %}{{ x.append(2) }}{{ x }}"),
              "None[1, 2]");
    EXPECT_EQ(*render("{% set d = {} %}{% do d.update({'a': 1}) %}{{ d }}"), "{'a': 1}");
}

TEST(ChatTemplate, GenerationTagRendersItsBody) {
    EXPECT_EQ(*render("a{% generation %}b{% set x = 1 %}{% endgeneration %}{{ x }}c"), "abc");
}

TEST(ChatTemplate, ExtraVariablesOverrideDefaults) {
    auto t = ChatTemplate::parse("{{ bos_token }}|{{ add_generation_prompt }}|{{ tools }}|{{ x }}");
    ASSERT_TRUE(t);
    ChatRenderInputs in;
    in.bos_token = "<s>";
    in.extra = Object{{"x", Value(1)}, {"add_generation_prompt", Value("override")}};
    EXPECT_EQ(*t->render(in), "<s>|override|None|1");
}

TEST(ChatTemplate, RendersConcurrentlyFromOneParsedTemplate) {
    auto t = ChatTemplate::parse(
        "{% for m in messages %}{{ m.role }}:{{ m.content | upper }};{% endfor %}");
    ASSERT_TRUE(t);
    std::vector<std::thread> threads;
    std::vector<std::string> outs(8);
    for (int k = 0; k < 8; ++k) {
        threads.emplace_back([&, k] {
            ChatRenderInputs in;
            Array msgs;
            for (int i = 0; i < 200; ++i) {
                msgs.push_back(
                    Value(Object{{"role", Value("user")},
                                 {"content", Value(std::string("m").append(std::to_string(k)))}}));
            }
            in.messages = Value(std::move(msgs));
            auto r = t->render(in);
            outs[static_cast<std::size_t>(k)] = r ? *r : r.error().what();
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    for (int k = 0; k < 8; ++k) {
        std::string want;
        for (int i = 0; i < 200; ++i) {
            want.append("user:M").append(std::to_string(k)).append(";");
        }
        EXPECT_EQ(outs[static_cast<std::size_t>(k)], want);
    }
}

TEST(ChatTemplate, ChatmlFallbackRendersPartsAndToolCalls) {
    ChatTemplate t = ChatTemplate::chatml();
    ChatRenderInputs in;
    auto msgs = parse_json(R"([
        {"role": "system", "content": "S"},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}}]},
        {"role": "tool", "content": "r"}])");
    ASSERT_TRUE(msgs);
    in.messages = *msgs;
    auto out = t.render(in);
    ASSERT_TRUE(out) << out.error().what();
    EXPECT_EQ(*out, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nab<|im_end|>\n"
                    "<|im_start|>assistant\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": "
                    "{\"x\": 1}}\n</tool_call><|im_end|>\n<|im_start|>tool\nr<|im_end|>\n"
                    "<|im_start|>assistant\n");
}

TEST(ChatTemplateCaps, ProbesWhatTheTemplateRenders) {
    auto qwen = ChatTemplate::parse(R"({%- if tools %}{{ tools | tojson }}{% endif %}
{%- for m in messages %}{{ m.role }}:{{ m.content }}
{%- if m.tool_calls %}{% for c in m.tool_calls %}<{{ c.function.name }} {{ c.function.arguments | tojson }}>{% endfor %}{% endif %}
{%- endfor %})");
    ASSERT_TRUE(qwen);
    EXPECT_TRUE(qwen->caps().system_role);
    EXPECT_TRUE(qwen->caps().tools);
    EXPECT_TRUE(qwen->caps().tool_calls);
    EXPECT_TRUE(qwen->caps().parallel_tool_calls);
    EXPECT_TRUE(qwen->caps().tool_responses);
    EXPECT_TRUE(qwen->caps().object_arguments);
    EXPECT_FALSE(qwen->caps().thinking);

    auto concat = ChatTemplate::parse(
        "{% for m in messages %}{% if m.tool_calls %}{{ m.tool_calls[0].function.name + "
        "m.tool_calls[0].function.arguments }}{% elif m.role == 'user' %}{{ m.content }}{% endif "
        "%}{% endfor %}");
    ASSERT_TRUE(concat);
    EXPECT_FALSE(concat->caps().system_role);
    EXPECT_FALSE(concat->caps().tools);
    EXPECT_TRUE(concat->caps().tool_calls);
    EXPECT_FALSE(concat->caps().object_arguments);
    EXPECT_FALSE(concat->caps().parallel_tool_calls);
    EXPECT_FALSE(concat->caps().tool_responses);
}

} // namespace
} // namespace agentd::inference
