//! A reference oracle: what each plain string key and each counter key must converge to,
//! computed from the client writes acknowledged during the run by the documented rules, with
//! none of the merge code, and compared with every member instance's final state. A bug that
//! makes every instance equally wrong passes a convergence check; it does not pass this.
//!
//! The rules (docs/semantics.md, "Strings" and "Counters"):
//! * a key written only by `SET`s of a plain value (a register) ends with the value of the
//!   write that no other write had observed (by the writes' own vector clocks, which the
//!   origin stamps before any merge), the greatest `(timestamp, smaller instance id)` among
//!   several;
//! * a key written only by integer increments ends with their sum.
//!
//! Any other history (deletes, expiry, float increments, a `SET` that observed increments,
//! other types) is not checked. Runs that lose acknowledged writes (a crash without a
//! durable copy) cannot be judged this way: the caller checks that none were lost.

use std::collections::BTreeMap;

use crate::crdt::{Dot, Op, OpKind, VClock, Value};
use crate::model::{Observer, World};

/// One acknowledged register write.
#[derive(Clone, Debug)]
struct Write {
    dot: Dot,
    vc: VClock,
    ts: u64,
    value: Value,
}

#[derive(Clone, Debug)]
enum History {
    Register(Vec<Write>),
    Counter(i64),
    /// Not checked.
    Other,
}

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
    keys: BTreeMap<Vec<u8>, History>,
    /// Per key, the instances whose acknowledged writes it holds (a bit each).
    origins: BTreeMap<Vec<u8>, u64>,
    /// Keys checked at the end, and what differed.
    pub checked: u64,
    pub mismatches: Vec<Mismatch>,
}

impl Reference {
    fn record(&mut self, key: &[u8], update: Update) {
        let h = self
            .keys
            .entry(key.to_vec())
            .or_insert_with(|| match update {
                Update::Set(_) => History::Register(Vec::new()),
                Update::Incr(_) => History::Counter(0),
                Update::Other => History::Other,
            });
        *h = match (std::mem::replace(h, History::Other), update) {
            (History::Register(mut w), Update::Set(write)) => {
                w.push(write);
                History::Register(w)
            }
            (History::Counter(n), Update::Incr(by)) => match n.checked_add(by) {
                Some(n) => History::Counter(n),
                None => History::Other,
            },
            _ => History::Other,
        };
    }

    /// The register write that must win: observed by no other, then the greatest
    /// (timestamp, smaller instance id).
    fn winner(writes: &[Write]) -> Option<&Write> {
        writes
            .iter()
            .filter(|w| !writes.iter().any(|o| o.dot != w.dot && o.vc.covers(w.dot)))
            .max_by_key(|w| (w.ts, std::cmp::Reverse(w.dot.origin)))
    }
}

/// What one acknowledged op does to the reference.
enum Update {
    Set(Write),
    Incr(i64),
    Other,
}

/// (A compact key's writes reach [`Observer::acknowledged`] in their general form, by the
/// trait's default.)
impl Observer for Reference {
    fn acknowledged(&mut self, origin: usize, op: &Op) {
        *self.origins.entry(op.key.to_vec()).or_default() |= 1u64 << (origin % 64);
        let update = match &op.kind {
            OpKind::Set { value, observed } if observed.is_empty() => Update::Set(Write {
                dot: op.dot,
                vc: op.vc.clone(),
                ts: op.ts,
                value: value.clone(),
            }),
            OpKind::Incr { int, float } if *float == 0.0 => Update::Incr(*int),
            _ => Update::Other,
        };
        self.record(&op.key, update);
    }

    fn database_effect(&mut self, _origin: usize, op: &Op) {
        // An eviction or expiry removed the key: its history is no longer one of the above.
        self.record(&op.key, Update::Other);
    }

    fn finish(&mut self, world: &World) {
        // A removed cluster's writes may be a documented loss (`writes_lost_to_removal`), and
        // what it acknowledges after its removal is no member's write: the keys a removed
        // cluster wrote are not judged.
        let lossy: u64 = (0..world.instances().len())
            .filter(|c| world.membership(*c) == crate::model::Membership::Removed)
            .fold(0, |m, c| m | 1u64 << (c % 64));
        for (key, h) in &self.keys {
            if self.origins.get(key).is_some_and(|o| o & lossy != 0) {
                continue;
            }
            let expected = match h {
                History::Register(w) => match Self::winner(w) {
                    Some(w) => Expected::Value(w.value.clone()),
                    None => continue,
                },
                History::Counter(n) => Expected::Counter(*n),
                History::Other => continue,
            };
            self.checked += 1;
            for c in 0..world.instances().len() {
                if !world.is_member(c) {
                    continue;
                }
                let entry = world.entry(c, key);
                let (ok, found) = match (&expected, entry.as_deref()) {
                    (Expected::Value(v), Some(e)) => {
                        let got = e.string_value();
                        (got.as_ref() == Some(v), format!("{got:?}"))
                    }
                    (Expected::Counter(n), Some(e)) => {
                        let got = e.string_counter();
                        (got == Some(*n), format!("{got:?}"))
                    }
                    (_, None) => (false, "no key".to_string()),
                };
                if !ok {
                    self.mismatches.push(Mismatch {
                        key: key.clone(),
                        instance: c,
                        expected: match &expected {
                            Expected::Value(v) => format!("{v:?}"),
                            Expected::Counter(n) => n.to_string(),
                        },
                        found,
                    });
                }
            }
        }
    }
}

enum Expected {
    Value(Value),
    Counter(i64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crdt::InstanceId;

    fn write(origin: u8, seq: u64, vc: &[u64], ts: u64, v: &str) -> Write {
        Write {
            dot: Dot {
                origin: InstanceId(origin),
                seq,
            },
            vc: VClock::from_entries(vc),
            ts,
            value: Value::from_str_bytes(v),
        }
    }

    #[test]
    fn the_winner_is_unobserved_then_latest_then_the_smaller_instance() {
        // Concurrent: the later timestamp wins.
        let w = [write(0, 1, &[1, 0], 10, "a"), write(1, 1, &[0, 1], 12, "b")];
        assert_eq!(
            Reference::winner(&w).unwrap().value,
            Value::from_str_bytes("b")
        );
        // Equal timestamps: the smaller instance id.
        let w = [write(0, 1, &[1, 0], 12, "a"), write(1, 1, &[0, 1], 12, "b")];
        assert_eq!(
            Reference::winner(&w).unwrap().value,
            Value::from_str_bytes("a")
        );
        // A write that had observed another wins over it whatever the clocks say, and so
        // does one that observed it through a chain.
        let w = [
            write(0, 1, &[1, 0, 0], 50, "a"),
            write(1, 1, &[1, 1, 0], 10, "b"),
            write(2, 1, &[0, 1, 1], 5, "c"),
        ];
        assert_eq!(
            Reference::winner(&w).unwrap().value,
            Value::from_str_bytes("c")
        );
    }

    #[test]
    fn only_pure_register_and_counter_histories_are_kept() {
        let mut r = Reference::default();
        r.record(b"k", Update::Incr(2));
        r.record(b"k", Update::Incr(3));
        assert!(matches!(r.keys[&b"k"[..]], History::Counter(5)));
        r.record(b"k", Update::Set(write(0, 3, &[3, 1], 1, "x")));
        assert!(matches!(r.keys[&b"k"[..]], History::Other));
        r.record(b"m", Update::Incr(i64::MAX));
        r.record(b"m", Update::Incr(1));
        assert!(matches!(r.keys[&b"m"[..]], History::Other), "overflow");
    }
}
