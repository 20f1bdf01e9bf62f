//! Changing an entry: applying an op, a key-level removal, merging a full-sync state,
//! collecting garbage.

use super::*;

impl Entry {
    pub(super) fn apply_kind(&mut self, op: &Op) {
        let killed = self.tomb().covers(op.dot);
        let origin = op.dot.origin;
        let seq = op.dot.seq;
        match &op.kind {
            OpKind::Set { value, observed } => {
                let mut r = reg(op, value.clone());
                r.observed = observed[..].into();
                self.string.write(r);
            }
            OpKind::Incr { int, float } => self.string.incr(origin, seq, *int, *float),
            OpKind::Del { observed } => self.remove_key(&op.vc, observed),
            OpKind::Expire(e) => self.expire_mut().write(reg(op, *e)),
            _ => self.apply_to_collection(op),
        }
        // A write the key's tombstone already covers is dead on arrival. It was still applied
        // above (its clock says what it overwrote), so the state is the same whether the
        // delete came first or second.
        if killed {
            self.apply_key_tomb();
        }
        if let Some(t) = op.kind.key_type() {
            self.stamps.raise(t, stamp(op.ts, origin));
        }
        self.settle_groups();
    }

    /// Brings the stream's local consumer-group state in line with its replicated part (a
    /// no-op for a key without groups).
    pub(super) fn settle_groups(&mut self) {
        // Checked before the tombstone is copied: this runs after every op on every key.
        if self
            .coll
            .as_deref()
            .is_none_or(|c| c.stream.groups.is_empty())
        {
            return;
        }
        let tomb = self.tomb().clone();
        if let Some(c) = self.coll.as_deref_mut() {
            c.stream.groups.settle(&tomb);
        }
    }

    /// The part of [`Entry::apply_kind`] for hashes, sets, sorted sets, lists, streams and
    /// HyperLogLogs.
    fn apply_to_collection(&mut self, op: &Op) {
        let (origin, seq) = (op.dot.origin, op.dot.seq);
        match &op.kind {
            OpKind::HSet(fields) => {
                for (f, v, observed) in fields {
                    let s = self.coll_mut().hash.entry(f.clone()).or_default();
                    let mut r = reg(op, v.clone());
                    r.observed = observed[..].into();
                    s.write(r);
                }
            }
            OpKind::HIncr { field, int, float } => {
                let s = self.coll_mut().hash.entry(field.clone()).or_default();
                s.incr(origin, seq, *int, *float);
            }
            OpKind::HDel(fields) => {
                let vc = op.vc.clone();
                for (f, observed) in fields {
                    let s = self.coll_mut().hash.entry(f.clone()).or_default();
                    s.remove(&vc, observed);
                }
            }
            OpKind::SAdd(members) => {
                for m in members {
                    let s = self.coll_mut().set.entry(m.clone()).or_default();
                    s.write(reg(op, ()));
                }
            }
            OpKind::SRem(members) => {
                use crate::crdt::planted::{PlantedBug, planted};
                for m in members {
                    let s = self.coll_mut().set.entry(m.clone()).or_default();
                    let mut vc = op.vc.clone();
                    if planted(PlantedBug::RemoveWins) {
                        for r in s.regs() {
                            vc.set(r.dot.origin, vc.get(r.dot.origin).max(r.dot.seq));
                        }
                    }
                    s.remove(&vc, &[]);
                }
            }
            OpKind::ZAdd(members) => {
                for (m, score, observed) in members {
                    let s = self.coll_mut().zset.entry(m.clone()).or_default();
                    let mut r = reg(op, *score);
                    r.observed = observed[..].into();
                    s.write(r);
                }
            }
            OpKind::ZIncr { member, by } => {
                use crate::crdt::planted::{PlantedBug, planted};
                let by = if planted(PlantedBug::ZincrbyTwice) {
                    2.0 * by
                } else {
                    *by
                };
                let s = self.coll_mut().zset.entry(member.clone()).or_default();
                s.incr(origin, seq, 0, by);
            }
            OpKind::ZRem(members) => {
                let vc = op.vc.clone();
                for (m, observed) in members {
                    self.coll_mut()
                        .zset
                        .entry(m.clone())
                        .or_default()
                        .remove(&vc, observed);
                }
            }
            OpKind::LInsert(inserts) => {
                let tomb = self.tomb().clone();
                self.coll_mut().list.insert(inserts, op.ts, &tomb);
            }
            OpKind::LRem(ids) => self.coll_mut().list.remove(ids),
            OpKind::LSet { id, value } => {
                self.coll_mut()
                    .list
                    .set(*id, value.clone(), (op.ts, Reverse(origin), op.dot.seq));
            }
            OpKind::XAdd { id, fields } => {
                let tomb = self.tomb().clone();
                self.coll_mut().stream.add(
                    StreamEntry {
                        id: *id,
                        dot: op.dot,
                        fields: fields.clone(),
                        dead: false,
                    },
                    &tomb,
                );
            }
            OpKind::XDel(dots) => self.coll_mut().stream.remove(dots),
            OpKind::XTrim(dots) => self.coll_mut().stream.trim(dots),
            OpKind::XSetId {
                id,
                entries_added,
                max_deleted,
            } => self
                .coll_mut()
                .stream
                .set_last_id(*id, *entries_added, *max_deleted),
            OpKind::XGroupCreate { group, id } => self.coll_mut().stream.groups.apply(
                group,
                GroupOp {
                    dot: op.dot,
                    vc: op.vc.clone(),
                    kind: GroupOpKind::Create(*id),
                },
            ),
            OpKind::XGroupDestroy { group } => {
                self.coll_mut().stream.groups.destroy(group, &op.vc);
            }
            OpKind::XAck { group, prefix } => self.coll_mut().stream.groups.apply(
                group,
                GroupOp {
                    dot: op.dot,
                    vc: op.vc.clone(),
                    kind: GroupOpKind::Ack(prefix.clone()),
                },
            ),
            OpKind::PfAdd(regs) => {
                let tomb = self.tomb().clone();
                self.coll_mut().hll.add(
                    HllAdd {
                        dot: op.dot,
                        vc: op.vc.clone(),
                        registers: regs.clone(),
                    },
                    &tomb,
                );
            }
            OpKind::Json(edits) => self.coll_mut().json.apply(op.dot, &op.vc, edits),
            OpKind::Set { .. } | OpKind::Incr { .. } | OpKind::Del { .. } | OpKind::Expire(_) => {
                unreachable!("applied by apply_kind")
            }
        }
    }

