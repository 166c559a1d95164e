// The A2A and MCP faces of the agents (faces.h); the OpenAI face is in openai_face.cpp.

#include "runtime/faces.h"

#include "agentd/protocols/a2a/types.h"
#include "agentd/protocols/json_rpc.h"
#include "agentd/tools/errc.h"

#include <nlohmann/json.hpp>

namespace agentd::gateway::runtime {

namespace {

using nlohmann::json;
namespace proto = protocols::a2a;

json calls_json(const std::vector<ToolCallRecord>& calls) {
    json out = json::array();
    for (const auto& c : calls) {
        json args = json::parse(c.arguments, nullptr, false);
        out.push_back({{"name", c.name},
                       {"arguments", args.is_discarded() ? json(c.arguments) : args},
                       {"result", c.result},
                       {"is_error", c.is_error}});
    }
    return out;
}

class A2aAgent final : public a2a::AgentExecutor {
public:
    A2aAgent(std::shared_ptr<AgentRuntime> runtime, std::string agent)
        : runtime_(std::move(runtime)), agent_(std::move(agent)) {}

    void execute(a2a::TaskRequest request, a2a::TaskUpdater u) override {
        TurnRequest turn;
        turn.tenant = request.tenant;
        turn.agent = agent_;
        turn.face = "a2a";
        turn.traceparent = request.traceparent;
        turn.cancel = u.cancel();
        for (const auto& m : request.history) {
            const auto text = m.joined_text();
            if (!text.empty()) {
                turn.messages.push_back(
                    {m.role == proto::Role::agent ? "assistant" : "user", text, {}, {}});
            }
        }
        turn.messages.push_back({"user", request.message.joined_text(), {}, {}});
        u.working();
        TurnEvents events;
        events.progress = [u](const std::string& message) { u.working(u.agent_text(message)); };
        events.tool_done = [u](const ToolCallRecord& call) {
            proto::Artifact a;
            a.name = "tool:" + call.name;
            a.parts.push_back(proto::Part::make_data(protocols::share_json(
                json{{"name", call.name},
                     {"arguments", json::parse(call.arguments, nullptr, false).is_discarded()
                                       ? json(call.arguments)
                                       : json::parse(call.arguments)},
                     {"result", call.result},
                     {"is_error", call.is_error}})));
            u.artifact(std::move(a));
        };
        runtime_->run_turn(std::move(turn), std::move(events), [u](base::Result<TurnResult> r) {
            if (!r) {
                if (r.error().code != make_error_code(tools::errc::cancelled)) {
                    u.fail(r.error().what());
                }
                return;
            }
            proto::Artifact answer;
            answer.name = "answer";
            answer.parts.push_back(proto::Part::make_text(AgentRuntime::answer_text(*r)));
            answer.metadata = protocols::share_json(
                json{{"finish", r->finish}, {"steps", r->steps}, {"trace_id", r->trace_id}});
            u.artifact(std::move(answer));
            u.complete(u.agent_text(AgentRuntime::answer_text(*r)));
        });
    }

private:
    std::shared_ptr<AgentRuntime> runtime_;
    std::string agent_;
};

class AgentToolExecutor final : public tools::ToolExecutor {
public:
    /// Holds the runtime weakly: the runtime owns the tool registry this tool lives in, so a
    /// strong reference would be a cycle that keeps both (and their HTTP clients) alive forever.
    AgentToolExecutor(const std::shared_ptr<AgentRuntime>& runtime, std::string agent)
        : runtime_(runtime), agent_(std::move(agent)) {}

    void invoke(tools::ToolInvocation inv, tools::ToolCallback done) const override {
        TurnRequest turn;
        turn.tenant = inv.tenant;
        turn.agent = agent_;
        turn.face = "mcp";
        turn.cancel = inv.cancel;
        const json& args = inv.arguments ? *inv.arguments : json::object();
        turn.messages.push_back({"user", args.value("message", std::string()), {}, {}});
        turn.traceparent = args.value("traceparent", std::string());
        TurnEvents events;
        auto step = std::make_shared<std::atomic<int>>(0);
        if (inv.progress) {
            events.progress = [progress = inv.progress, step](const std::string& message) {
                progress(static_cast<double>(++*step), std::nullopt, message);
            };
        }
        const std::string agent = agent_;
        auto runtime = runtime_.lock();
        if (!runtime) {
            done(tools::ToolResult::error("agent \"" + agent + "\": the server is shutting down"));
            return;
        }
        runtime->run_turn(
            std::move(turn), std::move(events),
            [agent, done = std::move(done)](base::Result<TurnResult> r) {
                if (!r) {
                    done(tools::ToolResult::error("agent \"" + agent + "\": " + r.error().what()));
                    return;
                }
                tools::ToolResult out = tools::ToolResult::text(AgentRuntime::answer_text(*r));
                out.structured_content =
                    tools::share_json(json{{"finish", r->finish},
                                           {"steps", r->steps},
                                           {"tool_calls", calls_json(r->tool_calls)},
                                           {"trace_id", r->trace_id}});
                done(std::move(out));
            });
    }

private:
    std::weak_ptr<AgentRuntime> runtime_;
    std::string agent_;
};

} // namespace

std::shared_ptr<a2a::AgentExecutor> make_a2a_agent(std::shared_ptr<AgentRuntime> runtime,
                                                   std::string agent) {
    return std::make_shared<A2aAgent>(std::move(runtime), std::move(agent));
}

base::Result<tools::ToolPtr> make_agent_tool(std::shared_ptr<AgentRuntime> runtime,
                                             const AgentSpec& spec) {
    tools::ToolDefinition def;
    def.name = "agent_" + spec.name;
    def.title = "Agent " + spec.name;
    def.description =
        spec.description.empty() ? "Asks the agent \"" + spec.name + "\"." : spec.description;
    def.input_schema = tools::share_json(json{
        {"type", "object"},
        {"properties",
         {{"message", {{"type", "string"}, {"description", "What to ask the agent"}}},
          {"traceparent",
           {{"type", "string"}, {"description", "W3C trace context to continue (optional)"}}}}},
        {"required", json::array({"message"})},
        {"additionalProperties", false}});
    def.source = tools::ToolSource::builtin;
    return tools::Tool::create(std::move(def),
                               std::make_shared<AgentToolExecutor>(runtime, spec.name));
}

} // namespace agentd::gateway::runtime
