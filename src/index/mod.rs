//! The compiled lookup behind `classify_ip`.
//!
//! Built once per [`Topology`](crate::Topology) from its resources (this module
//! sits below `Topology` and knows only clusters, LoadBalancers, reserved
//! IPs and the IANA tables). Every range (node networks,
//! pod and service CIDRs, the IANA tables) is flattened into disjoint sorted
//! intervals covering the whole address space, each carrying its final,
//! precedence-resolved answer. Every host address (egress, LoadBalancer,
//! reserved, node) is kept sorted, with a reference to the fact that
//! decides it (`facts.rs`); IPv4 intervals are split at the edges of the
//! /24s that hold hosts, for the table.
//!
//! An IPv4 lookup goes through the fixed-depth table of `table.rs`. An IPv6
//! lookup: the first byte picks a slice of intervals (usually a single
//! one), a binary search in that slice picks the interval, and in a /16
//! that holds hosts the probe of `hosts6.rs`, at the same time, may find a
//! host, which wins. No allocation, no lock.
//!
//! Answer ids: the range answers first (`answer.rs`), then one per IPv4
//! host, then one per IPv6 host, in address order; a one-byte table gives
//! the class of each, which is all `classify_ip(..).class()` reads.

mod answer;
mod buckets;
mod build;
mod facts;
mod hosts6;
#[cfg(any(test, fuzzing))]
pub(crate) mod naive;
mod table;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use ipnet::IpNet;

use crate::class::IpClass;

pub(crate) use answer::AnswerRef;
use answer::{RangeAnswer, Shared};
pub(crate) use build::build;
use facts::FactRef;
pub(crate) use facts::Resources;
use hosts6::HostProbe;
use table::Table4;

/// The answer for addresses nothing claims.
const PUBLIC: u32 = 0;
/// Set on an IPv4 interval that holds host addresses (the table's build
/// gives such /24s blocks or windows of their own).
const HAS_HOSTS: u32 = 1 << 31;

/// Multiply-fold hashing for integer keys. Keys come from the topology, not
/// from the addresses looked up, so hash flooding is not a concern here and
/// SipHash's cost is.
#[derive(Default, Clone, Copy)]
pub(crate) struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        let product = u128::from(self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64 ^ (n >> 64) as u64);
    }
}

type FoldMap<K, V = u32> = HashMap<K, V, BuildHasherDefault<FoldHasher>>;

/// An address as an integer: `u32` for IPv4, `u128` for IPv6.
pub(crate) trait Key: Copy + Ord + Hash + Default + Into<u128> + TryFrom<u128, Error: std::fmt::Debug> {
    const BITS: u32;
    /// Whether lookups go through the 16-8-8 table (IPv4), which needs the
    /// intervals split at the /24s with hosts and flagged, and no slots.
    const TABLED: bool;
    fn first_byte(self) -> usize;
    fn second_byte(self) -> usize;
}

impl Key for u32 {
    const BITS: u32 = 32;
    const TABLED: bool = true;
    #[inline]
    fn first_byte(self) -> usize {
        (self >> 24) as usize
    }
    #[inline]
    fn second_byte(self) -> usize {
        ((self >> 16) & 0xff) as usize
    }
}

impl Key for u128 {
    const BITS: u32 = 128;
    const TABLED: bool = false;
    #[inline]
    fn first_byte(self) -> usize {
        (self >> 120) as usize
    }
    #[inline]
    fn second_byte(self) -> usize {
        ((self >> 112) & 0xff) as usize
    }
}

/// The compiled tables of one address family.
#[derive(Debug, Clone, Default)]
pub(crate) struct Family<K: Key> {
    /// The host addresses, sorted, and the number of the fact that decides
    /// the answer of each; the answer id of `host_keys[i]` is `base + i`.
    host_keys: Vec<K>,
    host_facts: Vec<FactRef>,
    base: u32,
    /// Finds a host among `host_keys` (IPv6 only: the IPv4 table holds
    /// its hosts itself).
    probe: HostProbe,
    /// Start of each interval; the first is 0, each runs to the next start.
    starts: Vec<K>,
    /// The answer of each interval, with [`HAS_HOSTS`] where it holds
    /// hosts (IPv4 only).
    intervals: Vec<u32>,
    /// For each first byte, the slice of intervals that overlap it, or (when
    /// the slice is long) where its second-byte table starts in `by_second_byte`.
    by_first_byte: Vec<Slot>,
    /// Second-level tables of 256 slots, for the busy first bytes.
    by_second_byte: Vec<Slot>,
}

