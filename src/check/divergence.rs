//! The divergence observer: keys whose member instances have not all applied the same writes
//! (different per-key vector clocks; an absent key has the zero clock), kept exactly at each
//! sample without scanning the keyspace. A key's state changes only when a write is applied
//! to it somewhere, so only the keys touched since the last sample are compared again (plus
//! every key when membership changes). Only the count reaches output, so the sets' hash
//! order cannot.

use crate::crdt::VClock;
use crate::crdt::keyspace::Key;
use crate::engine::fxhash::FxBuild;
use crate::model::metrics::Sample;
use crate::model::{Observer, World};
// HashSet only for the key sets: looked up and drained, and only their sizes reach output.
use std::collections::HashSet;

#[derive(Debug, Default)]
pub struct Divergence {
    // Drained in hash order, but each key's outcome is independent of the others'.
    touched: HashSet<Key, FxBuild>,
    // Only its length is read.
    divergent: HashSet<Key, FxBuild>,
    recheck_all: bool,
}

impl Divergence {
    /// Divergent keys as of the last refresh.
    pub(crate) fn count(&self) -> u64 {
        self.divergent.len() as u64
    }

    /// Brings the divergent-key set up to date with `world`.
    pub(crate) fn refresh(&mut self, world: &World) {
        let mut touched = std::mem::take(&mut self.touched);
        if std::mem::take(&mut self.recheck_all) {
            self.divergent.clear();
            for inst in world.instances() {
                for sh in &inst.shards {
                    touched.extend(sh.keyspace.iter().map(|(k, _)| k.clone()));
                }
            }
        }
        for k in touched.drain() {
            if is_divergent(world, &k) {
                self.divergent.insert(k);
            } else {
                self.divergent.remove(&k);
            }
        }
        // Keep the allocation: the next interval touches about as many keys.
        self.touched = touched;
    }
}

/// Whether the member instances of `key` have not all applied the same writes to it.
pub(crate) fn is_divergent(world: &World, key: &[u8]) -> bool {
    let mut first: Option<Option<&VClock>> = None;
    // One CRC16 per key, not per instance: every instance maps the slot to its own shard.
    let slot = crate::redis::slot::key_slot(key);
    for (c, inst) in world.instances().iter().enumerate() {
        if !world.is_member(c) {
            continue;
        }
        let ctx = inst.shards[inst.topo.shard_of_slot(slot)]
            .keyspace
            .entry(key)
            .map(|e| &e.ctx)
            .filter(|v| v.entries().iter().any(|&x| x > 0));
        match first {
            None => first = Some(ctx),
            Some(f) if f != ctx => return true,
            Some(_) => {}
        }
    }
    false
}

/// The same figure by comparing every key held anywhere: O(keys), the oracle the
/// incremental count is tested against.
pub(crate) fn divergent_keys_by_scan(world: &World) -> u64 {
    let keys: std::collections::BTreeSet<&[u8]> = world
        .instances()
        .iter()
        .flat_map(|c| c.shards.iter())
        .flat_map(|s| s.keyspace.iter().map(|(k, _)| &k[..]))
        .collect();
    keys.into_iter().filter(|k| is_divergent(world, k)).count() as u64
}

impl Observer for Divergence {
    fn touched(&mut self, key: &[u8]) {
        if !self.touched.contains(key) {
            self.touched.insert(key.into());
        }
    }

    fn membership_changed(&mut self) {
        self.recheck_all = true;
    }

    fn sample(&mut self, world: &World, sample: &mut Sample) {
        self.refresh(world);
        sample.divergent_keys = self.count();
    }

    fn finish(&mut self, world: &World) {
        self.refresh(world);
    }
}
