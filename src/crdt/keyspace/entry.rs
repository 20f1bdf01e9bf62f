//! A key's entry: its causal context, a part for every data type, expiry; reads of the
//! visible value, sizes, tombstones and digests.

use super::*;

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
    pub json: JsonCrdt,
}

/// The rank of a write for the type-conflict rule, packed in one word: later timestamp
/// first, then the smaller instance id; 0 means "never written". Ordered like
/// `(ts, Reverse(origin))` for timestamps below 2^55 ms (a million years; larger ones are
/// capped there). Seven of them per key cost 56 bytes instead of 168.
type Stamp = u64;

pub(super) fn stamp(ts: u64, origin: InstanceId) -> Stamp {
    const TS_MAX: u64 = (1 << 55) - 1;
    ((ts.min(TS_MAX) << 8) | (255 - origin.0 as u64)) + 1
}

/// A field or member an op names (for counting bytes by parts).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum ScopedPart {
    Field(Bytes),
    SetMember(Bytes),
    ZMember(Bytes),
}

#[derive(Clone, Debug, Default)]
pub struct Entry {
    /// Per origin, the highest sequence number of its ops on this key applied here.
    pub ctx: VClock,
    /// The join of every key-level remove's observed clock, boxed on the first remove (most
    /// keys never see one): read through [`Entry::tomb`].
    pub(super) tomb: Option<Box<VClock>>,
    pub string: Scalar<Value>,
    pub coll: Option<Box<Collections>>,
    /// The `EXPIRE`/`PERSIST` registers, boxed: most keys never have one, and an empty
    /// scalar inline would cost 136 bytes per key ([`Entry::expire`] reads it).
    pub(super) expire: Option<Box<Scalar<Expiry>>>,
    /// Per type, the rank of the latest write of that type (see [`Stamps`]).
    pub(super) stamps: Stamps,
    /// `entry_bytes` of this entry under its key, kept by the keyspace after every change
    /// (so an apply does not recount the entry before changing it). Not part of the state.
    pub(super) size: u64,
}

impl PartialEq for Entry {
    /// Equal states; the cached size is bookkeeping, not state.
    fn eq(&self, other: &Entry) -> bool {
        self.ctx == other.ctx
            && self.tomb() == other.tomb()
            && self.string == other.string
            && self.coll == other.coll
            && self.expire() == other.expire()
            && self.stamps.all() == other.stamps.all()
    }
}

/// The eight type stamps of a key: the string's inline, the other seven boxed on first use
/// (most keys are only ever strings or counters: 16 bytes instead of 64).
#[derive(Clone, Debug, Default)]
pub(super) struct Stamps {
    pub(super) string: Stamp,
    pub(super) others: Option<Box<[Stamp; 7]>>,
}

impl Stamps {
    pub(super) fn get(&self, t: KeyType) -> Stamp {
        match (t as usize).checked_sub(1) {
            None => self.string,
            Some(i) => self.others.as_ref().map_or(0, |o| o[i]),
        }
    }

    /// Raises the stamp of `t` to at least `s`.
    pub(super) fn raise(&mut self, t: KeyType, s: Stamp) {
        let slot = match (t as usize).checked_sub(1) {
            None => &mut self.string,
            Some(i) => &mut self.others.get_or_insert_with(Default::default)[i],
        };
        *slot = (*slot).max(s);
    }

    /// Every stamp, in type order.
    pub(super) fn all(&self) -> [Stamp; 8] {
        KeyType::ALL.map(|t| self.get(t))
    }

    /// The pointwise maximum with `other`.
    pub(super) fn join(&mut self, other: &Stamps) {
        for t in KeyType::ALL {
            let s = other.get(t);
            if s != 0 {
                self.raise(t, s);
            }
        }
    }
}

pub(super) fn float_value(x: f64) -> Value {
    Value::Bytes(format_float(x).into_bytes().into_boxed_slice())
}

/// The key-level tombstone of a key never removed.
static NO_TOMB: VClock = VClock::EMPTY;

impl Entry {
    /// The entry of a key an instance holds nothing of yet, in a keyspace of `instances`
    /// instances (what a merge or an apply starts a new key from).
    pub fn empty(instances: usize) -> Entry {
        Entry {
            ctx: VClock::new(instances),
            ..Entry::default()
        }
    }

    /// `entry_bytes` of this entry under its key, as its keyspace counts it.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The join of every key-level remove's observed clock.
    pub fn tomb(&self) -> &VClock {
        self.tomb.as_deref().unwrap_or(&NO_TOMB)
    }

    pub(super) fn tomb_mut(&mut self) -> &mut VClock {
        self.tomb.get_or_insert_with(Box::default)
    }

    pub(super) fn coll_mut(&mut self) -> &mut Collections {
        self.coll.get_or_insert_with(Default::default)
    }

