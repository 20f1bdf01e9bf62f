//! Compact keys: the state of a plain string or counter key at one instance in a few dozen
//! bytes, with no heap parts, when it has one of the two shapes a generated workload gives
//! nearly every key: a string written only by `SET`s of generated values with at most one
//! live register, or a counter only ever incremented by integers. The world keeps these
//! key-major, side by side for every instance (`model::keys`), and applies the packed ops of
//! a generated workload to them directly; anything else turns a key back into its general
//! [`Entry`] ([`Compact::to_entry`]) and, once it fits again, compact ([`Compact::from_entry`]).
//!
//! A compact state is an exact alternative representation: `to_entry` gives the entry the
//! general path would hold, op for op (unit tests apply random histories both ways, and debug
//! builds check every direct apply against the general one).

use super::*;

/// A key's clock (or a register's), for at most three instances, each entry below 2^32.
pub type Clock3 = [u32; 3];

/// The one live register of a compact string: a `SET` of `Value::Synthetic { len, tag }`
/// that observed no counter totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CReg {
    pub ts: u64,
    pub annotation: u64,
    pub tag: u64,
    pub vc: Clock3,
    pub seq: u32,
    pub len: u32,
    pub origin: u8,
}

impl CReg {
    fn dot(&self) -> Dot {
        Dot {
            origin: InstanceId(self.origin),
            seq: self.seq as u64,
        }
    }

    /// The general register.
    pub fn to_reg(&self) -> Reg<Value> {
        Reg {
            value: Value::Synthetic {
                len: self.len,
                tag: self.tag,
            },
            ts: self.ts,
            dot: self.dot(),
            vc: clock(&self.vc),
            observed: Box::default(),
            annotation: self.annotation,
        }
    }
}

/// A key's state at one instance, compact (see the module's documentation).
#[derive(Clone, Debug, PartialEq)]
pub enum Compact {
    /// A string with at most one live register (nearly every key).
    Str {
        ctx: Clock3,
        /// The string's overwritten clock (`Scalar::over`).
        over: Clock3,
        /// The string type's stamp (`Stamps::string`).
        stamp: u64,
        reg: Option<CReg>,
    },
    /// A string holding concurrent registers (a key written at several instances within a
    /// WAN latency), boxed: few keys at a time are.
    Strs(Box<Strs>),
    Counter {
        ctx: Clock3,
        stamp: u64,
        /// Per instance, its increment number and running integer total (float parts are
        /// +0.0); the general totals list ends at the last instance with a number.
        totals: [(u32, i64); 3],
    },
}

/// A compact string's state with its registers by origin (at most one per origin: an
/// origin's later write overwrites its earlier one): the form a `SET` is applied to.
#[derive(Clone, Debug, PartialEq)]
pub struct Strs {
    pub ctx: Clock3,
    pub over: Clock3,
    pub stamp: u64,
    pub regs: [Option<CReg>; 3],
}

impl Strs {
    fn live(&self) -> impl Iterator<Item = &CReg> {
        self.regs.iter().flatten()
    }

    /// The compact form: inline with one register or none, boxed with more.
    fn into_compact(self) -> Compact {
        let mut live = self.regs.iter().flatten();
        match (live.next(), live.next()) {
            (_, Some(_)) => Compact::Strs(Box::new(self)),
            (reg, None) => Compact::Str {
                ctx: self.ctx,
                over: self.over,
                stamp: self.stamp,
                reg: reg.copied(),
            },
        }
    }
}

/// A packed op as a compact key applies it: a `SET` of a generated value that observed no
/// totals, or an integer `INCR`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompactOp {
    pub origin: u8,
    /// The key's clock at the origin right after the op (its own entry is the op's number).
    pub vc: Clock3,
    pub ts: u64,
    pub annotation: u64,
    pub kind: CompactKind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CompactKind {
    Set { len: u32, tag: u64 },
    Incr { int: i64 },
}

impl CompactOp {
    pub fn seq(&self) -> u32 {
        self.vc[self.origin as usize]
    }

    fn dot(&self) -> Dot {
        Dot {
            origin: InstanceId(self.origin),
            seq: self.seq() as u64,
        }
    }

