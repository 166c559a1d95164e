// Grammars that force tool calls in each family's syntax, with schema-constrained arguments.

#include "agentd/inference/errc.h"
#include "agentd/inference/tool_calls.h"
#include "agentd/inference/value_json.h"

#include "grammar/json_schema.h"
#include "grammar/program.h"
#include "toolcall/syntax.h"

#include <functional>

namespace agentd::inference {
namespace {

using grammar::Builder;
using grammar::ExprId;

struct ToolDef {
    std::string name;
    const Value* parameters = nullptr;
};

base::Result<std::vector<ToolDef>> read_tools(const Value& tools, const ToolChoice& choice) {
    if (!tools.is_array() || tools.as_array().empty()) {
        return base::Error(errc::invalid_schema, "tool-call grammar: no tools given");
    }
    std::vector<ToolDef> out;
    for (std::size_t i = 0; i < tools.as_array().size(); ++i) {
        const Value& t = tools.as_array()[i];
        const Value* fn = t.find("function");
        if (fn == nullptr) {
            fn = &t; // a bare {"name", "parameters"}
        }
        const Value* name = fn->find("name");
        if (name == nullptr || !name->is_string() || name->as_string().empty()) {
            return base::Error(errc::invalid_schema,
                               "tool-call grammar: tools[" + std::to_string(i) + "] has no name");
        }
        if (choice.kind == ToolChoice::Kind::named && name->as_string() != choice.name) {
            continue;
        }
        out.push_back(ToolDef{name->as_string(), fn->find("parameters")});
    }
    if (out.empty()) {
        return base::Error(errc::invalid_schema, "tool-call grammar: tool_choice names '" +
                                                     choice.name +
                                                     "', which is not among the tools");
    }
    return out;
}

// A marker that is a special token in most vocabularies: either that token or its text.
ExprId marker(Builder& b, std::string_view text) {
    return b.alt({b.token(std::string(text)), b.bytes(std::string(text))});
}

std::string quoted(const std::string& s) {
    std::string out;
    append_json_string(out, s, false);
    return out;
}

} // namespace

base::Result<ToolCallGrammar> tool_call_grammar(ToolCallFormat format, const Value& tools,
                                                const ToolChoice& choice,
                                                const ToolGrammarOptions& options) {
    using namespace toolcall;
    if (format == ToolCallFormat::none) {
        return base::Error(errc::invalid_schema,
                           "tool-call grammar: the model has no tool-call format");
    }
    auto defs = read_tools(tools, choice);
    if (!defs) {
        return defs.error();
    }
    Builder b;
    grammar::JsonSchemaCompiler json(b, options.schema);
    ExprId ws = json.ws();
    auto sep = [&]() { return b.seq({ws, b.bytes(","), ws}); };

    // Per tool: its name and its arguments expression.
    std::vector<std::pair<std::string, ExprId>> fns;
    for (const auto& d : *defs) {
        Value object_schema(Object{{"type", Value("object")}});
        auto args = json.compile(d.parameters != nullptr ? *d.parameters : object_schema);
        if (!args) {
            return base::Error(errc::invalid_schema,
                               "tool '" + d.name + "' parameters: " + args.error().message);
        }
        fns.emplace_back(d.name, *args);
    }
    // {"name": "N", "<key>": ARGS}
    auto json_call = [&](const char* args_key) {
        std::vector<ExprId> alts;
        for (const auto& [n, args] : fns) {
            alts.push_back(
                b.seq({b.bytes("{"), ws, b.bytes("\"name\""), ws, b.bytes(":"), ws,
                       b.bytes(quoted(n)), sep(), b.bytes(std::string("\"") + args_key + "\""), ws,
                       b.bytes(":"), ws, args, ws, b.bytes("}")}));
        }
        return b.alt(std::move(alts));
    };
    // name + separator + args, for the formats that spell the name outside JSON
    auto named = [&](const std::function<ExprId(const std::string&, ExprId)>& shape) {
        std::vector<ExprId> alts;
        for (const auto& [n, args] : fns) {
            alts.push_back(shape(n, args));
        }
        return b.alt(std::move(alts));
    };
    auto many = [&](ExprId one, ExprId between) {
        return options.parallel_calls ? b.seq({one, b.star(b.seq({between, one}))}) : one;
    };

    ExprId calls = -1;
    std::vector<std::string> triggers;
    switch (format) {
    case ToolCallFormat::hermes: {
        ExprId one =
            b.seq({marker(b, kHermesBegin), ws, json_call("arguments"), ws, marker(b, kHermesEnd)});
        calls = many(one, ws);
        triggers = {std::string(kHermesBegin)};
        break;
    }
    case ToolCallFormat::llama3_json:
        // One call per turn (the Llama 3.x templates render exactly one).
        calls = b.seq({b.optional(b.seq({marker(b, kPythonTag), ws})), json_call("parameters")});
        triggers = {std::string(kPythonTag), "{\"name\""};
        break;
    case ToolCallFormat::mistral:
        calls = b.seq({marker(b, kMistralCalls), ws, b.bytes("["), ws,
                       many(json_call("arguments"), sep()), ws, b.bytes("]")});
        triggers = {std::string(kMistralCalls)};
        break;
    case ToolCallFormat::mistral_v11: {
        ExprId one = named([&](const std::string& n, ExprId args) {
            return b.seq({marker(b, kMistralCalls), b.bytes(n), marker(b, kMistralArgs), args});
        });
        calls = many(one, b.empty());
        triggers = {std::string(kMistralCalls)};
        break;
    }
    case ToolCallFormat::deepseek_v3: {
        ExprId one = named([&](const std::string& n, ExprId args) {
            return b.seq({marker(b, kDsCallBegin), b.bytes("function"), marker(b, kDsSep),
                          b.bytes(n), b.bytes("\n```json\n"), args, b.bytes("\n```"),
                          marker(b, kDsCallEnd)});
        });
        calls = b.seq({marker(b, kDsCallsBegin), many(one, b.optional(b.bytes("\n"))),
                       marker(b, kDsCallsEnd)});
        triggers = {std::string(kDsCallsBegin)};
        break;
    }
    case ToolCallFormat::deepseek_v31: {
        ExprId one = named([&](const std::string& n, ExprId args) {
            return b.seq({marker(b, kDsCallBegin), b.bytes(n), marker(b, kDsSep), args,
                          marker(b, kDsCallEnd)});
        });
        calls = b.seq({marker(b, kDsCallsBegin), many(one, b.empty()), marker(b, kDsCallsEnd)});
        triggers = {std::string(kDsCallsBegin)};
        break;
    }
    case ToolCallFormat::phi4_mini:
        calls = b.seq({marker(b, kPhiCallBegin), ws, b.bytes("["), ws,
                       many(json_call("arguments"), sep()), ws, b.bytes("]"), ws,
                       marker(b, kPhiCallEnd)});
        triggers = {std::string(kPhiCallBegin)};
        break;
    case ToolCallFormat::none:
        break;
    }
    std::vector<ExprId> root{ws};
    if (options.allow_reasoning) {
        root.push_back(
            b.optional(b.seq({b.bytes(std::string(kThinkBegin)), b.until(std::string(kThinkEnd)),
                              b.bytes(std::string(kThinkEnd)), ws})));
    }
    root.push_back(calls);
    root.push_back(ws);
    b.root = b.add_rule("root", grammar::Inline::never);
    b.define(b.root, b.seq(std::move(root)));
    auto program = grammar::compile(b);
    if (!program) {
        return program.error();
    }
    return ToolCallGrammar{Grammar(std::make_shared<const grammar::Program>(std::move(*program))),
                           std::move(triggers)};
}

} // namespace agentd::inference
