//! Garbage collection of removal history (tombstones): a key's history goes once every
//! instance has observed all of it (equal key clocks), at all instances at once. Runs every
//! `GC_INTERVAL` while some history is pending.

use std::collections::BTreeSet;

use super::instance::Instance;
use crate::crdt::keyspace::Key;
use crate::engine::SimDuration;

/// How often tombstone garbage collection runs while removal history is pending (Redis's GC
/// period is not documented; chosen here).
pub(crate) const GC_INTERVAL: SimDuration = SimDuration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct Gc {
    /// Keys that had a removal and have not been collected: where tombstones live.
    removal_keys: BTreeSet<Key>,
    scheduled: bool,
    /// Tombstones collected so far (all instances).
    collected: u64,
}

impl Gc {
    /// A removal was applied to `key`; `true` if a pass must be scheduled.
    pub(crate) fn removal(&mut self, key: &Key) -> bool {
        self.removal_keys.insert(key.clone());
        !std::mem::replace(&mut self.scheduled, true)
    }

    /// The scheduled pass is running (nothing is scheduled any more).
    pub(crate) fn due(&mut self) {
        self.scheduled = false;
    }

    /// Asks for a pass; `true` if one must be scheduled.
    pub(crate) fn want(&mut self) -> bool {
        !std::mem::replace(&mut self.scheduled, true)
    }

    pub(crate) fn collected(&self) -> u64 {
        self.collected
    }

    /// Keys that may hold tombstones, in key order.
    pub(crate) fn removal_keys(&self) -> impl Iterator<Item = &Key> {
        self.removal_keys.iter()
    }

    /// One pass over `instances`; returns how many keys still hold history. A snapshot in
    /// flight (`snapshot_in_flight`) holds old history; collecting then would only see it
    /// return, so the pass waits.
    /// `member[c]`: whether instance `c` holds data that must converge. Only members are
    /// compared and collected: an instance not added yet or removed never sees the
    /// tombstones, and would otherwise hold back every collection for good (found by
    /// `geosim hunt` once it drew joins and removals).
    pub(crate) fn pass(
        &mut self,
        instances: &mut [Instance],
        member: &[bool],
        snapshot_in_flight: bool,
    ) -> usize {
        if snapshot_in_flight {
            return 1;
        }
        let mut keys = BTreeSet::new();
        for (_, c) in instances.iter_mut().enumerate().filter(|(i, _)| member[*i]) {
            for s in &mut c.shards {
                keys.extend(s.keyspace.keys_with_tombstones());
            }
        }
        let mut left = 0;
        for key in keys {
            let ctx = |c: &Instance| {
                c.general_entry(&key)
                    .map(|e| e.ctx.clone())
                    .unwrap_or_default()
            };
            let mut members = instances.iter().enumerate().filter(|(i, _)| member[*i]);
            let Some((_, first)) = members.next() else {
                continue;
            };
            let first = ctx(first);
            if !members.all(|(_, c)| ctx(c) == first) {
                left += 1;
                continue;
            }
            for (_, c) in instances.iter_mut().enumerate().filter(|(i, _)| member[*i]) {
                let shard = c.topo.shard_of_key(&key);
                let sh = &mut c.shards[shard];
                let before = sh
                    .keyspace
                    .entry(&key)
                    .map(|e| e.tombstones().0)
                    .unwrap_or(0);
                sh.keyspace.collect_garbage(&key);
                sh.record_gc(&key);
                let after = sh
                    .keyspace
                    .entry(&key)
                    .map(|e| e.tombstones().0)
                    .unwrap_or(0);
                self.collected += before.saturating_sub(after);
            }
            self.removal_keys.remove(&key);
        }
        left
    }
}