    /// The general op on `key`.
    pub fn to_op(&self, key: &Key) -> Op {
        Op {
            key: key.clone(),
            dot: self.dot(),
            vc: clock(&self.vc),
            ts: self.ts,
            kind: match self.kind {
                CompactKind::Set { len, tag } => OpKind::Set {
                    value: Value::Synthetic { len, tag },
                    observed: Vec::new(),
                },
                CompactKind::Incr { int } => OpKind::Incr { int, float: 0.0 },
            },
            annotation: self.annotation,
        }
    }

    /// `op` in compact form, if it has one.
    pub fn of(op: &Op) -> Option<CompactOp> {
        let vc = clock3(&op.vc)?;
        let origin = op.dot.origin.0;
        if origin as usize >= vc.len() || vc[origin as usize] as u64 != op.dot.seq {
            return None;
        }
        let kind = match &op.kind {
            OpKind::Set {
                value: Value::Synthetic { len, tag },
                observed,
            } if observed.is_empty() => CompactKind::Set {
                len: *len,
                tag: *tag,
            },
            OpKind::Incr { int, float } if float.to_bits() == 0 => CompactKind::Incr { int: *int },
            _ => return None,
        };
        Some(CompactOp {
            origin,
            vc,
            ts: op.ts,
            annotation: op.annotation,
            kind,
        })
    }
}

fn clock(c: &Clock3) -> VClock {
    VClock::from_entries(&c.map(u64::from))
}

/// `c` as three 32-bit entries, if it fits.
fn clock3(c: &VClock) -> Option<Clock3> {
    let e = c.entries();
    if e.len() > 3 {
        return None;
    }
    let mut out = [0u32; 3];
    for (to, from) in out.iter_mut().zip(e) {
        *to = u32::try_from(*from).ok()?;
    }
    Some(out)
}

/// Entries up to the last non-zero one (what `VClock::entries` counts).
fn used(c: &Clock3) -> u64 {
    c.iter().rposition(|x| *x != 0).map_or(0, |i| i as u64 + 1)
}

fn covers(c: &Clock3, dot: Dot) -> bool {
    c.get(dot.origin.index())
        .is_some_and(|x| *x as u64 >= dot.seq)
}

/// What a direct apply did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompactApplied {
    Applied,
    Duplicate,
    /// The result has no compact form (the key must be turned general first); nothing changed.
    Spill,
}

impl Compact {
    /// The state of a key the instance holds nothing of, about to take `kind`.
    pub fn empty_for(kind: &CompactKind) -> Compact {
        match kind {
            CompactKind::Set { .. } => Compact::Str {
                ctx: [0; 3],
                over: [0; 3],
                stamp: 0,
                reg: None,
            },
            CompactKind::Incr { .. } => Compact::Counter {
                ctx: [0; 3],
                stamp: 0,
                totals: [(0, 0); 3],
            },
        }
    }

    pub fn ctx(&self) -> &Clock3 {
        match self {
            Compact::Str { ctx, .. } | Compact::Counter { ctx, .. } => ctx,
            Compact::Strs(s) => &s.ctx,
        }
    }

    /// Whether a client sees the key (compact keys never expire).
    pub fn is_live(&self) -> bool {
        match self {
            Compact::Str { reg, .. } => reg.is_some(),
            Compact::Strs(s) => s.live().next().is_some(),
            Compact::Counter { totals, .. } => totals.iter().any(|t| t.0 > 0),
        }
    }

    /// Whether the key is a string (not a counter).
    pub fn is_string(&self) -> bool {
        !matches!(self, Compact::Counter { .. })
    }

    /// The string's state with its registers by origin (`None` for a counter).
    pub fn strs(&self) -> Option<Strs> {
        match self {
            Compact::Str {
                ctx,
                over,
                stamp,
                reg,
            } => {
                let mut regs = [None; 3];
                if let Some(r) = reg {
                    regs[r.origin as usize] = Some(*r);
                }
                Some(Strs {
                    ctx: *ctx,
                    over: *over,
                    stamp: *stamp,
                    regs,
                })
            }
            Compact::Strs(s) => Some((**s).clone()),
            Compact::Counter { .. } => None,
        }
    }

