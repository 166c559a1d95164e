// Start-up wiring of the agent runtime:
//  - register_agent_tools (route module "agent_tools", after "sandbox", which provides the
//    `run_python` tool agents use): the configured peer agents as `peer_<name>` tools, shared
//    tools of the registry;
//  - install_agents (called by the A2A module, after "openai"): the runtime over the loaded
//    model, and every agent's faces (A2A executor, MCP tool agent_<name>, OpenAI model name).

#include "runtime/runtime_routes.h"

#include "a2a/peer_tool.h"
#include "app/route_modules.h"
#include "http_client/beast_http_client.h"
#include "log/logging.h"
#include "mcp/asio_timers.h"
#include "openai/openai_module.h"
#include "runtime/faces.h"

#include <algorithm>

namespace agentd::gateway::runtime {

namespace {

void add_shared(tools::ToolRegistry& registry, base::Result<tools::ToolPtr> tool) {
    if (!tool) {
        throw std::runtime_error("building a tool: " + tool.error().what());
    }
    if (auto added = registry.add_shared(*tool); !added) {
        throw std::runtime_error("registering tool \"" + (*tool)->name() +
                                 "\": " + added.error().what());
    }
}

/// What the agent_tools module keeps alive.
struct AgentTools {
    std::shared_ptr<protocols::mcp::Timers> timers;
    std::shared_ptr<tools::HttpClient> http;
    std::vector<std::shared_ptr<a2a::PeerClient>> peers;
};

} // namespace

void register_agent_tools(app::AppContext& context) {
    const auto& config = context.config();
    auto registry = context.find_service<tools::ToolRegistry>();
    if (!registry) {
        throw std::runtime_error("the tool registry is missing (the tools module runs first)");
    }
    auto kept = std::make_shared<AgentTools>();
    if (!config.agents.peers.empty()) {
        kept->timers = std::make_shared<mcp::AsioTimers>(context.io());
        kept->http = http_client::make_beast_http_client(context.io());
        for (const auto& peer : config.agents.peers) {
            a2a::PeerOptions options;
            options.card_url = peer.card_url;
            options.bearer_token = peer.bearer_token;
            // Peers are the operator's configuration: private and loopback addresses are fine.
            options.policy.allow_loopback = true;
            options.policy.allow_private = true;
            auto client = std::make_shared<a2a::PeerClient>(kept->http, kept->timers, options);
            add_shared(*registry,
                       a2a::make_peer_tool({peer.name, peer.description, peer.timeout}, client));
            kept->peers.push_back(std::move(client));
        }
    }
    context.keep(std::make_unique<std::shared_ptr<AgentTools>>(std::move(kept)));
}

std::shared_ptr<AgentRuntime>
install_agents(app::AppContext& context, a2a::A2aModule& module,
               std::map<std::string, proto::AgentCard>& cards,
               const std::function<proto::AgentCard(const AgentSpec&)>& card_of) {
    const auto& config = context.config();
    if (config.agents.agents.empty()) {
        return nullptr;
    }
    auto openai_module = context.find_service<openai::OpenAiModule>();
    const openai::ModelService* model = openai_module ? openai_module->model.get() : nullptr;
    if (model == nullptr) {
        log::log_event(log::Level::warn,
                       "agents are configured but no model is loaded: their turns will fail",
                       {{"agents", config.agents.agents.size()}});
    }
    TracerOptions trace_options;
    trace_options.otlp_endpoint = config.agents.otlp_endpoint;
    auto tracer = std::make_shared<Tracer>(trace_options, module.http, module.timers);
    auto registry = context.find_service<tools::ToolRegistry>();
    auto runtime = std::make_shared<AgentRuntime>(config.agents.agents, model, registry,
                                                  context.blocking(), module.timers, tracer);
    for (const auto& spec : config.agents.agents) {
        module.tasks->add_agent(spec.name, make_a2a_agent(runtime, spec.name));
        cards[spec.name] = card_of(spec);
        if (registry) {
            add_shared(*registry, make_agent_tool(runtime, spec));
        }
    }
    if (openai_module) {
        std::weak_ptr<AgentRuntime> weak = runtime;
        openai_module->agent_chat = [weak](const http::Request& r,
                                           const http::ResponseWriterPtr& w) {
            auto rt = weak.lock();
            return rt && handle_agent_chat(rt, r, w);
        };
    }
    context.on_shutdown([weak = std::weak_ptr<AgentRuntime>(runtime), tracer] {
        if (auto rt = weak.lock()) {
            rt->stop();
        }
        tracer->flush();
    });
    return runtime;
}

} // namespace agentd::gateway::runtime
