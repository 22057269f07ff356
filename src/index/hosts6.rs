//! Finding an IPv6 host among the sorted host addresses: a bitmap of the
//! /16s that hold hosts, then the branch-free bucketed hash table of
//! `buckets.rs`, whose answer is checked against the address itself.

use super::buckets::Buckets;

/// The probe over one family's sorted IPv6 host addresses (which it does
/// not own: `Family` keeps them, for range queries too).
#[derive(Debug, Clone, Default)]
pub(crate) struct HostProbe {
    /// Where each host is among the sorted addresses, by hash.
    positions: Buckets,
    /// Set when `positions` may point a host's lookup at another host
    /// (equal hashed tags): then an address it does not confirm is
    /// searched for.
    tags_collide: bool,
    /// One bit per /16 (the top 16 bits), set where hosts are: a lookup
    /// elsewhere, as most unknown addresses are, skips `positions`.
    prefixes: Vec<u64>,
}

impl HostProbe {
    /// The probe of `keys`, sorted and unique.
    pub(crate) fn new(keys: &[u128]) -> Self {
        let entries: Vec<(u32, u32, u32)> = (0u32..)
            .zip(keys)
            .map(|(at, &key)| {
                let (bucket, tag) = hash(key);
                (bucket, tag, at)
            })
            .collect();
        let positions = Buckets::new(&entries);
        let tags_collide = !positions.finds_each(&entries);
        let mut prefixes = vec![0u64; (1 << 16) / 64];
        for &key in keys {
            let top = (key >> 112) as usize;
            prefixes[top / 64] |= 1 << (top % 64);
        }
        Self { positions, tags_collide, prefixes }
    }

    /// Where `key` is in `keys` (those the probe was made of), if there.
    #[inline(always)]
    pub(crate) fn position(&self, key: u128, keys: &[u128]) -> Option<u32> {
        // Skipping outside the /16s with hosts costs a misprediction now
        // and then, but keeps an unknown address as cheap as with no hosts.
        let top = (key >> 112) as usize;
        let has_hosts = self.prefixes.get(top / 64).is_some_and(|bits| bits >> (top % 64) & 1 == 1);
        if !has_hosts {
            return None;
        }
        let (bucket, tag) = hash(key);
        let position = self.positions.find(bucket, tag).unwrap_or(0);
        if keys.get(position as usize) == Some(&key) {
            return Some(position);
        }
        if !self.tags_collide {
            return None;
        }
        keys.binary_search(&key).ok().and_then(|at| u32::try_from(at).ok())
    }

    /// Makes every lookup miss the hash table, as if all tags collided.
    #[cfg(test)]
    pub(crate) fn colliding(keys: &[u128]) -> Self {
        Self { positions: Buckets::new(&[]), tags_collide: true, ..Self::new(keys) }
    }

    /// Whether lookups may fall back to a binary search.
    #[cfg(test)]
    pub(crate) fn tags_collide(&self) -> bool {
        self.tags_collide
    }

    /// How many buckets spilled into the next.
    #[cfg(test)]
    pub(crate) fn spilled(&self) -> usize {
        self.positions.spilled()
    }
}

/// The bucket hash and the tag of an IPv6 host address (a multiply-fold:
/// addresses come from the topology, not from whoever is looked up).
#[inline(always)]
fn hash(key: u128) -> (u32, u32) {
    let (lo, hi) = (key as u64, (key >> 64) as u64);
    let product = u128::from(lo ^ 0x9e37_79b9_7f4a_7c15) * u128::from(hi ^ 0xf39c_c060_5ced_c835);
    // The last term spreads the keys for which a factor is zero.
    let folded = (product as u64) ^ ((product >> 64) as u64) ^ lo.wrapping_add(hi).wrapping_mul(0xd6e8_feb8_6659_fd93);
    ((folded >> 32) as u32, folded as u32)
}