    /// The live registers, in order of origin (what the last-write-wins observer compares).
    pub fn regs(&self) -> impl Iterator<Item = &CReg> {
        let (one, many) = match self {
            Compact::Str { reg, .. } => (reg.as_ref(), &[][..]),
            Compact::Strs(s) => (None, &s.regs[..]),
            Compact::Counter { .. } => (None, &[][..]),
        };
        one.into_iter().chain(many.iter().flatten())
    }

    /// The register a read shows: the latest timestamp, the smaller instance on a tie.
    fn winner(&self) -> Option<&CReg> {
        self.regs()
            .max_by_key(|r| (r.ts, std::cmp::Reverse(r.origin)))
    }

    /// What `INCR` reads: the counter's value, when the key is a live counter.
    pub fn counter(&self) -> Option<i64> {
        match self {
            Compact::Counter { totals, .. } if self.is_live() => {
                Some(saturate(totals.iter().map(|t| t.1 as i128).sum()))
            }
            _ => None,
        }
    }

    /// `entry_bytes` of the entry this stands for, under a key of `key_len` bytes.
    pub fn bytes(&self, key_len: usize) -> u64 {
        // Each form on its own, without the general walk over registers (every compact
        // write and apply asks twice; the walk's iterator copies were 4 % of a run).
        match self {
            Compact::Str { reg: None, .. } => 0,
            Compact::Str {
                reg: Some(r), ctx, ..
            } => {
                let len = u64::from(r.len);
                crate::crdt::memory::plain_overhead(key_len as u64, Some((len, false)))
                    + 8 * used(ctx)
                    + 24
                    + 8 * used(&r.vc)
                    + len
            }
            Compact::Counter { totals, ctx, .. } => {
                // Live while some instance's total has had an increment.
                match totals.iter().rposition(|t| t.0 > 0) {
                    None => 0,
                    Some(last) => {
                        crate::crdt::memory::plain_overhead(key_len as u64, None)
                            + 8 * used(ctx)
                            + 24 * (last as u64 + 1)
                    }
                }
            }
            Compact::Strs(s) => {
                // One pass: each register's bytes, and the one a read shows (the latest
                // timestamp, the smaller instance on a tie; the last such, as `winner`).
                let (mut regs, mut shown) = (0, None::<&CReg>);
                for r in s.regs.iter().flatten() {
                    regs += 24 + 8 * used(&r.vc) + u64::from(r.len);
                    let key = (r.ts, std::cmp::Reverse(r.origin));
                    if shown.is_none_or(|w| key >= (w.ts, std::cmp::Reverse(w.origin))) {
                        shown = Some(r);
                    }
                }
                shown.map_or(0, |w| {
                    let len = u64::from(w.len);
                    crate::crdt::memory::plain_overhead(key_len as u64, Some((len, false)))
                        + 8 * used(&s.ctx)
                        + regs
                })
            }
        }
    }

    /// `Entry::digest_visible` of the entry this stands for, when it is live.
    pub fn digest_visible(&self, d: &mut Digest) {
        debug_assert!(self.is_live());
        d.word(1 + KeyType::String as u64);
        match self {
            Compact::Str { .. } | Compact::Strs(_) => {
                let r = self.winner().expect("live");
                Value::Synthetic {
                    len: r.len,
                    tag: r.tag,
                }
                .digest(d)
            }
            Compact::Counter { .. } => {
                Value::from_i64(self.counter().expect("live")).digest(d);
            }
        }
        // No expiry.
        d.word(3);
    }

