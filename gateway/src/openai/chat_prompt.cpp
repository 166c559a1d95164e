#include "openai/chat_prompt.h"

#include "agentd/inference/value_json.h"

namespace agentd::gateway::openai {

using inference::Array;
using inference::Object;
using inference::Value;

namespace {

/// Turns each tool call's JSON-text arguments into the object it encodes (when it parses as one).
void arguments_as_objects(Value& message) {
    Value* calls = message.as_object().find("tool_calls");
    if (calls == nullptr || !calls->is_array()) {
        return;
    }
    for (auto& call : calls->as_array()) {
        Value* fn = call.as_object().find("function");
        Value* args = fn != nullptr ? fn->as_object().find("arguments") : nullptr;
        if (args == nullptr || !args->is_string()) {
            continue;
        }
        auto parsed = inference::parse_json(args->as_string());
        if (parsed && parsed->is_object()) {
            *args = std::move(*parsed);
        }
    }
}

std::string text_of(const Value& message) {
    const Value* c = message.find("content");
    return c != nullptr && c->is_string() ? c->as_string() : std::string();
}

} // namespace

Value shape_messages(const Value& messages, const inference::ChatTemplateCaps& caps) {
    Array out;
    std::string pending_system; // system text waiting for the next user turn
    for (const auto& m : messages.as_array()) {
        Value msg = m;
        const std::string role = msg.find("role")->as_string();
        if (msg.find("tool_calls") != nullptr) {
            if (msg.find("content")->is_null()) {
                msg.as_object().set("content", "");
            }
            if (caps.object_arguments) {
                arguments_as_objects(msg);
            }
        }
        if (!caps.system_role && role == "system") {
            if (!pending_system.empty()) {
                pending_system += "\n\n";
            }
            pending_system += text_of(msg);
            continue;
        }
        if (!pending_system.empty() && role == "user") {
            msg.as_object().set("content", pending_system + "\n\n" + text_of(msg));
            pending_system.clear();
        }
        out.push_back(std::move(msg));
    }
    if (!pending_system.empty()) {
        // Only system text and no user turn after it: give it to the model as a user turn.
        out.push_back(Value(Object{{"role", "user"}, {"content", pending_system}}));
    }
    return Value(std::move(out));
}

} // namespace agentd::gateway::openai