/// A slice `lo..hi` of a family's intervals, or a pointer to a second-level
/// table when `hi == NESTED`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Slot {
    lo: u32,
    hi: u32,
}

/// Marks a [`Slot`] whose `lo` is the offset of a second-level table.
const NESTED: u32 = u32::MAX;

impl Family<u128> {
    // Kept out of line: the caller is then small enough to inline, and hands
    // the key over in registers instead of as a 17-byte `IpAddr` in memory.
    #[inline(never)]
    #[allow(clippy::expect_used)]
    fn lookup(&self, key: u128) -> u32 {
        // The host probe does not depend on the interval search: both are
        // in flight at once.
        let host = self.probe.position(key, &self.host_keys);
        let mut slot = *self.by_first_byte.get(key.first_byte()).expect("the first-byte table has 256 slots"); // ok: built so
        if slot.hi == NESTED {
            slot = *self
                .by_second_byte
                .get(slot.lo as usize + key.second_byte())
                .expect("a nested slot points at a whole 256-slot table"); // ok: built so
        }
        let (lo, hi) = (slot.lo as usize, slot.hi as usize);
        let slice = self.starts.get(lo..hi).expect("a slot is a slice of the intervals"); // ok: built so
        let at = match slice {
            [_] => lo,
            slice => lo + slice.partition_point(|&start| start <= key).saturating_sub(1),
        };
        let range = *self.intervals.get(at).expect("every start has its interval"); // ok: pushed in pairs
        host.map_or(range, |position| self.base + position)
    }
}

impl<K: Key> Family<K> {
    /// The hosts `host_keys[range]`, with their answer ids.
    fn host_ids(&self, range: Range<usize>) -> impl Iterator<Item = (K, u32)> + '_ {
        // Ids are below 2^31 (`build::next_id`), so positions fit.
        let first = self.base + range.start as u32;
        self.host_keys[range].iter().zip(first..).map(|(&k, id)| (k, id))
    }

    /// Emits every host in `lo..=hi`, and every interval with an address
    /// there that is not a host, each with one address that has it.
    #[allow(clippy::expect_used)]
    fn within(&self, lo: K, hi: K, mut emit: impl FnMut(K, u32)) {
        let (lo_wide, hi_wide) = (lo.into(), hi.into());
        let host_range = |a: u128, b: u128| {
            let first = self.host_keys.partition_point(|&k| k.into() < a);
            let last = self.host_keys.partition_point(|&k| k.into() <= b);
            first..last.max(first)
        };
        let inside = host_range(lo_wide, hi_wide);
        for (host, id) in self.host_ids(inside) {
            emit(host, id);
        }
        let from = self.starts.partition_point(|&s| s <= lo).saturating_sub(1);
        for (i, (&start, &entry)) in self.starts.iter().zip(&self.intervals).enumerate().skip(from) {
            if start > hi {
                break;
            }
            let a = start.into().max(lo_wide);
            let b = self.starts.get(i + 1).map_or(hi_wide, |&next| (next.into() - 1).min(hi_wide));
            // The first address of a..=b that is not a host, if any.
            let mut example = Some(a);
            // (IPv6 intervals do not flag their hosts: look at them all.)
            for &host in &self.host_keys[host_range(a, b)] {
                if Some(host.into()) != example {
                    break;
                }
                example = example.and_then(|e| e.checked_add(1));
            }
            if let Some(example) = example.filter(|&e| e <= b) {
                let example = K::try_from(example).expect("an address up to `hi` fits the family"); // ok: e <= b <= hi
                emit(example, entry & !HAS_HOSTS);
            }
        }
    }
}

