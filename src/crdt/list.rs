//! Lists as a sequence CRDT (a replicated growable array, RGA).
//!
//! Every pushed or inserted element gets a unique id `(lamport, origin, seq, index)` and
//! remembers its anchor (the element it was inserted after, or the head). Elements inserted
//! after the same anchor are ordered by descending Lamport number (so a later local insert
//! lands right after its anchor, as in Redis), then by ascending instance id — which gives the
//! documented `x y1 y2` for concurrent `LINSERT ... AFTER x` on Instance 1 and Instance 2
//! \[LIST\]. Every instance holds the same order, whatever the delivery order.
//!
//! Removals (`LPOP`, `RPOP`, `LREM`, `DEL`) mark elements dead; a removal only affects
//! elements its instance had observed, so two instances popping concurrently may pop the
//! same element (documented: at-least-once). Dead elements stay as anchors until garbage
//! collection. An insert whose anchor has not arrived yet waits in a pending list.

use super::clock::{Dot, InstanceId, VClock};
use super::value::Value;
use crate::engine::Digest;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ElemId {
    pub lamport: u64,
    pub origin: InstanceId,
    pub seq: u64,
    pub index: u32,
}

impl ElemId {
    pub fn dot(&self) -> Dot {
        Dot {
            origin: self.origin,
            seq: self.seq,
        }
    }

    /// Whether `self` comes before `other` among elements inserted after the same anchor.
    fn outranks(&self, other: &ElemId) -> bool {
        use super::planted::{PlantedBug, planted};
        if planted(PlantedBug::ListTieOrder) {
            return (self.lamport, self.origin, self.seq, self.index)
                > (other.lamport, other.origin, other.seq, other.index);
        }
        (
            self.lamport,
            std::cmp::Reverse(self.origin),
            self.seq,
            self.index,
        ) > (
            other.lamport,
            std::cmp::Reverse(other.origin),
            other.seq,
            other.index,
        )
    }
}

/// How an element's value is ranked against another write of it: the writer's timestamp,
/// then the smaller instance id, then the writer's sequence number (so that of two writes
/// by one instance in the same millisecond the later wins, as it follows the earlier).
pub type ValueRank = (u64, std::cmp::Reverse<InstanceId>, u64);

