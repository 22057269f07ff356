//! The rules that judge one entry by itself, and the sentences they say:
//! pure functions of the entry and of what the allowlist must allow,
//! tested as tables (`tests.rs`). The topology is asked elsewhere.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::finding::FindingKind;
use crate::class::IpClass;
use crate::whitelist::WhitelistEntry;

/// What the allowlist must allow: the egress IPs (a destination outside
/// every cluster network), or the nodes' private IPs (one inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wanted {
    Egress,
    Nodes,
}

impl Wanted {
    /// One such address, for a sentence.
    pub(super) const fn what(self) -> &'static str {
        match self {
            Self::Egress => "egress IP",
            Self::Nodes => "node IP",
        }
    }

    /// Whose the other addresses of an entry around one likely are.
    const fn whose(self) -> &'static str {
        match self {
            Self::Egress => "likely other tenants'",
            Self::Nodes => "other machines on the network",
        }
    }

    /// The finding for one the allowlist misses.
    pub(super) const fn missing(self) -> FindingKind {
        match self {
            Self::Egress => FindingKind::MissingEgress,
            Self::Nodes => FindingKind::MissingNode,
        }
    }
}

const RFC1918: [Ipv4Net; 3] = [
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
];
const ULA: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7);

/// An entry is too broad when it is a /8 or wider (IPv4), a /16 or wider
/// (IPv6), or holds a whole private block.
pub(super) fn is_too_broad(net: IpNet) -> bool {
    match net {
        IpNet::V4(n) => n.prefix_len() <= 8 || RFC1918.iter().any(|block| n.contains(block)),
        IpNet::V6(n) => n.prefix_len() <= 16 || n.contains(&ULA),
    }
}

/// Whether an entry was written IPv4-mapped: its text is IPv6, and the
/// network it allows ([`AllowlistEntry::net`](crate::AllowlistEntry::net))
/// is the IPv4 one it maps.
pub(super) fn is_ipv4_mapped(text: &str, net: IpNet) -> bool {
    matches!(net, IpNet::V4(_)) && text.contains(':')
}

/// The addresses the allowlist must allow that are inside `net`: a run of
/// `wanted`, which is sorted (as a [`Whitelist`](crate::Whitelist) is).
pub(super) fn wanted_inside(net: IpNet, wanted: &[WhitelistEntry]) -> &[WhitelistEntry] {
    let first = wanted.partition_point(|e| e.cidr() < IpNet::from(net.network()));
    let rest = &wanted[first..];
    &rest[..rest.partition_point(|e| net.contains(&e.cidr()))]
}

/// What one entry may be told, from what it is alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct EntryFacts {
    /// [`is_too_broad`].
    pub too_broad: bool,
    /// A single address (`/32`, `/128`).
    pub host: bool,
    /// [`is_ipv4_mapped`].
    pub mapped: bool,
    /// It holds addresses the allowlist must allow ([`wanted_inside`]).
    pub holds_wanted: bool,
}

impl EntryFacts {
    pub(super) fn of(text: &str, net: IpNet, wanted: &[WhitelistEntry]) -> Self {
        Self {
            too_broad: is_too_broad(net),
            host: net.prefix_len() == net.max_prefix_len(),
            mapped: is_ipv4_mapped(text, net),
            holds_wanted: !wanted_inside(net, wanted).is_empty(),
        }
    }
}

/// Which findings one entry gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct EntryVerdict {
    /// One `too-broad` finding, and nothing else: a catch-all is one
    /// mistake, not one per class it covers.
    pub too_broad: bool,
    /// One finding per class of the clusters' own addresses it covers.
    pub classes: bool,
    /// Among those, the `public` info; an entry there for an address the
    /// list must allow says it as `broader-than-needed` instead.
    pub public: bool,
    /// `broader-than-needed`.
    pub broader: bool,
    /// `ipv4-mapped`.
    pub mapped: bool,
}

/// The findings an entry gets, from its facts.
pub(super) const fn judge(facts: EntryFacts) -> EntryVerdict {
    if facts.too_broad {
        return EntryVerdict { too_broad: true, classes: false, public: false, broader: false, mapped: false };
    }
    let broader = facts.holds_wanted && !facts.host;
    EntryVerdict { too_broad: false, classes: true, public: !broader, broader, mapped: facts.mapped }
}

/// The `too-broad` sentence: the classes it lets in (sorted, egress
/// aside), and what to allow instead.
pub(super) fn too_broad_reason(net: IpNet, classes: &[IpClass], wanted: Wanted) -> String {
    let names: Vec<&str> = classes.iter().filter(|&&c| c != IpClass::Egress).map(|c| c.as_str()).collect();
    let lets_in = match names.as_slice() {
        [] => String::new(),
        [one] => format!(": it lets in {one} addresses"),
        [init @ .., last] => format!(": it lets in {} and {last} addresses", init.join(", ")),
    };
    format!("{net} is too broad to restrict anything{lets_in}; allow the {}s alone, as /32 or /128", wanted.what())
}

/// The `broader-than-needed` sentence: how many other addresses the entry
/// lets in beside the ones it is there for, and what to allow instead.
pub(super) fn broader_reason(net: IpNet, inside: &[WhitelistEntry], wanted: Wanted) -> String {
    const SHOWN: usize = 3;
    let ips: Vec<String> = inside.iter().take(SHOWN).map(|e| e.ip().to_string()).collect();
    let cidrs: Vec<String> = inside.iter().take(SHOWN).map(|e| e.cidr().to_string()).collect();
    let more = match inside.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let what = wanted.what();
    let (what, it) = if inside.len() == 1 { (what.to_owned(), "it") } else { (format!("{what}s"), "them") };
    let (others, whose) = (other_addresses(net, inside.len()), wanted.whose());
    let (ips, cidrs) = (ips.join(", "), cidrs.join(", "));
    format!("{net} lets in {others} beside {what} {ips}{more} ({whose}): allow {it} alone, as {cidrs}{more}")
}

/// How many addresses of `net` are not the `wanted` ones it holds:
/// exact up to 2^32, a power of two beyond.
pub(super) fn other_addresses(net: IpNet, wanted: usize) -> String {
    let bits = u32::from(net.max_prefix_len() - net.prefix_len());
    if bits > 32 {
        return format!("about 2^{bits} other addresses");
    }
    let others = (1_u64 << bits).saturating_sub(wanted as u64);
    if others == 1 { "1 other address".to_owned() } else { format!("{others} other addresses") }
}

/// The `ipv4-mapped` sentence.
pub(super) fn mapped_reason(text: &str, net: IpNet) -> String {
    format!(
        "{text} is the IPv4-mapped form of {net}: only an application allowlist on a dual-stack socket matches it; nftables `ip6 saddr`, ip6tables and cloud security groups never match IPv4 packets with it (this audit counts it as {net}): write {net}"
    )
}

/// The allowlist as disjoint sorted networks.
pub(super) fn merged(nets: impl Iterator<Item = IpNet>) -> Vec<IpNet> {
    IpNet::aggregate(&nets.collect())
}

/// Whether the `merged` networks hold all of `cidr`.
pub(super) fn covers(merged: &[IpNet], cidr: IpNet) -> bool {
    let pos = merged.partition_point(|net| net.network() <= cidr.network());
    pos > 0 && merged.get(pos - 1).is_some_and(|net| net.contains(&cidr))
}
