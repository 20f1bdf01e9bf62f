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
use super::list::{ElemId, Insert, ListCrdt};
use super::scalar::{Reg, Scalar, Total};
use super::stream::{StreamCrdt, StreamEntry, StreamId};
use super::value::{Value, format_float};
use crate::engine::Digest;

pub use super::key::Key;
pub type Bytes = Vec<u8>;

/// The data types, in the order used for type stamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyType {
    String,
    Hash,
    Set,
    ZSet,
    List,
    Stream,
    Hll,
}

impl KeyType {
    pub const ALL: [KeyType; 7] = [
        KeyType::String,
        KeyType::Hash,
        KeyType::Set,
        KeyType::ZSet,
        KeyType::List,
        KeyType::Stream,
        KeyType::Hll,
    ];

    /// What `TYPE` replies (a HyperLogLog is a string in Redis).
    pub fn name(self) -> &'static str {
        match self {
            KeyType::String | KeyType::Hll => "string",
            KeyType::Hash => "hash",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::List => "list",
            KeyType::Stream => "stream",
        }
    }
}

/// A key's time to live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Expires when the owner's clock reaches this many milliseconds.
    At(u64),
    /// No expiry (`PERSIST`), which beats any `EXPIRE`.
    Persist,
}

/// Which counter-bearing part of a key a remove's observed totals refer to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Str,
    Field(Bytes),
    Member(Bytes),
}

/// A replicated effect: what one write does to one key, with its causal metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub key: Key,
    pub dot: Dot,
    /// The key's vector clock at the origin right after this op (`vc[origin] == dot.seq`).
    pub vc: VClock,
    /// The origin's wall clock in milliseconds when it wrote.
    pub ts: u64,
    pub kind: OpKind,
    /// An opaque annotation carried with the op and its register; no merge rule reads it.
    /// The simulator stores the true time of the write here, to spot clock-inverted wins.
    pub annotation: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// A string register write (`SET`, `APPEND`, `SETRANGE`, `GETSET`, … as their result),
    /// with the counter totals the writer had observed.
    Set {
        value: Value,
        observed: Vec<Total>,
    },
    Incr {
        int: i64,
        float: f64,
    },
    HSet(Vec<(Bytes, Value, Vec<Total>)>),
    HIncr {
        field: Bytes,
        int: i64,
        float: f64,
    },
    HDel(Vec<(Bytes, Vec<Total>)>),
    SAdd(Vec<Bytes>),
    SRem(Vec<Bytes>),
    ZAdd(Vec<(Bytes, f64, Vec<Total>)>),
    ZIncr {
        member: Bytes,
        by: f64,
    },
    ZRem(Vec<(Bytes, Vec<Total>)>),
    LInsert(Vec<Insert>),
    LRem(Vec<ElemId>),
    LSet {
        id: ElemId,
        value: Value,
    },
    XAdd {
        id: StreamId,
        fields: Vec<(Bytes, Bytes)>,
    },
    XDel(Vec<Dot>),
    PfAdd(Vec<(u16, u8)>),
    /// `DEL`, or the owner's expiry: removes what the origin had observed.
    Del {
        observed: Vec<(Part, Vec<Total>)>,
    },
    Expire(Expiry),
}

impl OpKind {
    /// Whether the op removes something (and so leaves removal history behind).
    pub fn removes(&self) -> bool {
        matches!(
            self,
            OpKind::Del { .. }
                | OpKind::HDel(_)
                | OpKind::SRem(_)
                | OpKind::ZRem(_)
                | OpKind::LRem(_)
                | OpKind::XDel(_)
        )
    }

    /// The data type the op writes, if it writes one.
    pub fn key_type(&self) -> Option<KeyType> {
        Some(match self {
            OpKind::Set { .. } | OpKind::Incr { .. } => KeyType::String,
            OpKind::HSet(_) | OpKind::HIncr { .. } | OpKind::HDel(_) => KeyType::Hash,
            OpKind::SAdd(_) | OpKind::SRem(_) => KeyType::Set,
            OpKind::ZAdd(_) | OpKind::ZIncr { .. } | OpKind::ZRem(_) => KeyType::ZSet,
            OpKind::LInsert(_) | OpKind::LRem(_) | OpKind::LSet { .. } => KeyType::List,
            OpKind::XAdd { .. } | OpKind::XDel(_) => KeyType::Stream,
            OpKind::PfAdd(_) => KeyType::Hll,
            OpKind::Del { .. } | OpKind::Expire(_) => return None,
        })
    }
}

/// What applying an op did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The op was new and took effect.
    Applied,
    /// The op's dot was already covered: a redelivery, filtered.
    Duplicate,
    /// Causal consistency is on and an op its origin had observed is missing: buffered.
    Buffered,
}

