//! The world's housekeeping: making room under a memory limit (eviction), the owners'
//! active expiry, and garbage collection of removal history.

use super::{Event, World};
use crate::engine::Scheduler;
use crate::model::syncer::Session;
use crate::redis;

impl World {
    /// Evicts per the cluster's policy while the shard is past the threshold; returns
    /// whether the shard is below its limit (a write or a replicated op may go ahead).
    pub(super) fn make_room(&mut self, c: usize, shard: usize, q: &mut Scheduler<Event>) -> bool {
        // Bounded: each round deletes a key or stops.
        for _ in 0..10_000 {
            if !self.instances[c].wants_eviction(shard) {
                break;
            }
            let xadd = self.cfg.xadd_mode;
            let Some(effects) = self.instances[c].evict_one(c, shard, q.now(), xadd) else {
                break;
            };
            for e in &effects {
                self.observer.database_effect(c, &e.op);
            }
            self.replicate_all(c, shard, effects.into_iter(), (None, None), q);
        }
        self.instances[c].has_room(shard)
    }

    /// The owner's active expiry at cluster `c`: deletes the keys whose `EXPIRE` it owns and
    /// that have passed, and replicates the deletes.
    pub fn expire_pass(&mut self, c: usize, q: &mut Scheduler<Event>) {
        let cx = self.instances[c].context(c, q.now(), self.cfg.xadd_mode);
        for shard_idx in 0..self.instances[c].shards.len() {
            let effects =
                redis::expire_owned(&mut self.instances[c].shards[shard_idx].keyspace, &cx);
            for e in &effects {
                self.observer.database_effect(c, &e.op);
            }
            self.replicate_all(c, shard_idx, effects.into_iter(), (None, None), q);
        }
    }

    /// One garbage-collection pass; returns how many keys still hold history.
    pub fn gc_pass(&mut self) -> usize {
        // Garbage collection compares and changes keys with removal history the general
        // way: they are general everywhere first.
        let mut keys: Vec<crate::crdt::keyspace::Key> = self.gc.removal_keys().cloned().collect();
        for c in &mut self.instances {
            for s in &mut c.shards {
                keys.extend(s.keyspace.keys_with_tombstones());
            }
        }
        for k in &keys {
            for c in 0..self.instances.len() {
                self.spill_named(k, c);
            }
        }
        let in_flight = self.sessions.iter().any(Session::in_full_sync);
        let member: Vec<bool> = (0..self.instances.len())
            .map(|c| self.members.holds_data(c))
            .collect();
        self.gc.pass(&mut self.instances, &member, in_flight)
    }

    /// Tombstones held by instance `c`: (count, estimated bytes).
    pub fn tombstones(&self, c: usize) -> (u64, u64) {
        self.instances[c].tombstones()
    }

    /// Tombstones collected so far, all instances.
    pub fn tombstones_collected(&self) -> u64 {
        self.gc.collected()
    }
}
