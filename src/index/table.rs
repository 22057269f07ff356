//! The fixed-depth 16-8-8 table of IPv4 lookups.
//!
//! The top 16 bits pick a block of 256 entries in `mid`, the next 8 an entry
//! there, which picks a block of 256 answer ids in `low`, and the last 8 the
//! id: exactly three dependent loads, with no "is this a leaf?" branch,
//! because a /16 or /24 with one answer points at a block shared by every
//! such /16 or /24 of that answer.
//!
//! A /24 with a few hosts and otherwise one answer is sparse instead, so
//! that hosts scattered over a /8 keep memory bounded: its entry in `mid`
//! points at the shared block of that answer, and says where its hosts
//! start in the sorted host addresses and how many there are (at most
//! [`WINDOW`]). A lookup compares the address's last byte with the last
//! bytes of that whole window at once, branch-free (the window holds one
//! /24's hosts, so the last byte tells them apart), and a match is the
//! host: its answer id is its position. The window is loaded alongside the `low` block, not after it,
//! and no lookup branches on which kind of /24 it is in, so that a stream
//! of lookups keeps several in flight (what hides cache misses).

use std::collections::HashMap;
use std::ops::Range;

use super::{Family, HAS_HOSTS, Hit};
use crate::class::IpClass;

/// A /24 with at most this many hosts (and one answer besides) may be
/// sparse: the window a lookup compares, 16 bytes.
const WINDOW: usize = 16;
/// Up to this many of those get a `low` block of their own all the same
/// (1 KiB each): a small topology then has no sparse /24 and its lookups
/// skip the window. Past it every one of them is sparse, since every
/// lookup compares a window anyway, so a large one stays bounded.
#[cfg(not(any(test, fuzzing)))]
const DENSE_BUDGET: usize = 2048;
/// Tests and fuzzing meet both kinds in small topologies.
#[cfg(any(test, fuzzing))]
const DENSE_BUDGET: usize = 2;
/// Entries per block.
const BLOCK: usize = 256;
/// The bits of [`Mid::hosts`] that hold the count.
const COUNT_BITS: u32 = 5;

/// The 16-8-8 table of one IPv4 family.
#[derive(Debug, Clone)]
pub(crate) struct Table4 {
    top: Box<[u32; 1 << 16]>,
    mid: Vec<Mid>,
    low: Vec<u32>,
    /// The class of each answer id in `low`, at the same index: loaded
    /// beside the id, not after it.
    low_classes: Vec<IpClass>,
    /// The last byte of every host address, sorted, then [`WINDOW`] of
    /// padding, so that a window never runs past the end; and the class
    /// of each, likewise (a copy of the index's, 1 byte a host, kept here
    /// so the table needs nothing else).
    host_bytes: Vec<u8>,
    host_classes: Vec<IpClass>,
    /// The answer id of the first host; the others follow in order.
    base: u32,
    /// Whether any /24 is sparse: if not, lookups skip the window.
    has_sparse: bool,
}

/// An entry of `mid`: the `low` block of a /24, and its hosts as
/// `start << COUNT_BITS | count` when it is sparse (0 otherwise).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Mid {
    block: u32,
    hosts: u32,
}

impl Table4 {
    /// The answer id of `key`, and its class.
    #[inline(always)]
    #[allow(clippy::expect_used)]
    pub(crate) fn lookup(&self, key: u32) -> Hit {
        let mid = self.top[(key >> 16) as usize] as usize;
        let mid = self.mid[(mid << 8) | ((key >> 8) & 0xff) as usize];
        let at = ((mid.block as usize) << 8) | (key & 0xff) as usize;
        let hit = Hit { class: self.low_classes[at], id: self.low[at] };
        if !self.has_sparse {
            return hit;
        }
        let (start, count) = (mid.hosts >> COUNT_BITS, mid.hosts & ((1 << COUNT_BITS) - 1));
        let window: &[u8; WINDOW] =
            self.host_bytes[start as usize..].first_chunk().expect("the hosts are padded by a window"); // ok: built so
        let classes: &[IpClass; WINDOW] =
            self.host_classes[start as usize..].first_chunk().expect("the classes are padded by a window"); // ok: built so
        let last = key as u8;
        let mut hits = 0u32;
        for (j, &host) in window.iter().enumerate() {
            hits |= u32::from(host == last) << j;
        }
        hits &= (1 << count) - 1;
        // Which of the two answers, picked by indexing a pair: a branch here
        // would be mispredicted for every other lookup of a mixed stream.
        let j = hits.trailing_zeros() & (WINDOW as u32 - 1);
        let found = usize::from(hits != 0);
        let host = Hit { class: classes[j as usize], id: self.base + start + j };
        [hit, host][found]
    }

    /// Whether some /24 is sparse.
    #[cfg(test)]
    pub(crate) fn has_sparse(&self) -> bool {
        self.has_sparse
    }

