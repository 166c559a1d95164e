#pragma once
/// DNS-rebinding protection for browser-reachable endpoints (MCP Streamable HTTP requires it;
/// /mcp calls it on every request).
///
/// A malicious web page can make a victim's browser send requests to a server on the victim's
/// machine by rebinding its own DNS name to 127.0.0.1. Such requests carry the attacker's name in
/// `Host` and the attacker's page in `Origin`, so both are checked:
///  - Host (name only, port ignored) must be a loopback name (localhost, 127.0.0.1, ::1), the
///    address the server is bound to, or listed in security.allowed_hosts. When the server is
///    bound to a wildcard address (only allowed with API keys) and no allowed_hosts are
///    configured, Host is not checked (the server cannot know its public names).
///  - Origin, when present, must have a loopback host (any scheme/port), the bound address as
///    host, or be listed exactly in security.allowed_origins ("*" allows any). "null" is refused.
///
/// Thread affinity: OriginPolicy is immutable after construction; the functions are pure and
/// thread-safe. Errors are returned, never thrown.

#include "http/handler.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::gateway::http {

class OriginPolicy {
public:
    /// `bound_host`: the address actually bound (e.g. "127.0.0.1", "::1", "0.0.0.0");
    /// wildcard addresses ("0.0.0.0", "::") are detected here.
    OriginPolicy(std::string_view bound_host, const std::vector<std::string>& allowed_hosts,
                 const std::vector<std::string>& allowed_origins);

    /// nullopt when the request's Host and Origin are acceptable, else a message saying which
    /// header is refused and how to allow it.
    [[nodiscard]] std::optional<std::string> violation(const Request& request) const;

private:
    [[nodiscard]] bool host_allowed(std::string_view host) const;

    std::vector<std::string> hosts_; ///< lower-case names without port
    bool any_host_ = false;
    std::vector<std::string> origins_; ///< lower-case exact origins
    bool any_origin_ = false;
};

/// nullopt when allowed, else a 403 response with a JSON error body ("forbidden").
[[nodiscard]] std::optional<Response> check_host_and_origin(const Request& request,
                                                            const OriginPolicy& policy);

} // namespace agentd::gateway::http