/// The collection parts of an entry, boxed because most keys in a generated workload are
/// strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Collections {
    pub hash: BTreeMap<Bytes, Scalar<Value>>,
    pub set: BTreeMap<Bytes, Scalar<()>>,
    pub zset: BTreeMap<Bytes, Scalar<f64>>,
    pub list: ListCrdt,
    pub stream: StreamCrdt,
    pub hll: HllCrdt,
}

/// The rank of a write for the type-conflict rule, packed in one word: later timestamp
/// first, then the smaller instance id; 0 means "never written". Ordered like
/// `(ts, Reverse(origin))` for timestamps below 2^55 ms (a million years; larger ones are
/// capped there). Seven of them per key cost 56 bytes instead of 168.
type Stamp = u64;

fn stamp(ts: u64, origin: InstanceId) -> Stamp {
    const TS_MAX: u64 = (1 << 55) - 1;
    ((ts.min(TS_MAX) << 8) | (255 - origin.0 as u64)) + 1
}

/// A field or member an op names (for counting bytes by parts).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ScopedPart {
    Field(Bytes),
    SetMember(Bytes),
    ZMember(Bytes),
}

#[derive(Clone, Debug, Default)]
pub struct Entry {
    /// Per origin, the highest sequence number of its ops on this key applied here.
    pub ctx: VClock,
    /// The join of every key-level remove's observed clock.
    pub tomb: VClock,
    pub string: Scalar<Value>,
    pub coll: Option<Box<Collections>>,
    /// The `EXPIRE`/`PERSIST` registers, boxed: most keys never have one, and an empty
    /// scalar inline would cost 136 bytes per key ([`Entry::expire`] reads it).
    expire: Option<Box<Scalar<Expiry>>>,
    /// Per type, the rank of the latest write of that type.
    stamps: [Stamp; 7],
    /// `entry_bytes` of this entry under its key, kept by the keyspace after every change
    /// (so an apply does not recount the entry before changing it). Not part of the state.
    size: u64,
}

impl PartialEq for Entry {
    /// Equal states; the cached size is bookkeeping, not state.
    fn eq(&self, other: &Entry) -> bool {
        self.ctx == other.ctx
            && self.tomb == other.tomb
            && self.string == other.string
            && self.coll == other.coll
            && self.expire() == other.expire()
            && self.stamps == other.stamps
    }
}

fn float_value(x: f64) -> Value {
    Value::Bytes(format_float(x).into_bytes().into_boxed_slice())
}

impl Entry {
    fn coll_mut(&mut self) -> &mut Collections {
        self.coll.get_or_insert_with(Default::default)
    }

