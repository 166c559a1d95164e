// Registration of the A2A routes with the App (route_modules.cpp lists it): `/a2a`,
// `/a2a/{agent}` and the agent cards, backed by one TaskManager over the process database.

#include "agentd/memory/database.h"

#include "a2a/a2a_endpoint.h"
#include "a2a/a2a_module.h"
#include "a2a/push_sender.h"
#include "a2a/task_manager.h"
#include "app/app_context.h"
#include "app/route_modules.h"
#include "fixtures/a2a_fixture_agent.h"
#include "http_client/beast_http_client.h"
#include "log/logging.h"
#include "mcp/asio_timers.h"
#include "routes/tools_runtime.h"
#include "runtime/runtime_routes.h"

#include <chrono>
#include <map>

namespace agentd::gateway::app {

namespace {

namespace proto = protocols::a2a;

proto::AgentCard card_of(const runtime::AgentSpec& spec) {
    proto::AgentCard card;
    card.name = spec.name;
    card.description = spec.description.empty() ? "An agentd agent" : spec.description;
    card.version = spec.version;
    card.provider_organization = "agentd";
    card.provider_url = "https://github.com/agentd";
    card.extended_card = true;
    for (const auto& s : spec.skills) {
        card.skills.push_back({s.id, s.name, s.description, s.tags, s.examples, {}, {}});
    }
    if (card.skills.empty()) {
        card.skills.push_back({spec.name, spec.name, card.description, {"agent"}, {}, {}, {}});
    }
    return card;
}

a2a::PushOptions push_options(const config::Config& config) {
    a2a::PushOptions o;
    const auto& s = config.agents.a2a;
    const bool local = config.api_keys.empty();
    o.policy.allow_loopback = s.push_allow_loopback.value_or(local);
    o.policy.allow_private = s.push_allow_private.value_or(local);
    o.timeout = s.push_timeout;
    o.max_attempts = s.push_max_attempts;
    return o;
}

} // namespace

void register_a2a_routes(AppContext& context) {
    const auto& config = context.config();
    auto module = std::make_shared<a2a::A2aModule>();
    auto database = context.find_service<memory::Database>();
    if (!database) {
        database = routes::open_database(config);
        context.provide(database);
    }
    module->database = database;
    auto& db = *database;
    module->timers = std::make_shared<mcp::AsioTimers>(context.io());
    module->http = http_client::make_beast_http_client(context.io());
    module->push =
        std::make_shared<a2a::PushSender>(module->http, module->timers, push_options(config));
    a2a::TaskManagerLimits limits;
    limits.max_live_tasks = config.agents.a2a.max_live_tasks;
    module->tasks =
        std::make_shared<a2a::TaskManager>(db.tasks(), context.blocking(), module->push, limits);

    // Cards by agent; interfaces are filled in per request (they carry the Host it came to).
    auto cards = std::make_shared<std::map<std::string, proto::AgentCard>>();
    module->runtime = runtime::install_agents(context, *module, *cards, &card_of);
    if (config.conformance_fixtures) {
        module->tasks->add_agent(fixtures::kA2aFixtureAgent,
                                 fixtures::make_a2a_fixture_agent(module->timers));
        (*cards)[fixtures::kA2aFixtureAgent] = fixtures::a2a_fixture_card();
    }
    module->cards = cards;
    std::string default_agent = config.agents.a2a.default_agent;
    if (default_agent.empty()) {
        default_agent = config.conformance_fixtures     ? std::string(fixtures::kA2aFixtureAgent)
                        : !config.agents.agents.empty() ? config.agents.agents.front().name
                                                        : std::string();
    }
    module->default_agent = default_agent;
    module->bearer_auth = !config.api_keys.empty();
    context.keep(std::make_unique<std::shared_ptr<a2a::A2aModule>>(module));
    module->tasks->recover();

    std::weak_ptr<a2a::A2aModule> weak_module = module;
    a2a::CardSource source =
        [weak_module](const std::string& agent,
                      const std::string& base) -> std::optional<proto::AgentCard> {
        auto m = weak_module.lock();
        if (!m || !m->tasks->has_agent(agent)) {
            return std::nullopt;
        }
        auto it = m->cards->find(agent);
        if (it == m->cards->end()) {
            return std::nullopt;
        }
        proto::AgentCard card = it->second;
        const std::string url = agent == m->default_agent ? base + "/a2a" : base + "/a2a/" + agent;
        card.interfaces = {{url, "JSONRPC", proto::Version::v1_0},
                           {url, "JSONRPC", proto::Version::v0_3}};
        card.bearer_auth = m->bearer_auth;
        return card;
    };
    a2a::EndpointOptions options;
    options.default_agent = default_agent;
    options.fallback_authority = config.listen.to_string();
    options.parse_limits.max_bytes = config.limits.max_body_bytes;
    options.started_unix_s = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    auto endpoint = std::make_shared<a2a::A2aEndpoint>(module->tasks, std::move(source),
                                                       context.origin_policy(), options);
    module->endpoint = endpoint;

    http::RouteOptions rpc;
    rpc.metrics_name = "/a2a";
    rpc.scope = "a2a";
    context.router().add(
        "POST", "/a2a",
        [endpoint](http::Request&& r, http::ResponseWriterPtr w) {
            endpoint->handle_rpc(std::move(r), w, {});
        },
        rpc);
    context.router().add(
        "POST", "/a2a/{agent}",
        [endpoint](http::Request&& r, http::ResponseWriterPtr w) {
            const std::string agent(r.path_param("agent").value_or(""));
            endpoint->handle_rpc(std::move(r), w, agent);
        },
        rpc);
    http::RouteOptions card;
    card.public_route = true;
    card.metrics_name = "/.well-known/agent-card.json";
    const auto card_handler = [endpoint](http::Request&& r, http::ResponseWriterPtr w) {
        endpoint->handle_card(r, w, std::string(r.path_param("agent").value_or("")));
    };
    context.router().add("GET", "/.well-known/agent-card.json", card_handler, card);
    context.router().add("GET", "/a2a/.well-known/agent-card.json", card_handler, card);
    context.router().add("GET", "/a2a/{agent}/.well-known/agent-card.json", card_handler, card);

    context.on_shutdown([weak_module] {
        if (auto m = weak_module.lock()) {
            m->tasks->shutdown();
        }
    });
}

} // namespace agentd::gateway::app
