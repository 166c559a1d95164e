// The agent card in its v1.0, v0.3 and dual JSON shapes (agent_card.h).

#include "agentd/protocols/a2a/agent_card.h"

#include "agentd/protocols/errc.h"

#include "a2a/json_read.h"

#include <nlohmann/json.hpp>

namespace agentd::protocols::a2a {

using nlohmann::json;
using namespace detail;

namespace {

constexpr const char* kBearerScheme = "bearer";

json skills_json(const AgentCard& card) {
    json out = json::array();
    for (const auto& s : card.skills) {
        json skill = {
            {"id", s.id}, {"name", s.name}, {"description", s.description}, {"tags", s.tags}};
        if (!s.examples.empty()) {
            skill["examples"] = s.examples;
        }
        if (!s.input_modes.empty()) {
            skill["inputModes"] = s.input_modes;
        }
        if (!s.output_modes.empty()) {
            skill["outputModes"] = s.output_modes;
        }
        out.push_back(std::move(skill));
    }
    return out;
}

void put_common(json& out, const AgentCard& card) {
    out["name"] = card.name;
    out["description"] = card.description;
    out["version"] = card.version;
    if (!card.provider_organization.empty()) {
        out["provider"] = {{"organization", card.provider_organization},
                           {"url", card.provider_url}};
    }
    if (!card.documentation_url.empty()) {
        out["documentationUrl"] = card.documentation_url;
    }
    if (!card.icon_url.empty()) {
        out["iconUrl"] = card.icon_url;
    }
    out["defaultInputModes"] = card.default_input_modes;
    out["defaultOutputModes"] = card.default_output_modes;
    out["skills"] = skills_json(card);
}

void put_v1(json& out, const AgentCard& card) {
    json interfaces = json::array();
    for (const auto& i : card.interfaces) {
        interfaces.push_back({{"url", i.url},
                              {"protocolBinding", i.binding},
                              {"protocolVersion", to_string(i.version)}});
    }
    out["supportedInterfaces"] = std::move(interfaces);
    out["capabilities"] = {{"streaming", card.streaming},
                           {"pushNotifications", card.push_notifications},
                           {"extendedAgentCard", card.extended_card}};
    if (card.bearer_auth) {
        out["securitySchemes"] = {
            {kBearerScheme,
             {{"httpAuthSecurityScheme", {{"scheme", "Bearer"}, {"description", "API key"}}}}}};
        out["securityRequirements"] =
            json::array({{{"schemes", {{kBearerScheme, {{"list", json::array()}}}}}}});
    }
}

void put_v03(json& out, const AgentCard& card, bool dual) {
    out["protocolVersion"] = "0.3.0";
    const AgentInterface* main = card.find_interface(Version::v0_3);
    if (main == nullptr) {
        main = card.find_interface(Version::v1_0);
    }
    out["url"] = main != nullptr ? main->url : "";
    out["preferredTransport"] = main != nullptr ? main->binding : "JSONRPC";
    json additional = json::array();
    for (const auto& i : card.interfaces) {
        if (i.version == Version::v0_3) {
            additional.push_back({{"url", i.url}, {"transport", i.binding}});
        }
    }
    out["additionalInterfaces"] = std::move(additional);
    if (!dual) {
        out["capabilities"] = {{"streaming", card.streaming},
                               {"pushNotifications", card.push_notifications},
                               {"stateTransitionHistory", false}};
    }
    out["supportsAuthenticatedExtendedCard"] = card.extended_card;
    if (card.bearer_auth && !dual) {
        out["securitySchemes"] = {
            {kBearerScheme, {{"type", "http"}, {"scheme", "bearer"}, {"description", "API key"}}}};
        out["security"] = json::array({{{kBearerScheme, json::array()}}});
    }
}

std::vector<AgentSkill> read_skills(const json& card) {
    std::vector<AgentSkill> out;
    const json* skills = opt_array(card, "card", "skills");
    if (skills == nullptr) {
        return out;
    }
    for (std::size_t i = 0; i < skills->size(); ++i) {
        const std::string p = index_path("card.skills", i);
        const json& s = require_object((*skills)[i], p);
        AgentSkill skill;
        skill.id = opt_string(s, p, "id").value_or("");
        skill.name = opt_string(s, p, "name").value_or(skill.id);
        skill.description = opt_string(s, p, "description").value_or("");
        skill.tags = opt_strings(s, p, "tags");
        skill.examples = opt_strings(s, p, "examples");
        out.push_back(std::move(skill));
    }
    return out;
}

AgentCard read_card(const json& value) {
    const json& card = require_object(value, "card");
    AgentCard out;
    out.name = req_string(card, "card", "name", {}, 1024);
    out.description = opt_string(card, "card", "description").value_or("");
    out.version = opt_string(card, "card", "version", {}, 256).value_or("");
    if (const json* ifs = opt_array(card, "card", "supportedInterfaces", "supported_interfaces");
        ifs != nullptr && !ifs->empty()) {
        for (std::size_t i = 0; i < ifs->size(); ++i) {
            const std::string p = index_path("card.supportedInterfaces", i);
            const json& entry = require_object((*ifs)[i], p);
            AgentInterface iface;
            iface.url = req_string(entry, p, "url", {}, 4096);
            iface.binding =
                opt_string(entry, p, "protocolBinding", "protocol_binding", 64).value_or("");
            const auto v = parse_version(
                opt_string(entry, p, "protocolVersion", "protocol_version", 32).value_or(""));
            if (!v) {
                continue; // a version this client does not speak
            }
            iface.version = *v;
            out.interfaces.push_back(std::move(iface));
        }
    } else {
        // v0.3: `url` + `preferredTransport`, more in `additionalInterfaces`.
        AgentInterface main;
        main.url = req_string(card, "card", "url", {}, 4096);
        main.binding = opt_string(card, "card", "preferredTransport").value_or("JSONRPC");
        main.version = Version::v0_3;
        out.interfaces.push_back(main);
        if (const json* more = opt_array(card, "card", "additionalInterfaces"); more != nullptr) {
            for (std::size_t i = 0; i < more->size(); ++i) {
                const std::string p = index_path("card.additionalInterfaces", i);
                const json& entry = require_object((*more)[i], p);
                AgentInterface iface;
                iface.url = req_string(entry, p, "url", {}, 4096);
                iface.binding = opt_string(entry, p, "transport", {}, 64).value_or("");
                iface.version = Version::v0_3;
                if (iface.url != main.url || iface.binding != main.binding) {
                    out.interfaces.push_back(std::move(iface));
                }
            }
        }
    }
    if (const json* caps = opt_object(card, "card", "capabilities"); caps != nullptr) {
        out.streaming = opt_bool(*caps, "card.capabilities", "streaming").value_or(false);
        out.push_notifications =
            opt_bool(*caps, "card.capabilities", "pushNotifications", "push_notifications")
                .value_or(false);
    } else {
        out.streaming = false;
        out.push_notifications = false;
    }
    out.skills = read_skills(card);
    return out;
}

} // namespace

const AgentInterface* AgentCard::find_interface(Version wanted) const {
    for (const auto& i : interfaces) {
        if (i.version == wanted && i.binding == "JSONRPC") {
            return &i;
        }
    }
    return nullptr;
}

json card_to_json(const AgentCard& card, CardShape shape) {
    json out = json::object();
    put_common(out, card);
    switch (shape) {
    case CardShape::v1_0:
        put_v1(out, card);
        break;
    case CardShape::v0_3:
        put_v03(out, card, false);
        break;
    case CardShape::dual:
        put_v1(out, card);
        put_v03(out, card, true);
        break;
    }
    return out;
}

base::Result<AgentCard> parse_agent_card(const json& card) {
    try {
        return read_card(card);
    } catch (const Invalid& e) {
        return base::fail(errc::invalid_params, e.message);
    } catch (const json::exception& e) {
        return base::fail(errc::invalid_params, e.what());
    }
}

} // namespace agentd::protocols::a2a
