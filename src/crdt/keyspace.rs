//! An instance's keyspace (or one shard's part of it): keys with their causal context and
//! their CRDT values. Replicated ops are applied here; full-sync states are merged here.
//!
//! A key's entry holds a part for every data type, so that writes of different types that
//! were concurrent converge; a read shows the live type whose latest write has the latest
//! timestamp (docs silent on type conflicts; chosen here, see `docs/semantics.md`).

use std::cmp::Reverse;
// HashMap only for `Keyspace::entries`: looked up by key, and iterated only sorted or into
// order-independent integer sums, so its order never reaches events, output or digests.
use std::collections::{BTreeMap, HashMap};

use crate::engine::fxhash::FxBuild;

use super::clock::{Dot, InstanceId, VClock};
use super::hll::{HllAdd, HllCrdt};
use super::json::{Edit as JsonEdit, JsonCrdt};
use super::list::{ElemId, Insert, ListCrdt};
use super::scalar::{Reg, Scalar, Total};
use super::stream::{GroupOp, GroupOpKind, StreamCrdt, StreamEntry, StreamId};
use super::value::{Value, format_float};
use crate::engine::Digest;

pub use super::key::Key;

mod apply;
pub mod compact;
mod entry;
mod history;
mod op;
#[cfg(test)]
mod tests;

pub use entry::*;
pub use op::*;

/// A set of keys with CRDT values. Keys are kept sorted, so iteration (digests, snapshots)
/// is deterministic.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyspace {
    instances: usize,
    /// Sum of `entry_bytes` over the entries, kept up to date.
    bytes: u64,
    /// Every key in insertion order (entries are never removed), for O(1) random sampling.
    order: Vec<Key>,
    /// Looked up by key on every op; never iterated without sorting first (see
    /// [`Keyspace::iter`]), so the map's own order cannot reach any output.
    /// Entries are boxed: a bucket is then 24 bytes, so when the table doubles its capacity
    /// (at 7/8 load) the empty half costs 24 bytes a slot, not the entry's 464.
    entries: HashMap<Key, Box<Entry>, FxBuild>,
    /// Causal consistency: ops waiting for an op their origin had observed.
    causal: bool,
    waiting: BTreeMap<Key, Vec<Op>>,
    /// Which keys hold removal history, kept as entries change (see [`history`]).
    history: history::HistoryIndex,
}

impl Keyspace {
    pub fn new(instances: usize) -> Self {
        Keyspace {
            instances,
            bytes: 0,
            order: Vec::new(),
            entries: HashMap::default(),
            causal: false,
            waiting: BTreeMap::new(),
            history: history::HistoryIndex::default(),
        }
    }

    /// Turns causal consistency on: an op is applied only after every op on the same key
    /// that its origin had observed (off by default, as in Redis \[CAUSAL\]).
    pub fn with_causal_consistency(mut self, on: bool) -> Self {
        self.causal = on;
        self
    }

    pub fn instances(&self) -> usize {
        self.instances
    }