    /// Kills everything the key's tombstone covers, in every part.
    pub(super) fn apply_key_tomb(&mut self) {
        let tomb = self.tomb().clone();
        self.string.remove_by_key(&tomb, &[]);
        if let Some(x) = self.expire.as_deref_mut() {
            x.remove_by_key(&tomb, &[]);
        }
        if let Some(c) = self.coll.as_deref_mut() {
            for s in c.hash.values_mut() {
                s.remove_by_key(&tomb, &[]);
            }
            for s in c.set.values_mut() {
                s.remove_by_key(&tomb, &[]);
            }
            for s in c.zset.values_mut() {
                s.remove_by_key(&tomb, &[]);
            }
            c.list.remove_observed(&tomb);
            c.stream.remove_observed(&tomb);
            c.hll.prune(&tomb);
            c.json.remove_root(&tomb);
        }
    }

    pub(super) fn remove_key(&mut self, vc: &VClock, observed: &[(Part, Vec<Total>)]) {
        self.tomb_mut().join(vc);
        let find = |p: &Part| {
            observed
                .iter()
                .find(|(q, _)| q == p)
                .map(|(_, t)| t.clone())
                .unwrap_or_default()
        };
        self.string.remove(vc, &find(&Part::Str));
        self.expire_mut().remove(vc, &[]);
        // Parts the remover had observed with counters, even if not present here yet.
        for (p, _) in observed {
            match p {
                Part::Field(f) => {
                    self.coll_mut().hash.entry(f.clone()).or_default();
                }
                Part::Member(m) => {
                    self.coll_mut().zset.entry(m.clone()).or_default();
                }
                Part::Str => {}
            }
        }
        let tomb = self.tomb().clone();
        if let Some(c) = self.coll.as_deref_mut() {
            for (f, s) in c.hash.iter_mut() {
                s.remove_by_key(vc, &find(&Part::Field(f.clone())));
            }
            for s in c.set.values_mut() {
                s.remove_by_key(vc, &[]);
            }
            for (m, s) in c.zset.iter_mut() {
                s.remove_by_key(vc, &find(&Part::Member(m.clone())));
            }
            c.list.remove_observed(vc);
            c.stream.remove_observed(vc);
            c.stream.restart_counters(&tomb);
            // HyperLogLog: DEL wins over concurrent adds [HLL].
            c.hll.prune(&tomb);
            c.json.remove_root(vc);
        }
    }

