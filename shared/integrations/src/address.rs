//! Which IP addresses a webhook may reach: the classifier behind the SSRF guard.
//!
//! A tenant chooses the URL, so without this check a webhook could be aimed at our own
//! network: the cloud metadata service (169.254.169.254 hands out credentials), a database
//! on a private address, or the process itself on loopback. Only public unicast addresses are
//! allowed; loopback additionally when the embedded runtime runs with `--allow-loopback-http`.
//!
//! Addresses that embed an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
//! `::a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`) are judged by the IPv4
//! address they carry: `::ffff:10.0.0.1` reaches 10.0.0.1 on a dual-stack socket.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use switchyard_core::webhook::UrlPolicy;

/// What kind of address an IP is, as far as delivering to it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// Globally routable unicast: the only class delivered to by default.
    Public,
    /// 10/8, 172.16/12, 192.168/16.
    Private,
    /// 127/8, ::1.
    Loopback,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// Cloud instance metadata services (169.254.169.254, 169.254.170.2, fd00:ec2::254).
    Metadata,
    /// Carrier-grade NAT, 100.64/10.
    SharedAddressSpace,
    /// IPv6 unique local, fc00::/7 (and the deprecated site-local fec0::/10).
    UniqueLocal,
    /// 224/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 0.0.0.0/8, :: — connecting to 0.0.0.0 reaches the local host.
    Unspecified,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18/15, 2001:2::/48.
    Benchmarking,
    /// Other special-purpose ranges: 192.0.0/24, 192.88.99/24, 240/4, 100::/64, 2001::/23
    /// (Teredo and friends), 64:ff9b:1::/48.
    Reserved,
}

impl AddressClass {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private network",
            Self::Loopback => "loopback",
            Self::LinkLocal => "link-local",
            Self::Metadata => "cloud metadata service",
            Self::SharedAddressSpace => "carrier-grade NAT",
            Self::UniqueLocal => "IPv6 unique local",
            Self::Multicast => "multicast",
            Self::Broadcast => "broadcast",
            Self::Unspecified => "unspecified",
            Self::Documentation => "documentation range",
            Self::Benchmarking => "benchmarking range",
            Self::Reserved => "reserved range",
        }
    }
}

/// Classifies an address, looking through IPv4-embedding IPv6 forms.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    use AddressClass::*;
    const TABLE: [([u8; 4], u32, AddressClass); 17] = [
        ([169, 254, 169, 254], 32, Metadata),
        ([169, 254, 170, 2], 32, Metadata),
        ([255, 255, 255, 255], 32, Broadcast),
        ([0, 0, 0, 0], 8, Unspecified),
        ([10, 0, 0, 0], 8, Private),
        ([100, 64, 0, 0], 10, SharedAddressSpace),
        ([127, 0, 0, 0], 8, Loopback),
        ([169, 254, 0, 0], 16, LinkLocal),
        ([172, 16, 0, 0], 12, Private),
        ([192, 0, 0, 0], 24, Reserved),
        ([192, 0, 2, 0], 24, Documentation),
        ([192, 88, 99, 0], 24, Reserved),
        ([192, 168, 0, 0], 16, Private),
        ([198, 18, 0, 0], 15, Benchmarking),
        ([198, 51, 100, 0], 24, Documentation),
        ([203, 0, 113, 0], 24, Documentation),
        ([224, 0, 0, 0], 4, Multicast),
    ];
    if let Some((_, _, class)) = TABLE.iter().find(|(net, p, _)| in_v4(ip, *net, *p)) {
        return *class;
    }
    if in_v4(ip, [240, 0, 0, 0], 4) {
        return Reserved;
    }
    Public
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// The IPv4 address an IPv6 address stands for, in the forms that reach IPv4 hosts.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    let low32 = Ipv4Addr::from(bits as u32);
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some(mapped); // ::ffff:a.b.c.d
    }
    if bits >> 32 == 0 {
        return Some(low32); // ::a.b.c.d (IPv4-compatible, deprecated)
    }
    if bits >> 32 == 0xffff_0000 {
        return Some(low32); // ::ffff:0:a.b.c.d (IPv4-translated, SIIT: RFC 2765)
    }
    if in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return Some(low32); // NAT64 well-known prefix
    }
    if in_v6(ip, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        return Some(Ipv4Addr::from((bits >> 80) as u32)); // 6to4
    }
    None
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    use AddressClass::*;
    if ip.is_unspecified() {
        return Unspecified;
    }
    if ip.is_loopback() {
        return Loopback;
    }
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let net = |s: &str| s.parse::<Ipv6Addr>().expect("valid prefix");
    let table: [(&str, u32, AddressClass); 11] = [
        ("fd00:ec2::254", 128, Metadata),
        ("64:ff9b:1::", 48, Reserved),
        ("100::", 64, Reserved),
        ("2001:2::", 48, Benchmarking),
        ("2001:db8::", 32, Documentation),
        ("2001::", 23, Reserved),
        ("3fff::", 20, Documentation),
        ("fc00::", 7, UniqueLocal),
        ("fe80::", 10, LinkLocal),
        ("fec0::", 10, UniqueLocal),
        ("ff00::", 8, Multicast),
    ];
    table
        .iter()
        .find(|(n, p, _)| in_v6(ip, net(n), *p))
        .map_or(Public, |(_, _, class)| *class)
}

