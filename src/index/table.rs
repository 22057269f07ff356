//! The fixed-depth 16-8-8 table of IPv4 lookups.
//!
//! The top 16 bits pick a block of 256 entries in `mid`, the next 8 an entry
//! there, which picks a block of 256 answer ids in `low`, and the last 8 the
//! id: exactly three dependent loads, with no "is this a leaf?" branch,
//! because a /16 or /24 with one answer points at a block shared by every
//! such /16 or /24 of that answer. A /24 with a few hosts and otherwise one
//! answer is sparse instead: its entry in `mid` has [`SPARSE`] set and holds
//! that answer, and its hosts are in one open-addressing hash table of every
//! sparse host (its slot depends only on the address, so it is loaded no
//! later than a `low` block would be), so that hosts scattered over a /8
//! keep memory bounded.

use std::collections::HashMap;

use super::{Family, HAS_HOSTS};

/// Set on an entry of `mid` of a sparse /24; the rest is its answer.
const SPARSE: u32 = 1 << 31;
/// The id of an empty slot of the sparse hash table (ids are below 2^31).
const EMPTY: u32 = u32::MAX;
/// A /24 with at most this many hosts (and one answer besides) may be sparse.
const SPARSE_MAX: usize = 16;
/// How many of those get a `low` block of their own all the same, the ones
/// with the most hosts first (1 KiB each): a small topology then never
/// branches to the hash table, and a large one stays bounded.
#[cfg(not(any(test, fuzzing)))]
const DENSE_BUDGET: usize = 2048;
/// Tests and fuzzing meet both kinds in small topologies.
#[cfg(any(test, fuzzing))]
const DENSE_BUDGET: usize = 2;
/// Entries per block.
const BLOCK: usize = 256;

/// The 16-8-8 table of one IPv4 family.
#[derive(Debug, Clone)]
pub(crate) struct Table4 {
    top: Box<[u32; 1 << 16]>,
    mid: Vec<u32>,
    low: Vec<u32>,
    /// The hosts of the sparse /24s, `(address, id)`, by [`slot`], a power
    /// of two at least twice their number long, with [`EMPTY`] slots.
    sparse: Vec<(u32, u32)>,
    /// `32 - log2(sparse.len())`.
    shift: u32,
}

/// The first slot of `key` in a sparse table (Fibonacci hashing).
#[inline]
fn slot(key: u32, shift: u32) -> usize {
    (key.wrapping_mul(0x9e37_79b9) >> shift) as usize
}

impl Table4 {
    /// The answer id of `key`.
    #[inline(always)]
    pub(crate) fn lookup(&self, key: u32) -> u32 {
        let mid = self.top[(key >> 16) as usize] as usize;
        let entry = self.mid[(mid << 8) | ((key >> 8) & 0xff) as usize];
        if entry & SPARSE == 0 {
            return self.low[((entry as usize) << 8) | (key & 0xff) as usize];
        }
        let mask = self.sparse.len() - 1;
        let mut at = slot(key, self.shift);
        loop {
            let (host, id) = self.sparse[at & mask];
            if id == EMPTY {
                return entry & !SPARSE;
            }
            if host == key {
                return id;
            }
            at += 1;
        }
    }

    /// The bytes of the tables.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        std::mem::size_of_val(&*self.top)
            + self.mid.capacity() * 4
            + self.low.capacity() * 4
            + self.sparse.capacity() * 8
    }

    /// Compiles the intervals and hosts of `family` (which must answer
    /// every address) into the table.
    #[allow(clippy::expect_used)]
    pub(crate) fn build(family: &Family<u32>) -> Self {
        let mut b = TableBuilder {
            family,
            mid: Vec::new(),
            low: Vec::new(),
            sparse_hosts: Vec::new(),
            candidates: Vec::new(),
            uniform_low: HashMap::new(),
            uniform_mid: HashMap::new(),
        };
        let top: Vec<u32> = (0..1u32 << 16)
            .map(|hi16| {
                let lo = hi16 << 16;
                match b.uniform(lo, lo | 0xffff) {
                    Some(id) => b.uniform_mid(id),
                    None => {
                        // `mid` does not grow while its block is made.
                        let at = b.mid.len();
                        let block: Vec<u32> =
                            (0..BLOCK as u32).map(|b3| b.slash24(lo | (b3 << 8), at + b3 as usize)).collect();
                        b.push_mid(&block)
                    }
                }
            })
            .collect();
        let top = top.into_boxed_slice().try_into().expect("one entry per /16"); // ok: 2^16 entries made above
        let mut candidates = std::mem::take(&mut b.candidates);
        candidates.sort_by_key(|c| std::cmp::Reverse(c.last - c.first));
        for (i, c) in candidates.into_iter().enumerate() {
            b.mid[c.at] = if i < DENSE_BUDGET {
                b.dense(c.lo)
            } else {
                b.sparse_hosts.extend_from_slice(&family.sorted_hosts[c.first..c.last]);
                c.base | SPARSE
            };
        }
        // At most half full: a miss stops at an empty slot soon.
        let len = (b.sparse_hosts.len() * 2).next_power_of_two().max(2);
        let shift = 32 - len.trailing_zeros();
        let mut sparse = vec![(0, EMPTY); len];
        for (host, id) in b.sparse_hosts {
            let mut at = slot(host, shift);
            while sparse[at & (len - 1)].1 != EMPTY {
                at += 1;
            }
            sparse[at & (len - 1)] = (host, id);
        }
        Self { top, mid: b.mid, low: b.low, sparse, shift }
    }
}

