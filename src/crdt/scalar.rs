//! The scalar CRDT shared by string keys, hash fields, sorted-set members and set members:
//! a multi-value register (last-write-wins on read) plus per-instance counter totals, with
//! observed-remove.
//!
//! * **Register.** A write replaces every write it had observed (its vector clock covers
//!   their dots); writes that had not seen each other are kept side by side, and a read shows
//!   the one with the latest writer timestamp, the smaller instance id winning an exact tie
//!   (\[STR\]; \[ZSET\] gives Instance 1 precedence on a tie). Keeping concurrent writes makes the
//!   outcome independent of delivery order even when a remove later takes away the winner.
//! * **Counter.** Each instance's increments accumulate in its own running total, tagged with
//!   the sequence number of its last increment (a PN-counter, integer and float parts).
//! * **Observed remove.** A remove (`DEL`, `HDEL`, `ZREM`, `SREM`) kills the register writes
//!   it had observed and resets the counter totals it had observed; a concurrent write or
//!   increment survives (add/update wins) [SET; HASH; ZSET].
//! * **Register vs counter** (docs silent; chosen here): the value read is the winning
//!   register's value plus every increment that register's writer had not observed.

use super::clock::{Dot, InstanceId, VClock};
use crate::engine::Digest;

/// One instance's running increment totals, as of its increment number `seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Total {
    pub seq: u64,
    pub int: i64,
    pub float: f64,
}

impl Total {
    /// The later of two prefix totals of the same instance.
    fn later(self, other: Total) -> Total {
        if other.seq > self.seq { other } else { self }
    }
}

/// A register write.
#[derive(Clone, Debug, PartialEq)]
pub struct Reg<V> {
    pub value: V,
    /// The writer's wall-clock timestamp, in milliseconds.
    pub ts: u64,
    pub dot: Dot,
    /// The key's vector clock at the writer, this write included.
    pub vc: VClock,
    /// The counter totals the writer had observed (a boxed slice: 16 bytes, and nothing
    /// allocated when empty, as for most writes).
    pub observed: Box<[Total]>,
    /// The op's opaque annotation (see `Op::annotation`).
    pub annotation: u64,
}

impl<V> Reg<V> {
    /// Last-write-wins rank: later timestamp, then smaller instance id.
    pub fn rank(&self) -> (u64, std::cmp::Reverse<InstanceId>) {
        (self.ts, std::cmp::Reverse(self.dot.origin))
    }
}

#[derive(Clone, Debug)]
pub struct Scalar<V> {
    regs: Vec<Reg<V>>,
    totals: Vec<Total>,
    /// What only removes leave behind, boxed on the first remove (most scalars never see
    /// one: 8 bytes instead of 56). Read through [`Scalar::reset`] and [`Scalar::tomb`].
    removed: Option<Box<Removed>>,
    /// The join of what every applied write had observed besides itself: a write covered by
    /// it was overwritten, directly or through a chain of writes. Keeping the join (not just
    /// the live writes' clocks) makes the outcome independent of delivery order when clocks
    /// are not causally delivered.
    over: VClock,
}

/// A scalar's removal history.
#[derive(Clone, Debug, Default)]
struct Removed {
    /// Per instance, the counter totals a remove had observed.
    reset: Vec<Total>,
    /// The join of the removes' observed clocks.
    tomb: VClock,
}

/// The clock of a scalar that was never removed from.
static NO_TOMB: VClock = VClock::EMPTY;

impl<V: PartialEq> PartialEq for Scalar<V> {
    /// Equal states: whether the removal history is boxed is representation, not state.
    fn eq(&self, other: &Scalar<V>) -> bool {
        self.regs == other.regs
            && self.totals == other.totals
            && self.reset() == other.reset()
            && self.tomb() == other.tomb()
            && self.over == other.over
    }
}

impl<V> Default for Scalar<V> {
    fn default() -> Self {
        Scalar {
            regs: Vec::new(),
            totals: Vec::new(),
            removed: None,
            over: VClock::default(),
        }
    }
}

/// A scalar's registers, totals and overwritten clock (see [`Scalar::parts`]).
pub(crate) type ScalarParts<'a, V> = (&'a [Reg<V>], &'a [Total], &'a VClock);

