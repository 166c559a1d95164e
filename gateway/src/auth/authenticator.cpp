#include "auth/authenticator.h"

#include "auth/sha256.h"
#include "http/text.h"

namespace agentd::gateway::auth {
namespace {

http::Response unauthorized(std::string_view message, std::string_view error) {
    auto r = http::Response::error(401, "unauthorized", message);
    std::string challenge = R"(Bearer realm="agentd")";
    if (!error.empty()) {
        challenge.append(R"(, error=")").append(error).push_back('"');
    }
    r.headers.add("WWW-Authenticate", std::move(challenge));
    return r;
}

/// The token of "Bearer <token>" (scheme case-insensitive), or nullopt when malformed.
std::optional<std::string_view> bearer_token(std::string_view value) {
    value = http::trim_ows(value);
    constexpr std::string_view kScheme = "bearer";
    if (value.size() <= kScheme.size() ||
        !http::iequals(value.substr(0, kScheme.size()), kScheme)) {
        return std::nullopt;
    }
    std::string_view rest = value.substr(kScheme.size());
    if (rest.front() != ' ') {
        return std::nullopt;
    }
    rest = http::trim_ows(rest);
    if (rest.empty() || rest.find_first_of(" \t,") != std::string_view::npos) {
        return std::nullopt;
    }
    return rest;
}

} // namespace

Authenticator::Authenticator(std::vector<config::ApiKey> keys) : keys_(std::move(keys)) {}

http::Principal Authenticator::local_principal() {
    http::Principal p;
    p.tenant = "local";
    p.scopes = {"*"};
    return p;
}

std::optional<http::Response> Authenticator::authorize(http::Request& request,
                                                       std::string_view scope) const {
    if (keys_.empty()) {
        request.principal = local_principal();
        return std::nullopt;
    }
    const auto values = request.headers.get_all("Authorization");
    if (values.empty()) {
        return unauthorized("missing API key: send \"Authorization: Bearer <key>\"", "");
    }
    if (values.size() > 1) {
        return unauthorized("more than one Authorization header", "invalid_request");
    }
    const auto token = bearer_token(values.front());
    if (!token) {
        return unauthorized("malformed Authorization header: expected \"Bearer <key>\"",
                            "invalid_request");
    }
    const Digest presented = sha256(*token);
    const config::ApiKey* found = nullptr;
    for (const auto& key : keys_) {
        // No early exit: every configured digest is compared, whatever matches.
        if (constant_time_equal(presented, key.sha256)) {
            found = &key;
        }
    }
    if (found == nullptr) {
        return unauthorized("invalid API key", "invalid_token");
    }
    http::Principal principal;
    principal.tenant = found->tenant;
    principal.scopes = found->scopes;
    principal.key_id = found->id;
    if (!scope.empty() && !principal.has_scope(scope)) {
        auto r = http::Response::error(403, "forbidden",
                                       "API key \"" + found->id + "\" lacks the scope \"" +
                                           std::string(scope) + "\"");
        r.headers.add("WWW-Authenticate", R"(Bearer realm="agentd", error="insufficient_scope", )"
                                          R"(scope=")" +
                                              std::string(scope) + "\"");
        return r;
    }
    request.principal = std::move(principal);
    return std::nullopt;
}

} // namespace agentd::gateway::auth
