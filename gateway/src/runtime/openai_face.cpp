// The OpenAI face of the agents (faces.h): /v1/chat/completions with `model` = an agent's name.

#include "agentd/protocols/json_rpc.h"
#include "agentd/tools/errc.h"

#include "runtime/faces.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <random>

namespace agentd::gateway::runtime {

namespace {

using nlohmann::json;

http::Response openai_error(unsigned status, std::string type, std::string message,
                            std::string param = {}) {
    json e = {{"error",
               {{"message", std::move(message)},
                {"type", std::move(type)},
                {"param", param.empty() ? json() : json(param)},
                {"code", json()}}}};
    return http::Response::json(status, protocols::jsonrpc::serialize(e));
}

std::string completion_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[40];
    std::snprintf(buf, sizeof buf, "chatcmpl-agent-%016llx",
                  static_cast<unsigned long long>(rng()));
    return buf;
}

/// OpenAI message content: a string or an array of text parts.
std::string content_text(const json& content) {
    if (content.is_string()) {
        return content.get<std::string>();
    }
    std::string out;
    if (content.is_array()) {
        for (const auto& part : content) {
            if (part.is_object() && part.value("type", "") == "text") {
                out += part.value("text", "");
            }
        }
    }
    return out;
}

/// The conversation of a chat request; nullopt (and `*error`) when it is malformed.
std::optional<std::vector<TurnMessage>> read_messages(const json& body, std::string* error) {
    const auto it = body.find("messages");
    if (it == body.end() || !it->is_array() || it->empty()) {
        *error = "messages: a non-empty array is required";
        return std::nullopt;
    }
    std::vector<TurnMessage> out;
    std::string system;
    for (std::size_t i = 0; i < it->size(); ++i) {
        const json& m = (*it)[i];
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
            *error = "messages[" + std::to_string(i) + "].role: required";
            return std::nullopt;
        }
        const auto role = m["role"].get<std::string>();
        const auto text = content_text(m.value("content", json()));
        if (role == "system" || role == "developer") {
            // The agent has its own system prompt; the client's becomes context for the user.
            system += (system.empty() ? "" : "\n") + text;
        } else if (role == "user" || role == "assistant") {
            out.push_back(
                {role, role == "user" && !system.empty() ? system + "\n\n" + text : text, {}, {}});
            if (role == "user") {
                system.clear();
            }
        } else {
            *error = "messages[" + std::to_string(i) +
                     "].role: agents take system, user and "
                     "assistant messages (got \"" +
                     role + "\")";
            return std::nullopt;
        }
    }
    if (out.empty() || out.back().role != "user") {
        *error = "messages: the last message must be the user's";
        return std::nullopt;
    }
    return out;
}

json usage_json(const TurnUsage& u) {
    return {{"prompt_tokens", u.prompt_tokens},
            {"completion_tokens", u.completion_tokens},
            {"total_tokens", u.prompt_tokens + u.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

std::string finish_of(const TurnResult& r) {
    return r.finish == "stop" ? "stop" : "length";
}

void answer_plain(const http::ResponseWriterPtr& writer, const std::string& agent,
                  const TurnResult& r) {
    const json body = {
        {"id", completion_id()},
        {"object", "chat.completion"},
        {"created", std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count()},
        {"model", agent},
        {"choices",
         json::array(
             {{{"index", 0},
               {"message", {{"role", "assistant"}, {"content", AgentRuntime::answer_text(r)}}},
               {"finish_reason", finish_of(r)}}})},
        {"usage", usage_json(r.usage)},
        {"agentd", {{"steps", r.steps}, {"finish", r.finish}, {"trace_id", r.trace_id}}}};
    writer->respond(http::Response::json(200, protocols::jsonrpc::serialize(body)));
}

json chunk(const std::string& id, const std::string& agent, const json& delta, const json& finish) {
    return {
        {"id", id},
        {"object", "chat.completion.chunk"},
        {"created", std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count()},
        {"model", agent},
        {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
}

void send_event(const std::shared_ptr<http::SseStream>& sse, const json& data) {
    http::SseEvent e;
    e.data = protocols::jsonrpc::serialize(data);
    sse->send(std::move(e));
}

} // namespace

bool handle_agent_chat(const std::shared_ptr<AgentRuntime>& runtime, const http::Request& request,
                       const http::ResponseWriterPtr& writer) {
    const json body = json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("model") || !body["model"].is_string()) {
        return false;
    }
    const auto agent = body["model"].get<std::string>();
    if (runtime->find(agent) == nullptr) {
        return false;
    }
    std::string error;
    auto messages = read_messages(body, &error);
    if (!messages) {
        writer->respond(openai_error(400, "invalid_request_error", error, "messages"));
        return true;
    }
    TurnRequest turn;
    turn.tenant = request.principal.tenant;
    turn.agent = agent;
    turn.face = "openai";
    turn.messages = std::move(*messages);
    turn.cancel = std::make_shared<tools::CancellationSignal>();
    if (auto tp = request.header("traceparent")) {
        turn.traceparent = std::string(*tp);
    }
    writer->on_client_gone([cancel = turn.cancel] { cancel->cancel(); });
    const bool stream = body.value("stream", false);
    const bool include_usage = body.contains("stream_options") &&
                               body["stream_options"].is_object() &&
                               body["stream_options"].value("include_usage", false);
    if (!stream) {
        runtime->run_turn(std::move(turn), {}, [writer, agent](base::Result<TurnResult> r) {
            if (!r) {
                writer->respond(openai_error(500, "server_error", r.error().what()));
                return;
            }
            answer_plain(writer, agent, *r);
        });
        return true;
    }
    auto sse = writer->start_sse(200, {});
    const std::string id = completion_id();
    send_event(sse, chunk(id, agent, {{"role", "assistant"}, {"content", ""}}, nullptr));
    runtime->run_turn(
        std::move(turn), {}, [sse, id, agent, include_usage](base::Result<TurnResult> r) {
            if (!r) {
                send_event(sse,
                           {{"error", {{"message", r.error().what()}, {"type", "server_error"}}}});
            } else {
                send_event(sse,
                           chunk(id, agent, {{"content", AgentRuntime::answer_text(*r)}}, nullptr));
                send_event(sse, chunk(id, agent, json::object(), finish_of(*r)));
                if (include_usage) {
                    json u = chunk(id, agent, json::object(), nullptr);
                    u["choices"] = json::array();
                    u["usage"] = usage_json(r->usage);
                    send_event(sse, u);
                }
            }
            http::SseEvent done;
            done.data = "[DONE]";
            sse->send(std::move(done));
            sse->close();
        });
    return true;
}

} // namespace agentd::gateway::runtime