    pub(super) fn live_types(&self) -> impl Iterator<Item = KeyType> + '_ {
        KeyType::ALL.into_iter().filter(|t| self.has_live(*t))
    }

    pub(super) fn has_live(&self, t: KeyType) -> bool {
        let c = self.coll.as_deref();
        match t {
            KeyType::String => self.string.exists(),
            KeyType::Hash => c.is_some_and(|c| c.hash.values().any(|s| s.exists())),
            KeyType::Set => c.is_some_and(|c| c.set.values().any(|s| s.exists())),
            KeyType::ZSet => c.is_some_and(|c| c.zset.values().any(|s| s.exists())),
            KeyType::List => c.is_some_and(|c| !c.list.is_empty()),
            KeyType::Stream => c.is_some_and(|c| c.stream.exists(self.tomb())),
            KeyType::Hll => c.is_some_and(|c| !c.hll.is_empty()),
            KeyType::Json => c.is_some_and(|c| c.json.exists()),
        }
    }

    /// The type a client sees: among live types, the one written last by timestamp.
    pub fn key_type(&self) -> Option<KeyType> {
        // Fast path for the common plain string key: no other type can be live.
        if self.coll.is_none() {
            return self.string.exists().then_some(KeyType::String);
        }
        self.live_types()
            .max_by_key(|t| (self.stamps.get(*t), Reverse(*t as usize)))
    }

    /// The expiry registers (an empty scalar when the key never had one).
    pub(super) fn expire(&self) -> std::borrow::Cow<'_, Scalar<Expiry>> {
        match self.expire.as_deref() {
            Some(x) => std::borrow::Cow::Borrowed(x),
            None => std::borrow::Cow::Owned(Scalar::default()),
        }
    }

    pub(super) fn expire_regs(&self) -> &[Reg<Expiry>] {
        self.expire.as_deref().map_or(&[], Scalar::regs)
    }

    pub(super) fn expire_mut(&mut self) -> &mut Scalar<Expiry> {
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

    pub fn json(&self) -> Option<&JsonCrdt> {
        self.coll.as_deref().map(|c| &c.json)
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
}

impl Entry {
    /// Elements and keys that hold only removal history: (count, estimated bytes). A key
    /// with nothing live counts as one tombstone; so does each dead hash field, set or
    /// sorted-set member, list element and stream entry.
    pub fn tombstones(&self) -> (u64, u64) {
        let mut n = 0u64;
        let mut bytes = 0u64;
        if self.key_type().is_none() && (!self.tomb().entries().is_empty() || self.coll.is_some()) {
            n += 1;
            bytes += 16 + 8 * self.tomb().entries().len() as u64 + self.string.meta_bytes();
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
            let dead = (c.list.dead_count()
                + c.stream.dead_count(self.tomb())
                + c.json.dead_count()) as u64;
            n += dead;
            bytes += 48 * dead;
        }
        (n, bytes)
    }

    /// Estimated bytes of this entry (values and CRDT metadata).
    pub fn bytes(&self) -> u64 {
        let mut b = 8 * (self.ctx.entries().len() + self.tomb().entries().len()) as u64;
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
            b += c.list.bytes() + c.stream.bytes() + c.hll.bytes() + c.json.bytes();
        }
        b
    }

    /// The parts of a collection `op` touches, deduplicated, when its byte change can be
    /// counted from them alone (see `Keyspace::apply_now`); `None` otherwise.
    pub(super) fn scoped_parts(&self, op: &Op) -> Option<Vec<ScopedPart>> {
        // The entry must already be counted as non-empty and stay so: it has collections,
        // and the op is not killed by the key's tombstone (that path touches every part).
        if self.coll.is_none() || self.tomb().covers(op.dot) {
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
    pub(super) fn parts_bytes(&self, parts: &[ScopedPart]) -> u64 {
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
                        let s = self.stream().expect("live stream");
                        for e in s.live() {
                            d.word(e.id.ms).word(e.id.seq);
                            for (k, v) in &e.fields {
                                d.bytes(k).bytes(v);
                            }
                        }
                        // The groups a client sees (`XINFO GROUPS`), folded only when there
                        // are any, so a stream without groups digests as it always did.
                        let tomb = self.tomb();
                        if s.groups.any_live(tomb) {
                            d.word(u64::MAX);
                            for g in s.groups.live_names(tomb) {
                                d.bytes(g);
                            }
                        }
                    }
                    KeyType::Hll => {
                        let regs = self.hll().expect("live hll").registers();
                        d.bytes(&regs[..]);
                    }
                    KeyType::Json => {
                        let doc = self.json().and_then(|j| j.doc()).expect("live json");
                        d.str(&doc.to_lit().to_json());
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
        for c in self.tomb().entries() {
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
            if !c.json.is_empty() {
                c.json.digest_state(d);
            }
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

pub(super) fn read_score(s: &Scalar<f64>) -> Option<f64> {
    let inc = s.increments();
    match s.winner() {
        Some(w) => Some(w.value + inc.float),
        None if inc.any => Some(inc.float),
        None => None,
    }
}

pub(super) fn saturate(x: i128) -> i64 {
    x.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Estimated memory of one key: its plain Redis part (`crdt::memory`: the dictionary entry,
/// the name, and the object of the string value a read shows, or an object header for a key
/// that shows none) and the entry's other values and CRDT metadata ([`Entry::bytes`], which
/// also counts the shown value's raw bytes, replaced here by what Redis allocates for them).
/// A key whose history has been collected (nothing live, no tombstone) counts as zero: Redis
/// frees it, and the vector clock geosim keeps for it is bookkeeping of the simulator.
pub fn entry_bytes(key: &[u8], e: &Entry) -> u64 {
    if e.string.regs().is_empty()
        && e.key_type().is_none()
        && e.tomb().entries().is_empty()
        && e.coll.is_none()
        && e.expire_regs().is_empty()
        && e.string.observed_totals().is_empty()
    {
        return 0;
    }
    let shown = e
        .string
        .winner()
        .map(|r| (r.value.len() as u64, r.value.as_i64().is_some()));
    crate::crdt::memory::plain_overhead(key.len() as u64, shown) + e.bytes()
}

/// The next op of `origin` on `key`, whose clock there is `ctx` (`None`: no entry yet): the
/// clock with the origin's count moved on by one.
pub(super) fn next_op(
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
pub(super) fn recount(bytes: &mut u64, key: &[u8], e: &mut Entry) {
    let after = entry_bytes(key, e);
    *bytes = *bytes + after - e.size;
    e.size = after;
}
