#pragma once
/// Which network destinations REST tools may reach (SSRF protection).
///
/// Checked twice: at registration (the URL's host, when it is an IP literal or a known metadata
/// name) and at every call, on each address the host name resolved to, right before connecting
/// (so DNS rebinding cannot swap in a forbidden address after registration). IPv4-mapped,
/// IPv4-compatible, NAT64 and 6to4 IPv6 addresses are judged by the IPv4 address they carry.
///
/// Value types; thread-safe to share. Errors: errc::forbidden with a message naming the address,
/// its class and the setting that would allow it.

#include "agentd/base/result.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::tools {

/// An IPv4 or IPv6 address as bytes (IPv4 in the first four).
struct IpAddress {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};

    /// Parses a canonical literal: dotted-quad IPv4 ("10.0.0.1") or IPv6 ("::1", without
    /// brackets or zone). Numeric shorthands ("127.1", "0x7f.0.0.1", "2130706433") are refused.
    [[nodiscard]] static std::optional<IpAddress> parse(std::string_view literal);
    [[nodiscard]] static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                      std::uint8_t d);
    [[nodiscard]] std::string to_string() const;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

enum class AddressClass {
    public_unicast,
    loopback,        ///< 127/8, ::1
    private_network, ///< 10/8, 172.16/12, 192.168/16, 100.64/10, 198.18/15, fc00::/7
    link_local,      ///< 169.254/16, fe80::/10
    cloud_metadata,  ///< 169.254.169.254, 169.254.170.2, fd00:ec2::254, 100.100.100.200, ...
    unspecified,     ///< 0/8, :: (Linux connects 0.0.0.0 to the local host)
    multicast,       ///< 224/4, ff00::/8
    reserved,        ///< 240/4 (incl. broadcast), documentation ranges, other special use
};

[[nodiscard]] AddressClass classify(const IpAddress& address);
[[nodiscard]] std::string_view to_string(AddressClass c);

struct NetPolicy {
    bool allow_loopback = true;
    bool allow_private = true;
    bool allow_link_local = false;
    bool allow_metadata = false;
    /// Extra host names refused at registration and call time (compared case-insensitively,
    /// without a trailing dot), besides the built-in cloud metadata names.
    std::vector<std::string> denied_hosts;

    /// errc::forbidden when `address` may not be contacted.
    [[nodiscard]] base::Result<void> check_address(const IpAddress& address) const;
    /// errc::forbidden for metadata host names (metadata.google.internal, ...) and denied_hosts;
    /// checks literals with check_address. `host` is a URL host without brackets.
    [[nodiscard]] base::Result<void> check_host(std::string_view host) const;
};

} // namespace agentd::tools
