#include "agentd/inference/chat_template.h"

#include "agentd/base/check.h"
#include "agentd/inference/errc.h"

#include "template/interpreter.h"
#include "template/lexer.h"
#include "template/parser.h"

#include <new>

namespace agentd::inference {
namespace {

// ChatML, used when a model file has no template. Content may be a string or a list of parts;
// assistant tool calls are written in the Hermes <tool_call> form ChatML models were tuned on.
constexpr std::string_view kChatml = R"({%- for message in messages -%}
{{- '<|im_start|>' + message['role'] + '\n' -}}
{%- if message['content'] is string -%}
{{- message['content'] -}}
{%- elif message['content'] is iterable -%}
{%- for part in message['content'] -%}
{%- if part['type'] == 'text' -%}{{- part['text'] -}}{%- endif -%}
{%- endfor -%}
{%- endif -%}
{%- if message['tool_calls'] is defined and message['tool_calls'] -%}
{%- for call in message['tool_calls'] -%}
{%- set fn = call['function'] if call['function'] is defined else call -%}
{{- '\n<tool_call>\n{"name": "' + fn['name'] + '", "arguments": ' -}}
{{- fn['arguments'] if fn['arguments'] is string else fn['arguments'] | tojson -}}
{{- '}\n</tool_call>' -}}
{%- endfor -%}
{%- endif -%}
{{- '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%})";

base::Error render_error(const std::string& source, std::size_t offset, const std::string& msg) {
    return base::Error(errc::template_error, "chat template error at " +
                                                 jinja::describe_position(source, offset) + ": " +
                                                 msg);
}

Value probe_message(const char* role, Value content) {
    Object m;
    m.set("role", Value(role));
    m.set("content", std::move(content));
    return Value(std::move(m));
}

Value probe_tool_call(const char* name, Value arguments) {
    Object fn;
    fn.set("name", Value(name));
    fn.set("arguments", std::move(arguments));
    Object call;
    call.set("id", Value("call12345")); // 9 alphanumerics: Mistral templates insist on it
    call.set("type", Value("function"));
    call.set("function", Value(std::move(fn)));
    return Value(std::move(call));
}

} // namespace

base::Result<ChatTemplate> ChatTemplate::parse(std::string_view source,
                                               const ChatTemplateLimits& limits) {
    try {
        auto program = jinja::parse_template(source);
        if (!program) {
            return program.error();
        }
        ChatTemplate t;
        t.program_ = std::move(*program);
        t.source_ = std::make_shared<const std::string>(source);
        t.limits_ = limits;
        t.probe_caps();
        return t;
    } catch (const std::bad_alloc&) {
        return base::Error(errc::template_error, "chat template too large for memory");
    }
}

ChatTemplate ChatTemplate::chatml() {
    auto t = parse(kChatml);
    // The built-in template is a compile-time constant that the tests render.
    AGENTD_CHECK(t.has_value(), "the built-in ChatML template must parse");
    return std::move(*t);
}

base::Result<std::string> ChatTemplate::render(const ChatRenderInputs& inputs) const {
    jinja::Limits limits;
    limits.max_steps = limits_.max_steps;
    limits.max_output_bytes = limits_.max_output_bytes;
    limits.max_call_depth = limits_.max_call_depth;
    try {
        jinja::Scope globals;
        jinja::install_globals(globals);
        globals.set("messages", jinja::to_jval(inputs.messages));
        globals.set("tools", jinja::to_jval(inputs.tools));
        globals.set("documents", jinja::JVal::none());
        globals.set("add_generation_prompt", jinja::JVal(inputs.add_generation_prompt));
        globals.set("bos_token", jinja::JVal(inputs.bos_token));
        globals.set("eos_token", jinja::JVal(inputs.eos_token));
        if (inputs.extra.is_object()) {
            for (const auto& [k, v] : inputs.extra.as_object()) {
                globals.set(k, jinja::to_jval(v));
            }
        }
        jinja::Interpreter interp(*program_, limits,
                                  inputs.now.value_or(std::chrono::system_clock::now()));
        return interp.render(globals);
    } catch (const jinja::RenderError& e) {
        return render_error(program_->source, e.offset, e.message);
    } catch (const std::bad_alloc&) {
        return base::Error(errc::template_error, "chat template rendering ran out of memory");
    } catch (const std::exception& e) {
        return base::Error(errc::template_error,
                           std::string("chat template rendering failed: ") + e.what());
    }
}

void ChatTemplate::probe_caps() {
    auto rendered = [&](Value messages, Value tools, Value extra = Object{}) -> std::string {
        ChatRenderInputs in;
        in.messages = std::move(messages);
        in.tools = std::move(tools);
        in.add_generation_prompt = false;
        in.extra = std::move(extra);
        in.now = std::chrono::system_clock::time_point{};
        auto r = render(in);
        return r ? *r : std::string();
    };
    auto contains = [](const std::string& s, std::string_view what) {
        return s.find(what) != std::string::npos;
    };
    Value user = probe_message("user", Value("Hello"));
    caps_.system_role = contains(
        rendered(Array{probe_message("system", Value("SysProbe7")), user}, Value()), "SysProbe7");

    Object params;
    params.set("type", Value("object"));
    params.set("properties",
               Value(Object{{"probe_arg", Value(Object{{"type", Value("string")}})}}));
    Object fn;
    fn.set("name", Value("probe_tool_fn"));
    fn.set("description", Value("probe"));
    fn.set("parameters", Value(std::move(params)));
    Array tools{Value(Object{{"type", Value("function")}, {"function", Value(std::move(fn))}})};
    caps_.tools = contains(rendered(Array{user}, Value(tools)), "probe_tool_fn");

    auto with_calls = [&](Array calls) {
        Object assistant;
        assistant.set("role", Value("assistant"));
        assistant.set("content", Value());
        assistant.set("tool_calls", Value(std::move(calls)));
        Object tool;
        tool.set("role", Value("tool"));
        tool.set("tool_call_id", Value("call12345"));
        tool.set("name", Value("probe_tool_fn"));
        tool.set("content", Value("ToolResult7"));
        return Array{user, Value(std::move(assistant)), Value(std::move(tool))};
    };
    Value object_args(Object{{"probe_arg", Value("ArgValue7")}});
    std::string obj =
        rendered(with_calls(Array{probe_tool_call("probe_tool_fn", object_args)}), Value(tools));
    std::string str = rendered(
        with_calls(Array{probe_tool_call("probe_tool_fn", Value(R"({"probe_arg": "ArgValue7"})"))}),
        Value(tools));
    caps_.object_arguments = contains(obj, "ArgValue7") && !contains(obj, "\\\"ArgValue7");
    caps_.tool_calls = contains(obj, "ArgValue7") || contains(str, "ArgValue7");
    caps_.tool_responses = contains(obj, "ToolResult7") || contains(str, "ToolResult7");
    Value args = caps_.object_arguments ? object_args : Value(R"({"probe_arg": "ArgValue7"})");
    std::string two = rendered(with_calls(Array{probe_tool_call("probe_tool_fn", args),
                                                probe_tool_call("second_probe_fn", args)}),
                               Value(tools));
    caps_.parallel_tool_calls = contains(two, "probe_tool_fn") && contains(two, "second_probe_fn");
    caps_.thinking = contains(*source_, "enable_thinking") ||
                     contains(*source_, "reasoning_content") || contains(*source_, "<think>");
}

} // namespace agentd::inference
