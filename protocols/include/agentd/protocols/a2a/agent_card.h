#pragma once
/// The A2A agent card (spec §8): what `/.well-known/agent-card.json` serves and what agentd's A2A
/// client reads from peers.
///
/// One card model, three JSON shapes: v1.0 (`supportedInterfaces`, ProtoJSON security
/// schemes), v0.3 (`url`, `preferredTransport`, `additionalInterfaces`, `protocolVersion`), and
/// `dual`, the v1.0 card plus the v0.3 top-level fields, for requests that name no version (a
/// v1.0 client reads `supportedInterfaces`; a v0.3 client reads `url`).
///
/// Values; thread-safe to share. Errors: parse_agent_card returns errc::invalid_params naming
/// the field.

#include "agentd/base/result.h"
#include "agentd/protocols/a2a/types.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace agentd::protocols::a2a {

struct AgentSkill {
    std::string id;
    std::string name;
    std::string description;
    std::vector<std::string> tags;
    std::vector<std::string> examples;
    std::vector<std::string> input_modes;
    std::vector<std::string> output_modes;
};

/// One endpoint of the agent: a URL, a protocol binding ("JSONRPC", "HTTP+JSON", "GRPC") and
/// the version it speaks there.
struct AgentInterface {
    std::string url;
    std::string binding = "JSONRPC";
    Version version = Version::v1_0;
};

struct AgentCard {
    std::string name;
    std::string description;
    std::string version = "1.0.0"; ///< the agent's own version
    std::string documentation_url;
    std::string icon_url;
    std::string provider_organization;
    std::string provider_url;
    std::vector<AgentInterface> interfaces;
    bool streaming = true;
    bool push_notifications = true;
    bool extended_card = false;
    bool bearer_auth = false; ///< declare an HTTP Bearer security scheme and require it
    std::vector<std::string> default_input_modes{"text/plain"};
    std::vector<std::string> default_output_modes{"text/plain"};
    std::vector<AgentSkill> skills;

    /// The first JSON-RPC interface speaking `version`, or nullptr.
    [[nodiscard]] const AgentInterface* find_interface(Version wanted) const;
};

enum class CardShape { v1_0, v0_3, dual };

[[nodiscard]] nlohmann::json card_to_json(const AgentCard& card, CardShape shape);

/// Reads a peer's card in either shape (v1.0 when `supportedInterfaces` is present, else v0.3).
[[nodiscard]] base::Result<AgentCard> parse_agent_card(const nlohmann::json& card);

} // namespace agentd::protocols::a2a
