//! The divergence observer: keys whose member instances have not all applied the same writes
//! (different per-key vector clocks; an absent key has the zero clock), kept exactly at each
//! sample without scanning the keyspace. A key's state changes only when a write is applied
//! to it somewhere, and the world says with each change whether the key's row now disagrees
//! (`Observer::touched_with`, read while the row is in the cache), so the count follows every
//! change; every key is compared again, from the world's key-major rows, when membership
//! changes (and a plain `touched` marks a key for the next sample's look). Key ids index
//! everything here: no hashing.

use crate::crdt::VClock;
use crate::model::keys::KeyId;
use crate::model::metrics::Sample;
use crate::model::{Observer, World};

#[derive(Debug, Default)]
pub struct Divergence {
    /// Keys touched since the last refresh, each once (`pending` marks them).
    touched: Vec<KeyId>,
    /// By key id: in `touched`.
    pending: Vec<bool>,
    /// By key id: divergent as of the last refresh.
    divergent: Vec<bool>,
    count: u64,
    recheck_all: bool,
}

impl Divergence {
    /// Divergent keys as of the last refresh.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// The ids of the keys divergent as of the last refresh.
    pub(crate) fn divergent_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.divergent
            .iter()
            .enumerate()
            .filter(|(_, d)| **d)
            .map(|(i, _)| KeyId(i as u32))
    }

    /// Brings the divergent-key count up to date with `world`.
    pub(crate) fn refresh(&mut self, world: &World) {
        self.divergent.resize(world.key_count(), false);
        if std::mem::take(&mut self.recheck_all) {
            for i in 0..world.key_count() {
                self.recheck(world, KeyId(i as u32));
            }
        } else {
            for i in 0..self.touched.len() {
                let key = self.touched[i];
                self.recheck(world, key);
            }
        }
        for key in self.touched.drain(..) {
            self.pending[key.index()] = false;
        }
    }

    fn recheck(&mut self, world: &World, key: KeyId) {
        let now = is_divergent_by_id(world, key);
        let was = std::mem::replace(&mut self.divergent[key.index()], now);
        self.count = self.count + now as u64 - was as u64;
    }
}

/// Whether the member instances of the key with id `key` have not all applied the same
/// writes to it, from the world's key-major clock rows (no keyspace lookup).
pub(crate) fn is_divergent_by_id(world: &World, key: KeyId) -> bool {
    let mut first: Option<usize> = None;
    for c in 0..world.instances().len() {
        if !world.is_member(c) {
            continue;
        }
        match first {
            None => first = Some(c),
            Some(f) if !world.same_key_clock(key, f, c) => return true,
            Some(_) => {}
        }
    }
    false
}

/// Whether the member instances of `key` have not all applied the same writes to it, from
/// their keyspaces (an absent key has the zero clock).
pub(crate) fn is_divergent(world: &World, key: &[u8]) -> bool {
    let mut first: Option<Option<VClock>> = None;
    for c in 0..world.instances().len() {
        if !world.is_member(c) {
            continue;
        }
        let ctx = world
            .entry(c, key)
            .map(|e| e.ctx.clone())
            .filter(|v| v.entries().iter().any(|&x| x > 0));
        match &first {
            None => first = Some(ctx),
            Some(f) if *f != ctx => return true,
            Some(_) => {}
        }
    }
    false
}

/// The same figure by comparing every key held anywhere: O(keys), the oracle the
/// incremental count is tested against.
pub(crate) fn divergent_keys_by_scan(world: &World) -> u64 {
    let compact: Vec<&[u8]> = (0..world.instances().len())
        .flat_map(|c| world.compact_keys(c, None))
        .map(|id| world.key_name(id))
        .collect();
    let keys: std::collections::BTreeSet<&[u8]> = world
        .instances()
        .iter()
        .flat_map(|c| c.shards.iter())
        .flat_map(|s| s.keyspace.iter().map(|(k, _)| &k[..]))
        .chain(compact)
        .collect();
    keys.into_iter().filter(|k| is_divergent(world, k)).count() as u64
}

impl Observer for Divergence {
    fn touched(&mut self, key: KeyId) {
        let i = key.index();
        if i >= self.pending.len() {
            self.pending.resize(i + 1, false);
        }
        if !std::mem::replace(&mut self.pending[i], true) {
            self.touched.push(key);
        }
    }

    /// The key's status is known now: the count follows it at once (no second look at the
    /// key when the sample is taken).
    fn touched_with(&mut self, key: KeyId, divergent: bool) {
        let i = key.index();
        if i >= self.divergent.len() {
            self.divergent.resize(i + 1, false);
        }
        let was = std::mem::replace(&mut self.divergent[i], divergent);
        self.count = self.count + divergent as u64 - was as u64;
    }

    fn membership_changed(&mut self) {
        self.recheck_all = true;
    }

    fn sample(&mut self, world: &World, sample: &mut Sample) {
        self.refresh(world);
        sample.divergent_keys = match world.key_sample() {
            None => self.count(),
            // A sampled run: the estimate over the whole keyspace.
            Some(ks) => {
                let per_kind = world.generated_keys_per_kind();
                self.divergent_ids()
                    .map(|id| ks.weight_of_name(world.key_name(id), per_kind))
                    .sum()
            }
        };
    }

    fn finish(&mut self, world: &World) {
        self.refresh(world);
    }
}
