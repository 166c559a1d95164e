#include "openai/chat_request.h"

#include "agentd/inference/value_json.h"

namespace agentd::gateway::openai {

using inference::Array;
using inference::Object;
using inference::Value;

namespace {

std::string at(std::size_t i) {
    return "messages[" + std::to_string(i) + "]";
}

/// A message's content as one string: a string, or the text parts of an array joined.
ApiResult<Value> flatten_content(const Value* content, const std::string& where) {
    if (content == nullptr || content->is_null()) {
        return Value(nullptr);
    }
    if (content->is_string()) {
        return *content;
    }
    if (!content->is_array()) {
        return invalid_request("'" + where +
                                   ".content' must be a string, an array of parts or null",
                               where + ".content");
    }
    std::string text;
    for (const auto& part : content->as_array()) {
        const Value* type = part.find("type");
        const Value* t = part.find("text");
        if (type == nullptr || !type->is_string() ||
            (type->as_string() != "text" && type->as_string() != "input_text")) {
            return invalid_request("'" + where +
                                       ".content' may only hold text parts ({\"type\": \"text\", "
                                       "\"text\": ...}); this model takes no images or audio",
                                   where + ".content");
        }
        if (t == nullptr || !t->is_string()) {
            return invalid_request("a text part of '" + where + ".content' needs a string 'text'",
                                   where + ".content");
        }
        text += t->as_string();
    }
    return Value(std::move(text));
}

ApiResult<Value> parse_tool_calls(const Value& calls, const std::string& where) {
    if (!calls.is_array()) {
        return invalid_request("'" + where + "' must be an array", where);
    }
    Array out;
    for (std::size_t j = 0; j < calls.as_array().size(); ++j) {
        const std::string w = where + "[" + std::to_string(j) + "]";
        const Value& call = calls.as_array()[j];
        const Value* fn = call.find("function");
        const Value* name = fn != nullptr ? fn->find("name") : nullptr;
        if (!call.is_object() || name == nullptr || !name->is_string() ||
            name->as_string().empty()) {
            return invalid_request("'" + w + "' needs function.name", w);
        }
        const Value* args = fn->find("arguments");
        std::string arguments = "{}";
        if (args != nullptr && args->is_string()) {
            arguments = args->as_string();
        } else if (args != nullptr && args->is_object()) {
            arguments = inference::to_json(*args);
        } else if (args != nullptr && !args->is_null()) {
            return invalid_request("'" + w + ".function.arguments' must be a JSON string", w);
        }
        const Value* id = call.find("id");
        Object f{{"name", name->as_string()}, {"arguments", std::move(arguments)}};
        Object c;
        c.set("id", id != nullptr && id->is_string() ? *id : Value("call_" + std::to_string(j)));
        c.set("type", "function");
        c.set("function", std::move(f));
        out.push_back(std::move(c));
    }
    return Value(std::move(out));
}

ApiResult<Value> parse_message(const Value& m, std::size_t i) {
    const std::string where = at(i);
    if (!m.is_object()) {
        return invalid_request("'" + where + "' must be an object", where);
    }
    Fields f(m, where);
    AGENTD_OPENAI_TRY(role, f.string("role", 32));
    if (!role->has_value()) {
        return invalid_request("'" + where + ".role' is required", where + ".role");
    }
    std::string r = **role;
    if (r == "developer") {
        r = "system";
    }
    if (r != "system" && r != "user" && r != "assistant" && r != "tool") {
        return invalid_request("'" + where +
                                   ".role' must be system, developer, user, assistant or tool",
                               where + ".role");
    }
    AGENTD_OPENAI_TRY(content, flatten_content(f.get("content"), where));
    Object out;
    out.set("role", r);
    const Value* calls = r == "assistant" ? f.get("tool_calls") : nullptr;
    if (content->is_null() && calls == nullptr) {
        if (r != "assistant") {
            return invalid_request("'" + where + ".content' is required", where + ".content");
        }
        *content = Value("");
    }
    out.set("content", std::move(*content));
    AGENTD_OPENAI_TRY(name, f.string("name", 256));
    if (name->has_value()) {
        out.set("name", **name);
    }
    if (calls != nullptr) {
        AGENTD_OPENAI_TRY(parsed, parse_tool_calls(*calls, where + ".tool_calls"));
        if (!parsed->as_array().empty()) {
            out.set("tool_calls", std::move(*parsed));
        }
    }
    if (r == "tool") {
        AGENTD_OPENAI_TRY(id, f.string("tool_call_id", 256));
        if (!id->has_value()) {
            return invalid_request("'" + where + ".tool_call_id' is required for role tool",
                                   where + ".tool_call_id");
        }
        out.set("tool_call_id", **id);
    }
    AGENTD_OPENAI_TRY(reasoning, f.string("reasoning_content", 16u << 20));
    if (reasoning->has_value()) {
        out.set("reasoning_content", **reasoning);
    }
    return Value(std::move(out));
}

bool valid_tool_name(const std::string& n) {
    if (n.empty() || n.size() > 64) {
        return false;
    }
    for (char c : n) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return true;
}

ApiResult<void> parse_tools(const Fields& body, const RequestLimits& limits, ChatRequest& req) {
    const Value* tools = body.get("tools");
    if (tools == nullptr) {
        return {};
    }
    if (!tools->is_array() || tools->as_array().size() > limits.max_tools) {
        return invalid_request("'tools' must be an array of at most " +
                                   std::to_string(limits.max_tools) + " tools",
                               "tools");
    }
    Array out;
    for (std::size_t i = 0; i < tools->as_array().size(); ++i) {
        const std::string w = "tools[" + std::to_string(i) + "]";
        const Value& t = tools->as_array()[i];
        const Value* type = t.find("type");
        const Value* fn = t.find("function");
        if (!t.is_object() || type == nullptr || !type->is_string() ||
            type->as_string() != "function" || fn == nullptr || !fn->is_object()) {
            return invalid_request(
                "'" + w + "' must be {\"type\": \"function\", \"function\": {...}}", w);
        }
        const Value* name = fn->find("name");
        if (name == nullptr || !name->is_string() || !valid_tool_name(name->as_string())) {
            return invalid_request("'" + w +
                                       ".function.name' must be 1-64 characters of "
                                       "A-Z a-z 0-9 _ - .",
                                   w + ".function.name");
        }
        for (const auto& other : out) {
            if (other.find("function")->find("name")->as_string() == name->as_string()) {
                return invalid_request("two tools are named '" + name->as_string() + "'", w);
            }
        }
        Object f;
        f.set("name", name->as_string());
        if (const Value* d = fn->find("description"); d != nullptr && d->is_string()) {
            f.set("description", *d);
        }
        const Value* params = fn->find("parameters");
        if (params != nullptr && !params->is_null() && !params->is_object()) {
            return invalid_request("'" + w + ".function.parameters' must be a JSON Schema object",
                                   w + ".function.parameters");
        }
        f.set("parameters", params != nullptr && params->is_object()
                                ? *params
                                : Value(Object{{"type", "object"}, {"properties", Object{}}}));
        if (const Value* s = fn->find("strict"); s != nullptr && s->is_bool() && s->as_bool()) {
            req.strict_tools = true;
        }
        out.push_back(Value(Object{{"type", "function"}, {"function", std::move(f)}}));
    }
    req.tools = Value(std::move(out));
    return {};
}

ApiResult<void> parse_tool_choice(const Fields& body, ChatRequest& req) {
    const bool have_tools = req.tools.is_array() && !req.tools.as_array().empty();
    req.tool_mode = have_tools ? ChatRequest::ToolMode::automatic : ChatRequest::ToolMode::none;
    const Value* choice = body.get("tool_choice");
    if (choice == nullptr) {
        return {};
    }
    if (choice->is_string()) {
        const std::string& c = choice->as_string();
        if (c == "none") {
            req.tool_mode = ChatRequest::ToolMode::none;
        } else if (c == "auto") {
            req.tool_mode =
                have_tools ? ChatRequest::ToolMode::automatic : ChatRequest::ToolMode::none;
        } else if (c == "required") {
            req.tool_mode = ChatRequest::ToolMode::required;
        } else {
            return invalid_request("'tool_choice' must be none, auto, required or a function",
                                   "tool_choice");
        }
    } else {
        const Value* fn = choice->find("function");
        const Value* name = fn != nullptr ? fn->find("name") : nullptr;
        if (name == nullptr || !name->is_string()) {
            return invalid_request("'tool_choice' must be {\"type\": \"function\", \"function\": "
                                   "{\"name\": ...}}",
                                   "tool_choice");
        }
        req.tool_mode = ChatRequest::ToolMode::named;
        req.tool_name = name->as_string();
    }
    if (req.tool_mode == ChatRequest::ToolMode::required ||
        req.tool_mode == ChatRequest::ToolMode::named) {
        if (!have_tools) {
            return invalid_request("'tool_choice' requires 'tools'", "tool_choice");
        }
    }
    if (req.tool_mode == ChatRequest::ToolMode::named) {
        bool found = false;
        for (const auto& t : req.tools.as_array()) {
            found = found || t.find("function")->find("name")->as_string() == req.tool_name;
        }
        if (!found) {
            return invalid_request("'tool_choice' names '" + req.tool_name +
                                       "', which is not in 'tools'",
                                   "tool_choice");
        }
    }
    return {};
}

ApiResult<void> parse_response_format(const Fields& body, ChatRequest& req) {
    const Value* rf = body.get("response_format");
    if (rf == nullptr) {
        return {};
    }
    const Value* type = rf->find("type");
    if (!rf->is_object() || type == nullptr || !type->is_string()) {
        return invalid_request("'response_format' must be an object with a 'type'",
                               "response_format");
    }
    const std::string& t = type->as_string();
    if (t == "text") {
        req.format = ChatRequest::Format::text;
    } else if (t == "json_object") {
        req.format = ChatRequest::Format::json_object;
    } else if (t == "json_schema") {
        const Value* js = rf->find("json_schema");
        const Value* schema = js != nullptr ? js->find("schema") : nullptr;
        if (js == nullptr || !js->is_object()) {
            return invalid_request("'response_format.json_schema' is required",
                                   "response_format.json_schema");
        }
        if (schema == nullptr || !schema->is_object()) {
            return invalid_request("'response_format.json_schema.schema' must be a JSON Schema "
                                   "object",
                                   "response_format.json_schema.schema");
        }
        req.format = ChatRequest::Format::json_schema;
        req.schema = *schema;
        const Value* strict = js->find("strict");
        req.schema_strict = strict == nullptr || !strict->is_bool() || strict->as_bool();
    } else {
        return invalid_request("'response_format.type' must be text, json_object or json_schema",
                               "response_format.type");
    }
    return {};
}

} // namespace

ApiResult<ChatRequest> parse_chat_request(const Value& body, const RequestLimits& limits,
                                          std::int32_t n_vocab) {
    Fields f(body);
    ChatRequest req;
    AGENTD_OPENAI_TRY(common, parse_common(f, limits, n_vocab));
    req.common = std::move(*common);
    const Value* messages = f.get("messages");
    if (messages == nullptr || !messages->is_array() || messages->as_array().empty()) {
        return invalid_request("'messages' must be a non-empty array", "messages");
    }
    if (messages->as_array().size() > limits.max_messages) {
        return invalid_request(
            "at most " + std::to_string(limits.max_messages) + " messages are allowed", "messages");
    }
    Array normalised;
    for (std::size_t i = 0; i < messages->as_array().size(); ++i) {
        AGENTD_OPENAI_TRY(m, parse_message(messages->as_array()[i], i));
        normalised.push_back(std::move(*m));
    }
    req.messages = Value(std::move(normalised));
    if (auto r = parse_tools(f, limits, req); !r) {
        return r.error();
    }
    if (auto r = parse_tool_choice(f, req); !r) {
        return r.error();
    }
    AGENTD_OPENAI_TRY(parallel, f.boolean("parallel_tool_calls"));
    req.parallel_tool_calls = parallel->value_or(true);
    if (auto r = parse_response_format(f, req); !r) {
        return r.error();
    }
    AGENTD_OPENAI_TRY(logprobs, f.boolean("logprobs"));
    req.logprobs = logprobs->value_or(false);
    AGENTD_OPENAI_TRY(top, f.integer("top_logprobs", 0, 20));
    req.top_logprobs = static_cast<int>(top->value_or(0));
    if (req.top_logprobs > 0 && !req.logprobs) {
        return invalid_request("'top_logprobs' requires 'logprobs': true", "top_logprobs");
    }
    req.common.sampling.logprobs = req.logprobs;
    req.common.sampling.top_logprobs = req.top_logprobs;
    if (const Value* kw = f.get("chat_template_kwargs"); kw != nullptr) {
        if (!kw->is_object()) {
            return invalid_request("'chat_template_kwargs' must be an object",
                                   "chat_template_kwargs");
        }
        req.template_kwargs = *kw;
    }
    return req;
}

} // namespace agentd::gateway::openai
