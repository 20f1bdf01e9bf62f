//! Compact keys in the world: the direct paths of a generated workload's writes and applies
//! on keys held compact in the key directory (`crdt::keyspace::compact`), turning keys
//! general before anything else touches them, and the views that show compact keys as
//! entries (digests, reads, snapshots, checks).
//!
//! The rule that keeps this exact: while instance `c` holds a key compact, its shard's
//! keyspace has no entry for it, and only the direct write and apply below change it; every
//! other path turns it general first ([`World::spill`]) or reads it through
//! [`World::entry`]. A general key is held compact again by the next direct write or apply
//! that finds its entry in a compact shape. Debug builds check every direct change against
//! the general apply of the same op.

use std::borrow::Cow;

use super::{Event, World};
use crate::crdt::Value;
use crate::crdt::keyspace::compact::{Clock3, Compact, CompactApplied, CompactKind, CompactOp};
use crate::crdt::{Applied, Entry, Keyspace};
use crate::engine::Scheduler;
use crate::model::keys::{Cell, KeyId};
use crate::model::syncer::StreamOp;
use crate::redis::{self, Cmd};

impl World {
    /// Whether a world of this configuration may hold keys compact: at most three
    /// instances (a compact clock has three entries), no causal consistency (ops may wait
    /// in the keyspace), and no eviction (it samples keys in their keyspace's order).
    pub(super) fn compact_eligible(cfg: &crate::model::config::WorldConfig) -> bool {
        cfg.compact_keys
            && cfg.clusters.len() <= 3
            && !cfg.causal_consistency
            && cfg
                .clusters
                .iter()
                .all(|c| c.eviction == crate::model::memory::EvictionPolicy::NoEviction)
    }

    /// How many (key, instance) pairs are held compact now.
    pub fn compact_cells(&self) -> usize {
        (0..self.keys.len() as u32)
            .map(KeyId)
            .flat_map(|id| (0..self.instances.len()).map(move |c| (id, c)))
            .filter(|&(id, c)| matches!(self.keys.cell(id, c), Cell::Compact(_)))
            .count()
    }