/// A topology's resources and the index compiled from them, side by
/// side: what a [`Classification`](crate::Classification) borrows, with one
/// reference.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) resources: Resources,
    pub(crate) index: Index,
}

impl Compiled {
    /// Compiles the index of `resources`, and keeps both.
    pub(crate) fn new(resources: Resources) -> Self {
        let index = build(&resources);
        Self { resources, index }
    }

    /// The answer id and class for `ip`.
    #[inline(always)]
    pub(crate) fn lookup(&self, ip: IpAddr) -> Hit {
        self.index.lookup(ip)
    }

    /// The answer of `id`, an id this index made.
    pub(crate) fn answer(&self, id: u32) -> AnswerRef<'_> {
        self.index.answer(id, &self.resources)
    }
}

/// The compiled lookup of one topology, built from its resources.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    /// The answers of ranges, ids `0..ranges.len()`.
    ranges: Vec<RangeAnswer>,
    /// The class of every answer id, one byte each: what `class()` reads.
    classes: Vec<IpClass>,
    /// The IPv4 intervals and hosts, for range queries (`within`); lookups
    /// go through `v4_table`.
    v4: Family<u32>,
    v4_table: Table4,
    v6: Family<u128>,
    /// Host answers that several facts share, by answer id.
    shared: FoldMap<u32, Shared>,
}

/// What a lookup found: the answer id and its class, read from the
/// one-byte side table; the answer itself is not read until asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Hit {
    pub(crate) class: IpClass,
    pub(crate) id: u32,
}

impl Index {
    /// The answer for `ip` (IPv4-mapped IPv6 folded to IPv4).
    #[inline(always)]
    #[allow(clippy::expect_used)]
    pub(crate) fn lookup(&self, ip: IpAddr) -> Hit {
        let v6 = match ip {
            IpAddr::V4(v4) => return self.v4_table.lookup(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => return self.v4_table.lookup(u32::from(v4)),
                None => v6,
            },
        };
        let id = self.v6.lookup(u128::from(v6));
        let class = *self.classes.get(id as usize).expect("answer ids are made by the builder, one per answer"); // ok: built so
        Hit { class, id }
    }

    /// The answer of `id`.
    ///
    /// # Panics
    ///
    /// When `id` was not made by this index.
    #[allow(clippy::expect_used)]
    pub(crate) fn answer<'a>(&'a self, id: u32, resources: &'a Resources) -> AnswerRef<'a> {
        const MADE: &str = "answer ids are made by the builder, one per answer"; // ok: built so
        let class = *self.classes.get(id as usize).expect(MADE); // ok: MADE says why
        let fact = if id < self.v4.base {
            return AnswerRef::Range(self.ranges.get(id as usize).expect(MADE)); // ok: MADE says why
        } else if id < self.v6.base {
            self.v4.host_facts.get((id - self.v4.base) as usize).copied()
        } else {
            self.v6.host_facts.get((id - self.v6.base) as usize).copied()
        };
        AnswerRef::Host { resources, class, fact: fact.expect(MADE), shared: self.shared.get(&id) } // ok: MADE says why
    }

    /// Every distinct answer inside `net`, each with one address that has
    /// it, into `out` (cleared first: callers reuse one buffer).
    pub(crate) fn within(&self, net: IpNet, out: &mut Vec<(IpAddr, u32)>) {
        out.clear();
        let mut emit = |ip: IpAddr, id: u32| {
            if !out.iter().any(|&(_, seen)| seen == id) {
                out.push((ip, id));
            }
        };
        match net {
            IpNet::V4(n) => self.v4.within(u32::from(n.network()), u32::from(n.broadcast()), |k, id| {
                emit(IpAddr::V4(Ipv4Addr::from(k)), id);
            }),
            IpNet::V6(n) => self.v6.within(u128::from(n.network()), u128::from(n.broadcast()), |k, id| {
                emit(IpAddr::V6(Ipv6Addr::from(k)), id);
            }),
        }
    }
}
