//! An instance's keyspace (or one shard's part of it): keys, their causal contexts, and
//! their CRDT values. Replicated ops are applied here; full-sync states are merged here.

use std::collections::BTreeMap;

use super::clock::{Dot, InstanceId, VClock};
use super::string::{Register, StringCrdt};
use super::value::Value;
use crate::engine::Digest;

pub type Key = Box<[u8]>;

/// A replicated effect: what one write does to one key, with its causal metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub key: Key,
    pub dot: Dot,
    /// The key's vector clock at the origin right after this op (so `vc[origin] == dot.seq`).
    pub vc: VClock,
    pub kind: OpKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    Set(Register),
    Incr(i64),
}

/// What applying an op did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The op was new and took effect.
    Applied,
    /// The op's dot was already covered: a redelivery, filtered.
    Duplicate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    ctx: VClock,
    string: StringCrdt,
}

/// A set of keys with CRDT values. Keys are kept sorted, so iteration (digests, snapshots)
/// is deterministic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyspace {
    instances: usize,
    entries: BTreeMap<Key, Entry>,
}

impl Keyspace {
    pub fn new(instances: usize) -> Self {
        Keyspace {
            instances,
            entries: BTreeMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value a client reads, if the key exists.
    pub fn get(&self, key: &[u8]) -> Option<Value> {
        self.entries.get(key).map(|e| e.string.read())
    }

    fn next_dot(&self, key: &[u8], origin: InstanceId) -> (Dot, VClock) {
        let mut vc = self
            .entries
            .get(key)
            .map(|e| e.ctx.clone())
            .unwrap_or_else(|| VClock::new(self.instances));
        let seq = vc.get(origin) + 1;
        vc.set(origin, seq);
        (Dot { origin, seq }, vc)
    }

    /// Builds the op for `SET key value` written at `origin` whose clock reads `wall_ms`.
    pub fn prepare_set(&self, key: &[u8], value: Value, origin: InstanceId, wall_ms: u64) -> Op {
        let (dot, vc) = self.next_dot(key, origin);
        let (ts, observed) = match self.entries.get(key) {
            Some(e) => (e.string.next_set_ts(wall_ms), e.string.observed_totals()),
            None => (wall_ms, Vec::new()),
        };
        Op {
            key: key.into(),
            dot,
            vc,
            kind: OpKind::Set(Register {
                value,
                ts,
                origin,
                observed,
            }),
        }
    }

    /// Builds the op for `INCRBY key amount` at `origin`. The caller has checked the current
    /// value is an integer and the result fits.
    pub fn prepare_incr(&self, key: &[u8], amount: i64, origin: InstanceId) -> Op {
        let (dot, vc) = self.next_dot(key, origin);
        Op {
            key: key.into(),
            dot,
            vc,
            kind: OpKind::Incr(amount),
        }
    }

    /// Applies a local or replicated op. Cannot fail; redeliveries are filtered.
    pub fn apply(&mut self, op: &Op) -> Applied {
        let instances = self.instances;
        let entry = self.entries.entry(op.key.clone()).or_insert_with(|| Entry {
            ctx: VClock::new(instances),
            string: StringCrdt::default(),
        });
        if entry.ctx.covers(op.dot) {
            return Applied::Duplicate;
        }
        match &op.kind {
            OpKind::Set(reg) => entry.string.apply_set(reg),
            OpKind::Incr(n) => entry.string.apply_incr(op.dot.origin, op.dot.seq, *n),
        }
        entry.ctx.set(op.dot.origin, op.dot.seq);
        Applied::Applied
    }

    /// State merge, as a full sync does it: the result is what applying both histories gives.
    pub fn merge(&mut self, other: &Keyspace) {
        for (k, theirs) in &other.entries {
            match self.entries.get_mut(k) {
                Some(mine) => {
                    mine.string.merge(&theirs.string);
                    mine.ctx.join(&theirs.ctx);
                }
                None => {
                    self.entries.insert(k.clone(), theirs.clone());
                }
            }
        }
    }

    /// Merges only the keys for which `keep` is true (a full sync ships one source shard).
    pub fn merge_filtered(&mut self, other: &Keyspace, keep: impl Fn(&[u8]) -> bool) {
        for (k, theirs) in &other.entries {
            if !keep(k) {
                continue;
            }
            match self.entries.get_mut(k) {
                Some(mine) => {
                    mine.string.merge(&theirs.string);
                    mine.ctx.join(&theirs.ctx);
                }
                None => {
                    self.entries.insert(k.clone(), theirs.clone());
                }
            }
        }
    }

    /// The size of a snapshot of this keyspace in bytes: per key, its name, its value and a
    /// fixed 16-byte record header, plus the CRDT metadata (vector clock and counter totals).
    /// An estimate of an RDB of the CRDT state; documented in `docs/semantics.md`.
    pub fn snapshot_bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|(k, e)| {
                16 + k.len() as u64 + 8 * e.ctx.entries().len() as u64 + e.string.snapshot_bytes()
            })
            .sum()
    }