    fn live_types(&self) -> impl Iterator<Item = KeyType> + '_ {
        KeyType::ALL.into_iter().filter(|t| self.has_live(*t))
    }

    fn has_live(&self, t: KeyType) -> bool {
        let c = self.coll.as_deref();
        match t {
            KeyType::String => self.string.exists(),
            KeyType::Hash => c.is_some_and(|c| c.hash.values().any(|s| s.exists())),
            KeyType::Set => c.is_some_and(|c| c.set.values().any(|s| s.exists())),
            KeyType::ZSet => c.is_some_and(|c| c.zset.values().any(|s| s.exists())),
            KeyType::List => c.is_some_and(|c| !c.list.is_empty()),
            KeyType::Stream => c.is_some_and(|c| c.stream.exists(&self.tomb)),
            KeyType::Hll => c.is_some_and(|c| !c.hll.is_empty()),
        }
    }

    /// The type a client sees: among live types, the one written last by timestamp.
    pub fn key_type(&self) -> Option<KeyType> {
        // Fast path for the common plain string key: no other type can be live.
        if self.coll.is_none() {
            return self.string.exists().then_some(KeyType::String);
        }
        self.live_types()
            .max_by_key(|t| (self.stamps[*t as usize], Reverse(*t as usize)))
    }

    /// The expiry registers (an empty scalar when the key never had one).
    fn expire(&self) -> std::borrow::Cow<'_, Scalar<Expiry>> {
        match self.expire.as_deref() {
            Some(x) => std::borrow::Cow::Borrowed(x),
            None => std::borrow::Cow::Owned(Scalar::default()),
        }
    }

    fn expire_regs(&self) -> &[Reg<Expiry>] {
        self.expire.as_deref().map_or(&[], Scalar::regs)
    }

    fn expire_mut(&mut self) -> &mut Scalar<Expiry> {
        self.expire.get_or_insert_with(Box::default)
    }

    /// The winning expiry and the instance that owns it: `PERSIST` beats any `EXPIRE`, a
    /// longer TTL beats a shorter one, the smaller instance id breaks a tie \[DEV\].
    pub fn expiry(&self) -> Option<(Expiry, InstanceId)> {
        self.expire_regs()
            .iter()
            .max_by_key(|r| {
                let at = match r.value {
                    Expiry::Persist => u64::MAX,
                    Expiry::At(t) => t,
                };
                (at, Reverse(r.dot.origin))
            })
            .map(|r| (r.value, r.dot.origin))
    }

    /// Whether the key has expired by a clock reading `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        matches!(self.expiry(), Some((Expiry::At(t), _)) if now_ms >= t)
    }

    /// The string value a client reads.
    pub fn string_value(&self) -> Option<Value> {
        read_scalar(&self.string)
    }

    /// The string value as an integer when it is a counter only ever incremented by
    /// integers (no register, no float increment): what `INCR` reads, without writing the
    /// number out and parsing it back. `None` means "read [`Entry::string_value`]".
    pub fn string_counter(&self) -> Option<i64> {
        if self.string.winner().is_some() {
            return None;
        }
        let inc = self.string.increments();
        (inc.any && !inc.has_float).then(|| saturate(inc.int))
    }

    pub fn hash_fields(&self) -> Vec<(Bytes, Value)> {
        self.coll
            .as_deref()
            .map(|c| {
                c.hash
                    .iter()
                    .filter_map(|(f, s)| read_scalar(s).map(|v| (f.clone(), v)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn hash_field(&self, field: &[u8]) -> Option<Value> {
        self.coll.as_deref()?.hash.get(field).and_then(read_scalar)
    }

    pub fn set_members(&self) -> Vec<Bytes> {
        self.coll
            .as_deref()
            .map(|c| {
                c.set
                    .iter()
                    .filter(|(_, s)| s.exists())
                    .map(|(m, _)| m.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn zscore(&self, member: &[u8]) -> Option<f64> {
        self.coll.as_deref()?.zset.get(member).and_then(read_score)
    }

    /// Members by ascending score, then member.
    pub fn zset_members(&self) -> Vec<(Bytes, f64)> {
        let mut v: Vec<(Bytes, f64)> = self
            .coll
            .as_deref()
            .map(|c| {
                c.zset
                    .iter()
                    .filter_map(|(m, s)| read_score(s).map(|x| (m.clone(), x)))
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    pub fn list(&self) -> Option<&ListCrdt> {
        self.coll.as_deref().map(|c| &c.list)
    }

    pub fn stream(&self) -> Option<&StreamCrdt> {
        self.coll.as_deref().map(|c| &c.stream)
    }

    pub fn hll(&self) -> Option<&HllCrdt> {
        self.coll.as_deref().map(|c| &c.hll)
    }

    pub fn hash_scalar(&self, field: &[u8]) -> Option<&Scalar<Value>> {
        self.coll.as_deref()?.hash.get(field)
    }

    pub fn zset_scalar(&self, member: &[u8]) -> Option<&Scalar<f64>> {
        self.coll.as_deref()?.zset.get(member)
    }

    /// The counter totals a `DEL` of this key observes.
    pub fn observed_for_del(&self) -> Vec<(Part, Vec<Total>)> {
        let mut v = Vec::new();
        if !self.string.observed_totals().is_empty() {
            v.push((Part::Str, self.string.observed_totals()));
        }
        if let Some(c) = self.coll.as_deref() {
            for (f, s) in &c.hash {
                if !s.observed_totals().is_empty() {
                    v.push((Part::Field(f.clone()), s.observed_totals()));
                }
            }
            for (m, s) in &c.zset {
                if !s.observed_totals().is_empty() {
                    v.push((Part::Member(m.clone()), s.observed_totals()));
                }
            }
        }
        v
    }

    fn apply_kind(&mut self, op: &Op) {
        fn reg<V>(op: &Op, value: V) -> Reg<V> {
            Reg {
                value,
                ts: op.ts,
                dot: op.dot,
                vc: op.vc.clone(),
                observed: Vec::new(),
                annotation: op.annotation,
            }
        }
        let killed = self.tomb.covers(op.dot);
        let origin = op.dot.origin;
        let seq = op.dot.seq;
        match &op.kind {
            OpKind::Set { value, observed } => {
                let mut r = reg(op, value.clone());
                r.observed = observed.clone();
                self.string.write(r);
            }
            OpKind::Incr { int, float } => self.string.incr(origin, seq, *int, *float),
            OpKind::HSet(fields) => {
                for (f, v, observed) in fields {
                    let s = self.coll_mut().hash.entry(f.clone()).or_default();
                    let mut r = reg(op, v.clone());
                    r.observed = observed.clone();
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
                use super::planted::{PlantedBug, planted};
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
                    r.observed = observed.clone();
                    s.write(r);
                }
            }
            OpKind::ZIncr { member, by } => {
                let s = self.coll_mut().zset.entry(member.clone()).or_default();
                s.incr(origin, seq, 0, *by);
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
                let tomb = self.tomb.clone();
                self.coll_mut().list.insert(inserts, op.ts, &tomb);
            }
            OpKind::LRem(ids) => self.coll_mut().list.remove(ids),
            OpKind::LSet { id, value } => {
                self.coll_mut()
                    .list
                    .set(*id, value.clone(), (op.ts, Reverse(origin)));
            }
            OpKind::XAdd { id, fields } => {
                let tomb = self.tomb.clone();
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
            OpKind::PfAdd(regs) => {
                let tomb = self.tomb.clone();
                self.coll_mut().hll.add(
                    HllAdd {
                        dot: op.dot,
                        vc: op.vc.clone(),
                        registers: regs.clone(),
                    },
                    &tomb,
                );
            }
            OpKind::Del { observed } => self.remove_key(&op.vc, observed),
            OpKind::Expire(e) => self.expire_mut().write(reg(op, *e)),
        }
        // A write the key's tombstone already covers is dead on arrival. It was still applied
        // above (its clock says what it overwrote), so the state is the same whether the
        // delete came first or second.
        if killed {
            self.apply_key_tomb();
        }
        if let Some(t) = op.kind.key_type() {
            let s = &mut self.stamps[t as usize];
            *s = (*s).max(stamp(op.ts, origin));
        }
    }

    /// Kills everything the key's tombstone covers, in every part.
    fn apply_key_tomb(&mut self) {
        let tomb = self.tomb.clone();
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
        }
    }

    fn remove_key(&mut self, vc: &VClock, observed: &[(Part, Vec<Total>)]) {
        self.tomb.join(vc);
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
        let tomb = self.tomb.clone();
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
            // HyperLogLog: DEL wins over concurrent adds [HLL].
            c.hll.prune(&tomb);
        }
    }

    /// State merge of two entries for the same key.
    pub fn merge(&mut self, other: &Entry) {
        let (mine, theirs) = (self.ctx.clone(), other.ctx.clone());
        self.string.merge(&other.string, &mine, &theirs);
        if self.expire.is_some() || other.expire.is_some() {
            self.expire_mut().merge(&other.expire(), &mine, &theirs);
        }
        if let Some(oc) = other.coll.as_deref() {
            let tomb = {
                let mut t = self.tomb.clone();
                t.join(&other.tomb);
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
            c.stream.merge(&oc.stream, &tomb);
            c.hll.merge(&oc.hll, &tomb);
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
                c.list.remove_observed(&other.tomb);
                c.stream.remove_observed(&other.tomb);
            }
        }
        self.tomb.join(&other.tomb);
        self.apply_key_tomb();
        for (mine, theirs) in self.stamps.iter_mut().zip(other.stamps) {
            *mine = (*mine).max(theirs);
        }
        self.ctx.join(&theirs);
    }

    /// Drops removal history (see [`Keyspace::collect_garbage`]).
    fn collect_garbage(&mut self) {
        if let Some(c) = self.coll.as_deref_mut() {
            c.stream.collect_garbage(&self.tomb);
        }
        self.tomb = VClock::default();
        self.string.collect_garbage();
        if let Some(x) = self.expire.as_deref_mut() {
            x.collect_garbage();
        }
        if let Some(c) = self.coll.as_deref_mut() {
            c.hash.retain(|_, s| !s.collect_garbage());
            c.set.retain(|_, s| !s.collect_garbage());
            c.zset.retain(|_, s| !s.collect_garbage());
            c.list.collect_garbage();
        }
        if self.coll.as_deref().is_some_and(|c| {
            c.hash.is_empty()
                && c.set.is_empty()
                && c.zset.is_empty()
                && c.list.is_empty_all()
                && c.stream.all().next().is_none()
                && c.hll.is_empty()
        }) {
            self.coll = None;
        }
    }

    /// Elements and keys that hold only removal history: (count, estimated bytes). A key
    /// with nothing live counts as one tombstone; so does each dead hash field, set or
    /// sorted-set member, list element and stream entry.
    pub fn tombstones(&self) -> (u64, u64) {
        let mut n = 0u64;
        let mut bytes = 0u64;
        if self.key_type().is_none() && (!self.tomb.entries().is_empty() || self.coll.is_some()) {
            n += 1;
            bytes += 16 + 8 * self.tomb.entries().len() as u64 + self.string.meta_bytes();
        }
        if let Some(c) = self.coll.as_deref() {
            for (f, s) in &c.hash {
                if s.is_tombstone() {
                    n += 1;
                    bytes += f.len() as u64 + s.meta_bytes();
                }
            }
            for (m, s) in &c.set {
                if s.is_tombstone() {
                    n += 1;
                    bytes += m.len() as u64 + s.meta_bytes();
                }
            }
            for (m, s) in &c.zset {
                if s.is_tombstone() {
                    n += 1;
                    bytes += m.len() as u64 + s.meta_bytes();
                }
            }
            let dead = (c.list.dead_count() + c.stream.dead_count()) as u64;
            n += dead;
            bytes += 48 * dead;
        }
        (n, bytes)
    }

    /// Estimated bytes of this entry (values and CRDT metadata).
    pub fn bytes(&self) -> u64 {
        let mut b = 8 * (self.ctx.entries().len() + self.tomb.entries().len()) as u64;
        b += self.string.meta_bytes()
            + self
                .string
                .regs()
                .iter()
                .map(|r| r.value.len() as u64)
                .sum::<u64>();
        if let Some(c) = self.coll.as_deref() {
            for (f, s) in &c.hash {
                b += f.len() as u64
                    + s.meta_bytes()
                    + s.regs().iter().map(|r| r.value.len() as u64).sum::<u64>();
            }
            for (m, s) in &c.set {
                b += m.len() as u64 + s.meta_bytes();
            }
            for (m, s) in &c.zset {
                b += m.len() as u64 + s.meta_bytes();
            }
            b += c.list.bytes() + c.stream.bytes() + c.hll.bytes();
        }
        b
    }

    /// The parts of a collection `op` touches, deduplicated, when its byte change can be
    /// counted from them alone (see `Keyspace::apply_now`); `None` otherwise.
    fn scoped_parts(&self, op: &Op) -> Option<Vec<ScopedPart>> {
        // The entry must already be counted as non-empty and stay so: it has collections,
        // and the op is not killed by the key's tombstone (that path touches every part).
        if self.coll.is_none() || self.tomb.covers(op.dot) {
            return None;
        }
        let mut parts: Vec<ScopedPart> = match &op.kind {
            OpKind::HSet(fields) => fields
                .iter()
                .map(|(f, _, _)| ScopedPart::Field(f.clone()))
                .collect(),
            OpKind::HIncr { field, .. } => vec![ScopedPart::Field(field.clone())],
            OpKind::HDel(fields) => fields
                .iter()
                .map(|(f, _)| ScopedPart::Field(f.clone()))
                .collect(),
            OpKind::SAdd(members) | OpKind::SRem(members) => members
                .iter()
                .map(|m| ScopedPart::SetMember(m.clone()))
                .collect(),
            OpKind::ZAdd(members) => members
                .iter()
                .map(|(m, _, _)| ScopedPart::ZMember(m.clone()))
                .collect(),
            OpKind::ZIncr { member, .. } => vec![ScopedPart::ZMember(member.clone())],
            OpKind::ZRem(members) => members
                .iter()
                .map(|(m, _)| ScopedPart::ZMember(m.clone()))
                .collect(),
            _ => return None,
        };
        parts.sort();
        parts.dedup();
        Some(parts)
    }

    /// The bytes `bytes()` counts for the key's clock and these parts (a part not present
    /// counts nothing, as in `bytes()`).
    fn parts_bytes(&self, parts: &[ScopedPart]) -> u64 {
        let mut b = 8 * self.ctx.entries().len() as u64;
        let Some(c) = self.coll.as_deref() else {
            return b;
        };
        for p in parts {
            b += match p {
                ScopedPart::Field(f) => c.hash.get(f).map_or(0, |s| {
                    f.len() as u64
                        + s.meta_bytes()
                        + s.regs().iter().map(|r| r.value.len() as u64).sum::<u64>()
                }),
                ScopedPart::SetMember(m) => {
                    c.set.get(m).map_or(0, |s| m.len() as u64 + s.meta_bytes())
                }
                ScopedPart::ZMember(m) => {
                    c.zset.get(m).map_or(0, |s| m.len() as u64 + s.meta_bytes())
                }
            };
        }
        b
    }

    /// Folds what a client reads of this key (type and value) into `d`.
    pub fn digest_visible(&self, d: &mut Digest) {
        match self.key_type() {
            None => {
                d.word(0);
            }
            Some(t) => {
                d.word(1 + t as u64);
                match t {
                    KeyType::String => self
                        .string_value()
                        .expect("a live string has a value")
                        .digest(d),
                    KeyType::Hash => {
                        for (f, v) in self.hash_fields() {
                            d.bytes(&f);
                            v.digest(d);
                        }
                    }
                    KeyType::Set => {
                        for m in self.set_members() {
                            d.bytes(&m);
                        }
                    }
                    KeyType::ZSet => {
                        for (m, s) in self.zset_members() {
                            d.bytes(&m).word(s.to_bits());
                        }
                    }
                    KeyType::List => {
                        for e in self.list().expect("live list").live() {
                            e.value.digest(d);
                        }
                    }
                    KeyType::Stream => {
                        for e in self.stream().expect("live stream").live() {
                            d.word(e.id.ms).word(e.id.seq);
                            for (k, v) in &e.fields {
                                d.bytes(k).bytes(v);
                            }
                        }
                    }
                    KeyType::Hll => {
                        let regs = self.hll().expect("live hll").registers();
                        d.bytes(&regs[..]);
                    }
                }
            }
        }
        match self.expiry() {
            Some((Expiry::At(t), _)) => d.word(2).word(t),
            _ => d.word(3),
        };
    }

    /// Folds the full CRDT state.
    pub fn digest_state(&self, d: &mut Digest) {
        for c in self.ctx.entries() {
            d.word(*c);
        }
        for c in self.tomb.entries() {
            d.word(*c);
        }
        self.string.digest_state(d, |v, d| v.digest(d));
        self.expire().digest_state(d, |v, d| {
            match v {
                Expiry::At(t) => d.word(*t),
                Expiry::Persist => d.word(u64::MAX),
            };
        });
        if let Some(c) = self.coll.as_deref() {
            for (f, s) in &c.hash {
                d.bytes(f);
                s.digest_state(d, |v, d| v.digest(d));
            }
            for (m, s) in &c.set {
                d.bytes(m);
                s.digest_state(d, |_, _| {});
            }
            for (m, s) in &c.zset {
                d.bytes(m);
                s.digest_state(d, |v, d| {
                    d.word(v.to_bits());
                });
            }
            c.list.digest_state(d);
            c.stream.digest_state(d);
            c.hll.digest_state(d);
        }
    }
}

/// A string-like scalar as a client reads it: the winning register plus unobserved
/// increments (integer, or float once a float increment took part).
pub fn read_scalar(s: &Scalar<Value>) -> Option<Value> {
    let inc = s.increments();
    match s.winner() {
        Some(w) if !inc.any => Some(w.value.clone()),
        Some(w) => Some(if inc.has_float {
            match w.value.as_f64() {
                Some(base) => float_value(base + inc.int as f64 + inc.float),
                None => w.value.clone(),
            }
        } else {
            match w.value.as_i64() {
                Some(base) => Value::from_i64(saturate(base as i128 + inc.int)),
                None => match w.value.as_f64() {
                    Some(base) => float_value(base + inc.int as f64),
                    None => w.value.clone(),
                },
            }
        }),
        None if inc.any => Some(if inc.has_float {
            float_value(inc.int as f64 + inc.float)
        } else {
            Value::from_i64(saturate(inc.int))
        }),
        None => None,
    }
}

fn read_score(s: &Scalar<f64>) -> Option<f64> {
    let inc = s.increments();
    match s.winner() {
        Some(w) => Some(w.value + inc.float),
        None if inc.any => Some(inc.float),
        None => None,
    }
}

fn saturate(x: i128) -> i64 {
    x.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Estimated memory of one key: a fixed per-key overhead of 64 bytes (Redis's dictionary
/// entry and object headers), the name, and the entry's values and CRDT metadata.
/// A key whose history has been collected (nothing live, no tombstone) counts as zero: Redis
/// frees it, and the vector clock geosim keeps for it is bookkeeping of the simulator.
pub fn entry_bytes(key: &[u8], e: &Entry) -> u64 {
    if e.string.regs().is_empty()
        && e.key_type().is_none()
        && e.tomb.entries().is_empty()
        && e.coll.is_none()
        && e.expire_regs().is_empty()
        && e.string.regs().is_empty()
        && e.string.observed_totals().is_empty()
    {
        return 0;
    }
    64 + key.len() as u64 + e.bytes()
}

/// The next op of `origin` on `key`, whose clock there is `ctx` (`None`: no entry yet): the
/// clock with the origin's count moved on by one.
fn next_op(
    ctx: Option<&VClock>,
    instances: usize,
    key: &[u8],
    origin: InstanceId,
    ts: u64,
    kind: OpKind,
    annotation: u64,
) -> Op {
    let mut vc = ctx.cloned().unwrap_or_else(|| VClock::new(instances));
    let seq = vc.get(origin) + 1;
    vc.set(origin, seq);
    Op {
        key: key.into(),
        dot: Dot { origin, seq },
        vc,
        ts,
        kind,
        annotation,
    }
}

/// Recounts `e` (just changed) under `key` and moves the keyspace total `bytes` by the
/// difference from its cached size.
fn recount(bytes: &mut u64, key: &[u8], e: &mut Entry) {
    let after = entry_bytes(key, e);
    *bytes = *bytes + after - e.size;
    e.size = after;
}

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
                Self::apply_existing(&mut self.bytes, e, &op);
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
        if !self.causal {
            // One lookup for the duplicate check and the apply (the common path).
            return match self.entries.get_mut(&op.key) {
                Some(e) if e.ctx.covers(op.dot) => Applied::Duplicate,
                Some(e) => {
                    Self::apply_existing(&mut self.bytes, e, op);
                    Applied::Applied
                }
                None => {
                    self.insert_new(op);
                    Applied::Applied
                }
            };
        }
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
        if self.causal {
            self.release_waiting(&op.key);
        }
        Applied::Applied
    }

    fn apply_now(&mut self, op: &Op) {
        // One lookup on the common path (the key exists); a new key is inserted once.
        match self.entries.get_mut(&op.key) {
            Some(entry) => Self::apply_existing(&mut self.bytes, entry, op),
            None => self.insert_new(op),
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

    /// Applies `op` to a key not yet present.
    fn insert_new(&mut self, op: &Op) {
        let mut entry = Entry {
            ctx: VClock::new(self.instances),
            ..Entry::default()
        };
        entry.apply_kind(op);
        entry.ctx.set(op.dot.origin, op.dot.seq);
        entry.size = entry_bytes(&op.key, &entry);
        self.bytes += entry.size;
        self.order.push(op.key.clone());
        self.entries.insert(op.key.clone(), Box::new(entry));
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

    /// Tombstones held: (count, estimated bytes).
    pub fn tombstones(&self) -> (u64, u64) {
        // Integer sums: the map's iteration order cannot change them.
        self.entries.values().fold((0, 0), |(n, b), e| {
            let (n2, b2) = e.tombstones();
            (n + n2, b + b2)
        })
    }

    /// Keys holding removal history (candidates for garbage collection), in order.
    pub fn keys_with_tombstones(&self) -> Vec<Key> {
        self.iter()
            .filter(|(_, e)| e.tombstones().0 > 0 || !e.tomb.entries().is_empty())
            .map(|(k, _)| k.clone())
            .collect()
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
    /// emptied stream still exists, as in Redis).
    pub fn exists(&self, tomb: &VClock) -> bool {
        self.all().any(|e| !tomb.covers(e.dot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ks: &Keyspace, key: &[u8], v: &str, origin: u8, ts: u64) -> Op {
        let observed = ks
            .entry(key)
            .map(|e| e.string.observed_totals())
            .unwrap_or_default();
        ks.prepare(
            key,
            InstanceId(origin),
            ts,
            OpKind::Set {
                value: Value::from_str_bytes(v),
                observed,
            },
        )
    }

    /// A packed stamp orders like `(ts, Reverse(origin))`, and never equals "unwritten".
    #[test]
    fn packed_stamps_order_like_timestamp_then_smaller_instance() {
        let ts = [0, 1, 2, 999, 1 << 40, (1 << 55) - 2, (1 << 55) - 1];
        let mut all = Vec::new();
        for t in ts {
            for o in [0u8, 1, 2, 7, 254, 255] {
                all.push((t, Reverse(InstanceId(o))));
            }
        }
        for a in &all {
            assert_ne!(stamp(a.0, a.1.0), 0);
            for b in &all {
                assert_eq!(
                    stamp(a.0, a.1.0).cmp(&stamp(b.0, b.1.0)),
                    a.cmp(b),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    /// `INCR`'s integer shortcut reads what the string value says, and steps aside when a
    /// register or a float increment is involved.
    #[test]
    fn a_counter_reads_the_same_through_the_integer_shortcut() {
        let mut ks = Keyspace::new(2);
        for (i, by) in [5, -3, i64::MAX, i64::MAX].into_iter().enumerate() {
            let op = ks.prepare(
                b"c",
                InstanceId(i as u8 % 2),
                1,
                OpKind::Incr {
                    int: by,
                    float: 0.0,
                },
            );
            ks.apply(&op);
            let e = ks.entry(b"c").expect("written");
            let shortcut = e.string_counter().expect("pure counter");
            assert_eq!(e.string_value().and_then(|v| v.as_i64()), Some(shortcut));
        }
        let op = ks.prepare(b"c", InstanceId(0), 2, OpKind::Incr { int: 0, float: 0.5 });
        ks.apply(&op);
        assert_eq!(ks.entry(b"c").expect("written").string_counter(), None);
        let op = set(&ks, b"s", "7", 0, 3);
        ks.apply(&op);
        assert_eq!(ks.entry(b"s").expect("written").string_counter(), None);
    }

    /// The byte count kept by deltas equals a full recount after every op: field and member
    /// ops counted by parts (repeated names in one op included), removes and deletes of
    /// whole keys, and ops a tombstone kills, from two instances that see each other late.
    #[test]
    fn byte_accounting_by_parts_matches_a_full_recount() {
        let full = |ks: &Keyspace| -> u64 { ks.iter().map(|(k, e)| entry_bytes(k, e)).sum() };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut sites = [Keyspace::new(2), Keyspace::new(2)];
        let mut pending: Vec<(usize, Op)> = Vec::new();
        let name = |i: u64| format!("m{i}").into_bytes();
        for step in 0..4000u64 {
            let at = next(2) as usize;
            let key: &[u8] = [b"h".as_slice(), b"s", b"z"][next(3) as usize];
            let (a, b) = (name(next(6)), name(next(6)));
            let ks = &sites[at];
            let totals = |f: &[u8]| {
                ks.entry(key)
                    .and_then(|e| e.hash_scalar(f).map(|s| s.observed_totals()))
                    .unwrap_or_default()
            };
            let kind = match (key, next(5)) {
                (_, 0) if next(4) == 0 => OpKind::Del {
                    observed: ks
                        .entry(key)
                        .map(|e| e.observed_for_del())
                        .unwrap_or_default(),
                },
                (b"h", 0 | 1) => OpKind::HSet(vec![
                    (a.clone(), Value::from_i64(step as i64), totals(&a)),
                    (a.clone(), Value::from_str_bytes("again"), totals(&a)),
                    (b, Value::from_str_bytes("v"), Vec::new()),
                ]),
                (b"h", 2) => OpKind::HIncr {
                    field: a,
                    int: 2,
                    float: 0.0,
                },
                (b"h", _) => OpKind::HDel(vec![(a.clone(), totals(&a)), (a, Vec::new())]),
                (b"s", 0..=2) => OpKind::SAdd(vec![a.clone(), b, a]),
                (b"s", _) => OpKind::SRem(vec![a]),
                (_, 0 | 1) => OpKind::ZAdd(vec![(a, step as f64, Vec::new())]),
                (_, 2) => OpKind::ZIncr { member: a, by: 1.5 },
                (_, _) => OpKind::ZRem(vec![(a, Vec::new())]),
            };
            let op = sites[at].prepare(key, InstanceId(at as u8), step, kind);
            sites[at].apply(&op);
            pending.push((1 - at, op));
            // Deliver late and in bursts, so that ops are often concurrent.
            if next(7) == 0 {
                for (to, op) in pending.drain(..) {
                    sites[to].apply(&op);
                }
            }
            for ks in &sites {
                assert_eq!(ks.bytes(), full(ks), "after step {step}");
                for (k, e) in ks.iter() {
                    assert_eq!(e.size, entry_bytes(k, e), "cached size of {k:?}");
                }
            }
        }
    }

    #[test]
    fn redelivered_ops_are_filtered() {
        let mut a = Keyspace::new(2);
        let op = a.prepare(b"k", InstanceId(0), 1, OpKind::Incr { int: 3, float: 0.0 });
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
        let x = set(&a, b"k", "x", 0, 100);
        let y = set(&b, b"k", "y", 1, 101);
        let (mut a, mut b) = (a, b);
        a.apply(&x);
        a.apply(&y);
        b.apply(&y);
        b.apply(&x);
        assert_eq!(a, b);
        assert_eq!(a.get(b"k"), Some(Value::from_str_bytes("y")));
    }

    #[test]
    fn memory_accounting_matches_a_recount() {
        let mut a = Keyspace::new(2);
        for i in 0..50u64 {
            let key = format!("k{}", i % 7);
            let op = set(&a, key.as_bytes(), &"v".repeat(i as usize), 0, i);
            a.apply(&op);
        }
        let mut b = Keyspace::new(2);
        let op = b.prepare(b"k1", InstanceId(1), 5, OpKind::Incr { int: 3, float: 0.0 });
        b.apply(&op);
        a.merge(&b);
        let recount: u64 = a.iter().map(|(k, e)| entry_bytes(k, e)).sum();
        assert_eq!(a.bytes(), recount);
        assert!(a.bytes() > 7 * 64);
    }

    #[test]
    fn causal_consistency_buffers_an_op_until_what_it_observed_arrives() {
        let mut origin = Keyspace::new(3);
        let a = set(&origin, b"k", "a", 0, 1);
        origin.apply(&a);
        let mut relay = origin.clone();
        let b = set(&relay, b"k", "b", 1, 2);
        relay.apply(&b);
        let mut far = Keyspace::new(3).with_causal_consistency(true);
        assert_eq!(far.apply(&b), Applied::Buffered);
        assert_eq!(far.get(b"k"), None);
        assert_eq!(far.apply(&a), Applied::Applied);
        assert_eq!(far.get(b"k"), Some(Value::from_str_bytes("b")));
        assert_eq!(far.waiting(), 0);
    }
}
