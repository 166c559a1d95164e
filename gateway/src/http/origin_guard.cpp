#include "http/origin_guard.h"

#include "http/text.h"

#include <algorithm>

namespace agentd::gateway::http {
namespace {

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return out;
}

/// The host part of "host[:port]" or "[v6][:port]" (brackets removed), or nullopt if malformed.
std::optional<std::string_view> host_of_authority(std::string_view authority) {
    if (authority.empty()) {
        return std::nullopt;
    }
    if (authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        const auto rest = authority.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') {
            return std::nullopt;
        }
        return authority.substr(1, close - 1);
    }
    const auto colon = authority.find(':');
    if (colon != authority.rfind(':')) {
        return std::nullopt; // unbracketed IPv6 is not a valid authority
    }
    return authority.substr(0, colon);
}

bool is_loopback_name(std::string_view host) {
    return host == "localhost" || host == "::1" || host == "127.0.0.1" ||
           (host.size() > 10 && host.substr(host.size() - 10) == ".localhost");
}

} // namespace

OriginPolicy::OriginPolicy(std::string_view bound_host,
                           const std::vector<std::string>& allowed_hosts,
                           const std::vector<std::string>& allowed_origins) {
    const std::string bound = to_lower(bound_host);
    const bool wildcard = bound == "0.0.0.0" || bound == "::" || bound.empty();
    if (!wildcard) {
        hosts_.push_back(bound);
    }
    for (const auto& h : allowed_hosts) {
        hosts_.push_back(to_lower(h));
    }
    any_host_ = wildcard && allowed_hosts.empty();
    for (const auto& o : allowed_origins) {
        if (o == "*") {
            any_origin_ = true;
        } else {
            std::string lower = to_lower(o);
            while (!lower.empty() && lower.back() == '/') {
                lower.pop_back();
            }
            origins_.push_back(std::move(lower));
        }
    }
}

bool OriginPolicy::host_allowed(std::string_view host) const {
    return is_loopback_name(host) || std::find(hosts_.begin(), hosts_.end(), host) != hosts_.end();
}

std::optional<std::string> OriginPolicy::violation(const Request& request) const {
    if (!any_host_) {
        if (const auto host_header = request.header("Host")) {
            const auto host = host_of_authority(trim_ows(*host_header));
            if (!host || !host_allowed(to_lower(*host))) {
                return "Host \"" + std::string(*host_header) +
                       "\" is not allowed (DNS-rebinding protection); list it in "
                       "security.allowed_hosts";
            }
        }
    }
    const auto origin_header = request.header("Origin");
    if (!origin_header || any_origin_) {
        return std::nullopt;
    }
    const std::string origin = to_lower(trim_ows(*origin_header));
    if (std::find(origins_.begin(), origins_.end(), origin) != origins_.end()) {
        return std::nullopt;
    }
    const auto scheme_end = origin.find("://");
    if (origin != "null" && scheme_end != std::string::npos) {
        const auto host = host_of_authority(std::string_view(origin).substr(scheme_end + 3));
        if (host && host_allowed(*host)) {
            return std::nullopt;
        }
    }
    return "Origin \"" + std::string(*origin_header) +
           "\" is not allowed (DNS-rebinding protection); list it in security.allowed_origins";
}

std::optional<Response> check_host_and_origin(const Request& request, const OriginPolicy& policy) {
    if (auto why = policy.violation(request)) {
        return Response::error(403, "forbidden", *why);
    }
    return std::nullopt;
}

} // namespace agentd::gateway::http