/// One element to insert: its id, its anchor (`None` = the head) and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insert {
    pub id: ElemId,
    pub anchor: Option<ElemId>,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Elem {
    pub id: ElemId,
    pub anchor: Option<ElemId>,
    pub value: Value,
    /// The (ts, instance) of the write that set `value` (`LSET` is last-write-wins).
    pub value_rank: ValueRank,
    pub dead: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListCrdt {
    elems: Vec<Elem>,
    /// Inserts waiting for their anchor, with the timestamp of their write.
    pending: Vec<(Insert, u64)>,
    /// Removals of elements not seen yet.
    removed_early: Vec<ElemId>,
    /// `LSET`s of elements not seen yet: (element, value, rank).
    set_early: Vec<(ElemId, Value, ValueRank)>,
    max_lamport: u64,
}

impl ListCrdt {
    /// The Lamport number a new local insert starts from.
    pub fn next_lamport(&self) -> u64 {
        self.max_lamport + 1
    }

    fn position(&self, id: ElemId) -> Option<usize> {
        self.elems.iter().position(|e| e.id == id)
    }

    /// Applies inserts in order (a later one may anchor on an earlier one), each with the
    /// rank of its write and the key tombstone that may already cover it.
    pub fn insert(&mut self, inserts: &[Insert], ts: u64, tomb: &VClock) {
        for ins in inserts {
            self.max_lamport = self.max_lamport.max(ins.id.lamport);
            if self.position(ins.id).is_some() || self.pending.iter().any(|p| p.0.id == ins.id) {
                continue;
            }
            self.pending.push((ins.clone(), ts));
        }
        self.drain_pending(tomb);
    }

    fn drain_pending(&mut self, tomb: &VClock) {
        loop {
            let ready = self.pending.iter().position(|(p, _)| match p.anchor {
                None => true,
                Some(a) => self.position(a).is_some(),
            });
            let Some(i) = ready else { break };
            let (ins, ts) = self.pending.remove(i);
            let mut p = match ins.anchor {
                None => 0,
                Some(a) => self.position(a).expect("anchor present") + 1,
            };
            while p < self.elems.len() && self.elems[p].id.outranks(&ins.id) {
                p += 1;
            }
            let early = self.removed_early.iter().position(|id| *id == ins.id);
            if let Some(k) = early {
                self.removed_early.remove(k);
            }
            let dead = early.is_some() || tomb.covers(ins.id.dot());
            let mut elem = Elem {
                id: ins.id,
                anchor: ins.anchor,
                value: ins.value,
                value_rank: (ts, std::cmp::Reverse(ins.id.origin), ins.id.seq),
                dead,
            };
            if let Some(k) = self.set_early.iter().position(|(id, _, _)| *id == ins.id) {
                let (_, v, r) = self.set_early.remove(k);
                if r > elem.value_rank {
                    elem.value = v;
                    elem.value_rank = r;
                }
            }
            self.elems.insert(p, elem);
        }
    }

    /// Marks elements dead (observed remove by id).
    pub fn remove(&mut self, ids: &[ElemId]) {
        for id in ids {
            match self.position(*id) {
                Some(p) => self.elems[p].dead = true,
                None => {
                    if !self.removed_early.contains(id) {
                        self.removed_early.push(*id);
                    }
                }
            }
        }
    }

    /// Kills every element whose insert the key-level remove had observed.
    pub fn remove_observed(&mut self, vc: &VClock) {
        for e in &mut self.elems {
            if vc.covers(e.id.dot()) {
                e.dead = true;
            }
        }
    }

    /// `LSET`: the element's value is last-write-wins.
    pub fn set(&mut self, id: ElemId, value: Value, rank: ValueRank) {
        match self.position(id) {
            Some(p) => {
                let e = &mut self.elems[p];
                if rank > e.value_rank {
                    e.value = value;
                    e.value_rank = rank;
                }
            }
            None => match self.set_early.iter_mut().find(|(i, _, _)| *i == id) {
                Some(early) => {
                    if rank > early.2 {
                        early.1 = value;
                        early.2 = rank;
                    }
                }
                None => self.set_early.push((id, value, rank)),
            },
        }
    }

    /// Live elements in order.
    pub fn live(&self) -> impl Iterator<Item = &Elem> {
        self.elems.iter().filter(|e| !e.dead)
    }

    pub fn len(&self) -> usize {
        self.live().count()
    }

    pub fn is_empty(&self) -> bool {
        self.live().next().is_none()
    }

    /// The last element of the whole sequence (dead ones included): where `RPUSH` appends.
    pub fn last_id(&self) -> Option<ElemId> {
        self.elems.last().map(|e| e.id)
    }

    /// The element right before `id` in the whole sequence: the anchor for "insert before".
    pub fn predecessor(&self, id: ElemId) -> Option<ElemId> {
        let p = self.position(id)?;
        if p == 0 {
            None
        } else {
            Some(self.elems[p - 1].id)
        }
    }

    /// Drops dead elements (every instance has seen every removal and no insert can still
    /// anchor on them).
    pub fn collect_garbage(&mut self) {
        self.elems.retain(|e| !e.dead);
        self.removed_early.clear();
    }

    /// No element at all, dead or alive.
    pub fn is_empty_all(&self) -> bool {
        self.elems.is_empty() && self.pending.is_empty()
    }

    pub fn dead_count(&self) -> usize {
        self.elems.iter().filter(|e| e.dead).count()
    }

    /// State merge: replays the other side's elements in its order (anchors first).
    pub fn merge(&mut self, other: &ListCrdt, tomb: &VClock) {
        let mut prev: Option<ElemId> = None;
        for e in &other.elems {
            // The other side may have collected the dead anchor of a live element (garbage
            // collection assumes every instance holds it; an instance that restarted with
            // nothing does not): then the element goes after its predecessor in the other
            // side's sequence, which keeps that side's order.
            let anchor = match e.anchor {
                Some(a) if self.position(a).is_none() && other.position(a).is_none() => prev,
                a => a,
            };
            prev = Some(e.id);
            if self.position(e.id).is_none() {
                self.max_lamport = self.max_lamport.max(e.id.lamport);
                // An early LSET of this element is settled against the other side's value
                // below, not against the replayed insert.
                let early = self
                    .set_early
                    .iter()
                    .position(|(id, _, _)| *id == e.id)
                    .map(|k| self.set_early.remove(k));
                self.pending.push((
                    Insert {
                        id: e.id,
                        anchor,
                        value: e.value.clone(),
                    },
                    e.value_rank.0,
                ));
                self.drain_pending(tomb);
                if let Some(p) = self.position(e.id) {
                    let mine = &mut self.elems[p];
                    mine.value = e.value.clone();
                    mine.value_rank = e.value_rank;
                    if let Some((_, v, r)) = early
                        && r > mine.value_rank
                    {
                        mine.value = v;
                        mine.value_rank = r;
                    }
                }
            }
            if let Some(p) = self.position(e.id) {
                let mine = &mut self.elems[p];
                if e.value_rank > mine.value_rank {
                    mine.value = e.value.clone();
                    mine.value_rank = e.value_rank;
                }
                mine.dead |= e.dead;
            }
        }
        for (ins, ts) in &other.pending {
            if self.position(ins.id).is_none() && !self.pending.iter().any(|p| p.0.id == ins.id) {
                self.pending.push((ins.clone(), *ts));
            }
        }
        for id in &other.removed_early {
            self.remove(&[*id]);
        }
        for (id, v, r) in &other.set_early {
            self.set(*id, v.clone(), *r);
        }
        self.max_lamport = self.max_lamport.max(other.max_lamport);
        self.drain_pending(tomb);
        self.pending.sort_by_key(|p| p.0.id);
        self.removed_early.sort();
        self.set_early.sort_by_key(|s| s.0);
    }

    pub fn digest_state(&self, d: &mut Digest) {
        d.word(self.elems.len() as u64);
        for e in &self.elems {
            d.word(e.id.lamport)
                .word(e.id.origin.0 as u64)
                .word(e.id.seq)
                .word(e.id.index as u64)
                .word(e.dead as u64)
                .word(e.value_rank.0);
            e.value.digest(d);
        }
        d.word(self.pending.len() as u64)
            .word(self.removed_early.len() as u64)
            .word(self.set_early.len() as u64);
    }

    pub fn bytes(&self) -> u64 {
        self.elems.iter().map(|e| 48 + e.value.len() as u64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(lamport: u64, origin: u8, seq: u64) -> ElemId {
        ElemId {
            lamport,
            origin: InstanceId(origin),
            seq,
            index: 0,
        }
    }

    fn values(l: &ListCrdt) -> Vec<String> {
        l.live().map(|e| e.value.to_string()).collect()
    }

    fn ins(i: ElemId, anchor: Option<ElemId>, v: &str) -> Insert {
        Insert {
            id: i,
            anchor,
            value: Value::from_str_bytes(v),
        }
    }

    #[test]
    fn concurrent_inserts_after_the_same_pivot_order_by_instance() {
        // LPUSH L x; sync; I1: LINSERT AFTER x y1; I2: LINSERT AFTER x y2; sync: x y1 y2.
        let x = id(1, 0, 1);
        let y1 = id(2, 0, 2);
        let y2 = id(2, 1, 1);
        let none = VClock::default();
        let mut a = ListCrdt::default();
        let mut b = ListCrdt::default();
        a.insert(&[ins(x, None, "x")], 0, &none);
        b.insert(&[ins(x, None, "x")], 0, &none);
        a.insert(&[ins(y1, Some(x), "y1")], 0, &none);
        b.insert(&[ins(y2, Some(x), "y2")], 0, &none);
        a.insert(&[ins(y2, Some(x), "y2")], 0, &none);
        b.insert(&[ins(y1, Some(x), "y1")], 0, &none);
        assert_eq!(values(&a), ["x", "y1", "y2"]);
        assert_eq!(values(&b), ["x", "y1", "y2"]);
    }

    #[test]
    fn a_merge_into_an_empty_list_survives_collected_anchors() {
        // x, then y after x and z after y; x is popped and collected. An instance that lost
        // everything (a restart without persistence) gets the list back by state merge.
        let (x, y, z) = (id(1, 1, 1), id(2, 0, 1), id(3, 0, 2));
        let none = VClock::default();
        let mut a = ListCrdt::default();
        a.insert(
            &[
                ins(x, None, "x"),
                ins(y, Some(x), "y"),
                ins(z, Some(y), "z"),
            ],
            0,
            &none,
        );
        a.remove(&[x]);
        a.collect_garbage();
        let mut empty = ListCrdt::default();
        empty.merge(&a, &none);
        assert_eq!(values(&empty), ["y", "z"]);
        assert!(empty.pending.is_empty());
    }

    #[test]
    fn an_insert_waits_for_its_anchor() {
        let x = id(1, 0, 1);
        let y = id(2, 1, 1);
        let none = VClock::default();
        let mut l = ListCrdt::default();
        l.insert(&[ins(y, Some(x), "y")], 0, &none);
        assert!(l.is_empty());
        l.insert(&[ins(x, None, "x")], 0, &none);
        assert_eq!(values(&l), ["x", "y"]);
    }

    #[test]
    fn a_removal_before_the_insert_still_applies() {
        let x = id(1, 0, 1);
        let none = VClock::default();
        let mut l = ListCrdt::default();
        l.remove(&[x]);
        l.insert(&[ins(x, None, "x")], 0, &none);
        assert!(l.is_empty());
        assert_eq!(l.dead_count(), 1);
    }
}
