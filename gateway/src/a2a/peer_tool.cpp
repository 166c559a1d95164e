#include "a2a/peer_tool.h"

#include "agentd/protocols/a2a/types.h"

#include <nlohmann/json.hpp>

namespace agentd::gateway::a2a {

namespace {

using nlohmann::json;

class PeerToolExecutor final : public tools::ToolExecutor {
public:
    PeerToolExecutor(PeerToolSpec spec, std::shared_ptr<PeerClient> client)
        : spec_(std::move(spec)), client_(std::move(client)) {}

    void invoke(tools::ToolInvocation inv, tools::ToolCallback done) const override {
        PeerCall call;
        const json& args = inv.arguments ? *inv.arguments : json::object();
        call.text = args.value("message", std::string());
        call.task_id = args.value("task_id", std::string());
        call.deadline = std::min(inv.deadline, std::chrono::steady_clock::now() + spec_.timeout);
        call.cancel = inv.cancel;
        call.progress = inv.progress;
        const std::string name = spec_.name;
        client_->call(std::move(call), [name, done = std::move(done)](base::Result<PeerOutcome> r) {
            if (!r) {
                done(tools::ToolResult::error("peer agent \"" + name + "\": " + r.error().what()));
                return;
            }
            const auto state = std::string(proto::to_string(r->state, proto::Version::v0_3));
            json structured = {
                {"state", state}, {"task_id", r->task_id}, {"context_id", r->context_id}};
            tools::ToolResult result;
            result.structured_content = tools::share_json(structured);
            switch (r->state) {
            case proto::TaskState::completed:
                result.content.push_back(tools::ContentBlock::make_text(r->text));
                break;
            case proto::TaskState::input_required:
                result.content.push_back(tools::ContentBlock::make_text(
                    "The agent \"" + name + "\" needs more input: " + r->text +
                    "\n(call again with task_id \"" + r->task_id + "\" to answer)"));
                break;
            default:
                result.is_error = true;
                result.content.push_back(tools::ContentBlock::make_text(
                    "peer agent \"" + name + "\" ended the task " + state +
                    (r->text.empty() ? std::string() : ": " + r->text)));
                break;
            }
            done(std::move(result));
        });
    }

private:
    PeerToolSpec spec_;
    std::shared_ptr<PeerClient> client_;
};

} // namespace

base::Result<tools::ToolPtr> make_peer_tool(const PeerToolSpec& spec,
                                            std::shared_ptr<PeerClient> client) {
    tools::ToolDefinition def;
    def.name = "peer_" + spec.name;
    def.title = "Ask the agent " + spec.name;
    def.description = !spec.description.empty()
                          ? spec.description
                          : "Sends a message to the A2A agent \"" + spec.name + "\" (" +
                                client->options().card_url + ") and returns its answer.";
    def.input_schema = tools::share_json(json{
        {"type", "object"},
        {"properties",
         {{"message", {{"type", "string"}, {"description", "What to ask or tell the agent"}}},
          {"task_id",
           {{"type", "string"},
            {"description", "Continue this task of the agent (when it asked for more input)"}}}}},
        {"required", json::array({"message"})},
        {"additionalProperties", false}});
    def.source = tools::ToolSource::a2a_peer;
    return tools::Tool::create(std::move(def),
                               std::make_shared<PeerToolExecutor>(spec, std::move(client)));
}

} // namespace agentd::gateway::a2a
