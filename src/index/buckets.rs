//! A hash table of 32-bit tags to 32-bit values, looked up without a
//! data-dependent branch.
//!
//! Each bucket is one 64-byte cache line of up to [`SLOTS`] entries, and a
//! lookup compares all of them with selects rather than stopping at the
//! first match, so that a stream of lookups of which some hit and some miss
//! costs no mispredictions: the CPU keeps several lookups in flight, which
//! is what hides the cache misses of a table larger than L2. A full bucket
//! spills into the next ones and says so; only a lookup that finds nothing
//! in a spilled bucket looks further (rare at the load factor chosen).

/// Entries per bucket: 7 tags, 7 values, a length and a spill flag fill
/// one cache line.
const SLOTS: usize = 7;
/// Entries per bucket on average, at most: a bucket then spills rarely
/// (under 2% of them, for hashed keys).
const LOAD: usize = 3;

#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Bucket {
    tags: [u32; SLOTS],
    values: [u32; SLOTS],
    len: u32,
    /// Set when an entry of this bucket, or of one before it, went on.
    spilled: u32,
}

/// The table; `find` takes the hash that picks the bucket and the tag
/// that must match (both from one hash of an IPv6 address, whose lookup
/// then checks the address the value points at).
#[derive(Debug, Clone, Default)]
pub(crate) struct Buckets {
    buckets: Vec<Bucket>,
}

impl Buckets {
    /// A table of `entries` `(hash, tag, value)`; tags must be unique.
    pub(crate) fn new(entries: &[(u32, u32, u32)]) -> Self {
        let count = entries.len().div_ceil(LOAD).max(1);
        let mut buckets = vec![Bucket::default(); count];
        for &(hash, tag, value) in entries {
            let mut at = bucket_of(hash, count);
            while buckets[at].len as usize == SLOTS {
                buckets[at].spilled = 1;
                at = (at + 1) % count;
            }
            let b = &mut buckets[at];
            b.tags[b.len as usize] = tag;
            b.values[b.len as usize] = value;
            b.len += 1;
        }
        Self { buckets }
    }

    /// The value of `tag`, looked up in the bucket `hash` picks.
    #[inline(always)]
    #[allow(clippy::expect_used)]
    pub(crate) fn find(&self, hash: u32, tag: u32) -> Option<u32> {
        let count = self.buckets.len();
        let mut at = bucket_of(hash, count);
        for _ in 0..count {
            let b = self.buckets.get(at).expect("bucket_of stays below the count"); // ok: fastrange
            let mut found = None;
            for i in 0..SLOTS {
                let hit = (i < b.len as usize) & (b.tags[i] == tag);
                found = if hit { Some(b.values[i]) } else { found };
            }
            if found.is_some() || b.spilled == 0 {
                return found;
            }
            at = (at + 1) % count;
        }
        None
    }

    /// Whether each of `entries` is what a lookup of its own hash and tag
    /// finds: false when two tags in one bucket (or chain of spilled ones)
    /// are equal, which hashed tags may be.
    pub(crate) fn finds_each(&self, entries: &[(u32, u32, u32)]) -> bool {
        entries.iter().all(|&(hash, tag, value)| self.find(hash, tag) == Some(value))
    }

    /// How many buckets spilled into the next.
    #[cfg(test)]
    pub(crate) fn spilled(&self) -> usize {
        self.buckets.iter().filter(|b| b.spilled != 0).count()
    }
}

/// The bucket of `hash` among `count`: the high bits of `hash * count`,
/// which spreads any count evenly without a division.
#[inline(always)]
fn bucket_of(hash: u32, count: usize) -> usize {
    ((u64::from(hash) * count as u64) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::Buckets;

    #[test]
    fn finds_every_entry_and_nothing_else_also_past_full_buckets() {
        // 40 entries in the bucket of hash 0: they spill over five more.
        let crowded: Vec<(u32, u32, u32)> = (0..40).map(|i| (0, 1000 + i, i)).collect();
        let spread: Vec<(u32, u32, u32)> =
            (0..100u32).map(|i| (i.wrapping_mul(0x9e37_79b9), 5000 + i, 100 + i)).collect();
        for entries in [crowded, spread, Vec::new()] {
            let table = Buckets::new(&entries);
            assert!(table.finds_each(&entries));
            for &(hash, tag, _) in &entries {
                assert_eq!(table.find(hash, tag + 1_000_000), None);
            }
            assert_eq!(table.find(0, 7), None);
        }
    }

    #[test]
    fn says_when_equal_tags_share_a_bucket() {
        let entries = [(0, 7, 1), (0, 7, 2), (0, 8, 3)];
        assert!(!Buckets::new(&entries).finds_each(&entries));
        assert!(Buckets::new(&entries[1..]).finds_each(&entries[1..]));
    }
}
