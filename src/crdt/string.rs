//! The string CRDT: a last-write-wins register for `SET`, plus per-instance counter totals for
//! `INCR`/`INCRBY`/`DECR`/`DECRBY`, so that a key is dynamically typed like in open-source
//! Redis (`SET k 7` then `INCR k` works; Redis Software ≥ 5.4.2).
//!
//! * **Register.** Concurrent `SET`s are settled by the writer's wall-clock timestamp; on an
//!   exact tie the smaller instance id wins (the Redis docs' sorted-set example gives
//!   Instance 1 precedence). A writer stamps a `SET` with `max(its clock, ts of the register
//!   it observed + 1 ms)`, so a causally later `SET` always carries a larger timestamp even
//!   when clocks disagree, which makes "largest (ts, −instance) wins" a total order that
//!   respects causality (docs silent; chosen so that every delivery order converges).
//! * **Counter.** Each instance's increments on the key accumulate in its own running total
//!   (a PN-counter), tagged with the sequence number of its last increment.
//! * **SET vs INCR** (docs silent; chosen here): a `SET` records the counter totals its
//!   writer had observed. The value read is the winning register's value plus every increment
//!   that register's writer had not observed. So increments concurrent with the winning `SET`
//!   survive on top of it, and increments it had seen are reset by it. When the winning value
//!   is not an integer, unobserved increments cannot apply and the value reads as the register.

use super::clock::InstanceId;
use super::value::Value;
use crate::engine::Digest;

/// A `SET`'s register write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Register {
    pub value: Value,
    /// The writer's wall-clock timestamp in milliseconds (after the causal bump).
    pub ts: u64,
    pub origin: InstanceId,
    /// The counter total of every instance that the writer had observed.
    pub observed: Vec<i64>,
}

impl Register {
    /// The total order used by last-write-wins: later timestamp, then smaller instance id.
    fn rank(&self) -> (u64, std::cmp::Reverse<InstanceId>) {
        (self.ts, std::cmp::Reverse(self.origin))
    }

    /// Whether `self` wins over `other`.
    pub fn beats(&self, other: &Register) -> bool {
        self.rank() > other.rank()
    }
}

/// One instance's running increment total and the sequence number of its last increment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Total {
    pub seq: u64,
    pub sum: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringCrdt {
    reg: Option<Register>,
    totals: Vec<Total>,
}

impl StringCrdt {
    pub fn register(&self) -> Option<&Register> {
        self.reg.as_ref()
    }

    pub fn totals(&self) -> &[Total] {
        &self.totals
    }

    fn total_sum(&self, i: usize) -> i64 {
        self.totals.get(i).map(|t| t.sum).unwrap_or(0)
    }

    /// The counter totals as the writer of a new `SET` observes them.
    pub fn observed_totals(&self) -> Vec<i64> {
        self.totals.iter().map(|t| t.sum).collect()
    }

    /// The timestamp a new `SET` written at wall-clock `wall_ms` must carry.
    pub fn next_set_ts(&self, wall_ms: u64) -> u64 {
        match &self.reg {
            Some(r) => wall_ms.max(r.ts + 1),
            None => wall_ms,
        }
    }

    /// Increments not observed by the winning register (all increments if there is none).
    fn unobserved_increments(&self) -> i128 {
        let n = self.totals.len();
        (0..n)
            .map(|i| {
                let seen = self
                    .reg
                    .as_ref()
                    .and_then(|r| r.observed.get(i).copied())
                    .unwrap_or(0);
                self.total_sum(i) as i128 - seen as i128
            })
            .sum()
    }

    /// The value a client reads. Counter sums outside i64 saturate (see `docs/semantics.md`).
    pub fn read(&self) -> Value {
        let incs = self.unobserved_increments();
        match &self.reg {
            Some(r) if incs == 0 => r.value.clone(),
            Some(r) => match r.value.as_i64() {
                Some(base) => Value::from_i64(saturate(base as i128 + incs)),
                None => r.value.clone(),
            },
            None => Value::from_i64(saturate(incs)),
        }
    }