    /// Snapshot bytes of the keys for which `keep` is true.
    pub fn snapshot_bytes_filtered(&self, keep: impl Fn(&[u8]) -> bool) -> u64 {
        self.entries
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, e)| {
                16 + k.len() as u64 + 8 * e.ctx.entries().len() as u64 + e.string.snapshot_bytes()
            })
            .sum()
    }

    /// Folds what a client would read (every key and its value, in key order) into `d`.
    /// Two instances have converged when these digests are equal.
    pub fn digest_visible(&self, d: &mut Digest) {
        for (k, e) in &self.entries {
            d.bytes(k);
            e.string.read().digest(d);
        }
    }

    /// Folds the full CRDT state (contexts and metadata too) into `d`.
    pub fn digest_state(&self, d: &mut Digest) {
        for (k, e) in &self.entries {
            d.bytes(k);
            for c in e.ctx.entries() {
                d.word(*c);
            }
            e.string.digest_state(d);
        }
    }

    /// Iterates keys and read values in key order.
    pub fn iter_values(&self) -> impl Iterator<Item = (&[u8], Value)> {
        self.entries.iter().map(|(k, e)| (&k[..], e.string.read()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redelivered_ops_are_filtered() {
        let mut a = Keyspace::new(2);
        let op = a.prepare_incr(b"k", 3, InstanceId(0));
        assert_eq!(a.apply(&op), Applied::Applied);
        let mut b = Keyspace::new(2);
        assert_eq!(b.apply(&op), Applied::Applied);
        assert_eq!(b.apply(&op), Applied::Duplicate);
        assert_eq!(b.get(b"k"), Some(Value::from_i64(3)));
    }

    #[test]
    fn concurrent_sets_converge_in_either_order() {
        let a = Keyspace::new(2);
        let b = Keyspace::new(2);
        let x = a.prepare_set(b"k", Value::from_str_bytes("x"), InstanceId(0), 100);
        let y = b.prepare_set(b"k", Value::from_str_bytes("y"), InstanceId(1), 101);
        let mut a = a;
        let mut b = b;
        a.apply(&x);
        a.apply(&y);
        b.apply(&y);
        b.apply(&x);
        assert_eq!(a, b);
        assert_eq!(a.get(b"k"), Some(Value::from_str_bytes("y")));
    }

    #[test]
    fn a_causally_later_set_wins_even_with_an_earlier_clock() {
        let mut a = Keyspace::new(2);
        let x = a.prepare_set(b"k", Value::from_str_bytes("x"), InstanceId(0), 500);
        a.apply(&x);
        let mut b = Keyspace::new(2);
        b.apply(&x);
        // I2's clock is behind, but it has seen x: its write must win everywhere.
        let y = b.prepare_set(b"k", Value::from_str_bytes("y"), InstanceId(1), 100);
        b.apply(&y);
        a.apply(&y);
        assert_eq!(a.get(b"k"), Some(Value::from_str_bytes("y")));
        assert_eq!(a, b);
    }

    #[test]
    fn state_merge_matches_op_delivery() {
        let mut a = Keyspace::new(2);
        let mut b = Keyspace::new(2);
        let ops_a = [
            a.prepare_incr(b"c", 2, InstanceId(0)),
            a.prepare_set(b"s", Value::from_str_bytes("a"), InstanceId(0), 10),
        ];
        for o in &ops_a {
            a.apply(o);
        }
        let ops_b = [
            b.prepare_incr(b"c", 5, InstanceId(1)),
            b.prepare_set(b"s", Value::from_str_bytes("b"), InstanceId(1), 11),
        ];
        for o in &ops_b {
            b.apply(o);
        }
        let mut merged = a.clone();
        merged.merge(&b);
        let mut by_ops = a.clone();
        for o in &ops_b {
            by_ops.apply(o);
        }
        assert_eq!(merged, by_ops);
        assert_eq!(merged.get(b"c"), Some(Value::from_i64(7)));
        assert_eq!(merged.get(b"s"), Some(Value::from_str_bytes("b")));
    }
}
