#include "agentd/tools/net_policy.h"

#include "agentd/tools/errc.h"

#include "util/str_cat.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>

namespace agentd::tools {
namespace {

using util::str_cat;

// Host names that resolve to instance metadata services inside clouds.
constexpr std::string_view metadata_names[] = {"metadata.google.internal", "metadata.goog",
                                               "metadata", "instance-data",
                                               "instance-data.ec2.internal"};

bool in_prefix(std::uint8_t a, std::uint8_t b, std::uint8_t net_a, std::uint8_t net_b,
               unsigned prefix_bits) {
    const unsigned value = (unsigned{a} << 8U) | b;
    const unsigned net = (unsigned{net_a} << 8U) | net_b;
    const unsigned mask = prefix_bits == 0 ? 0 : (0xFFFFU << (16 - prefix_bits)) & 0xFFFFU;
    return (value & mask) == (net & mask);
}

AddressClass classify_v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    if ((a == 169 && b == 254 && c == 169 && (d == 254 || d == 253)) ||
        (a == 169 && b == 254 && c == 170 && d == 2) ||   // AWS ECS task metadata
        (a == 100 && b == 100 && c == 100 && d == 200) || // Alibaba Cloud
        (a == 168 && b == 63 && c == 129 && d == 16)) {   // Azure wire server
        return AddressClass::cloud_metadata;
    }
    if (a == 0) {
        return AddressClass::unspecified;
    }
    if (a == 127) {
        return AddressClass::loopback;
    }
    if (a == 169 && b == 254) {
        return AddressClass::link_local;
    }
    if (a == 10 || (a == 172 && (b & 0xF0U) == 16) || (a == 192 && b == 168) ||
        in_prefix(a, b, 100, 64, 10) || in_prefix(a, b, 198, 18, 15)) {
        return AddressClass::private_network;
    }
    if (a >= 224 && a <= 239) {
        return AddressClass::multicast;
    }
    if (a >= 240 || (a == 192 && b == 0 && (c == 0 || c == 2)) ||
        (a == 198 && b == 51 && c == 100) || (a == 203 && b == 0 && c == 113)) {
        return AddressClass::reserved;
    }
    return AddressClass::public_unicast;
}

bool all_zero(const std::array<std::uint8_t, 16>& b, std::size_t from, std::size_t to) {
    return std::all_of(b.begin() + static_cast<std::ptrdiff_t>(from),
                       b.begin() + static_cast<std::ptrdiff_t>(to),
                       [](std::uint8_t x) { return x == 0; });
}

AddressClass classify_v6(const std::array<std::uint8_t, 16>& b) {
    if (all_zero(b, 0, 16)) {
        return AddressClass::unspecified;
    }
    if (all_zero(b, 0, 15) && b[15] == 1) {
        return AddressClass::loopback;
    }
    // Addresses that carry an IPv4 address: judge by it.
    const bool mapped = all_zero(b, 0, 10) && b[10] == 0xFF && b[11] == 0xFF;
    const bool compatible = all_zero(b, 0, 12);
    const bool nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B &&
                       (all_zero(b, 4, 12) || (b[4] == 0x00 && b[5] == 0x01));
    if (mapped || compatible || nat64) {
        return classify_v4(b[12], b[13], b[14], b[15]);
    }
    if (b[0] == 0x20 && b[1] == 0x02) { // 6to4
        return classify_v4(b[2], b[3], b[4], b[5]);
    }
    // fd00:ec2::254 (AWS IMDS over IPv6)
    if (b[0] == 0xFD && b[1] == 0x00 && b[2] == 0x0E && b[3] == 0xC2 && all_zero(b, 4, 14) &&
        b[14] == 0x02 && b[15] == 0x54) {
        return AddressClass::cloud_metadata;
    }
    if (b[0] == 0xFE && (b[1] & 0xC0U) == 0x80) {
        return AddressClass::link_local;
    }
    if ((b[0] == 0xFE && (b[1] & 0xC0U) == 0xC0) || (b[0] & 0xFEU) == 0xFC) {
        return AddressClass::private_network; // site-local (deprecated), unique local
    }
    if (b[0] == 0xFF) {
        return AddressClass::multicast;
    }
    // 2001::/32 Teredo (hides the real address), 2001:db8::/32 documentation, 100::/64 discard.
    if ((b[0] == 0x20 && b[1] == 0x01 &&
         ((b[2] == 0 && b[3] == 0) || (b[2] == 0x0D && b[3] == 0xB8))) ||
        (b[0] == 0x01 && b[1] == 0x00 && all_zero(b, 2, 8))) {
        return AddressClass::reserved;
    }
    return AddressClass::public_unicast;
}

std::string lower_host(std::string_view host) {
    std::string out(host);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    while (!out.empty() && out.back() == '.') {
        out.pop_back();
    }
    return out;
}

} // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view literal) {
    IpAddress ip;
    if (literal.find(':') != std::string_view::npos) {
        if (literal.size() > 45 || literal.find('%') != std::string_view::npos) {
            return std::nullopt;
        }
        const std::string copy(literal);
        if (inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) != 1) {
            return std::nullopt;
        }
        ip.v6 = true;
        return ip;
    }
    std::size_t pos = 0;
    for (int part = 0; part < 4; ++part) {
        const std::size_t start = pos;
        unsigned value = 0;
        while (pos < literal.size() && pos - start < 3 && literal[pos] >= '0' &&
               literal[pos] <= '9') {
            value = value * 10 + static_cast<unsigned>(literal[pos] - '0');
            ++pos;
        }
        const std::size_t len = pos - start;
        if (len == 0 || value > 255 || (len > 1 && literal[start] == '0')) {
            return std::nullopt;
        }
        ip.bytes[static_cast<std::size_t>(part)] = static_cast<std::uint8_t>(value);
        if (part < 3) {
            if (pos >= literal.size() || literal[pos] != '.') {
                return std::nullopt;
            }
            ++pos;
        }
    }
    return pos == literal.size() ? std::optional<IpAddress>(ip) : std::nullopt;
}

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    IpAddress ip;
    ip.bytes[0] = a;
    ip.bytes[1] = b;
    ip.bytes[2] = c;
    ip.bytes[3] = d;
    return ip;
}

