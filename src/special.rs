//! The IANA special-purpose address registries, written out by hand.
//!
//! `Ipv4Addr::is_global` and friends are unstable, and the registries change
//! slowly, so the tables live here with the RFC that defines each entry. The
//! RFC 1918 blocks and the IPv6 unique-local block are tagged
//! [`Builtin::Private`]: `classify_ip` reports them as `private`, everything
//! else here as `special`.
//!
//! Sources: <https://www.iana.org/assignments/iana-ipv4-special-registry>,
//! <https://www.iana.org/assignments/iana-ipv6-special-registry>, the IPv4
//! multicast and IPv6 address-space registries.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Which of the two built-in classes an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// RFC 1918 or IPv6 unique-local: a private network nobody claimed.
    Private,
    /// Any other special-purpose range.
    Special,
}

/// One row of a registry: a prefix, what it is, and where it is defined.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpecialRange<A> {
    pub(crate) addr: A,
    pub(crate) prefix_len: u8,
    pub(crate) builtin: Builtin,
    /// Lowercase noun phrase, e.g. "loopback".
    pub(crate) name: &'static str,
    /// Where the range is defined, e.g. "RFC 1122".
    pub(crate) rfc: &'static str,
}

const fn v4(
    a: [u8; 4],
    prefix_len: u8,
    builtin: Builtin,
    name: &'static str,
    rfc: &'static str,
) -> SpecialRange<Ipv4Addr> {
    SpecialRange { addr: Ipv4Addr::new(a[0], a[1], a[2], a[3]), prefix_len, builtin, name, rfc }
}

const fn v6(
    s: [u16; 8],
    prefix_len: u8,
    builtin: Builtin,
    name: &'static str,
    rfc: &'static str,
) -> SpecialRange<Ipv6Addr> {
    SpecialRange { addr: Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]), prefix_len, builtin, name, rfc }
}

use Builtin::{Private, Special};

/// IPv4 special-purpose ranges. Where entries nest, the most specific wins.
pub(crate) static SPECIAL_V4: &[SpecialRange<Ipv4Addr>] = &[
    v4([0, 0, 0, 0], 8, Special, "\"this network\"", "RFC 791"),
    v4([0, 0, 0, 0], 32, Special, "unspecified address", "RFC 1122"),
    v4([10, 0, 0, 0], 8, Private, "private network", "RFC 1918"),
    v4([100, 64, 0, 0], 10, Special, "shared address space (CGNAT)", "RFC 6598"),
    v4([127, 0, 0, 0], 8, Special, "loopback", "RFC 1122"),
    v4([169, 254, 0, 0], 16, Special, "link-local", "RFC 3927"),
    v4([169, 254, 169, 254], 32, Special, "link-local cloud metadata endpoint", "RFC 3927"),
    v4([172, 16, 0, 0], 12, Private, "private network", "RFC 1918"),
    v4([192, 0, 0, 0], 24, Special, "IETF protocol assignments", "RFC 6890"),
    v4([192, 0, 0, 0], 29, Special, "IPv4 service continuity prefix", "RFC 7335"),
    v4([192, 0, 0, 8], 32, Special, "IPv4 dummy address", "RFC 7600"),
    v4([192, 0, 0, 9], 32, Special, "port control protocol anycast", "RFC 7723"),
    v4([192, 0, 0, 10], 32, Special, "traversal using relays around NAT anycast", "RFC 8155"),
    v4([192, 0, 0, 170], 32, Special, "NAT64/DNS64 discovery", "RFC 8880"),
    v4([192, 0, 0, 171], 32, Special, "NAT64/DNS64 discovery", "RFC 8880"),
    v4([192, 0, 2, 0], 24, Special, "documentation (TEST-NET-1)", "RFC 5737"),
    v4([192, 31, 196, 0], 24, Special, "AS112 anycast", "RFC 7535"),
    v4([192, 52, 193, 0], 24, Special, "automatic multicast tunneling", "RFC 7450"),
    v4([192, 88, 99, 0], 24, Special, "deprecated 6to4 relay anycast", "RFC 7526"),
    v4([192, 168, 0, 0], 16, Private, "private network", "RFC 1918"),
    v4([192, 175, 48, 0], 24, Special, "AS112 direct delegation", "RFC 7534"),
    v4([198, 18, 0, 0], 15, Special, "benchmarking", "RFC 2544"),
    v4([198, 51, 100, 0], 24, Special, "documentation (TEST-NET-2)", "RFC 5737"),
    v4([203, 0, 113, 0], 24, Special, "documentation (TEST-NET-3)", "RFC 5737"),
    v4([224, 0, 0, 0], 4, Special, "multicast", "RFC 5771"),
    v4([240, 0, 0, 0], 4, Special, "reserved for future use", "RFC 1112"),
    v4([255, 255, 255, 255], 32, Special, "limited broadcast", "RFC 919"),
];

