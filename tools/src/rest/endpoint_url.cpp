#include "agentd/tools/errc.h"
#include "agentd/tools/rest_tool.h"

#include "util/str_cat.h"
#include "util/text.h"

namespace agentd::tools {
namespace {

using util::str_cat;

base::Error bad_url(std::string_view why) {
    return base::fail(errc::invalid_argument, str_cat("endpoint.url: ", why));
}

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// Checks a host name: dot-separated labels of letters, digits, '-' and '_' (container
/// service names use '_'), an optional final dot, and not a numeric shorthand that resolvers
/// would read as an IPv4 address ("127.1", "0x7f000001", "2130706433").
base::Result<void> check_host_name(std::string_view host) {
    if (!host.empty() && host.back() == '.') {
        host.remove_suffix(1);
    }
    if (host.empty() || host.size() > 253) {
        return bad_url("host must be 1-253 characters long");
    }
    std::size_t label_start = 0;
    for (std::size_t i = 0; i <= host.size(); ++i) {
        if (i < host.size() && host[i] != '.') {
            if (!is_alnum(host[i]) && host[i] != '-' && host[i] != '_') {
                return bad_url(str_cat("host contains '", std::string(1, host[i]),
                                       "'; use letters, digits, '-', '_' and '.' (IDN hosts in "
                                       "punycode)"));
            }
            continue;
        }
        const std::size_t len = i - label_start;
        if (len == 0 || len > 63) {
            return bad_url("host has an empty label or a label longer than 63 characters");
        }
        label_start = i + 1;
    }
    const std::size_t dot = host.rfind('.');
    const std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
    if (last.front() >= '0' && last.front() <= '9') {
        return bad_url(str_cat("host \"", host,
                               "\" looks like an IPv4 address in a non-standard form; write "
                               "addresses as a dotted quad such as 127.0.0.1"));
    }
    return {};
}

/// Checks path/query characters (RFC 3986 pchar, '/', '?', valid %XX escapes).
base::Result<void> check_target(std::string_view target) {
    static constexpr std::string_view allowed = "-._~!$&'()*+,;=:@/?";
    for (std::size_t i = 0; i < target.size(); ++i) {
        const char c = target[i];
        if (c == '%') {
            if (i + 2 >= target.size() || !is_hex(target[i + 1]) || !is_hex(target[i + 2])) {
                return bad_url("has a malformed percent escape");
            }
            i += 2;
            continue;
        }
        if (c == '#') {
            return bad_url("must not contain a fragment (#...)");
        }
        if (!is_alnum(c) && allowed.find(c) == std::string_view::npos) {
            return bad_url(str_cat("path or query contains a character that must be "
                                   "percent-encoded (byte 0x",
                                   std::string(1, "0123456789abcdef"[(c >> 4) & 0xF]),
                                   std::string(1, "0123456789abcdef"[c & 0xF]), ")"));
        }
    }
    return {};
}

base::Result<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5 ||
        text.find_first_not_of("0123456789") != std::string_view::npos) {
        return bad_url("port must be a number from 1 to 65535");
    }
    const unsigned long port = std::stoul(std::string(text));
    if (port == 0 || port > 65535) {
        return bad_url("port must be a number from 1 to 65535");
    }
    return static_cast<std::uint16_t>(port);
}

} // namespace

base::Result<EndpointUrl> parse_endpoint_url(std::string_view url, const RestToolPolicy& policy) {
    if (url.empty()) {
        return bad_url("must not be empty");
    }
    if (url.size() > policy.max_url_bytes) {
        return bad_url(str_cat("is longer than ", std::to_string(policy.max_url_bytes), " bytes"));
    }
    const std::size_t colon = url.find("://");
    if (colon == std::string_view::npos) {
        return bad_url("must be an absolute http:// or https:// URL");
    }
    const std::string scheme = util::ascii_lower(url.substr(0, colon));
    if (scheme != "http" && scheme != "https") {
        return bad_url(
            str_cat("scheme must be http or https, not \"", util::safe_excerpt(scheme, 40), "\""));
    }
    EndpointUrl out;
    out.tls = scheme == "https";
    out.port = out.tls ? 443 : 80;
    const std::string_view rest = url.substr(colon + 3);
    const std::size_t authority_end = rest.find_first_of("/?#");
    const std::string_view authority = rest.substr(0, authority_end);
    if (authority.find('@') != std::string_view::npos) {
        return bad_url("must not contain credentials (user:password@); send them in "
                       "endpoint.headers");
    }
    std::string_view host = authority;
    std::string_view port_text;
    if (!host.empty() && host.front() == '[') {
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos) {
            return bad_url("has an unclosed '[' in the host");
        }
        const auto ip = IpAddress::parse(host.substr(1, close - 1));
        if (!ip || !ip->v6) {
            return bad_url("has an invalid IPv6 address in brackets");
        }
        port_text = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!port_text.empty() && port_text.front() != ':') {
            return bad_url("has characters after the IPv6 address");
        }
    } else if (const std::size_t c = host.rfind(':'); c != std::string_view::npos) {
        port_text = host.substr(c);
        host = host.substr(0, c);
    }
    if (!port_text.empty()) {
        auto port = parse_port(port_text.substr(1));
        if (!port) {
            return port.error();
        }
        out.port = *port;
    }
    if (host.empty()) {
        return bad_url("has no host");
    }
    out.host = util::ascii_lower(host);
    if (!IpAddress::parse(out.host)) {
        if (auto ok = check_host_name(out.host); !ok) {
            return ok.error();
        }
    }
    if (auto ok = policy.net.check_host(out.host); !ok) {
        return base::fail(errc::forbidden, str_cat("endpoint.url: ", ok.error().message));
    }
    const std::string_view target =
        authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    if (auto ok = check_target(target); !ok) {
        return ok.error();
    }
    // out.target defaults to "/".
    if (target.empty()) {
        return out;
    }
    if (target.front() == '?') {
        out.target = str_cat("/", target);
    } else {
        out.target = std::string(target);
    }
    return out;
}

} // namespace agentd::tools