    /// Compiles the intervals and hosts of `family` (which must answer
    /// every address) into the table.
    #[allow(clippy::expect_used)]
    pub(crate) fn build(family: &Family<u32>, classes: &[IpClass]) -> Self {
        let mut b = TableBuilder {
            family,
            mid: Vec::new(),
            low: Vec::new(),
            candidates: Vec::new(),
            uniform_low: HashMap::new(),
            uniform_mid: HashMap::new(),
        };
        let mut top = vec![0u32; 1 << 16];
        let mut hi16 = 0;
        while hi16 < top.len() {
            let lo = (hi16 as u32) << 16;
            // A run of whole /16s inside one interval without hosts shares
            // one block: filled at once, not /16 by /16.
            let run = b.uniform_run(lo).map(|(id, last)| (id, ((u64::from(last) + 1) >> 16) as usize));
            if let Some((id, end)) = run.filter(|&(_, end)| end > hi16) {
                let block = b.uniform_mid(id);
                top[hi16..end].fill(block);
                hi16 = end;
                continue;
            }
            // `mid` does not grow while its block is made.
            let at = b.mid.len();
            let block: Vec<Mid> = (0..BLOCK as u32).map(|b3| b.slash24(lo | (b3 << 8), at + b3 as usize)).collect();
            top[hi16] = b.push_mid(&block);
            hi16 += 1;
        }
        let top = top.into_boxed_slice().try_into().expect("one entry per /16"); // ok: 2^16 entries made above
        let candidates = std::mem::take(&mut b.candidates);
        // Once some /24 is sparse every lookup compares a window anyway, so
        // all are: their `low` blocks would only crowd the cache.
        let has_sparse = candidates.len() > DENSE_BUDGET;
        for c in candidates {
            b.mid[c.at] = if !has_sparse {
                Mid { block: b.dense(c.lo, c.hosts), hosts: 0 }
            } else {
                let start = u32::try_from(c.hosts.start)
                    .ok()
                    .filter(|&s| s < 1 << (32 - COUNT_BITS))
                    .expect("fewer than 2^27 IPv4 hosts"); // ok: 2^27 hosts take gigabytes first
                let count = u32::try_from(c.hosts.len()).expect("a sparse /24 has at most a window of hosts"); // ok: checked in `slash24`
                Mid { block: b.uniform_low(c.base), hosts: (start << COUNT_BITS) | count }
            };
        }
        let (mut mid, mut low) = (b.mid, b.low);
        mid.shrink_to_fit();
        low.shrink_to_fit();
        let class_of = |id: u32| *classes.get(id as usize).expect("every answer id has a class"); // ok: ids come from the builder
        let low_classes = low.iter().map(|&id| class_of(id)).collect();
        let hosts = family.host_keys.len();
        let mut host_bytes = Vec::with_capacity(hosts + WINDOW);
        host_bytes.extend(family.host_keys.iter().map(|&key| key as u8));
        host_bytes.resize(hosts + WINDOW, 0);
        let mut host_classes = Vec::with_capacity(hosts + WINDOW);
        host_classes.extend((family.base..).take(hosts).map(class_of));
        host_classes.resize(hosts + WINDOW, IpClass::Public);
        Self { top, mid, low, low_classes, host_bytes, host_classes, base: family.base, has_sparse }
    }
}

/// A /24 with few hosts and one answer besides.
struct Candidate {
    /// Where its entry is in `mid`.
    at: usize,
    /// Its first address.
    lo: u32,
    /// Its hosts, as positions in `host_keys`.
    hosts: Range<usize>,
    /// The answer of its other addresses.
    base: u32,
}

struct TableBuilder<'f> {
    family: &'f Family<u32>,
    mid: Vec<Mid>,
    low: Vec<u32>,
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

    /// The answer of the interval that holds `lo`, and its last address,
    /// when it has no hosts.
    fn uniform_run(&self, lo: u32) -> Option<(u32, u32)> {
        let (starts, intervals) = (&self.family.starts, &self.family.intervals);
        let at = starts.partition_point(|&s| s <= lo).checked_sub(1)?;
        let entry = intervals.get(at).copied().filter(|e| e & HAS_HOSTS == 0)?;
        let last = starts.get(at + 1).map_or(u32::MAX, |&next| next - 1);
        Some((entry, last))
    }

    #[allow(clippy::expect_used)]
    fn block_number(len: usize) -> u32 {
        u32::try_from(len / BLOCK).expect("fewer than 2^32 blocks") // ok: 2^24 /24s at most
    }

    fn push_mid(&mut self, block: &[Mid]) -> u32 {
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
        let n = self.push_mid(&[Mid { block: low, hosts: 0 }; BLOCK]);
        self.uniform_mid.insert(id, n);
        n
    }

    /// The `mid` entry of the /24 at `lo`, to go at `at` (a placeholder
    /// for a [`Candidate`]).
    fn slash24(&mut self, lo: u32, at: usize) -> Mid {
        let hi = lo | 0xff;
        let entry = self.interval(lo, hi);
        if let Some(e) = entry.filter(|e| e & HAS_HOSTS == 0) {
            return Mid { block: self.uniform_low(e), hosts: 0 };
        }
        let hosts = &self.family.host_keys;
        let first = hosts.partition_point(|&k| k < lo);
        let last = hosts.partition_point(|&k| k <= hi);
        if let Some(e) = entry.filter(|_| last - first <= WINDOW) {
            self.candidates.push(Candidate { at, lo, hosts: first..last, base: e & !HAS_HOSTS });
            return Mid::default();
        }
        Mid { block: self.dense(lo, first..last), hosts: 0 }
    }

    /// A `low` block of its own for the /24 at `lo`, whose hosts are
    /// `host_keys[hosts]`.
    #[allow(clippy::expect_used)]
    fn dense(&mut self, lo: u32, hosts: Range<usize>) -> u32 {
        let (starts, intervals) = (&self.family.starts, &self.family.intervals);
        let mut at = starts.partition_point(|&s| s <= lo) - 1; // the first start is 0
        let mut block = [0u32; BLOCK];
        for (b4, slot) in (0..).zip(&mut block) {
            while starts.get(at + 1).is_some_and(|&next| next <= lo | b4) {
                at += 1;
            }
            *slot = intervals[at] & !HAS_HOSTS;
        }
        for (key, id) in self.family.host_ids(hosts) {
            block[(key & 0xff) as usize] = id;
        }
        self.push_low(block.into_iter())
    }
}