/// IPv6 special-purpose ranges. Everything outside 2000::/3 is covered too:
/// IANA has allocated no global unicast space there (RFC 4291).
pub(crate) static SPECIAL_V6: &[SpecialRange<Ipv6Addr>] = &[
    v6([0; 8], 3, Special, "space outside global unicast 2000::/3", "RFC 4291"),
    v6([0x4000, 0, 0, 0, 0, 0, 0, 0], 2, Special, "space outside global unicast 2000::/3", "RFC 4291"),
    v6([0x8000, 0, 0, 0, 0, 0, 0, 0], 1, Special, "space outside global unicast 2000::/3", "RFC 4291"),
    v6([0; 8], 128, Special, "unspecified address", "RFC 4291"),
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, Special, "loopback", "RFC 4291"),
    v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, Special, "IPv4-mapped address", "RFC 4291"),
    v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, Special, "IPv4/IPv6 translation", "RFC 6052"),
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, Special, "local-use IPv4/IPv6 translation", "RFC 8215"),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, Special, "discard-only", "RFC 6666"),
    v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, Special, "dummy IPv6 prefix", "RFC 9780"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, Special, "IETF protocol assignments", "RFC 2928"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, Special, "Teredo", "RFC 4380"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128, Special, "port control protocol anycast", "RFC 7723"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128, Special, "traversal using relays around NAT anycast", "RFC 8155"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128, Special, "DNS-SD service registration anycast", "RFC 9665"),
    v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, Special, "benchmarking", "RFC 5180"),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, Special, "automatic multicast tunneling", "RFC 7450"),
    v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48, Special, "AS112 anycast", "RFC 7535"),
    v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, Special, "deprecated ORCHID", "RFC 4843"),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, Special, "ORCHIDv2", "RFC 7343"),
    v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28, Special, "drone remote ID", "RFC 9374"),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Special, "documentation", "RFC 3849"),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, Special, "6to4", "RFC 3056"),
    v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48, Special, "AS112 direct delegation", "RFC 7534"),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, Special, "documentation", "RFC 9637"),
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, Special, "segment routing SIDs", "RFC 9602"),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, Private, "unique local address", "RFC 4193"),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, Special, "link-local", "RFC 4291"),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Special, "multicast", "RFC 4291"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_a_network_address() {
        for r in SPECIAL_V4 {
            let net = ipnet::Ipv4Net::new(r.addr, r.prefix_len).unwrap(); // ok: test
            assert_eq!(net.network(), r.addr, "{}", r.name);
        }
        for r in SPECIAL_V6 {
            let net = ipnet::Ipv6Net::new(r.addr, r.prefix_len).unwrap(); // ok: test
            assert_eq!(net.network(), r.addr, "{}", r.name);
        }
    }

    #[test]
    fn every_entry_cites_an_rfc() {
        let all = SPECIAL_V4.iter().map(|r| r.rfc).chain(SPECIAL_V6.iter().map(|r| r.rfc));
        for rfc in all {
            assert!(rfc.starts_with("RFC "), "{rfc}");
        }
    }
}

/// A registry row, whatever its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) net: ipnet::IpNet,
    pub(crate) builtin: Builtin,
    pub(crate) name: &'static str,
    pub(crate) rfc: &'static str,
}

/// Every row of both registries.
pub(crate) fn all() -> impl Iterator<Item = Hit> {
    let v4 = SPECIAL_V4.iter().map(|r| Hit {
        net: ipnet::IpNet::V4(ipnet::Ipv4Net::new_assert(r.addr, r.prefix_len)),
        builtin: r.builtin,
        name: r.name,
        rfc: r.rfc,
    });
    let v6 = SPECIAL_V6.iter().map(|r| Hit {
        net: ipnet::IpNet::V6(ipnet::Ipv6Net::new_assert(r.addr, r.prefix_len)),
        builtin: r.builtin,
        name: r.name,
        rfc: r.rfc,
    });
    v4.chain(v6)
}

/// The most specific registry row containing `ip`, by a plain scan.
///
/// Used where speed does not matter (validation) and as the reference that
/// the compiled index is tested against.
pub(crate) fn lookup(ip: std::net::IpAddr) -> Option<Hit> {
    let ip = ip.to_canonical();
    all().filter(|hit| hit.net.contains(&ip)).max_by_key(|hit| hit.net.prefix_len())
}
