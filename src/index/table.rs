//! The fixed-depth 16-8-8 table of IPv4 lookups.
//!
//! The top 16 bits pick a block of 256 entries in `mid`, the next 8 an entry
//! there, which picks a block of 256 answer ids in `low`, and the last 8 the
//! id: exactly three dependent loads, with no "is this a leaf?" branch,
//! because a /16 or /24 with one answer points at a block shared by every
//! such /16 or /24 of that answer. A /24 with a few hosts and otherwise one
//! answer is sparse instead (its entry in `mid` has [`SPARSE`] set): a short
//! scan of its hosts, so that hosts scattered over a /8 keep memory bounded.

use std::collections::HashMap;

use super::{Family, HAS_HOSTS};

/// Set on an entry of `mid` that names a [`Sparse`] block.
const SPARSE: u32 = 1 << 31;
/// A /24 with at most this many hosts (and one answer besides) is sparse.
const SPARSE_MAX: usize = 16;
/// Entries per block.
const BLOCK: usize = 256;

/// A /24 with a few hosts: `hosts[lo..hi]`, else `base`.
#[derive(Debug, Clone, Copy)]
struct Sparse {
    base: u32,
    lo: u32,
    hi: u32,
}

/// The 16-8-8 table of one IPv4 family.
#[derive(Debug, Clone)]
pub(crate) struct Table4 {
    top: Box<[u32; 1 << 16]>,
    mid: Vec<u32>,
    low: Vec<u32>,
    sparse: Vec<Sparse>,
    /// The last byte and the answer of the hosts of the sparse blocks.
    sparse_hosts: Vec<(u8, u32)>,
}

impl Table4 {
    /// The answer id of `key`.
    #[inline]
    pub(crate) fn lookup(&self, key: u32) -> u32 {
        let mid = self.top[(key >> 16) as usize] as usize;
        let entry = self.mid[(mid << 8) | ((key >> 8) & 0xff) as usize];
        if entry & SPARSE == 0 {
            return self.low[((entry as usize) << 8) | (key & 0xff) as usize];
        }
        let block = self.sparse[(entry & !SPARSE) as usize];
        let last = key as u8;
        for &(byte, id) in &self.sparse_hosts[block.lo as usize..block.hi as usize] {
            if byte == last {
                return id;
            }
        }
        block.base
    }

    /// The bytes of the tables.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        std::mem::size_of_val(&*self.top)
            + self.mid.capacity() * 4
            + self.low.capacity() * 4
            + self.sparse.capacity() * std::mem::size_of::<Sparse>()
            + self.sparse_hosts.capacity() * std::mem::size_of::<(u8, u32)>()
    }

    /// Compiles the intervals and hosts of `family` (which must answer
    /// every address) into the table.
    #[allow(clippy::expect_used)]
    pub(crate) fn build(family: &Family<u32>) -> Self {
        let mut b = TableBuilder {
            family,
            mid: Vec::new(),
            low: Vec::new(),
            sparse: Vec::new(),
            sparse_hosts: Vec::new(),
            uniform_low: HashMap::new(),
            uniform_mid: HashMap::new(),
        };
        let top: Vec<u32> = (0..1u32 << 16)
            .map(|hi16| {
                let lo = hi16 << 16;
                match b.uniform(lo, lo | 0xffff) {
                    Some(id) => b.uniform_mid(id),
                    None => {
                        let block: Vec<u32> = (0..BLOCK as u32).map(|b3| b.slash24(lo | (b3 << 8))).collect();
                        b.push_mid(&block)
                    }
                }
            })
            .collect();
        let top = top.into_boxed_slice().try_into().expect("one entry per /16"); // ok: 2^16 entries made above
        Self { top, mid: b.mid, low: b.low, sparse: b.sparse, sparse_hosts: b.sparse_hosts }
    }
}

struct TableBuilder<'f> {
    family: &'f Family<u32>,
    mid: Vec<u32>,
    low: Vec<u32>,
    sparse: Vec<Sparse>,
    sparse_hosts: Vec<(u8, u32)>,
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

    /// The `mid` entry of the /24 at `lo`.
    #[allow(clippy::expect_used)]
    fn slash24(&mut self, lo: u32) -> u32 {
        let hi = lo | 0xff;
        let entry = self.interval(lo, hi);
        if let Some(e) = entry.filter(|e| e & HAS_HOSTS == 0) {
            return self.uniform_low(e);
        }
        let hosts = &self.family.sorted_hosts;
        let first = hosts.partition_point(|&(k, _)| k < lo);
        let last = hosts.partition_point(|&(k, _)| k <= hi);
        if let Some(e) = entry.filter(|_| last - first <= SPARSE_MAX) {
            let fit = |n: usize| u32::try_from(n).expect("fewer than 2^32 hosts"); // ok: one per host fact
            let start = fit(self.sparse_hosts.len());
            self.sparse_hosts.extend(hosts[first..last].iter().map(|&(k, id)| (k as u8, id)));
            let n = fit(self.sparse.len());
            let n = Some(n).filter(|&n| n & SPARSE == 0).expect("fewer than 2^31 sparse blocks"); // ok: 2^24 /24s at most
            self.sparse.push(Sparse { base: e & !HAS_HOSTS, lo: start, hi: fit(self.sparse_hosts.len()) });
            return n | SPARSE;
        }
        let family = self.family;
        self.push_low((0..BLOCK as u32).map(|b4| family.lookup(lo | b4)))
    }
}