impl<V> Scalar<V> {
    /// A scalar with no removal history, from its parts (a compact key's state brought back
    /// to its general form: `keyspace::compact`).
    pub(crate) fn from_parts(regs: Vec<Reg<V>>, totals: Vec<Total>, over: VClock) -> Self {
        Scalar {
            regs,
            totals,
            removed: None,
            over,
        }
    }

    /// The parts a compact form keeps: registers, totals, the overwritten clock; `None` when
    /// the scalar has removal history (no compact form has any).
    pub(crate) fn parts(&self) -> Option<ScalarParts<'_, V>> {
        let r = self.removed.as_deref();
        if r.is_some_and(|r| !r.reset.is_empty() || !r.tomb.entries().is_empty()) {
            return None;
        }
        Some((&self.regs, &self.totals, &self.over))
    }
}

impl<V> Scalar<V> {
    /// The counter totals removes had observed, per instance.
    fn reset(&self) -> &[Total] {
        self.removed.as_deref().map_or(&[], |r| &r.reset)
    }

    /// The join of the removes' observed clocks.
    fn tomb(&self) -> &VClock {
        self.removed.as_deref().map_or(&NO_TOMB, |r| &r.tomb)
    }

    fn removed_mut(&mut self) -> &mut Removed {
        self.removed.get_or_insert_with(Box::default)
    }
}

fn at(v: &[Total], i: usize) -> Total {
    v.get(i).copied().unwrap_or_default()
}

fn put(v: &mut Vec<Total>, i: usize, t: Total) {
    if v.len() <= i {
        v.resize(i + 1, Total::default());
    }
    v[i] = t;
}

/// The sum of increments, and whether any float increment contributed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Increments {
    pub int: i128,
    pub float: f64,
    pub has_float: bool,
    /// Some increment is not covered by the winner or a remove.
    pub any: bool,
}

impl<V: Clone> Scalar<V> {
    /// Applies a register write. Dead on arrival if a remove or another write had observed it.
    pub fn write(&mut self, reg: Reg<V>) {
        let mut seen = reg.vc.clone();
        seen.set(reg.dot.origin, reg.dot.seq.saturating_sub(1));
        self.over.join(&seen);
        let over = &self.over;
        self.regs.retain(|r| !over.covers(r.dot));
        if self.tomb().covers(reg.dot) || self.over.covers(reg.dot) {
            return;
        }
        if super::planted::planted(super::planted::PlantedBug::LwwArrival) {
            self.regs.clear();
        }
        // Kept sorted by dot so that equal states compare equal whatever the arrival order.
        let p = self.regs.partition_point(|r| r.dot < reg.dot);
        self.regs.insert(p, reg);
    }

    /// Applies increment number `seq` of `origin`.
    pub fn incr(&mut self, origin: InstanceId, seq: u64, int: i64, float: f64) {
        let i = origin.index();
        let t = at(&self.totals, i);
        if super::planted::planted(super::planted::PlantedBug::DropConcurrentIncr)
            && t.seq == 0
            && self
                .totals
                .iter()
                .enumerate()
                .any(|(j, x)| j != i && x.seq > 0)
        {
            return;
        }
        let int = if super::planted::planted(super::planted::PlantedBug::IncrOffByOne) {
            int.wrapping_add(1)
        } else {
            int
        };
        if seq > t.seq {
            put(
                &mut self.totals,
                i,
                Total {
                    seq,
                    int: t.int.wrapping_add(int),
                    float: t.float + float,
                },
            );
        }
    }

    /// Applies an observed remove: `vc` is what the remover had observed of the key, and
    /// `observed` the counter totals it had seen of this scalar.
    pub fn remove(&mut self, vc: &VClock, observed: &[Total]) {
        self.regs.retain(|r| !vc.covers(r.dot));
        let removed = self.removed_mut();
        removed.tomb.join(vc);
        for (i, o) in observed.iter().enumerate() {
            let r = at(&removed.reset, i).later(*o);
            put(&mut removed.reset, i, r);
        }
    }

    /// A key-level remove: kills the observed writes and resets the observed counters, but
    /// leaves this part's own tombstone alone (the key keeps that one), so that a part's state
    /// does not depend on whether it existed when the key was deleted.
    pub fn remove_by_key(&mut self, vc: &VClock, observed: &[Total]) {
        self.regs.retain(|r| !vc.covers(r.dot));
        if observed.is_empty() {
            return;
        }
        let removed = self.removed_mut();
        for (i, o) in observed.iter().enumerate() {
            let r = at(&removed.reset, i).later(*o);
            put(&mut removed.reset, i, r);
        }
    }