/// The address rule of one deployment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Loopback destinations are allowed (local development: `--allow-loopback-http`).
    pub allow_loopback: bool,
}

impl From<UrlPolicy> for AddressPolicy {
    fn from(policy: UrlPolicy) -> Self {
        Self {
            allow_loopback: policy.allow_loopback_http,
        }
    }
}

impl AddressPolicy {
    pub fn check(&self, ip: IpAddr) -> Result<(), AddressRefused> {
        match classify(ip) {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback if self.allow_loopback => Ok(()),
            class => Err(AddressRefused { ip, class }),
        }
    }
}

/// A destination address the policy refuses. Its message is safe to show the tenant: it
/// names the address and its class, nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressRefused {
    pub ip: IpAddr,
    pub class: AddressClass,
}

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "destination address {} is not allowed ({})",
            self.ip,
            self.class.describe()
        )
    }
}

impl std::error::Error for AddressRefused {}

#[cfg(test)]
mod tests {
    use super::*;
    use AddressClass::*;

    fn class(s: &str) -> AddressClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn every_refused_ipv4_class() {
        let cases = [
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.254", Private),
            ("192.168.1.1", Private),
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("169.254.0.1", LinkLocal),
            ("169.254.169.254", Metadata),
            ("169.254.170.2", Metadata),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.254", SharedAddressSpace),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("255.255.255.255", Broadcast),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("192.0.2.10", Documentation),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.1", Benchmarking),
            ("192.0.0.170", Reserved),
            ("192.88.99.1", Reserved),
            ("240.0.0.1", Reserved),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn neighbours_of_refused_ranges_are_public() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:4860:4860::8888",
        ] {
            assert_eq!(class(ip), Public, "{ip}");
        }
    }

    #[test]
    fn every_refused_ipv6_class() {
        let cases = [
            ("::", Unspecified),
            ("::1", Loopback),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fc00::1", UniqueLocal),
            ("fd12:3456::1", UniqueLocal),
            ("fec0::1", UniqueLocal),
            ("fd00:ec2::254", Metadata),
            ("ff02::1", Multicast),
            ("ff0e::101", Multicast),
            ("2001:db8::1", Documentation),
            ("3fff::1", Documentation),
            ("2001:2::1", Benchmarking),
            ("2001:0:4136:e378::1", Reserved), // Teredo
            ("100::1", Reserved),
            ("64:ff9b:1::a00:1", Reserved),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn ipv4_embedded_in_ipv6_is_judged_by_the_ipv4_address() {
        let cases = [
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:169.254.169.254", Metadata),
            ("::ffff:0.0.0.0", Unspecified),
            ("::ffff:8.8.8.8", Public),
            ("::127.0.0.1", Loopback),
            ("::10.0.0.1", Private),
            ("::169.254.169.254", Metadata),
            ("::ffff:0:127.0.0.1", Loopback),
            ("::ffff:0:10.0.0.1", Private),
            ("::ffff:0:169.254.169.254", Metadata),
            ("::ffff:0:8.8.8.8", Public),
            ("64:ff9b::10.0.0.1", Private),
            ("64:ff9b::169.254.169.254", Metadata),
            ("64:ff9b::7f00:1", Loopback),
            ("64:ff9b::8.8.8.8", Public),
            ("2002:a00:1::", Private),       // 6to4 of 10.0.0.1
            ("2002:a9fe:a9fe::1", Metadata), // 6to4 of 169.254.169.254
            ("2002:808:808::1", Public),     // 6to4 of 8.8.8.8
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn loopback_is_allowed_only_when_the_policy_says_so() {
        let strict = AddressPolicy::default();
        let local = AddressPolicy {
            allow_loopback: true,
        };
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(strict.check(ip).is_err(), "{ip}");
            assert!(local.check(ip).is_ok(), "{ip}");
        }
        // Everything else stays refused with loopback allowed: 0.0.0.0 reaches the local host
        // too, but it is not what the flag means.
        for ip in ["0.0.0.0", "::", "10.0.0.1", "169.254.169.254", "fd00::1"] {
            assert!(local.check(ip.parse().unwrap()).is_err(), "{ip}");
        }
        assert!(strict.check("93.184.215.14".parse().unwrap()).is_ok());
    }

    #[test]
    fn refusal_message_names_address_and_class() {
        let err = AddressPolicy::default()
            .check("10.0.0.1".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "destination address 10.0.0.1 is not allowed (private network)"
        );
    }
}
