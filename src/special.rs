//! The IANA special-purpose address registries, written out by hand.
//!
//! `Ipv4Addr::is_global` and friends are unstable, and the registries change
//! slowly, so the tables live here, one row per registry row, each with the
//! RFC the registry cites and the registry's "Globally Reachable" value
//! ([`Reach`]). Where rows nest, the most specific row decides: a globally
//! reachable row (such as 192.0.0.9/32 inside 192.0.0.0/24) makes its
//! addresses ordinary public addresses again. The RFC 1918 blocks and the
//! IPv6 unique-local block are tagged [`Builtin::Private`]: `classify_ip`
//! reports them as `private`, every other row that is not globally
//! reachable as `special`, and a globally reachable row as `public`.
//!
//! Rows that are not in the special-purpose registries but that no cluster
//! ever sends from are added and marked [`Reach::Unlisted`]: multicast (its
//! own registries), the IPv6 space outside 2000::/3 (the IPv6 address-space
//! registry), deprecated site-local fec0::/10, the deprecated
//! IPv4-compatible form `::a.b.c.d`, and the metadata address
//! 169.254.169.254 (inside the link-local row, named for what it is).
//!
//! Sources, read as of 2026 (the registries' CSV and XML):
//! <https://www.iana.org/assignments/iana-ipv4-special-registry>,
//! <https://www.iana.org/assignments/iana-ipv6-special-registry>, the IPv4
//! multicast and IPv6 address-space registries. `tests/oracles.rs` checks
//! the outcome against an independent implementation (Python's `netaddr`).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Which of the two built-in classes an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// RFC 1918 or IPv6 unique-local: a private network nobody claimed.
    Private,
    /// Any other special-purpose range.
    Special,
}

/// A registry row's "Globally Reachable" column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// `True`: an ordinary public address as far as egress is concerned.
    True,
    /// `False`.
    False,
    /// `N/A` (Teredo, 6to4), or blank on a row with a termination date
    /// (the deprecated 6to4 relay anycast block, the deprecated ORCHID
    /// block): not globally reachable.
    NotApplicable,
    /// Not a row of the special-purpose registries (see the module docs):
    /// not globally reachable.
    Unlisted,
}

/// One row of a registry: a prefix, what it is, and where it is defined.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpecialRange<A> {
    pub(crate) addr: A,
    pub(crate) prefix_len: u8,
    pub(crate) builtin: Builtin,
    /// The registry's "Globally Reachable" value.
    pub(crate) reach: Reach,
    /// Lowercase noun phrase, e.g. "loopback".
    pub(crate) name: &'static str,
    /// Where the range is defined, as the registry cites it, e.g. "RFC 1122".
    pub(crate) rfc: &'static str,
}

const fn v4(
    a: [u8; 4],
    prefix_len: u8,
    (builtin, reach): (Builtin, Reach),
    name: &'static str,
    rfc: &'static str,
) -> SpecialRange<Ipv4Addr> {
    SpecialRange { addr: Ipv4Addr::new(a[0], a[1], a[2], a[3]), prefix_len, builtin, reach, name, rfc }
}

const fn v6(
    s: [u16; 8],
    prefix_len: u8,
    (builtin, reach): (Builtin, Reach),
    name: &'static str,
    rfc: &'static str,
) -> SpecialRange<Ipv6Addr> {
    SpecialRange {
        addr: Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        prefix_len,
        builtin,
        reach,
        name,
        rfc,
    }
}

/// Private, not globally reachable.
const PRIVATE: (Builtin, Reach) = (Builtin::Private, Reach::False);
/// Special, not globally reachable.
const NO: (Builtin, Reach) = (Builtin::Special, Reach::False);
/// Globally reachable: classified `public`.
const YES: (Builtin, Reach) = (Builtin::Special, Reach::True);
/// "N/A", or blank on a terminated row.
const NA: (Builtin, Reach) = (Builtin::Special, Reach::NotApplicable);
/// Not in the special-purpose registries.
const UNLISTED: (Builtin, Reach) = (Builtin::Special, Reach::Unlisted);