    /// Drops removal history; returns whether nothing at all is left (the part can go).
    pub fn collect_garbage(&mut self) -> bool {
        if let Some(r) = self.removed.as_deref_mut() {
            r.tomb = VClock::default();
        }
        self.over = VClock::default();
        let settled = self.totals.iter().enumerate().all(|(i, t)| {
            let base = at(self.reset(), i);
            t.seq <= base.seq
        });
        if self.regs.is_empty() && settled {
            self.totals.clear();
            self.removed = None;
            return true;
        }
        false
    }

    /// The register a read shows.
    pub fn winner(&self) -> Option<&Reg<V>> {
        self.regs.iter().max_by_key(|r| r.rank())
    }

    /// Increments not observed by the winning register nor reset by a remove.
    pub fn increments(&self) -> Increments {
        let winner = self.winner();
        let mut inc = Increments::default();
        for (i, t) in self.totals.iter().enumerate() {
            let mut base = at(self.reset(), i);
            if let Some(w) = winner {
                base = base.later(at(&w.observed, i));
            }
            if t.seq > base.seq {
                inc.any = true;
                inc.int += t.int as i128 - base.int as i128;
                let f = t.float - base.float;
                if f != 0.0 || t.float != base.float {
                    inc.has_float = true;
                }
                inc.float += f;
            }
        }
        inc
    }

    /// Whether a read finds anything.
    pub fn exists(&self) -> bool {
        !self.regs.is_empty() || self.increments().any
    }

    /// The totals as a new writer or remover observes them.
    pub fn observed_totals(&self) -> Vec<Total> {
        self.totals.clone()
    }

    /// Whether this scalar holds only history (no live write, no live increment).
    pub fn is_tombstone(&self) -> bool {
        !self.exists()
    }

    /// State merge. `mine` and `theirs` are the key contexts of the two states: a write
    /// present on one side only, whose op the other side had applied, was removed or
    /// overwritten there and stays dead.
    pub fn merge(&mut self, other: &Scalar<V>, mine: &VClock, theirs: &VClock)
    where
        V: PartialEq,
    {
        let mut regs: Vec<Reg<V>> = Vec::new();
        for r in &self.regs {
            let in_other = other.regs.iter().any(|o| o.dot == r.dot);
            if in_other || !theirs.covers(r.dot) {
                regs.push(r.clone());
            }
        }
        for r in &other.regs {
            let in_mine = self.regs.iter().any(|o| o.dot == r.dot);
            if !in_mine && !mine.covers(r.dot) {
                regs.push(r.clone());
            }
        }
        if other.removed.is_some() {
            self.removed_mut().tomb.join(other.tomb());
        }
        self.over.join(&other.over);
        let (tomb, over) = (self.tomb(), &self.over);
        regs.retain(|r| !tomb.covers(r.dot) && !over.covers(r.dot));
        regs.sort_by_key(|r| r.dot);
        self.regs = regs;
        for (i, t) in other.totals.iter().enumerate() {
            let m = at(&self.totals, i).later(*t);
            put(&mut self.totals, i, m);
        }
        if !other.reset().is_empty() {
            let removed = self.removed_mut();
            for (i, t) in other.reset().iter().enumerate() {
                let m = at(&removed.reset, i).later(*t);
                put(&mut removed.reset, i, m);
            }
        }
    }

    /// Folds the full state, in a canonical order.
    pub fn digest_state(&self, d: &mut Digest, value: impl Fn(&V, &mut Digest)) {
        let mut regs: Vec<&Reg<V>> = self.regs.iter().collect();
        regs.sort_by_key(|r| r.dot);
        d.word(regs.len() as u64);
        for r in regs {
            d.word(r.ts).word(r.dot.origin.0 as u64).word(r.dot.seq);
            value(&r.value, d);
        }
        for vc in [self.tomb(), &self.over] {
            d.word(vc.entries().len() as u64);
            for c in vc.entries() {
                d.word(*c);
            }
        }
        for v in [&self.totals[..], self.reset()] {
            d.word(v.len() as u64);
            for t in v {
                d.word(t.seq).word(t.int as u64).word(t.float.to_bits());
            }
        }
    }