    /// Keys a client could see (ignoring expiry), counted without sorting.
    pub fn live_count(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.key_type().is_some())
            .count()
    }

    /// Entries, including those that hold only history.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entry(&self, key: &[u8]) -> Option<&Entry> {
        self.entries.get(key).map(|e| &**e)
    }

    /// The entry a client sees at a clock reading `now_ms`: live and not expired.
    pub fn visible(&self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.entries
            .get(key)
            .map(|e| &**e)
            .filter(|e| e.key_type().is_some() && !e.expired(now_ms))
    }

    /// Keys a client can see at `now_ms`, in order.
    pub fn visible_keys(&self, now_ms: u64) -> impl Iterator<Item = &Key> {
        self.iter()
            .filter(move |(_, e)| e.key_type().is_some() && !e.expired(now_ms))
            .map(|(k, _)| k)
    }

    /// Builds an op of `kind` on `key` written at `origin`, whose clock reads `ts`.
    pub fn prepare(&self, key: &[u8], origin: InstanceId, ts: u64, kind: OpKind) -> Op {
        let ctx = self.entries.get(key).map(|e| &e.ctx);
        next_op(ctx, self.instances, key, origin, ts, kind, 0)
    }

    /// [`Keyspace::prepare`] then [`Keyspace::apply`] of a local write, with one lookup of
    /// the key instead of two when causal consistency is off (a local op is never a
    /// duplicate: its dot is new).
    pub fn write_local(
        &mut self,
        key: &[u8],
        origin: InstanceId,
        ts: u64,
        kind: OpKind,
        annotation: u64,
    ) -> Op {
        let n = self.instances;
        let make = |ctx: Option<&VClock>, kind| next_op(ctx, n, key, origin, ts, kind, annotation);
        if self.causal {
            let op = make(self.entries.get(key).map(|e| &e.ctx), kind);
            self.apply(&op);
            return op;
        }
        match self.entries.get_mut(key) {
            Some(e) => {
                let op = make(Some(&e.ctx), kind);
                let before = history::may_hold(e);
                Self::apply_existing(&mut self.bytes, e, &op);
                self.history
                    .changed(&op.key, before || history::may_hold(e));
                op
            }
            None => {
                let op = make(None, kind);
                self.insert_new(&op);
                op
            }
        }
    }

    /// The Lamport number a new list insert on `key` starts from.
    pub fn next_lamport(&self, key: &[u8]) -> u64 {
        self.entries
            .get(key)
            .and_then(|e| e.list())
            .map(|l| l.next_lamport())
            .unwrap_or(1)
    }

    fn ready(&self, op: &Op) -> bool {
        if !self.causal {
            return true;
        }
        let ctx = self.entries.get(&op.key).map(|e| &e.ctx);
        let have = |i: usize| ctx.map(|c| c.get(InstanceId(i as u8))).unwrap_or(0);
        op.vc.entries().iter().enumerate().all(|(i, need)| {
            if i == op.dot.origin.index() {
                have(i) + 1 >= *need
            } else {
                have(i) >= *need
            }
        })
    }

    /// Applies a local or replicated op. Cannot fail; redeliveries are filtered.
    pub fn apply(&mut self, op: &Op) -> Applied {
        self.apply_seen(op, |_| {}, |_| {})
    }

    /// [`Keyspace::apply`], showing `seen` the key's entry as it is before the op and
    /// `after` as it is after (`None` when the key has none), with the lookup the apply
    /// makes itself: an observer of applies costs no second lookup.
    pub fn apply_seen(
        &mut self,
        op: &Op,
        seen: impl FnOnce(Option<&Entry>),
        after: impl FnOnce(Option<&Entry>),
    ) -> Applied {
        if !self.causal {
            // One lookup for the duplicate check and the apply (the common path).
            return match self.entries.get_mut(&op.key) {
                Some(e) => {
                    seen(Some(e));
                    if e.ctx.covers(op.dot) {
                        after(Some(e));
                        return Applied::Duplicate;
                    }
                    let before = history::may_hold(e);
                    Self::apply_existing(&mut self.bytes, e, op);
                    self.history
                        .changed(&op.key, before || history::may_hold(e));
                    after(Some(e));
                    Applied::Applied
                }
                None => {
                    seen(None);
                    after(Some(self.insert_new(op)));
                    Applied::Applied
                }
            };
        }
        seen(self.entries.get(&op.key).map(|e| &**e));
        let applied = self.apply_causal(op);
        after(self.entry(&op.key));
        applied
    }

    /// The apply with causal consistency on: buffered until ready, then released with the
    /// ops that waited for it.
    fn apply_causal(&mut self, op: &Op) -> Applied {
        if self
            .entries
            .get(&op.key)
            .is_some_and(|e| e.ctx.covers(op.dot))
        {
            return Applied::Duplicate;
        }
        if !self.ready(op) {
            let w = self.waiting.entry(op.key.clone()).or_default();
            if !w.iter().any(|o| o.dot == op.dot) {
                w.push(op.clone());
            }
            return Applied::Buffered;
        }
        self.apply_now(op);
        self.release_waiting(&op.key);
        Applied::Applied
    }

    fn apply_now(&mut self, op: &Op) {
        // One lookup on the common path (the key exists); a new key is inserted once.
        match self.entries.get_mut(&op.key) {
            Some(entry) => {
                let before = history::may_hold(entry);
                Self::apply_existing(&mut self.bytes, entry, op);
                self.history
                    .changed(&op.key, before || history::may_hold(entry));
            }
            None => {
                self.insert_new(op);
            }
        }
    }

    /// Applies `op` to the key's existing entry and updates the byte count `bytes`.
    fn apply_existing(bytes: &mut u64, entry: &mut Entry, op: &Op) {
        // An op on named fields or members of a collection changes only their bytes and
        // the key's clock: account for those, not for the whole collection (which made
        // every op O(size of the collection)). Anything that can touch more (a remove
        // of the whole key, an op its tombstone kills, lists, streams) is recounted.
        if let Some(parts) = entry.scoped_parts(op) {
            let before = entry.parts_bytes(&parts);
            entry.apply_kind(op);
            entry.ctx.set(op.dot.origin, op.dot.seq);
            let after = entry.parts_bytes(&parts);
            *bytes = *bytes + after - before;
            entry.size = entry.size + after - before;
            return;
        }
        entry.apply_kind(op);
        entry.ctx.set(op.dot.origin, op.dot.seq);
        recount(bytes, &op.key, entry);
    }

    /// Applies `op` to a key not yet present; returns its new entry.
    fn insert_new(&mut self, op: &Op) -> &Entry {
        let mut entry = Entry {
            ctx: VClock::new(self.instances),
            ..Entry::default()
        };
        entry.apply_kind(op);
        entry.ctx.set(op.dot.origin, op.dot.seq);
        entry.size = entry_bytes(&op.key, &entry);
        self.bytes += entry.size;
        self.history.changed(&op.key, history::may_hold(&entry));
        self.order.push(op.key.clone());
        self.entries
            .entry(op.key.clone())
            .insert_entry(Box::new(entry))
            .into_mut()
    }

    /// Puts `entry` (its cached size set) under `key`, which has none here: a compact key
    /// turned general (see [`compact`]).
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry) {
        debug_assert_eq!(entry.size, entry_bytes(key, &entry), "the cached size");
        self.bytes += entry.size;
        let key = Key::from(key);
        self.history.changed(&key, history::may_hold(&entry));
        self.order.push(key.clone());
        let old = self.entries.insert(key, Box::new(entry));
        assert!(old.is_none(), "a key turned general had no entry");
    }

    /// Takes `key`'s entry out (a general key turned compact again; see [`compact`]).
    pub fn take_entry(&mut self, key: &[u8]) -> Option<Entry> {
        let e = self.entries.remove(key)?;
        self.bytes -= e.size;
        self.history.changed(&Key::from(key), true);
        Some(*e)
    }

    /// Runs `f` on the stream part of `key`'s entry with the key's tombstone (a consumer
    /// group's local state changes without an op: `XREADGROUP`, `XACK`, `XCLAIM`, …), then
    /// recounts the key's bytes. `None` when the key holds no stream part.
    pub fn stream_local<R>(
        &mut self,
        key: &[u8],
        f: impl FnOnce(&mut StreamCrdt, &VClock) -> R,
    ) -> Option<R> {
        let e = self.entries.get_mut(key)?;
        let tomb = e.tomb().clone();
        let c = e.coll.as_deref_mut()?;
        let r = f(&mut c.stream, &tomb);
        recount(&mut self.bytes, key, e);
        Some(r)
    }

    /// How many keys were ever written (live or not): the range of [`Keyspace::key_at`].
    pub fn key_count(&self) -> usize {
        self.order.len()
    }

    /// The `i`-th key ever written, with its entry (for sampling keys at random).
    pub fn key_at(&self, i: usize) -> Option<(&Key, &Entry)> {
        let k = self.order.get(i)?;
        self.entries.get_key_value(k).map(|(k, e)| (k, &**e))
    }

    /// Estimated memory of the keys, values and CRDT metadata held (see `entry_bytes`).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn release_waiting(&mut self, key: &Key) {
        loop {
            let Some(list) = self.waiting.get(key) else {
                return;
            };
            let Some(i) = list.iter().position(|o| self.ready(o)) else {
                return;
            };
            let op = self.waiting.get_mut(key).expect("present").remove(i);
            if self.waiting.get(key).is_some_and(|l| l.is_empty()) {
                self.waiting.remove(key);
            }
            let dup = self
                .entries
                .get(&op.key)
                .is_some_and(|e| e.ctx.covers(op.dot));
            if !dup {
                self.apply_now(&op);
            }
        }
    }

    /// Ops buffered by causal consistency.
    pub fn waiting(&self) -> usize {
        self.waiting.values().map(|v| v.len()).sum()
    }

    /// State merge, as a full sync does it: the result is what applying both histories gives.
    pub fn merge(&mut self, other: &Keyspace) {
        self.merge_filtered(other, |_| true);
    }

    /// Merges only the keys for which `keep` is true (a full sync ships one source shard).
    pub fn merge_filtered(&mut self, other: &Keyspace, keep: impl Fn(&[u8]) -> bool) {
        for (k, theirs) in other.iter() {
            if !keep(k) {
                continue;
            }
            self.history.changed(k, true);
            match self.entries.get_mut(k) {
                Some(mine) => {
                    mine.merge(theirs);
                    recount(&mut self.bytes, k, mine);
                }
                None => {
                    let mut e = Entry {
                        ctx: VClock::new(self.instances),
                        ..Entry::default()
                    };
                    e.merge(theirs);
                    e.size = entry_bytes(k, &e);
                    self.bytes += e.size;
                    self.order.push(k.clone());
                    self.entries.insert(k.clone(), Box::new(e));
                }
            }
        }
        let keys: Vec<Key> = other.waiting.keys().filter(|k| keep(k)).cloned().collect();
        for k in keys {
            for op in other.waiting[&k].clone() {
                self.apply(&op);
            }
        }
        let keys: Vec<Key> = self.waiting.keys().cloned().collect();
        for k in keys {
            self.release_waiting(&k);
        }
    }

    /// Keys for which `keep` is true, as a snapshot: what a full sync of one shard ships.
    pub fn filtered(&self, keep: impl Fn(&[u8]) -> bool) -> Keyspace {
        let entries: HashMap<Key, Box<Entry>, FxBuild> = self
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, e)| (k.clone(), Box::new(e.clone())))
            .collect();
        Keyspace {
            instances: self.instances,
            // An integer sum: the map's iteration order cannot change it.
            bytes: entries.iter().map(|(k, e)| entry_bytes(k, e)).sum(),
            order: self.order.iter().filter(|k| keep(k)).cloned().collect(),
            history: history::HistoryIndex::all(entries.keys()),
            entries,
            causal: self.causal,
            waiting: self
                .waiting
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    /// The size of a snapshot of this keyspace in bytes: per key, a 16-byte record header,
    /// its name, and its values and CRDT metadata (see `docs/semantics.md`).
    pub fn snapshot_bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|(k, e)| 16 + k.len() as u64 + e.bytes())
            .sum()
    }

    /// Per entry, its weight (`weight(key)`) and its snapshot bytes: (Σ weight × bytes,
    /// Σ weight), in key order (a sampled run's ratio estimate of an entry's bytes).
    pub fn snapshot_bytes_weighted(&self, weight: impl Fn(&[u8]) -> u64) -> (u64, u64) {
        self.iter().fold((0, 0), |(wb, ws), (k, e)| {
            let w = weight(k);
            (wb + w * (16 + k.len() as u64 + e.bytes()), ws + w)
        })
    }

    /// Tombstones held: (count, estimated bytes).
    pub fn tombstones(&self) -> (u64, u64) {
        // Integer sums: the map's iteration order cannot change them.
        self.entries.values().fold((0, 0), |(n, b), e| {
            let (n2, b2) = e.tombstones();
            (n + n2, b + b2)
        })
    }

    /// Keys holding removal history (candidates for garbage collection), in order: the
    /// keys found holding it before, updated for the keys whose entries changed since.
    pub fn keys_with_tombstones(&mut self) -> Vec<Key> {
        let entries = &self.entries;
        self.history
            .refresh(|k| entries.get(k).is_some_and(|e| history::holds(e)))
    }

    /// Drops the removal history of `key`. Only sound when every instance has applied every
    /// op on the key (their key clocks are equal) and does the same at the same moment: no
    /// op the history guards against can still arrive. The key's clock is kept, so that the
    /// ops' numbering never restarts.
    pub fn collect_garbage(&mut self, key: &[u8]) {
        if self.waiting.contains_key(key) {
            return;
        }
        if let Some(e) = self.entries.get_mut(key) {
            e.collect_garbage();
            recount(&mut self.bytes, key, e);
            self.history.changed(&Key::from(key), true);
        }
    }

    /// Folds what a client would read (every live key, its type and value, in key order).
    /// Two instances have converged when these digests are equal. Expiry is compared by
    /// its deadline, not by any clock.
    pub fn digest_visible(&self, d: &mut Digest) {
        for (k, e) in self.iter() {
            if e.key_type().is_some() {
                d.bytes(k);
                e.digest_visible(d);
            }
        }
    }

    /// Folds the full CRDT state (contexts and metadata too).
    pub fn digest_state(&self, d: &mut Digest) {
        for (k, e) in self.iter() {
            d.bytes(k);
            e.digest_state(d);
        }
        d.word(self.waiting() as u64);
    }

    /// Iterates the entries in key order (sorted on each call: the index is a hash map).
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Entry)> {
        let mut v: Vec<(&Key, &Entry)> = self.entries.iter().map(|(k, e)| (k, &**e)).collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v.into_iter()
    }

    /// The string value of `key` (ignoring expiry), for quick reads in tests.
    pub fn get(&self, key: &[u8]) -> Option<Value> {
        self.entries.get(key).and_then(|e| match e.key_type() {
            Some(KeyType::String) => e.string_value(),
            _ => None,
        })
    }
}

impl StreamCrdt {
    /// A stream key exists while it holds an entry not removed by a key-level `DEL` (an
    /// emptied stream still exists, as in Redis), or a consumer group.
    pub fn exists(&self, tomb: &VClock) -> bool {
        self.has_entries(tomb) || self.groups.any_live(tomb)
    }

    /// Whether the stream holds an entry (deleted by `XDEL` or not) that no key-level `DEL`
    /// removed.
    pub fn has_entries(&self, tomb: &VClock) -> bool {
        self.all().any(|e| !tomb.covers(e.dot))
    }
}