/// A /24 with few hosts and one answer besides.
struct Candidate {
    /// Where its entry is in `mid`.
    at: usize,
    /// Its first address.
    lo: u32,
    /// Its hosts, `sorted_hosts[first..last]`.
    first: usize,
    last: usize,
    /// The answer of its other addresses.
    base: u32,
}

struct TableBuilder<'f> {
    family: &'f Family<u32>,
    mid: Vec<u32>,
    low: Vec<u32>,
    sparse_hosts: Vec<(u32, u32)>,
    /// The /24s that may be sparse, decided once all are known.
    candidates: Vec<Candidate>,
    /// The shared `low` block of each answer id.
    uniform_low: HashMap<u32, u32>,
    /// The shared `mid` block of each answer id.
    uniform_mid: HashMap<u32, u32>,
}

impl TableBuilder<'_> {
    /// The one interval entry that covers all of `lo..=hi`, if one does
    /// (with [`HAS_HOSTS`] when it holds hosts).
    fn interval(&self, lo: u32, hi: u32) -> Option<u32> {
        let starts = &self.family.starts;
        let at = starts.partition_point(|&s| s <= lo).checked_sub(1)?;
        match starts.get(at + 1) {
            Some(&next) if next <= hi => None,
            _ => self.family.intervals.get(at).copied(),
        }
    }

    /// The one answer of all of `lo..=hi`, if it has one and no hosts.
    fn uniform(&self, lo: u32, hi: u32) -> Option<u32> {
        self.interval(lo, hi).filter(|e| e & HAS_HOSTS == 0)
    }

    #[allow(clippy::expect_used)]
    fn block_number(len: usize) -> u32 {
        u32::try_from(len / BLOCK).ok().filter(|&n| n & SPARSE == 0).expect("fewer than 2^31 blocks") // ok: 2^24 /24s at most
    }

    fn push_mid(&mut self, block: &[u32]) -> u32 {
        let n = Self::block_number(self.mid.len());
        self.mid.extend_from_slice(block);
        n
    }

    fn push_low(&mut self, block: impl Iterator<Item = u32>) -> u32 {
        let n = Self::block_number(self.low.len());
        self.low.extend(block);
        n
    }

    fn uniform_low(&mut self, id: u32) -> u32 {
        if let Some(&n) = self.uniform_low.get(&id) {
            return n;
        }
        let n = self.push_low(std::iter::repeat_n(id, BLOCK));
        self.uniform_low.insert(id, n);
        n
    }

    fn uniform_mid(&mut self, id: u32) -> u32 {
        if let Some(&n) = self.uniform_mid.get(&id) {
            return n;
        }
        let low = self.uniform_low(id);
        let n = self.push_mid(&[low; BLOCK]);
        self.uniform_mid.insert(id, n);
        n
    }

    /// The `mid` entry of the /24 at `lo`, to go at `at` (a placeholder
    /// for a [`Candidate`]).
    fn slash24(&mut self, lo: u32, at: usize) -> u32 {
        let hi = lo | 0xff;
        let entry = self.interval(lo, hi);
        if let Some(e) = entry.filter(|e| e & HAS_HOSTS == 0) {
            return self.uniform_low(e);
        }
        let hosts = &self.family.sorted_hosts;
        let first = hosts.partition_point(|&(k, _)| k < lo);
        let last = hosts.partition_point(|&(k, _)| k <= hi);
        if let Some(e) = entry.filter(|_| last - first <= SPARSE_MAX) {
            self.candidates.push(Candidate { at, lo, first, last, base: e & !HAS_HOSTS });
            return 0;
        }
        self.dense(lo)
    }

    /// A `low` block of its own for the /24 at `lo`.
    fn dense(&mut self, lo: u32) -> u32 {
        let family = self.family;
        self.push_low((0..BLOCK as u32).map(|b4| family.lookup(lo | b4)))
    }
}