    /// Applies `op` directly, as `Keyspace::apply` would to the general entry (without
    /// causal consistency); [`CompactApplied::Spill`] (and no change) when the result would
    /// have no compact form.
    pub fn apply(&mut self, op: &CompactOp) -> CompactApplied {
        let dot = op.dot();
        if covers(self.ctx(), dot) {
            return CompactApplied::Duplicate;
        }
        let i = op.origin as usize;
        let op_stamp = stamp(op.ts, InstanceId(op.origin));
        let new_reg = |len, tag| CReg {
            ts: op.ts,
            annotation: op.annotation,
            tag,
            vc: op.vc,
            seq: op.seq(),
            len,
            origin: op.origin,
        };
        let saw = |over: &Clock3| {
            let mut joined = *over;
            for (j, x) in joined.iter_mut().enumerate() {
                let seen = if j == i {
                    op.vc[j].saturating_sub(1)
                } else {
                    op.vc[j]
                };
                *x = (*x).max(seen);
            }
            joined
        };
        if matches!(op.kind, CompactKind::Set { .. })
            && super::super::planted::planted(super::super::planted::PlantedBug::LwwArrival)
        {
            return CompactApplied::Spill;
        }
        // The common case in place: a string with one register or none that keeps one or
        // none (below, the general case with the registers by origin).
        if let (
            Compact::Str {
                ctx,
                over,
                stamp,
                reg,
            },
            CompactKind::Set { len, tag },
        ) = (&mut *self, op.kind)
        {
            let joined = saw(over);
            let kept = reg.filter(|r| !covers(&joined, r.dot()));
            let new = (!covers(&joined, dot)).then(|| new_reg(len, tag));
            if kept.is_none() || new.is_none() {
                *over = joined;
                *reg = new.or(kept);
                *stamp = (*stamp).max(op_stamp);
                ctx[i] = op.seq();
                return CompactApplied::Applied;
            }
        }
        if let (Some(mut st), CompactKind::Set { len, tag }) = (self.strs(), op.kind) {
            // `Scalar::write`: join what the write saw besides itself into `over`, drop the
            // registers it covers, keep it unless `over` covers it.
            st.over = saw(&st.over);
            let over = st.over;
            for slot in st.regs.iter_mut() {
                if slot.is_some_and(|r| covers(&over, r.dot())) {
                    *slot = None;
                }
            }
            if !covers(&over, dot) {
                if st.regs[i].is_some() {
                    // Two live registers of one origin: not a shape writes in order give.
                    return CompactApplied::Spill;
                }
                st.regs[i] = Some(new_reg(len, tag));
            }
            st.stamp = st.stamp.max(op_stamp);
            st.ctx[i] = op.seq();
            *self = st.into_compact();
            return CompactApplied::Applied;
        }
        match (self, op.kind) {
            (Compact::Counter { ctx, stamp, totals }, CompactKind::Incr { int }) => {
                if super::super::planted::planted(
                    super::super::planted::PlantedBug::DropConcurrentIncr,
                ) || super::super::planted::planted(
                    super::super::planted::PlantedBug::IncrOffByOne,
                ) {
                    return CompactApplied::Spill;
                }
                let t = totals[i];
                if op.seq() > t.0 {
                    totals[i] = (op.seq(), t.1.wrapping_add(int));
                }
                *stamp = (*stamp).max(op_stamp);
                ctx[i] = op.seq();
                CompactApplied::Applied
            }
            _ => CompactApplied::Spill,
        }
    }

    /// The general entry this stands for (its cached size included) under `key`, in a
    /// keyspace of `instances` instances.
    pub fn to_entry(&self, key: &[u8], instances: usize) -> Entry {
        let mut ctx = VClock::new(instances);
        for (j, x) in self.ctx().iter().enumerate() {
            if *x != 0 {
                ctx.set(InstanceId(j as u8), *x as u64);
            }
        }
        let (string, stamp) = match self {
            Compact::Str { over, stamp, .. } => (
                Scalar::from_parts(
                    self.regs().map(CReg::to_reg).collect(),
                    Vec::new(),
                    clock(over),
                ),
                *stamp,
            ),
            // By origin is by dot: one register per origin.
            Compact::Strs(st) => (
                Scalar::from_parts(
                    st.live().map(CReg::to_reg).collect(),
                    Vec::new(),
                    clock(&st.over),
                ),
                st.stamp,
            ),
            Compact::Counter { totals, stamp, .. } => {
                let width = totals.iter().rposition(|t| t.0 > 0).map_or(0, |i| i + 1);
                let totals = totals[..width]
                    .iter()
                    .map(|&(seq, int)| Total {
                        seq: seq as u64,
                        int,
                        float: 0.0,
                    })
                    .collect();
                (
                    Scalar::from_parts(Vec::new(), totals, VClock::default()),
                    *stamp,
                )
            }
        };
        let mut e = Entry {
            ctx,
            string,
            stamps: Stamps {
                string: stamp,
                others: None,
            },
            ..Entry::default()
        };
        e.size = entry_bytes(key, &e);
        e
    }