/// IPv4 special-purpose ranges, in registry order. Where entries nest, the
/// most specific wins.
pub(crate) static SPECIAL_V4: &[SpecialRange<Ipv4Addr>] = &[
    v4([0, 0, 0, 0], 8, NO, "\"this network\"", "RFC 791"),
    v4([0, 0, 0, 0], 32, NO, "\"this host on this network\" (the unspecified address)", "RFC 1122"),
    v4([10, 0, 0, 0], 8, PRIVATE, "private network", "RFC 1918"),
    v4([100, 64, 0, 0], 10, NO, "shared address space (CGNAT)", "RFC 6598"),
    v4([127, 0, 0, 0], 8, NO, "loopback", "RFC 1122"),
    v4([169, 254, 0, 0], 16, NO, "link-local", "RFC 3927"),
    v4(
        [169, 254, 169, 254],
        32,
        UNLISTED,
        "link-local address used by cloud metadata services (in the link-local block)",
        "RFC 3927",
    ),
    v4([172, 16, 0, 0], 12, PRIVATE, "private network", "RFC 1918"),
    v4([192, 0, 0, 0], 24, NO, "IETF protocol assignments", "RFC 6890"),
    v4([192, 0, 0, 0], 29, NO, "IPv4 service continuity prefix", "RFC 7335"),
    v4([192, 0, 0, 8], 32, NO, "IPv4 dummy address", "RFC 7600"),
    v4([192, 0, 0, 9], 32, YES, "port control protocol anycast", "RFC 7723"),
    v4([192, 0, 0, 10], 32, YES, "traversal using relays around NAT anycast", "RFC 8155"),
    v4([192, 0, 0, 170], 32, NO, "NAT64/DNS64 discovery", "RFC 8880"),
    v4([192, 0, 0, 171], 32, NO, "NAT64/DNS64 discovery", "RFC 8880"),
    v4([192, 0, 2, 0], 24, NO, "documentation (TEST-NET-1)", "RFC 5737"),
    v4([192, 31, 196, 0], 24, YES, "AS112 anycast", "RFC 7535"),
    v4([192, 52, 193, 0], 24, YES, "automatic multicast tunneling", "RFC 7450"),
    v4([192, 88, 99, 0], 24, NA, "deprecated 6to4 relay anycast", "RFC 7526"),
    // The registry's Globally Reachable column says False for this row
    // (Source, Destination and Forwardable are True).
    v4([192, 88, 99, 2], 32, NO, "6a44 relay anycast address", "RFC 6751"),
    v4([192, 168, 0, 0], 16, PRIVATE, "private network", "RFC 1918"),
    v4([192, 175, 48, 0], 24, YES, "AS112 direct delegation", "RFC 7534"),
    v4([198, 18, 0, 0], 15, NO, "benchmarking", "RFC 2544"),
    v4([198, 51, 100, 0], 24, NO, "documentation (TEST-NET-2)", "RFC 5737"),
    v4([203, 0, 113, 0], 24, NO, "documentation (TEST-NET-3)", "RFC 5737"),
    v4([224, 0, 0, 0], 4, UNLISTED, "multicast", "RFC 5771"),
    v4([240, 0, 0, 0], 4, NO, "reserved for future use", "RFC 1112"),
    v4([255, 255, 255, 255], 32, NO, "limited broadcast", "RFC 919"),
];

/// The reason of the rows outside 2000::/3, a phrase as the others.
const OUTSIDE_GLOBAL_UNICAST: &str =
    "address outside the global unicast space 2000::/3, from which IANA allocates nothing";

/// IPv6 special-purpose ranges, in registry order. Everything outside
/// 2000::/3 is covered too: IANA has allocated no global unicast space
/// there (RFC 4291, and the IPv6 address-space registry).
pub(crate) static SPECIAL_V6: &[SpecialRange<Ipv6Addr>] = &[
    v6([0; 8], 3, UNLISTED, OUTSIDE_GLOBAL_UNICAST, "RFC 4291"),
    v6([0x4000, 0, 0, 0, 0, 0, 0, 0], 2, UNLISTED, OUTSIDE_GLOBAL_UNICAST, "RFC 4291"),
    v6([0x8000, 0, 0, 0, 0, 0, 0, 0], 1, UNLISTED, OUTSIDE_GLOBAL_UNICAST, "RFC 4291"),
    v6([0; 8], 96, UNLISTED, "deprecated IPv4-compatible address (::a.b.c.d)", "RFC 4291"),
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, NO, "loopback", "RFC 4291"),
    v6([0; 8], 128, NO, "unspecified address", "RFC 4291"),
    v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, NO, "IPv4-mapped address", "RFC 4291"),
    v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, YES, "IPv4/IPv6 translation", "RFC 6052"),
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, NO, "local-use IPv4/IPv6 translation", "RFC 8215"),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, NO, "discard-only", "RFC 6666"),
    v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, NO, "dummy IPv6 prefix", "RFC 9780"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, NO, "IETF protocol assignments", "RFC 2928"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, NA, "Teredo", "RFC 4380"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128, YES, "port control protocol anycast", "RFC 7723"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128, YES, "traversal using relays around NAT anycast", "RFC 8155"),
    v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128, YES, "DNS-SD service registration protocol anycast", "RFC 9665"),
    v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, NO, "benchmarking", "RFC 5180"),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, YES, "automatic multicast tunneling", "RFC 7450"),
    v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48, YES, "AS112 anycast", "RFC 7535"),
    v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, NA, "deprecated ORCHID", "RFC 4843"),
    v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, YES, "ORCHIDv2", "RFC 7343"),
    v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28, YES, "drone remote ID protocol entity tags", "RFC 9374"),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, NO, "documentation", "RFC 3849"),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, NA, "6to4", "RFC 3056"),
    v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48, YES, "AS112 direct delegation", "RFC 7534"),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, NO, "documentation", "RFC 9637"),
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, NO, "segment routing (SRv6) SIDs", "RFC 9602"),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, PRIVATE, "unique local address", "RFC 4193"),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, NO, "link-local", "RFC 4291"),
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, UNLISTED, "deprecated site-local address", "RFC 3879"),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, UNLISTED, "multicast", "RFC 4291"),
];

