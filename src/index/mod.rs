//! The compiled lookup behind `classify_ip`.
//!
//! Built once per [`Topology`](crate::Topology) from its parts (this module
//! sits below `Topology` and knows only clusters, LoadBalancers, reserved
//! IPs and the IANA tables). Every range (node networks,
//! pod and service CIDRs, the IANA tables) is flattened into disjoint sorted
//! intervals covering the whole address space, each carrying its final,
//! precedence-resolved answer. Every host address (egress, LoadBalancer,
//! reserved, node) goes into a hash map, and the intervals are split at the
//! edges of the /24 (IPv4) or /64 (IPv6) blocks that hold hosts, so an
//! interval knows whether the hash map can have anything for it.
//!
//! A lookup: the first byte picks a slice of intervals (usually a single
//! one), a binary search in that slice picks the interval, and only an
//! interval with hosts costs a hash probe. No allocation, no lock.

mod build;
#[cfg(any(test, fuzzing))]
pub(crate) mod naive;
mod table;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;

use crate::class::IpClass;

pub(crate) use build::build;
use table::Table4;

/// A precomputed answer, shared by every address that gets it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Answer {
    pub(crate) class: IpClass,
    pub(crate) clusters: Arc<[String]>,
    pub(crate) reason: Box<str>,
}

/// The answer for addresses nothing claims.
const PUBLIC: u32 = 0;
/// Set on an interval that holds host addresses: look in the hash map.
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

type FoldMap<K> = HashMap<K, u32, BuildHasherDefault<FoldHasher>>;

/// An address as an integer: `u32` for IPv4, `u128` for IPv6.
pub(crate) trait Key: Copy + Ord + Hash + Default + Into<u128> + TryFrom<u128, Error: std::fmt::Debug> {
    const BITS: u32;
    /// The host bits of the block whose hosts share one interval flag.
    const BLOCK_BITS: u32;
    fn first_byte(self) -> usize;
    fn second_byte(self) -> usize;
}

impl Key for u32 {
    const BITS: u32 = 32;
    const BLOCK_BITS: u32 = 8;
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
    const BLOCK_BITS: u32 = 64;
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
    hosts: FoldMap<K>,
    /// The same hosts, sorted, for range queries (audit).
    sorted_hosts: Vec<(K, u32)>,
    /// Start of each interval; the first is 0, each runs to the next start.
    starts: Vec<K>,
    /// The answer of each interval, with [`HAS_HOSTS`].
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
/// Host sets this small are searched in their sorted array, not hashed.
const FEW_HOSTS: usize = 32;

impl<K: Key> Family<K> {
    // Kept out of line: the caller is then small enough to inline, and hands
    // the key over in registers instead of as a 17-byte `IpAddr` in memory.
    #[inline(never)]
    #[allow(clippy::expect_used)]
    fn lookup(&self, key: K) -> u32 {
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
        let entry = *self.intervals.get(at).expect("every start has its interval"); // ok: pushed in pairs
        if entry & HAS_HOSTS != 0 {
            let host = if self.sorted_hosts.len() <= FEW_HOSTS {
                self.sorted_hosts
                    .binary_search_by_key(&key, |&(k, _)| k)
                    .ok()
                    .and_then(|i| self.sorted_hosts.get(i))
                    .map(|h| h.1)
            } else {
                self.hosts.get(&key).copied()
            };
            if let Some(answer) = host {
                return answer;
            }
        }
        entry & !HAS_HOSTS
    }

    /// Emits every host in `lo..=hi`, and every interval with an address
    /// there that is not a host, each with one address that has it.
    #[allow(clippy::expect_used)]
    fn within(&self, lo: K, hi: K, mut emit: impl FnMut(K, u32)) {
        let (lo_wide, hi_wide) = (lo.into(), hi.into());
        let host_range = |a: u128, b: u128| {
            let first = self.sorted_hosts.partition_point(|&(k, _)| k.into() < a);
            let last = self.sorted_hosts.partition_point(|&(k, _)| k.into() <= b);
            &self.sorted_hosts[first..last.max(first)]
        };
        for &(host, id) in host_range(lo_wide, hi_wide) {
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
            if entry & HAS_HOSTS != 0 {
                for &(host, _) in host_range(a, b) {
                    if Some(host.into()) != example {
                        break;
                    }
                    example = example.and_then(|e| e.checked_add(1));
                }
            }
            if let Some(example) = example.filter(|&e| e <= b) {
                let example = K::try_from(example).expect("an address up to `hi` fits the family"); // ok: e <= b <= hi
                emit(example, entry & !HAS_HOSTS);
            }
        }
    }
}

/// The index of one topology.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    answers: Vec<Answer>,
    /// The class of each answer, one byte each: what `class()` reads.
    classes: Vec<IpClass>,
    /// The IPv4 intervals and hosts, for range queries (`within`); lookups
    /// go through `v4_table` (its hash map is dropped once that is built).
    v4: Family<u32>,
    v4_table: Table4,
    v6: Family<u128>,
}

/// What a lookup found: the answer's class, read from the one-byte side
/// table, and the answer itself, not read until asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit<'a> {
    pub(crate) class: IpClass,
    pub(crate) answer: &'a Answer,
}

impl Index {
    /// The answer for `ip` (IPv4-mapped IPv6 folded to IPv4).
    #[inline(always)]
    #[allow(clippy::expect_used)]
    pub(crate) fn lookup(&self, ip: IpAddr) -> Hit<'_> {
        let id = match ip {
            IpAddr::V4(v4) => self.v4_table.lookup(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.v4_table.lookup(u32::from(v4)),
                None => self.v6.lookup(u128::from(v6)),
            },
        } as usize;
        let class = *self.classes.get(id).expect("answer ids are made by the builder, one per answer"); // ok: built so
        Hit { class, answer: self.answer(id as u32) }
    }

    /// The bytes of the lookup tables (not counting the answers' strings).
    #[cfg(test)]
    pub(crate) fn table_bytes(&self) -> usize {
        fn family<K: Key>(f: &Family<K>) -> usize {
            let k = std::mem::size_of::<K>();
            f.hosts.capacity() * (k + 4 + 1)
                + f.sorted_hosts.capacity() * std::mem::size_of::<(K, u32)>()
                + f.starts.capacity() * k
                + f.intervals.capacity() * 4
                + (f.by_first_byte.capacity() + f.by_second_byte.capacity()) * std::mem::size_of::<Slot>()
        }
        self.v4_table.bytes() + family(&self.v4) + family(&self.v6) + self.classes.capacity()
    }

    #[inline]
    #[allow(clippy::expect_used)]
    pub(crate) fn answer(&self, id: u32) -> &Answer {
        self.answers.get(id as usize).expect("answer ids are made by the builder, one per answer") // ok: built so
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