    /// State merge of two entries for the same key.
    pub fn merge(&mut self, other: &Entry) {
        let (mine, theirs) = (self.ctx.clone(), other.ctx.clone());
        self.string.merge(&other.string, &mine, &theirs);
        if self.expire.is_some() || other.expire.is_some() {
            self.expire_mut().merge(&other.expire(), &mine, &theirs);
        }
        let mine_tomb = self.tomb().clone();
        if let Some(oc) = other.coll.as_deref() {
            let tomb = {
                let mut t = self.tomb().clone();
                t.join(other.tomb());
                t
            };
            let c = self.coll_mut();
            for (f, s) in &oc.hash {
                c.hash
                    .entry(f.clone())
                    .or_default()
                    .merge(s, &mine, &theirs);
            }
            for (m, s) in &oc.set {
                c.set.entry(m.clone()).or_default().merge(s, &mine, &theirs);
            }
            for (m, s) in &oc.zset {
                c.zset
                    .entry(m.clone())
                    .or_default()
                    .merge(s, &mine, &theirs);
            }
            c.list.merge(&oc.list, &tomb);
            c.stream.merge(&oc.stream, &mine_tomb, other.tomb(), &tomb);
            c.hll.merge(&oc.hll, &tomb);
            c.json.merge(&oc.json);
        }
        // Parts only on this side that the other side had observed and removed.
        let other_coll = other.coll.as_deref();
        if let Some(c) = self.coll.as_deref_mut() {
            let empty = Scalar::default();
            let none = other_coll;
            for (f, s) in c.hash.iter_mut() {
                if none.is_none_or(|o| !o.hash.contains_key(f)) {
                    s.merge(&empty, &mine, &theirs);
                }
            }
            let empty_unit: Scalar<()> = Scalar::default();
            for (m, s) in c.set.iter_mut() {
                if none.is_none_or(|o| !o.set.contains_key(m)) {
                    s.merge(&empty_unit, &mine, &theirs);
                }
            }
            let empty_f: Scalar<f64> = Scalar::default();
            for (m, s) in c.zset.iter_mut() {
                if none.is_none_or(|o| !o.zset.contains_key(m)) {
                    s.merge(&empty_f, &mine, &theirs);
                }
            }
            if other.coll.is_none() {
                c.list.remove_observed(other.tomb());
                c.stream.remove_observed(other.tomb());
                if !mine_tomb.dominates(other.tomb()) {
                    let mut tomb = mine_tomb.clone();
                    tomb.join(other.tomb());
                    c.stream.restart_counters(&tomb);
                }
            }
        }
        if other.tomb.is_some() {
            self.tomb_mut().join(other.tomb());
        }
        self.apply_key_tomb();
        self.settle_groups();
        self.stamps.join(&other.stamps);
        self.ctx.join(&theirs);
    }

    /// Drops removal history (see [`Keyspace::collect_garbage`]).
    pub(super) fn collect_garbage(&mut self) {
        let tomb = self.tomb.take();
        if let Some(c) = self.coll.as_deref_mut() {
            c.stream
                .collect_garbage(tomb.as_deref().unwrap_or(&VClock::EMPTY));
        }
        self.string.collect_garbage();
        if let Some(x) = self.expire.as_deref_mut() {
            x.collect_garbage();
        }
        if let Some(c) = self.coll.as_deref_mut() {
            c.hash.retain(|_, s| !s.collect_garbage());
            c.set.retain(|_, s| !s.collect_garbage());
            c.zset.retain(|_, s| !s.collect_garbage());
            c.list.collect_garbage();
            c.json.collect_garbage();
        }
        if self.coll.as_deref().is_some_and(|c| {
            c.hash.is_empty()
                && c.set.is_empty()
                && c.zset.is_empty()
                && c.list.is_empty_all()
                && c.stream.is_empty_all()
                && c.hll.is_empty()
                && c.json.is_empty()
        }) {
            self.coll = None;
        }
    }
}

/// A register written by `op` with `value`.
fn reg<V>(op: &Op, value: V) -> Reg<V> {
    Reg {
        value,
        ts: op.ts,
        dot: op.dot,
        vc: op.vc.clone(),
        observed: Box::default(),
        annotation: op.annotation,
    }
}
