//! The instances' digests: what clients read at each instance, over its general and its
//! compact keys alike, in key order.

use super::World;
use crate::engine::Digest;
use crate::model::keys::KeyId;

impl World {
    /// The digest of what clients read at instance `c`.
    pub fn instance_digest(&self, c: usize) -> u64 {
        self.digest_in_order(c, &self.ids_by_name())
    }

    /// [`World::instance_digest`] of every instance (the keys sorted once for all).
    pub fn instance_digests(&self) -> Vec<u64> {
        let ids = self.ids_by_name();
        (0..self.instances.len())
            .map(|c| self.digest_in_order(c, &ids))
            .collect()
    }

    /// Every key's id, in the order of the keys' names.
    fn ids_by_name(&self) -> Vec<KeyId> {
        let mut ids: Vec<KeyId> = (0..self.keys.len() as u32)
            .map(KeyId)
            .filter(|&id| self.keys.is_seen(id))
            .collect();
        ids.sort_unstable_by(|a, b| self.keys.name(*a).cmp(self.keys.name(*b)));
        ids
    }

    /// The digest of what clients read at instance `c` (geosim-digest-v1 over its live keys
    /// and their values, in key order), given every key id in name order: the shards hold
    /// disjoint key ranges, so the digest does not depend on the shard count.
    fn digest_in_order(&self, c: usize, ids: &[KeyId]) -> u64 {
        let inst = &self.instances[c];
        let mut d = Digest::new();
        let mut general = 0;
        for &id in ids {
            let name = self.keys.name(id);
            if let crate::model::keys::Cell::Compact(state) = self.keys.cell(id, c) {
                if state.is_live() {
                    d.bytes(name);
                    state.digest_visible(&mut d);
                }
                continue;
            }
            let shard = &inst.shards[inst.topo.shard_of_slot(self.keys.slot(id))];
            let Some(e) = shard.keyspace.entry(name) else {
                continue;
            };
            general += 1;
            if e.key_type().is_some() {
                d.bytes(name);
                e.digest_visible(&mut d);
            }
        }
        assert_eq!(
            general,
            inst.shards.iter().map(|s| s.keyspace.len()).sum::<usize>(),
            "every key an instance holds has an id"
        );
        d.value()
    }
}