    pub fn apply_set(&mut self, reg: &Register) {
        match &self.reg {
            Some(cur) if !reg.beats(cur) => {}
            _ => self.reg = Some(reg.clone()),
        }
    }

    pub fn apply_incr(&mut self, origin: InstanceId, seq: u64, amount: i64) {
        let i = origin.index();
        if self.totals.len() <= i {
            self.totals.resize(i + 1, Total::default());
        }
        let t = &mut self.totals[i];
        if seq > t.seq {
            t.seq = seq;
            t.sum = t.sum.wrapping_add(amount);
        }
    }

    /// State merge (full sync): the winning register, and per instance the later total.
    pub fn merge(&mut self, other: &StringCrdt) {
        if let Some(r) = &other.reg {
            self.apply_set(r);
        }
        if self.totals.len() < other.totals.len() {
            self.totals.resize(other.totals.len(), Total::default());
        }
        for (mine, theirs) in self.totals.iter_mut().zip(&other.totals) {
            if theirs.seq > mine.seq {
                *mine = *theirs;
            }
        }
    }

    /// Bytes this value would take in a snapshot (see `Keyspace::snapshot_bytes`).
    pub fn snapshot_bytes(&self) -> u64 {
        let reg = self
            .reg
            .as_ref()
            .map(|r| r.value.len() as u64 + 8 + 8 * r.observed.len() as u64)
            .unwrap_or(0);
        reg + 16 * self.totals.len() as u64
    }

    pub fn digest_state(&self, d: &mut Digest) {
        match &self.reg {
            Some(r) => {
                d.word(1).word(r.ts).word(r.origin.0 as u64);
                r.value.digest(d);
                for o in &r.observed {
                    d.word(*o as u64);
                }
            }
            None => {
                d.word(0);
            }
        }
        for t in &self.totals {
            d.word(t.seq).word(t.sum as u64);
        }
    }
}

fn saturate(x: i128) -> i64 {
    x.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(v: &str, ts: u64, origin: u8, observed: Vec<i64>) -> Register {
        Register {
            value: Value::from_str_bytes(v),
            ts,
            origin: InstanceId(origin),
            observed,
        }
    }

    #[test]
    fn later_timestamp_wins_and_ties_go_to_the_smaller_instance() {
        let mut s = StringCrdt::default();
        s.apply_set(&reg("a", 100, 1, vec![]));
        s.apply_set(&reg("b", 90, 0, vec![]));
        assert_eq!(s.read(), Value::from_str_bytes("a"));
        s.apply_set(&reg("c", 100, 0, vec![]));
        assert_eq!(s.read(), Value::from_str_bytes("c"));
    }

    #[test]
    fn concurrent_increments_add_up() {
        // The documented example: +7 and +3 concurrently give 10 everywhere.
        let mut a = StringCrdt::default();
        let mut b = StringCrdt::default();
        a.apply_incr(InstanceId(0), 1, 7);
        b.apply_incr(InstanceId(1), 1, 3);
        a.apply_incr(InstanceId(1), 1, 3);
        b.apply_incr(InstanceId(0), 1, 7);
        assert_eq!(a.read(), Value::from_i64(10));
        assert_eq!(a, b);
    }

    #[test]
    fn a_set_resets_observed_increments_but_keeps_concurrent_ones() {
        let mut s = StringCrdt::default();
        s.apply_incr(InstanceId(0), 1, 5);
        // I2 saw I1's +5, then wrote SET 100.
        s.apply_set(&reg("100", 10, 1, vec![5, 0]));
        assert_eq!(s.read(), Value::from_i64(100));
        // I1 increments concurrently with the SET.
        s.apply_incr(InstanceId(0), 2, 2);
        assert_eq!(s.read(), Value::from_i64(102));
    }

    #[test]
    fn merge_equals_applying_the_ops() {
        let mut a = StringCrdt::default();
        a.apply_incr(InstanceId(0), 1, 5);
        a.apply_set(&reg("1", 10, 0, vec![5]));
        let mut b = StringCrdt::default();
        b.apply_incr(InstanceId(1), 1, 4);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.read(), Value::from_i64(5));
        let mut again = ab.clone();
        again.merge(&ab);
        assert_eq!(again, ab);
    }
}