std::string IpAddress::to_string() const {
    std::array<char, INET6_ADDRSTRLEN> text{};
    const char* r = inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text.data(), text.size());
    return r == nullptr ? std::string("?") : std::string(text.data());
}

AddressClass classify(const IpAddress& address) {
    return address.v6 ? classify_v6(address.bytes)
                      : classify_v4(address.bytes[0], address.bytes[1], address.bytes[2],
                                    address.bytes[3]);
}

std::string_view to_string(AddressClass c) {
    switch (c) {
    case AddressClass::public_unicast:
        return "a public address";
    case AddressClass::loopback:
        return "a loopback address";
    case AddressClass::private_network:
        return "a private-network address";
    case AddressClass::link_local:
        return "a link-local address";
    case AddressClass::cloud_metadata:
        return "a cloud metadata service address";
    case AddressClass::unspecified:
        return "an unspecified address";
    case AddressClass::multicast:
        return "a multicast address";
    case AddressClass::reserved:
        return "a reserved or special-purpose address";
    }
    return "an address";
}

base::Result<void> NetPolicy::check_address(const IpAddress& address) const {
    const AddressClass c = classify(address);
    std::string_view setting;
    switch (c) {
    case AddressClass::public_unicast:
        return {};
    case AddressClass::loopback:
        if (allow_loopback) {
            return {};
        }
        setting = "allow_loopback";
        break;
    case AddressClass::private_network:
        if (allow_private) {
            return {};
        }
        setting = "allow_private";
        break;
    case AddressClass::link_local:
        if (allow_link_local) {
            return {};
        }
        setting = "allow_link_local";
        break;
    case AddressClass::cloud_metadata:
        if (allow_metadata) {
            return {};
        }
        setting = "allow_metadata";
        break;
    case AddressClass::unspecified:
    case AddressClass::multicast:
    case AddressClass::reserved:
        return base::fail(errc::forbidden, str_cat(address.to_string(), " is ", to_string(c),
                                                   ", which REST tools may never reach"));
    }
    return base::fail(errc::forbidden,
                      str_cat(address.to_string(), " is ", to_string(c),
                              ", which REST tools may not reach (the server's tools.rest.", setting,
                              " setting allows it)"));
}

base::Result<void> NetPolicy::check_host(std::string_view host_view) const {
    if (const auto ip = IpAddress::parse(host_view)) {
        return check_address(*ip);
    }
    const std::string host = lower_host(host_view);
    for (const auto name : metadata_names) {
        if (host == name && !allow_metadata) {
            return base::fail(errc::forbidden,
                              str_cat("host ", host,
                                      " is a cloud metadata service, which REST tools may not "
                                      "reach (the server's tools.rest.allow_metadata setting "
                                      "allows it)"));
        }
    }
    for (const auto& denied : denied_hosts) {
        if (host == lower_host(denied)) {
            return base::fail(errc::forbidden,
                              str_cat("host ", host, " is denied by the server's configuration"));
        }
    }
    const bool localhost =
        host == "localhost" ||
        (host.size() > 10 && host.compare(host.size() - 10, 10, ".localhost") == 0);
    if (localhost && !allow_loopback) {
        return base::fail(errc::forbidden,
                          str_cat("host ", host,
                                  " is the local host, which REST tools may not reach (the "
                                  "server's tools.rest.allow_loopback setting allows it)"));
    }
    return {};
}

} // namespace agentd::tools
