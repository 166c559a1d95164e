#pragma once
/// Bearer-key authentication and scope checks (DESIGN.md "Tenancy and security").
///
/// API keys come from the config ({id, tenant, scopes, SHA-256 of the key}); the key itself is
/// never stored. A presented token is hashed and compared with every configured digest in
/// constant time. Without keys every request runs as the single local tenant (the server then
/// only binds loopback; see App).
///
/// Ownership: a value built once at start-up. Thread affinity: immutable, thread-safe.
/// Errors: authorize() returns the ready 401/403 response (JSON body, WWW-Authenticate per
/// RFC 6750) instead of throwing.

#include "config/config.h"
#include "http/handler.h"

#include <optional>
#include <string_view>
#include <vector>

namespace agentd::gateway::auth {

class Authenticator {
public:
    explicit Authenticator(std::vector<config::ApiKey> keys);

    /// True when keys are configured (bearer auth is enforced).
    [[nodiscard]] bool enabled() const noexcept { return !keys_.empty(); }

    /// Establishes the caller of a non-public route: on success sets request.principal and
    /// returns nullopt; otherwise returns the 401 (missing/invalid key) or 403 (the key lacks
    /// `scope`; "" = any key will do) response to send.
    [[nodiscard]] std::optional<http::Response> authorize(http::Request& request,
                                                          std::string_view scope) const;

    /// The principal of requests when no keys are configured (and of public routes).
    [[nodiscard]] static http::Principal local_principal();

private:
    std::vector<config::ApiKey> keys_;
};

} // namespace agentd::gateway::auth