    /// The compact form of `e`, if it has one.
    pub fn from_entry(e: &Entry) -> Option<Compact> {
        if e.tomb.is_some() && !e.tomb().entries().is_empty()
            || e.coll.is_some()
            || e.expire.is_some()
            || e.stamps
                .others
                .as_deref()
                .is_some_and(|o| o.iter().any(|s| *s != 0))
        {
            return None;
        }
        let ctx = clock3(&e.ctx)?;
        let (regs, totals, over) = e.string.parts()?;
        let over = clock3(over)?;
        let stamp = e.stamps.string;
        match (regs, totals) {
            (regs, []) => {
                let mut st = Strs {
                    ctx,
                    over,
                    stamp,
                    regs: [None; 3],
                };
                for r in regs {
                    let Value::Synthetic { len, tag } = r.value else {
                        return None;
                    };
                    let o = r.dot.origin.index();
                    if !r.observed.is_empty() || o >= 3 || st.regs[o].is_some() {
                        return None;
                    }
                    st.regs[o] = Some(CReg {
                        ts: r.ts,
                        annotation: r.annotation,
                        tag,
                        vc: clock3(&r.vc)?,
                        seq: u32::try_from(r.dot.seq).ok()?,
                        len,
                        origin: r.dot.origin.0,
                    });
                }
                Some(st.into_compact())
            }
            ([], t) if t.len() <= 3 && over == [0; 3] => {
                let mut out = [(0u32, 0i64); 3];
                for (o, t) in out.iter_mut().zip(t) {
                    if t.float.to_bits() != 0 {
                        return None;
                    }
                    *o = (u32::try_from(t.seq).ok()?, t.int);
                }
                // The list must end where the last numbered instance is (as increments
                // build it), or the compact form would give it another length.
                if t.last().is_some_and(|l| l.seq == 0) {
                    return None;
                }
                Some(Compact::Counter {
                    ctx,
                    stamp,
                    totals: out,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Random histories of packed ops from three instances, applied in random orders, both
    /// ways: the compact state (spilling to the general form when it must, compacting again
    /// when it can) always stands for exactly the general entry, size included.
    fn check(ops: &[(u8, bool, u32, u64)]) {
        let key: &[u8] = b"key:1";
        let n = 3;
        // Origins number their ops from their own view: instance `o` writes with its clock.
        let mut general = Keyspace::new(n);
        let mut compact: Option<Compact> = None;
        let mut spilled: Option<Entry> = None;
        let mut origin_clock = [[0u32; 3]; 3];
        for &(origin, is_set, x, ts) in ops {
            let o = origin as usize % n;
            // The origin sees everything applied here (a simple causal history) half of
            // the time, else only its own ops (concurrent writes).
            let applied = general.entry(key).map(|e| e.ctx.clone());
            if x % 2 == 0
                && let Some(c) = applied.as_ref().and_then(clock3)
            {
                for j in 0..3 {
                    origin_clock[o][j] = origin_clock[o][j].max(c[j]);
                }
            }
            origin_clock[o][o] += 1;
            let op = CompactOp {
                origin: o as u8,
                vc: origin_clock[o],
                ts,
                annotation: ts * 7,
                kind: if is_set {
                    CompactKind::Set {
                        len: x % 300,
                        tag: x as u64,
                    }
                } else {
                    CompactKind::Incr {
                        int: x as i64 - 1000,
                    }
                },
            };
            let general_op = op.to_op(&Key::from(key));
            assert_eq!(CompactOp::of(&general_op), Some(op), "round trip of the op");
            let want = general.apply(&general_op);
            // The compact side: direct while it can, general otherwise.
            if let Some(e) = spilled.as_mut() {
                let mut ks = Keyspace::new(n);
                ks.insert_entry(key, e.clone());
                ks.apply(&general_op);
                *e = ks.entry(key).expect("present").clone();
                if let Some(c) = Compact::from_entry(e) {
                    compact = Some(c);
                    spilled = None;
                }
            } else {
                let mut c = compact
                    .clone()
                    .unwrap_or_else(|| Compact::empty_for(&op.kind));
                match c.apply(&op) {
                    CompactApplied::Spill => {
                        let mut ks = Keyspace::new(n);
                        if let Some(before) = compact {
                            ks.insert_entry(key, before.to_entry(key, n));
                        }
                        ks.apply(&general_op);
                        spilled = ks.entry(key).cloned();
                        compact = None;
                    }
                    got => {
                        let as_applied = match want {
                            Applied::Applied => CompactApplied::Applied,
                            _ => CompactApplied::Duplicate,
                        };
                        assert_eq!(got, as_applied);
                        compact = Some(c);
                    }
                }
            }
            let e = general.entry(key).expect("applied");
            let mine = match (&compact, &spilled) {
                (Some(c), None) => c.to_entry(key, n),
                (None, Some(s)) => s.clone(),
                _ => unreachable!("one form at a time"),
            };
            assert_eq!(&mine, e, "same state");
            assert_eq!(mine.size, e.size, "same size");
            assert_eq!(mine.size, entry_bytes(key, e));
            if let Some(c) = &compact {
                assert_eq!(c.bytes(key.len()), e.size);
                assert_eq!(c.is_live(), e.key_type().is_some());
                assert_eq!(Compact::from_entry(e).as_ref(), Some(c), "compact again");
                assert_eq!(c.counter(), e.string_counter());
                if c.is_live() {
                    let (mut a, mut b) = (Digest::new(), Digest::new());
                    c.digest_visible(&mut a);
                    e.digest_visible(&mut b);
                    assert_eq!(a.value(), b.value(), "same digest");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn compact_keys_stand_for_their_general_entries(
            ops in proptest::collection::vec(
                (0u8..3, any::<bool>(), 0u32..5000, 0u64..50), 1..40)
        ) {
            check(&ops);
        }
    }

    #[test]
    fn strings_and_counters_have_compact_forms_and_mixed_keys_do_not() {
        // Only sets: a string; only increments: a counter; then a set on the counter (a
        // register beside totals) has none.
        check(&[(0, true, 10, 5), (1, true, 12, 6), (2, true, 14, 7)]);
        check(&[(0, false, 10, 5), (1, false, 12, 6), (2, false, 14, 7)]);
        check(&[
            (0, false, 10, 5),
            (1, true, 11, 6),
            (2, false, 14, 7),
            (0, true, 2, 9),
        ]);
        let mut c = Compact::empty_for(&CompactKind::Incr { int: 1 });
        let set = CompactOp {
            origin: 0,
            vc: [1, 0, 0],
            ts: 1,
            annotation: 1,
            kind: CompactKind::Set { len: 3, tag: 1 },
        };
        assert_eq!(c.apply(&set), CompactApplied::Spill);
        assert_eq!(c, Compact::empty_for(&CompactKind::Incr { int: 1 }));
        // Two concurrent sets keep two registers (boxed), a third a third; a set that saw
        // them all leaves one (inline again).
        let mut s = Compact::empty_for(&set.kind);
        assert_eq!(s.apply(&set), CompactApplied::Applied);
        let other = CompactOp {
            origin: 1,
            vc: [0, 1, 0],
            ..set
        };
        assert_eq!(s.apply(&other), CompactApplied::Applied);
        assert!(matches!(s, Compact::Strs(_)) && s.regs().count() == 2);
        let third = CompactOp {
            origin: 2,
            vc: [0, 0, 1],
            ..set
        };
        assert_eq!(s.apply(&third), CompactApplied::Applied);
        assert_eq!(s.regs().count(), 3);
        let after_all = CompactOp {
            origin: 2,
            vc: [1, 1, 2],
            ..set
        };
        assert_eq!(s.apply(&after_all), CompactApplied::Applied);
        assert!(matches!(s, Compact::Str { reg: Some(_), .. }));
        // An increment on a string has no compact form: nothing changes.
        let before = s.clone();
        let incr = CompactOp {
            kind: CompactKind::Incr { int: 1 },
            vc: [2, 1, 2],
            ..set
        };
        assert_eq!(s.apply(&incr), CompactApplied::Spill);
        assert_eq!(s, before);
        assert_eq!(s.apply(&set), CompactApplied::Duplicate);
    }
}