    /// Estimated bytes of metadata (snapshot and memory accounting).
    pub fn meta_bytes(&self) -> u64 {
        let regs: u64 = self
            .regs
            .iter()
            .map(|r| 24 + 8 * r.vc.entries().len() as u64 + 24 * r.observed.len() as u64)
            .sum();
        regs + 24 * (self.totals.len() + self.reset().len()) as u64
            + 8 * self.tomb().entries().len() as u64
    }

    pub fn regs(&self) -> &[Reg<V>] {
        &self.regs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vc(v: &[u64]) -> VClock {
        let mut c = VClock::new(v.len());
        for (i, x) in v.iter().enumerate() {
            c.set(InstanceId(i as u8), *x);
        }
        c
    }

    fn reg(v: i32, ts: u64, origin: u8, seq: u64, clock: &[u64]) -> Reg<i32> {
        Reg {
            value: v,
            ts,
            dot: Dot {
                origin: InstanceId(origin),
                seq,
            },
            vc: vc(clock),
            observed: Box::default(),
            annotation: 0,
        }
    }

    /// Removal history is boxed on the first remove and dropped by garbage collection;
    /// equality and digests see the state, not whether it is boxed.
    #[test]
    fn removal_history_is_boxed_only_while_it_matters() {
        let mut a: Scalar<i32> = Scalar::default();
        a.write(reg(1, 10, 0, 1, &[1, 0]));
        let fresh = a.clone();
        assert!(a.removed.is_none());
        // A key-level remove that observed no totals leaves nothing to keep.
        a.remove_by_key(&vc(&[0, 0]), &[]);
        assert!(a.removed.is_none() && a == fresh);
        // A remove of nothing still records its clock: boxed, and a different state.
        a.remove(&vc(&[0, 3]), &[]);
        assert!(a.removed.is_some() && a != fresh);
        assert_eq!(a.tomb().entries(), &[0, 3]);
        // After garbage collection the clock is gone, the box may stay: equal by value to a
        // scalar that never had one, and the same digest.
        a.collect_garbage();
        let mut b = fresh.clone();
        b.collect_garbage();
        assert_eq!(a, b);
        let (mut da, mut db) = (Digest::new(), Digest::new());
        a.digest_state(&mut da, |v, d| {
            d.word(*v as u64);
        });
        b.digest_state(&mut db, |v, d| {
            d.word(*v as u64);
        });
        assert_eq!(da.value(), db.value());
    }

    #[test]
    fn concurrent_writes_keep_both_and_read_the_latest() {
        let mut s = Scalar::default();
        s.write(reg(1, 100, 0, 1, &[1, 0]));
        s.write(reg(2, 90, 1, 1, &[0, 1]));
        assert_eq!(s.regs().len(), 2);
        assert_eq!(s.winner().unwrap().value, 1);
        // A write that saw both replaces both, whatever its clock says.
        s.write(reg(3, 10, 1, 2, &[1, 2]));
        assert_eq!(s.regs().len(), 1);
        assert_eq!(s.winner().unwrap().value, 3);
    }

    #[test]
    fn a_remove_that_arrives_first_still_kills_what_it_observed() {
        let mut s = Scalar::default();
        s.remove(&vc(&[1, 0]), &[]);
        s.write(reg(1, 100, 0, 1, &[1, 0]));
        assert!(!s.exists());
        s.write(reg(2, 50, 1, 1, &[0, 1]));
        assert_eq!(s.winner().unwrap().value, 2);
    }

    #[test]
    fn removes_reset_only_observed_increments() {
        // The documented sorted-set example: ZADD 4.1 seen by both; ZREM on I1 while I2
        // increments by 2.0: the result is 2.0 everywhere.
        let mut s: Scalar<f64> = Scalar::default();
        s.write(Reg {
            value: 4.1,
            ts: 1,
            dot: Dot {
                origin: InstanceId(0),
                seq: 1,
            },
            vc: vc(&[1, 0]),
            observed: Box::default(),
            annotation: 0,
        });
        let mut other = s.clone();
        s.remove(&vc(&[1, 0]), &[]);
        other.incr(InstanceId(1), 1, 0, 2.0);
        s.incr(InstanceId(1), 1, 0, 2.0);
        other.remove(&vc(&[1, 0]), &[]);
        for x in [&s, &other] {
            assert!(x.winner().is_none());
            assert_eq!(x.increments().float, 2.0);
        }
    }
}
