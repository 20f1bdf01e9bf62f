//! A reference oracle: what each key must converge to, computed from the client writes
//! acknowledged during the run (and the `DEL`s the database made on its own) by the
//! documented rules, with none of the merge code, and compared with every member instance's
//! final state. A bug that makes every instance equally wrong passes a convergence check; it
//! does not pass this.
//!
//! The rules are in the private `rules` module: registers (strings, hash fields, sorted-set scores) by
//! observation then (timestamp, smaller instance id), counters as the sum of the increments no
//! winning write had seen, observed-remove membership for sets, hashes and sorted sets,
//! the list order of a replicated growable array, stream entries by (ID, region), HyperLogLog
//! registers where `DEL` wins, and the expiry (`PERSIST`, then the longer TTL).
//!
//! Not judged: a key written as two types, `LSET`, float increments of strings and hash
//! fields. Runs that lose acknowledged writes (a crash without a durable copy) cannot be
//! judged this way: the caller checks that none were lost.

use std::collections::BTreeMap;

use crate::crdt::Op;
use crate::model::{Observer, World};

mod rules;
use rules::Rec;

/// A key whose final state differs from the reference at an instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    pub key: Vec<u8>,
    pub instance: usize,
    pub expected: String,
    pub found: String,
}

/// The oracle: add it to a simulation (`sim::Builder::observer`), run, take it back.
#[derive(Default)]
pub struct Reference {
    /// Per key, its acknowledged ops in the order they were acknowledged.
    keys: BTreeMap<Vec<u8>, Vec<Rec>>,
    /// Per key, the instances whose acknowledged writes it holds (a bit each).
    origins: BTreeMap<Vec<u8>, u64>,
    /// Keys checked at the end, and what differed.
    pub checked: u64,
    pub mismatches: Vec<Mismatch>,
}

impl Reference {
    fn record(&mut self, origin: usize, op: &Op) {
        *self.origins.entry(op.key.to_vec()).or_default() |= 1u64 << (origin % 64);
        self.keys.entry(op.key.to_vec()).or_default().push(Rec {
            dot: op.dot,
            vc: op.vc.clone(),
            ts: op.ts,
            kind: op.kind.clone(),
        });
    }
}

/// (A compact key's writes reach [`Observer::acknowledged`] in their general form, by the
/// trait's default.)
impl Observer for Reference {
    fn acknowledged(&mut self, origin: usize, op: &Op) {
        self.record(origin, op);
    }

    /// An eviction's or an expiry's `DEL` is replicated like a client's and removes what its
    /// instance had observed: the rules treat it as one.
    fn database_effect(&mut self, origin: usize, op: &Op) {
        self.record(origin, op);
    }

    fn finish(&mut self, world: &World) {
        // A removed cluster's writes may be a documented loss (`writes_lost_to_removal`), and
        // what it acknowledges after its removal is no member's write: the keys a removed
        // cluster wrote are not judged.
        let lossy: u64 = (0..world.instances().len())
            .filter(|c| world.membership(*c) == crate::model::Membership::Removed)
            .fold(0, |m, c| m | 1u64 << (c % 64));
        for (key, recs) in &self.keys {
            if self.origins.get(key).is_some_and(|o| o & lossy != 0) {
                continue;
            }
            let Some(expected) = rules::expected(recs) else {
                continue;
            };
            self.checked += 1;
            for c in 0..world.instances().len() {
                if !world.is_member(c) {
                    continue;
                }
                let entry = world.entry(c, key);
                let entry = entry.as_deref();
                let found = rules::found(entry, expected.key_type);
                let found_expiry = entry.and_then(|e| e.expiry());
                let (want, got) = if !rules::same(&expected.state, &found) {
                    (rules::show(&expected.state), rules::show(&found))
                } else if found != rules::State::Absent && expected.expiry != found_expiry {
                    (
                        format!("expiry {:?}", expected.expiry),
                        format!("expiry {found_expiry:?}"),
                    )
                } else {
                    continue;
                };
                self.mismatches.push(Mismatch {
                    key: key.clone(),
                    instance: c,
                    expected: want,
                    found: got,
                });
            }
        }
    }
}