/// A registry row, whatever its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) net: ipnet::IpNet,
    pub(crate) builtin: Builtin,
    pub(crate) reach: Reach,
    pub(crate) name: &'static str,
    pub(crate) rfc: &'static str,
}

impl Hit {
    /// Whether the row's addresses are globally reachable (the registry
    /// says `True`): they are then ordinary public addresses.
    pub(crate) const fn is_global(&self) -> bool {
        matches!(self.reach, Reach::True)
    }
}

/// Every row of both registries, globally reachable ones included.
pub(crate) fn all() -> impl Iterator<Item = Hit> {
    let v4 = SPECIAL_V4.iter().map(|r| Hit {
        net: ipnet::IpNet::V4(ipnet::Ipv4Net::new_assert(r.addr, r.prefix_len)),
        builtin: r.builtin,
        reach: r.reach,
        name: r.name,
        rfc: r.rfc,
    });
    let v6 = SPECIAL_V6.iter().map(|r| Hit {
        net: ipnet::IpNet::V6(ipnet::Ipv6Net::new_assert(r.addr, r.prefix_len)),
        builtin: r.builtin,
        reach: r.reach,
        name: r.name,
        rfc: r.rfc,
    });
    v4.chain(v6)
}

/// The most specific registry row containing `ip`, by a plain scan, when
/// that row is **not** globally reachable: `None` for an ordinary public
/// address, including one of a globally reachable row (192.0.0.9, AS112,
/// 64:ff9b::/96...). What validation (egress IPs), the resolver
/// (observations) and the URL checks reject, and the reference that the
/// compiled index is tested against.
pub(crate) fn lookup(ip: std::net::IpAddr) -> Option<Hit> {
    row(ip).filter(|hit| !hit.is_global())
}

/// The most specific registry row containing `ip`, globally reachable or
/// not.
pub(crate) fn row(ip: std::net::IpAddr) -> Option<Hit> {
    let ip = ip.to_canonical();
    all().filter(|hit| hit.net.contains(&ip)).max_by_key(|hit| hit.net.prefix_len())
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

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

    #[test]
    fn no_two_rows_share_a_prefix() {
        let mut nets: Vec<ipnet::IpNet> = all().map(|h| h.net).collect();
        let n = nets.len();
        nets.sort_unstable();
        nets.dedup();
        assert_eq!(nets.len(), n, "two rows of the same prefix: the most specific is ambiguous");
    }

    /// The rows whose Globally Reachable value is True, exactly as the two
    /// registries list them (and nothing else).
    #[test]
    fn the_globally_reachable_rows_are_the_registrys() {
        let mut global: Vec<String> = all().filter(Hit::is_global).map(|h| h.net.to_string()).collect();
        global.sort_unstable();
        let mut expected = [
            "192.0.0.9/32",
            "192.0.0.10/32",
            "192.31.196.0/24",
            "192.52.193.0/24",
            "192.175.48.0/24",
            "64:ff9b::/96",
            "2001:1::1/128",
            "2001:1::2/128",
            "2001:1::3/128",
            "2001:3::/32",
            "2001:4:112::/48",
            "2001:20::/28",
            "2001:30::/28",
            "2620:4f:8000::/48",
        ]
        .map(str::to_owned);
        expected.sort_unstable();
        assert_eq!(global, expected);
    }

    #[test]
    fn lookup_skips_globally_reachable_rows() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap(); // ok: test
        for global in ["192.0.0.9", "::ffff:192.0.0.10", "192.31.196.1", "64:ff9b::808:808", "2001:1::3", "2001:3::1"] {
            assert_eq!(lookup(ip(global)), None, "{global}");
            assert!(row(ip(global)).is_some_and(|h| h.is_global()), "{global}");
        }
        for special in ["192.0.0.8", "192.0.0.11", "192.88.99.1", "192.88.99.2", "2001:1::4", "64:ff9b:1::1"] {
            assert!(lookup(ip(special)).is_some(), "{special}");
        }
        assert_eq!(lookup(ip("169.254.169.254")).map(|h| h.rfc), Some("RFC 3927"));
        assert_eq!(lookup(ip("fec0::1")).map(|h| h.rfc), Some("RFC 3879"));
        assert_eq!(lookup(ip("::8.8.8.8")).map(|h| h.name), Some("deprecated IPv4-compatible address (::a.b.c.d)"));
    }
}