    /// The entry of `key` at instance `c`, whether its shard's keyspace holds it or it is
    /// held compact.
    pub(crate) fn entry(&self, c: usize, key: &[u8]) -> Option<Cow<'_, Entry>> {
        if let Some(id) = self.keys.id_of(key)
            && let Cell::Compact(state) = self.keys.cell(id, c)
        {
            return Some(Cow::Owned(state.to_entry(key, self.instances.len())));
        }
        self.instances[c].general_entry(key).map(Cow::Borrowed)
    }

    /// The keys instance `c` holds compact (of shard `shard` only, if given), by id.
    pub(crate) fn compact_keys(&self, c: usize, shard: Option<usize>) -> Vec<KeyId> {
        if !self.keys.compact() {
            return Vec::new();
        }
        let topo = &self.instances[c].topo;
        (0..self.keys.len() as u32)
            .map(KeyId)
            .filter(|&id| matches!(self.keys.cell(id, c), Cell::Compact(_)))
            .filter(|&id| shard.is_none_or(|s| topo.shard_of_slot(self.keys.slot(id)) == s))
            .collect()
    }

    /// The entries of the keys instance `c` holds compact (of shard `shard` only, if given).
    pub(super) fn compact_entries(&self, c: usize, shard: Option<usize>) -> Vec<(KeyId, Entry)> {
        let n = self.instances.len();
        self.compact_keys(c, shard)
            .into_iter()
            .map(|id| {
                let Cell::Compact(state) = self.keys.cell(id, c) else {
                    unreachable!("listed as compact")
                };
                (id, state.to_entry(self.keys.name(id), n))
            })
            .collect()
    }

    /// Turns key `id` general at instance `c` (its entry goes into its shard's keyspace).
    pub(super) fn spill(&mut self, id: KeyId, c: usize) {
        if !self.keys.compact() {
            return;
        }
        let n = self.instances.len();
        let slot = self.keys.slot(id);
        let (name, cell) = self.keys.name_and_cell(id, c);
        let ctx = match cell {
            Cell::Compact(state) => *state.ctx(),
            Cell::General { .. } => return,
        };
        let Cell::Compact(state) = std::mem::replace(cell, Cell::General { unfit: 0, ctx }) else {
            unreachable!("matched as compact")
        };
        let inst = &mut self.instances[c];
        let shard = &mut inst.shards[inst.topo.shard_of_slot(slot)];
        let entry = state.to_entry(name, n);
        shard.compact_bytes -= entry.size();
        shard.compact_live -= u64::from(state.is_live());
        shard.keyspace.insert_entry(name, entry);
    }

    /// Turns every key that instance `c` holds compact in `shard` (all shards: `None`)
    /// general.
    pub(super) fn spill_shard(&mut self, c: usize, shard: Option<usize>) {
        for id in self.compact_keys(c, shard) {
            self.spill(id, c);
        }
    }

    /// Turns `key` general at instance `c`, if it has an id.
    pub(super) fn spill_named(&mut self, key: &[u8], c: usize) {
        if self.keys.compact()
            && let Some(id) = self.keys.id_of(key)
        {
            self.spill(id, c);
        }
    }

    /// Merges into instance `dst` the snapshot's entries of keys it holds compact (or
    /// holds nothing of) whose merged state is compact too, in place; turns general those
    /// whose merged state is not. Returns, by key id, which were merged (interning the
    /// snapshot's keys, in its order).
    pub(super) fn merge_compact(&mut self, dst: usize, snapshot: &Keyspace) -> Vec<bool> {
        let mut merged = Vec::new();
        let n = self.instances.len();
        for (k, theirs) in snapshot.iter() {
            let id = self.keys.intern(k);
            if !self.keys.compact() {
                continue;
            }
            let shard = self.instances[dst].topo.shard_of_slot(self.keys.slot(id));
            if !self.instances[dst].shards[shard].allows_compact() {
                continue;
            }
            let (mut mine, before) = match self.keys.cell(id, dst) {
                Cell::Compact(state) => (state.to_entry(k, n), Some(state.clone())),
                Cell::General { unfit, .. }
                    if *unfit < Cell::STAYS_GENERAL
                        && self.instances[dst].shards[shard]
                            .keyspace
                            .entry(k)
                            .is_none() =>
                {
                    (Entry::empty(n), None)
                }
                Cell::General { .. } => continue,
            };
            mine.merge(theirs);
            match Compact::from_entry(&mine) {
                Some(next) => {
                    self.commit_compact(dst, shard, id, before.as_ref(), next);
                    if merged.len() <= id.index() {
                        merged.resize(self.keys.len(), false);
                    }
                    merged[id.index()] = true;
                }
                None => self.spill(id, dst),
            }
        }
        merged.resize(self.keys.len(), false);
        merged
    }

    /// The compact state of key `id` at instance `c` (shard `shard`) that an op of `kind`
    /// starts from: its compact state; for a general key with no entry, the empty state
    /// (`None` beside it: the key has no entry yet); for a general key whose entry has a
    /// compact form, that form, taken out of the keyspace. `None` when the key stays general.
    fn compact_state(
        &mut self,
        c: usize,
        shard: usize,
        id: KeyId,
        kind: &CompactKind,
    ) -> Option<(Compact, bool)> {
        match self.keys.cell(id, c) {
            Cell::Compact(state) => return Some((state.clone(), true)),
            Cell::General { unfit, .. } if *unfit >= Cell::STAYS_GENERAL => return None,
            Cell::General { .. } => {}
        }
        let name = self.keys.name(id);
        let sh = &mut self.instances[c].shards[shard];
        let Some(entry) = sh.keyspace.entry(name) else {
            return Some((Compact::empty_for(kind), false));
        };
        let Some(state) = Compact::from_entry(entry) else {
            self.unfit(id, c);
            return None;
        };
        let entry = sh.keyspace.take_entry(name).expect("present");
        sh.compact_bytes += entry.size();
        sh.compact_live += u64::from(state.is_live());
        *self.keys.cell_mut(id, c) = Cell::Compact(state.clone());
        Some((state, true))
    }

    /// Key `id` at instance `c` was found in a shape with no compact form by a direct write
    /// or apply: it is turned general, and counted (see [`Cell::STAYS_GENERAL`]).
    fn unfit(&mut self, id: KeyId, c: usize) {
        self.spill(id, c);
        if let Cell::General { unfit, .. } = self.keys.cell_mut(id, c) {
            *unfit = unfit.saturating_add(1);
        }
    }

    /// Commits `next` as key `id`'s compact state at instance `c` (shard `shard`), which was
    /// `before` (`None`: nothing held).
    fn commit_compact(
        &mut self,
        c: usize,
        shard: usize,
        id: KeyId,
        before: Option<&Compact>,
        next: Compact,
    ) {
        // The key's name is read only when the key starts or stops counting (a live key's
        // bytes include its name's length; the difference of two does not).
        let was_live = before.is_some_and(Compact::is_live);
        let key_len = if was_live == next.is_live() {
            0
        } else {
            self.keys.name(id).len()
        };
        let sh = &mut self.instances[c].shards[shard];
        if let Some(b) = before {
            sh.compact_bytes -= b.bytes(key_len);
            sh.compact_live -= u64::from(was_live);
        }
        sh.compact_bytes += next.bytes(key_len);
        sh.compact_live += u64::from(next.is_live());
        *self.keys.cell_mut(id, c) = Cell::Compact(next);
    }

    /// In debug builds (the tests), checks a direct apply of `op` to `before` (`None`:
    /// nothing held) against the general apply to the entry it stands for.
    fn debug_check_direct(
        &self,
        id: KeyId,
        before: Option<&Compact>,
        op: &CompactOp,
        next: &Compact,
    ) {
        if cfg!(debug_assertions) {
            let n = self.instances.len();
            let name = self.keys.name(id);
            let mut ks = Keyspace::new(n);
            if let Some(b) = before {
                ks.insert_entry(name, b.to_entry(name, n));
            }
            ks.apply(&op.to_op(name));
            assert_eq!(
                ks.entry(name),
                Some(&next.to_entry(name, n)),
                "a direct apply gives the general apply's entry"
            );
        }
    }

    /// A generated `SET` of a generated value or `INCR` on key `id` (of shard `shard` at
    /// cluster `c`, already admitted), written directly to its compact state: the reply, or
    /// `None` when the key is or becomes general (the caller runs the general path).
    pub(super) fn write_compact(
        &mut self,
        c: usize,
        shard: usize,
        (id, slot): (KeyId, u16),
        cmd: &redis::Command,
        q: &mut Scheduler<Event>,
    ) -> Option<redis::Reply> {
        let kind = match (cmd.cmd, &cmd.args[..]) {
            (Cmd::Set, [_, Value::Synthetic { len, tag }]) => CompactKind::Set {
                len: *len,
                tag: *tag,
            },
            (Cmd::Incr, [_]) => CompactKind::Incr { int: 1 },
            _ => return None,
        };
        self.keys.warm_row(id);
        let (state, held) = self.compact_state(c, shard, id, &kind)?;
        let reply = match kind {
            CompactKind::Set { .. } => redis::Reply::ok(),
            CompactKind::Incr { int } => {
                if state.is_string() {
                    self.unfit(id, c);
                    return None;
                }
                let current = state.counter().unwrap_or(0);
                // An overflow is refused by the general path, with its error.
                redis::Reply::Int(redis::exec::check_counter(current, int).ok()?)
            }
        };
        let cx = self.instances[c].context(c, q.now(), self.cfg.xadd_mode);
        let mut vc: Clock3 = *state.ctx();
        vc[c] = vc[c].checked_add(1)?;
        let op = CompactOp {
            origin: c as u8,
            vc,
            ts: cx.now_ms,
            annotation: cx.annotation,
            kind,
        };
        let mut next = state.clone();
        if next.apply(&op) != CompactApplied::Applied {
            self.unfit(id, c);
            return None;
        }
        let before = held.then_some(state);
        self.debug_check_direct(id, before.as_ref(), &op, &next);
        self.commit_compact(c, shard, id, before.as_ref(), next);
        self.instances[c].counters.writes += 1;
        let large = cmd.large_pieces();
        self.replicate_compact(c, shard, (id, slot), op, (cmd.stream_bytes(), &large), q);
        Some(reply)
    }

    /// [`World::replicate`] of a direct write.
    fn replicate_compact(
        &mut self,
        c: usize,
        shard_idx: usize,
        (id, slot): (KeyId, u16),
        op: CompactOp,
        bytes: (u64, &[(u64, u64)]),
        q: &mut Scheduler<Event>,
    ) {
        let now = q.now();
        self.observer
            .acknowledged_compact(c, crate::model::keys::KeyRef::new(id, &self.keys), &op);
        self.notify_touched(id);
        if self.tracer.is_some() {
            let op = op.to_op(self.keys.name(id));
            super::super::trace::local_op(&mut self.tracer, c, &op, now);
        }
        let item = StreamOp::compact(op, now, slot, id);
        let appended = self.instances[c].shards[shard_idx].append_item(item, bytes, 0);
        self.ship_to_peers(c, shard_idx, appended, q);
    }

    /// Applies a replicated op directly to key `id`'s compact state at instance `dst`
    /// (shard `shard`): what it did, or `None` when the key is or becomes general (the
    /// caller applies it the general way). Observers see it as they see a general apply.
    pub(super) fn apply_compact(
        &mut self,
        dst: usize,
        shard: usize,
        id: KeyId,
        op: &CompactOp,
    ) -> Option<Applied> {
        let (state, held) = self.compact_state(dst, shard, id, &op.kind)?;
        let mut next = state.clone();
        let applied = next.apply(op);
        if applied == CompactApplied::Spill {
            self.unfit(id, dst);
            return None;
        }
        let before = held.then_some(state);
        let key = crate::model::keys::KeyRef::new(id, &self.keys);
        self.observer
            .before_apply_compact(dst, key, before.as_ref(), op);
        if self.tracer.is_some() {
            let n = self.instances.len();
            let name = self.keys.name(id);
            let entry = before.as_ref().map(|b| b.to_entry(name, n));
            let general = op.to_op(name);
            super::super::trace::contention(&mut self.tracer, entry.as_ref(), &general);
        }
        if applied == CompactApplied::Duplicate {
            self.notify_touched(id);
            return Some(Applied::Duplicate);
        }
        self.debug_check_direct(id, before.as_ref(), op, &next);
        self.commit_compact(dst, shard, id, before.as_ref(), next);
        self.notify_touched(id);
        Some(Applied::Applied)
    }
}
