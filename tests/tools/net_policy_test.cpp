// SSRF policy: address classes (including addresses hidden inside IPv6 forms), host names,
// and what each setting allows.
#include "agentd/tools/errc.h"
#include "agentd/tools/net_policy.h"

#include <gtest/gtest.h>

namespace agentd::tools {
namespace {

AddressClass cls(const char* literal) {
    const auto ip = IpAddress::parse(literal);
    EXPECT_TRUE(ip.has_value()) << literal;
    return ip ? classify(*ip) : AddressClass::reserved;
}

TEST(NetPolicy, ParsesOnlyCanonicalLiterals) {
    EXPECT_TRUE(IpAddress::parse("127.0.0.1"));
    EXPECT_TRUE(IpAddress::parse("::1"));
    EXPECT_TRUE(IpAddress::parse("::ffff:169.254.169.254"));
    for (const char* bad : {"127.1", "0x7f.0.0.1", "2130706433", "017.0.0.1", "1.2.3.4.5",
                            "256.0.0.1", "fe80::1%eth0", "", "1.2.3.", "[::1]"}) {
        EXPECT_FALSE(IpAddress::parse(bad)) << bad;
    }
    EXPECT_EQ(IpAddress::parse("10.1.2.3")->to_string(), "10.1.2.3");
    EXPECT_EQ(IpAddress::parse("2001:DB8::1")->to_string(), "2001:db8::1");
}

TEST(NetPolicy, ClassifiesIpv4) {
    EXPECT_EQ(cls("8.8.8.8"), AddressClass::public_unicast);
    EXPECT_EQ(cls("127.0.0.1"), AddressClass::loopback);
    EXPECT_EQ(cls("127.255.0.9"), AddressClass::loopback);
    EXPECT_EQ(cls("10.0.0.1"), AddressClass::private_network);
    EXPECT_EQ(cls("172.16.0.1"), AddressClass::private_network);
    EXPECT_EQ(cls("172.31.255.255"), AddressClass::private_network);
    EXPECT_EQ(cls("172.32.0.1"), AddressClass::public_unicast);
    EXPECT_EQ(cls("192.168.1.1"), AddressClass::private_network);
    EXPECT_EQ(cls("100.64.0.1"), AddressClass::private_network);
    EXPECT_EQ(cls("100.128.0.1"), AddressClass::public_unicast);
    EXPECT_EQ(cls("169.254.1.1"), AddressClass::link_local);
    EXPECT_EQ(cls("169.254.169.254"), AddressClass::cloud_metadata);
    EXPECT_EQ(cls("169.254.170.2"), AddressClass::cloud_metadata);
    EXPECT_EQ(cls("100.100.100.200"), AddressClass::cloud_metadata);
    EXPECT_EQ(cls("168.63.129.16"), AddressClass::cloud_metadata);
    EXPECT_EQ(cls("0.0.0.0"), AddressClass::unspecified);
    EXPECT_EQ(cls("224.0.0.1"), AddressClass::multicast);
    EXPECT_EQ(cls("255.255.255.255"), AddressClass::reserved);
    EXPECT_EQ(cls("192.0.2.1"), AddressClass::reserved);
}

TEST(NetPolicy, ClassifiesIpv6IncludingEmbeddedIpv4) {
    EXPECT_EQ(cls("::1"), AddressClass::loopback);
    EXPECT_EQ(cls("::"), AddressClass::unspecified);
    EXPECT_EQ(cls("2606:4700::1111"), AddressClass::public_unicast);
    EXPECT_EQ(cls("fe80::1"), AddressClass::link_local);
    EXPECT_EQ(cls("febf::1"), AddressClass::link_local);
    EXPECT_EQ(cls("fd12:3456::1"), AddressClass::private_network);
    EXPECT_EQ(cls("fd00:ec2::254"), AddressClass::cloud_metadata);
    EXPECT_EQ(cls("ff02::1"), AddressClass::multicast);
    EXPECT_EQ(cls("::ffff:169.254.169.254"), AddressClass::cloud_metadata);
    EXPECT_EQ(cls("::ffff:127.0.0.1"), AddressClass::loopback);
    EXPECT_EQ(cls("::169.254.169.254"), AddressClass::cloud_metadata);
    EXPECT_EQ(cls("64:ff9b::a9fe:a9fe"), AddressClass::cloud_metadata);
    EXPECT_EQ(cls("2002:a9fe:a9fe::1"), AddressClass::cloud_metadata);
    EXPECT_EQ(cls("2002:0808:0808::1"), AddressClass::public_unicast);
    EXPECT_EQ(cls("2001:db8::1"), AddressClass::reserved);
    EXPECT_EQ(cls("2001:0:4136:e378::1"), AddressClass::reserved);
}

TEST(NetPolicy, DefaultsAllowLoopbackAndPrivateOnly) {
    const NetPolicy policy;
    EXPECT_TRUE(policy.check_address(*IpAddress::parse("127.0.0.1")));
    EXPECT_TRUE(policy.check_address(*IpAddress::parse("10.0.0.1")));
    EXPECT_TRUE(policy.check_address(*IpAddress::parse("1.1.1.1")));
    const auto md = policy.check_address(*IpAddress::parse("169.254.169.254"));
    ASSERT_FALSE(md);
    EXPECT_EQ(md.error().code, errc::forbidden);
    EXPECT_EQ(md.error().message,
              "169.254.169.254 is a cloud metadata service address, which REST tools may not "
              "reach (the server's tools.rest.allow_metadata setting allows it)");
    EXPECT_FALSE(policy.check_address(*IpAddress::parse("fe80::1")));
    EXPECT_FALSE(policy.check_address(*IpAddress::parse("0.0.0.0")));
    EXPECT_FALSE(policy.check_address(*IpAddress::parse("ff02::1")));
}

TEST(NetPolicy, SettingsOpenAndCloseClasses) {
    NetPolicy strict;
    strict.allow_loopback = false;
    strict.allow_private = false;
    EXPECT_FALSE(strict.check_address(*IpAddress::parse("127.0.0.1")));
    EXPECT_FALSE(strict.check_address(*IpAddress::parse("::ffff:10.0.0.1")));
    EXPECT_FALSE(strict.check_host("localhost"));
    EXPECT_FALSE(strict.check_host("api.localhost"));
    NetPolicy open;
    open.allow_link_local = true;
    open.allow_metadata = true;
    EXPECT_TRUE(open.check_address(*IpAddress::parse("169.254.169.254")));
    EXPECT_TRUE(open.check_address(*IpAddress::parse("fe80::1")));
    EXPECT_FALSE(open.check_address(*IpAddress::parse("0.0.0.0"))); // never
}

TEST(NetPolicy, HostNames) {
    NetPolicy policy;
    policy.denied_hosts = {"Internal.Example"};
    EXPECT_TRUE(policy.check_host("api.example.com"));
    EXPECT_TRUE(policy.check_host("localhost"));
    EXPECT_FALSE(policy.check_host("metadata.google.internal"));
    EXPECT_FALSE(policy.check_host("METADATA.GOOGLE.INTERNAL."));
    EXPECT_FALSE(policy.check_host("internal.example"));
    EXPECT_FALSE(policy.check_host("169.254.169.254"));
    EXPECT_FALSE(policy.check_host("fd00:ec2::254"));
}

} // namespace
} // namespace agentd::tools
