//! `geosim explain`: a run narrated step by step — each command, the op it became (dot,
//! vector clock, timestamp by the writer's clock and by true time), when it reached each
//! instance, which ops were concurrent, which rule settled each conflict and why, and the
//! final value on every instance.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::check::RunResult;
use crate::crdt::keyspace::Key;
use crate::crdt::value::format_float;
use crate::crdt::{Applied, Dot, Entry, Expiry, InstanceId, KeyType, Op, OpKind};
use crate::engine::SimTime;
use crate::model::trace::{ResyncReason, TraceEvent, TraceFilter, TraceKind, Tracer};
use crate::scenario::Scenario;
use crate::sim::Simulation;

/// What to narrate.
#[derive(Clone, Debug, Default)]
pub struct ExplainOptions {
    /// One key; default: every key of a scripted scenario, or the most contended key of a
    /// generated workload.
    pub key: Option<String>,
    /// Narrate only what happens at this instance (by name).
    pub instance: Option<String>,
    /// A time window (simulated); events outside it are left out.
    pub from: Option<SimTime>,
    pub until: Option<SimTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
}

/// A pair of concurrent ops on one key and the rule that settles them.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    pub key: Key,
    pub a: Dot,
    pub b: Dot,
    /// A short name of the rule ("last write wins", "counters add up", …).
    pub rule: &'static str,
    /// The sentence that says why.
    pub why: String,
}

/// A traced run, ready to narrate or draw.
pub struct Explained {
    pub tracer: Tracer,
    pub result: RunResult,
    /// Why this key was chosen, when it was not given.
    pub chosen: Option<String>,
    pub conflicts: Vec<Conflict>,
    /// The instance to narrate, if one was asked for.
    pub instance: Option<usize>,
    pub from: Option<SimTime>,
    pub until: Option<SimTime>,
    /// The script's step notes with the time their step ran.
    pub notes: Vec<(SimTime, String)>,
    /// Per trace event: for a delivery, the conflicts (indices into `conflicts`) it met with
    /// ops already applied at its destination, in the order those were applied; else empty.
    pub met: Vec<Vec<usize>>,
}

/// Runs the scenario traced. Errors are messages for the user (unknown instance, a key no
/// command touched).
pub fn explain(s: &Scenario, opts: &ExplainOptions) -> Result<Explained, String> {
    let names: Vec<&str> = s.config.clusters.iter().map(|c| c.name.as_str()).collect();
    let instance = match &opts.instance {
        None => None,
        Some(name) => Some(names.iter().position(|n| n == name).ok_or_else(|| {
            format!(
                "--instance {name:?}: no such instance; the scenario has {}",
                names.join(", ")
            )
        })?),
    };
    let scripted = s.config.workload.is_none();
    let (filter, chosen) = match &opts.key {
        Some(k) => (TraceFilter::Key(Key::from(k.as_bytes())), None),
        None if scripted => (TraceFilter::All, None),
        None => {
            let (_, t) = Simulation::new(s.config.clone())
                .run_traced(Some(Tracer::new(TraceFilter::Contention)));
            let t = t.expect("a tracer was installed");
            match t.most_contended() {
                Some((k, n)) => (
                    TraceFilter::Key(k.clone()),
                    Some(format!(
                        "key {} chosen as the most contended: {n} replicated op(s) arrived concurrent with a write already applied there (choose another with --key)",
                        show_key(&k)
                    )),
                ),
                None => match t.first_key {
                    Some(k) => (
                        TraceFilter::Key(k.clone()),
                        Some(format!(
                            "no key had concurrent writes in this run; narrating key {}, the first one written (choose another with --key)",
                            show_key(&k)
                        )),
                    ),
                    None => return Err("no command wrote any key in this run".into()),
                },
            }
        }
    };
    let (result, tracer) = Simulation::new(s.config.clone()).run_traced(Some(Tracer::new(filter)));
    let tracer = tracer.expect("a tracer was installed");
    let touched = tracer
        .events
        .iter()
        .any(|e| matches!(e.kind, TraceKind::Command { .. } | TraceKind::Op { .. }));
    if let (Some(k), false) = (&opts.key, touched) {
        return Err(format!(
            "--key {k:?}: no command or op touched this key in the run"
        ));
    }
    let conflicts = find_conflicts(&tracer);
    let notes = s
        .notes
        .iter()
        .filter_map(|(i, note)| {
            let step = result.steps.iter().find(|r| r.index == *i)?;
            Some((step.time, note.clone()))
        })
        .collect();
    let met = conflicts_met(&tracer, &conflicts);
    Ok(Explained {
        met,
        notes,
        tracer,
        result,
        chosen,
        conflicts,
        instance,
        from: opts.from,
        until: opts.until,
    })
}

pub(crate) fn show_key(k: &Key) -> String {
    format!("{:?}", String::from_utf8_lossy(k.as_bytes()))
}

/// Every op of the trace, by key and dot, with the command line that made it.
pub(crate) fn ops_by_dot(t: &Tracer) -> BTreeMap<(Key, Dot), (Op, String)> {
    let mut out = BTreeMap::new();
    let mut last_cmd: Vec<Option<String>> = vec![None; t.names.len().max(1)];
    for e in &t.events {
        match &e.kind {
            TraceKind::Command { cluster, line, .. } if *cluster < last_cmd.len() => {
                last_cmd[*cluster] = Some(line.clone());
            }
            TraceKind::Op { cluster, op } => {
                let made_by = last_cmd
                    .get(*cluster)
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| implicit_origin(op));
                out.insert((op.key.clone(), op.dot), (op.clone(), made_by));
            }
            _ => {}
        }
        // A command's ops follow it at the same instant; anything else ends the run of ops.
        if !matches!(e.kind, TraceKind::Command { .. } | TraceKind::Op { .. }) {
            last_cmd.iter_mut().for_each(|c| *c = None);
        }
    }
    out
}

/// An op that no client command made: the owner's expiry, or an eviction.
fn implicit_origin(op: &Op) -> String {
    match op.kind {
        OpKind::Del { .. } => "an expiry or eviction DEL".into(),
        _ => "an internal write".into(),
    }
}

/// For each trace event, the conflicts a delivery met: the pairs of the delivered op with an
/// op its destination had already applied (written there or delivered before).
fn conflicts_met(t: &Tracer, conflicts: &[Conflict]) -> Vec<Vec<usize>> {
    let index: BTreeMap<(&Key, Dot, Dot), usize> = conflicts
        .iter()
        .enumerate()
        .flat_map(|(i, c)| [((&c.key, c.a, c.b), i), ((&c.key, c.b, c.a), i)])
        .collect();
    let mut applied: Vec<BTreeMap<Key, Vec<Dot>>> = vec![BTreeMap::new(); t.names.len()];
    t.events
        .iter()
        .map(|e| match &e.kind {
            TraceKind::Op { cluster, op } => {
                applied[*cluster]
                    .entry(op.key.clone())
                    .or_default()
                    .push(op.dot);
                Vec::new()
            }
            TraceKind::Deliver {
                dst,
                op,
                applied: a,
                ..
            } => {
                let here = applied[*dst].entry(op.key.clone()).or_default();
                let met = here
                    .iter()
                    .filter_map(|other| index.get(&(&op.key, op.dot, *other)).copied())
                    .collect();
                if *a != Applied::Duplicate {
                    here.push(op.dot);
                }
                met
            }
            _ => Vec::new(),
        })
        .collect()
}

fn concurrent(a: &Op, b: &Op) -> bool {
    a.dot.origin != b.dot.origin && !a.vc.covers(b.dot) && !b.vc.covers(a.dot)
}

/// Every pair of concurrent ops on the same key whose effects meet, with its rule, in the
/// order of the later op's write.
pub fn find_conflicts(t: &Tracer) -> Vec<Conflict> {
    let ops = ops_by_dot(t);
    let mut by_key: BTreeMap<&Key, Vec<(&Op, &String)>> = BTreeMap::new();
    for ((k, _), (op, line)) in &ops {
        by_key.entry(k).or_default().push((op, line));
    }
    let mut out = Vec::new();
    for (key, mut list) in by_key {
        list.sort_by_key(|(op, _)| (op.annotation, op.dot));
        for j in 0..list.len() {
            for i in 0..j {
                let (a, la) = list[i];
                let (b, lb) = list[j];
                if !concurrent(a, b) {
                    continue;
                }
                if let Some((rule, why)) = rule(a, la, b, lb) {
                    out.push(Conflict {
                        key: key.clone(),
                        a: a.dot,
                        b: b.dot,
                        rule,
                        why,
                    });
                }
            }
        }
    }
    out.sort_by_key(|c| {
        let at = |d: Dot| {
            ops.get(&(c.key.clone(), d))
                .map(|(o, _)| o.annotation)
                .unwrap_or(0)
        };
        (at(c.a).max(at(c.b)), c.key.clone(), c.a, c.b)
    });
    out
}

fn quote(v: &impl std::fmt::Display) -> String {
    format!("\"{v}\"")
}

fn bytes(b: &[u8]) -> String {
    format!("\"{}\"", String::from_utf8_lossy(b))
}

/// The rule that settles two concurrent ops `a` (written first in true time) and `b`, or
/// `None` when their effects do not meet (different fields, members or elements).
pub fn rule(a: &Op, la: &str, b: &Op, lb: &str) -> Option<(&'static str, String)> {
    let (ia, ib) = (a.dot.origin, b.dot.origin);
    let who = |o: &Op, l: &str| format!("{}'s {}", o.dot.origin, l);
    use OpKind::*;
    match (&a.kind, &b.kind) {
        (Set { value: va, .. }, Set { value: vb, .. }) => {
            Some(lww("SETs", a, &quote(va), b, &quote(vb)))
        }
        (Incr { .. }, Incr { .. }) => Some((
            "counters add up",
            format!(
                "concurrent increments: {} and {} both count, on every instance (a counter adds every instance's increments)",
                who(a, la),
                who(b, lb)
            ),
        )),
        (Set { .. }, Incr { .. }) | (Incr { .. }, Set { .. }) => {
            let (s, sl, i, il) = if matches!(a.kind, Set { .. }) {
                (a, la, b, lb)
            } else {
                (b, lb, a, la)
            };
            Some((
                "SET plus unobserved increments",
                format!(
                    "{} is concurrent with {}: the value read is the SET's value plus every increment its writer had not observed, so the increment is kept on top (Redis docs are silent here; geosim's choice, see docs/semantics.md)",
                    who(s, sl),
                    who(i, il)
                ),
            ))
        }
        (Del { .. }, Del { .. }) => None,
        (Del { .. }, other) | (other, Del { .. }) => {
            let (d, dl, w, wl) = if matches!(a.kind, Del { .. }) {
                (a, la, b, lb)
            } else {
                (b, lb, a, la)
            };
            if matches!(other, PfAdd(_)) {
                return Some((
                    "DEL wins (HyperLogLog)",
                    format!(
                        "{} is concurrent with {}: on a HyperLogLog a DEL wins over concurrent adds, so the key is deleted everywhere",
                        who(d, dl),
                        who(w, wl)
                    ),
                ));
            }
            if matches!(other, Expire(_)) {
                return None;
            }
            Some((
                "observed remove",
                format!(
                    "{} had not observed {}, so that write stays: a DEL removes only what its instance had seen (update wins)",
                    who(d, dl),
                    who(w, wl)
                ),
            ))
        }
        (SAdd(x), SRem(y)) | (SRem(y), SAdd(x)) => {
            let (r, rl, ad) = if matches!(a.kind, SRem(_)) {
                (a, la, b)
            } else {
                (b, lb, a)
            };
            let common: Vec<String> = x
                .iter()
                .filter(|m| y.contains(m))
                .map(|m| bytes(m))
                .collect();
            (!common.is_empty()).then(|| {
                (
                    "add wins",
                    format!(
                        "{} on {} had not observed {}'s add of {}, so {} stays (observed remove: add wins)",
                        rl.split_whitespace().next().unwrap_or("SREM"),
                        r.dot.origin,
                        ad.dot.origin,
                        common.join(", "),
                        if common.len() == 1 { "it" } else { "they" }
                    ),
                )
            })
        }
        (SAdd(_), SAdd(_)) => Some((
            "union",
            format!(
                "concurrent adds are unioned: {} and {} both take effect",
                who(a, la),
                who(b, lb)
            ),
        )),
        (HSet(x), HSet(y)) => {
            let f = x
                .iter()
                .find(|(f, _, _)| y.iter().any(|(g, _, _)| g == f))?;
            let vb = &y.iter().find(|(g, _, _)| *g == f.0)?.1;
            Some(lww(
                &format!("HSETs of field {}", bytes(&f.0)),
                a,
                &quote(&f.1),
                b,
                &quote(vb),
            ))
        }
        (HIncr { field: f, .. }, HIncr { field: g, .. }) if f == g => Some((
            "counters add up",
            format!(
                "concurrent HINCRBYs of field {}: both increments count",
                bytes(f)
            ),
        )),
        (HSet(x), HDel(y)) | (HDel(y), HSet(x)) => {
            let f = x.iter().find(|(f, _, _)| y.iter().any(|(g, _)| g == f))?;
            let (d, w) = if matches!(a.kind, HDel(_)) {
                (ia, ib)
            } else {
                (ib, ia)
            };
            Some((
                "observed remove",
                format!(
                    "HDEL on {d} had not observed {w}'s write of field {}, so the field stays (update wins)",
                    bytes(&f.0)
                ),
            ))
        }
        (ZAdd(x), ZAdd(y)) => {
            let m = x
                .iter()
                .find(|(m, _, _)| y.iter().any(|(n, _, _)| n == m))?;
            let sb = y.iter().find(|(n, _, _)| *n == m.0)?.1;
            Some(lww(
                &format!("ZADDs of member {}", bytes(&m.0)),
                a,
                &format_float(m.1),
                b,
                &format_float(sb),
            ))
        }
        (ZIncr { member: m, by: x }, ZIncr { member: n, by: y }) if m == n => Some((
            "counters add up",
            format!(
                "concurrent ZINCRBYs of {}: a score is a counter, so {} and {} both count",
                bytes(m),
                format_float(*x),
                format_float(*y)
            ),
        )),
        (ZAdd(x), ZIncr { member, .. }) | (ZIncr { member, .. }, ZAdd(x))
            if x.iter().any(|(m, _, _)| m == member) =>
        {
            Some((
                "SET plus unobserved increments",
                format!(
                    "ZADD and a concurrent ZINCRBY of {}: the score read is the ZADD's score plus the increments its writer had not observed",
                    bytes(member)
                ),
            ))
        }
        (ZRem(r), ZAdd(x)) | (ZAdd(x), ZRem(r)) => {
            let m = x.iter().find(|(m, _, _)| r.iter().any(|(n, _)| n == m))?;
            Some((
                "observed remove",
                format!(
                    "ZREM had not observed the concurrent ZADD of {}, so the member stays (add wins)",
                    bytes(&m.0)
                ),
            ))
        }
        (ZRem(r), ZIncr { member, .. }) | (ZIncr { member, .. }, ZRem(r))
            if r.iter().any(|(n, _)| n == member) =>
        {
            Some((
                "observed remove",
                format!(
                    "ZREM removes only the score contributions it had observed: the concurrent ZINCRBY of {} survives, and the member stays with that increment alone",
                    bytes(member)
                ),
            ))
        }
        (LInsert(_), LInsert(_)) => Some((
            "both inserts kept",
            format!(
                "concurrent pushes: {} and {} both stay; elements inserted at the same place are ordered by their ids (Lamport number, then instance), the same on every instance",
                who(a, la),
                who(b, lb)
            ),
        )),
        (LRem(x), LRem(y)) => {
            x.iter().find(|e| y.contains(e))?;
            Some((
                "concurrent pops",
                format!(
                    "{} and {} removed the same element: both clients got it, and it is removed once (a pop is at-least-once across instances)",
                    who(a, la),
                    who(b, lb)
                ),
            ))
        }
        (LSet { id: x, value: va }, LSet { id: y, value: vb }) if x == y => {
            Some(lww("LSETs", a, &quote(va), b, &quote(vb)))
        }
        (Expire(x), Expire(y)) => Some(match (x, y) {
            (Expiry::Persist, Expiry::Persist) => return None,
            (Expiry::Persist, _) | (_, Expiry::Persist) => (
                "PERSIST wins",
                "a PERSIST (no expiry) beats any concurrent EXPIRE".to_string(),
            ),
            (Expiry::At(p), Expiry::At(q)) => {
                let (w, at) = if p >= q { (ia, p) } else { (ib, q) };
                (
                    "longer TTL wins",
                    format!(
                        "concurrent TTL changes: the longer TTL wins, so {w}'s expiry (at {at} ms by the owner's clock) holds everywhere"
                    ),
                )
            }
        }),
        (XAdd { id: x, .. }, XAdd { id: y, .. }) => Some((
            "both entries kept",
            format!("concurrent XADDs: entries {x} and {y} are both kept, ordered by ID"),
        )),
        (PfAdd(_), PfAdd(_)) => Some((
            "union",
            "concurrent PFADDs merge like a union: each register keeps its maximum".to_string(),
        )),
        (ka, kb) => {
            let (ta, tb) = (ka.key_type()?, kb.key_type()?);
            (ta != tb).then(|| {
                (
                    "type conflict",
                    format!(
                        "{} wrote a {} and {} a {} concurrently: a client sees the type written last by timestamp (Redis docs are silent; geosim's choice)",
                        ia,
                        ta.name(),
                        ib,
                        tb.name()
                    ),
                )
            })
        }
    }
}

/// Last write wins between two concurrent register writes, with the clock-inversion note.
fn lww(what: &str, a: &Op, va: &str, b: &Op, vb: &str) -> (&'static str, String) {
    let a_wins = (a.ts, std::cmp::Reverse(a.dot.origin)) > (b.ts, std::cmp::Reverse(b.dot.origin));
    let (w, vw, l) = if a_wins { (a, va, b) } else { (b, vb, a) };
    let (iw, il) = (w.dot.origin, l.dot.origin);
    if w.ts == l.ts {
        return (
            "last write wins",
            format!(
                "concurrent {what} with the same timestamp ({} ms): the smaller instance id wins a tie, so {iw}'s {vw} wins",
                w.ts
            ),
        );
    }
    // The annotation is the true time of the write in nanoseconds.
    if w.annotation < l.annotation {
        let offset = |o: &Op| o.ts as i128 - (o.annotation / 1_000_000) as i128;
        let ahead = offset(w) - offset(l);
        let earlier = (l.annotation - w.annotation) as f64 / 1e6;
        return (
            "clock-inverted win",
            format!(
                "concurrent {what}: {iw}'s clock runs {ahead} ms ahead of {il}'s, so its earlier write ({} ms before in true time) carries the later timestamp ({} vs {} ms) and {vw} wins: a clock-inverted win",
                trim_ms(earlier),
                w.ts,
                l.ts
            ),
        );
    }
    (
        "last write wins",
        format!(
            "concurrent {what}: {iw}'s timestamp is later ({} vs {} ms by the writers' clocks), so {vw} wins",
            w.ts, l.ts
        ),
    )
}

fn trim_ms(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Simulated time as seconds with millisecond precision.
pub(crate) fn secs(t: SimTime) -> String {
    format!("{}.{:03} s", t.0 / 1_000_000_000, (t.0 / 1_000_000) % 1000)
}

/// What a client would read at an instance: the entry rendered by type.
pub fn render_value(entry: Option<&Entry>, now_ms: u64) -> String {
    let Some(e) = entry else {
        return "(no such key)".into();
    };
    if e.expired(now_ms) {
        return "(expired)".into();
    }
    let Some(t) = e.key_type() else {
        return "(no such key)".into();
    };
    let body = match t {
        KeyType::String => e
            .string_value()
            .map(|v| quote(&v))
            .unwrap_or_else(|| "(nil)".into()),
        KeyType::Hash => {
            let f: Vec<String> = e
                .hash_fields()
                .iter()
                .map(|(k, v)| format!("{}: {}", bytes(k), quote(v)))
                .collect();
            format!("hash {{{}}}", f.join(", "))
        }
        KeyType::Set => {
            let m: Vec<String> = e.set_members().iter().map(|m| bytes(m)).collect();
            format!("set {{{}}}", m.join(", "))
        }
        KeyType::ZSet => {
            let m: Vec<String> = e
                .zset_members()
                .iter()
                .map(|(m, s)| format!("{} {}", bytes(m), format_float(*s)))
                .collect();
            format!("sorted set [{}]", m.join(", "))
        }
        KeyType::List => {
            let l: Vec<String> = e
                .list()
                .map(|l| l.live().map(|x| quote(&x.value)).collect())
                .unwrap_or_default();
            format!("list [{}]", l.join(", "))
        }
        KeyType::Stream => {
            let s: Vec<String> = e
                .stream()
                .map(|s| s.live().map(|x| x.id.to_string()).collect())
                .unwrap_or_default();
            format!("stream [{}]", s.join(", "))
        }
        KeyType::Hll => {
            let n = e
                .hll()
                .map(|h| crate::crdt::hll::count(&h.registers()))
                .unwrap_or(0);
            format!("HyperLogLog, PFCOUNT {n}")
        }
    };
    match e.expiry() {
        Some((Expiry::At(at), owner)) => format!("{body}, expires at {at} ms ({owner} owns it)"),
        _ => body,
    }
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

struct Doc {
    format: Format,
    out: String,
}

impl Doc {
    fn heading(&mut self, s: &str) {
        match self.format {
            Format::Text => {
                let _ = writeln!(self.out, "\n{s}\n{}", "-".repeat(s.chars().count()));
            }
            Format::Markdown => {
                let _ = writeln!(self.out, "\n## {s}\n");
            }
        }
    }

    fn para(&mut self, s: &str) {
        let _ = writeln!(self.out, "{s}");
    }

    /// A timeline line: time, then what happened.
    fn line(&mut self, t: SimTime, s: &str) {
        match self.format {
            Format::Text => {
                let _ = writeln!(self.out, "{:>10}  {s}", secs(t));
            }
            Format::Markdown => {
                let _ = writeln!(self.out, "- `{}` {s}", secs(t));
            }
        }
    }

    /// A detail under the previous line.
    fn detail(&mut self, s: &str) {
        match self.format {
            Format::Text => {
                let _ = writeln!(self.out, "{:>10}    {s}", "");
            }
            Format::Markdown => {
                let _ = writeln!(self.out, "  - {s}");
            }
        }
    }

    fn code(&self, s: &str) -> String {
        match self.format {
            Format::Text => s.to_string(),
            Format::Markdown => format!("`{s}`"),
        }
    }
}

impl Explained {
    fn name(&self, c: usize) -> &str {
        self.tracer.names.get(c).map(|s| s.as_str()).unwrap_or("?")
    }

    /// The instance's display name with its id (`us (I1)`) when the two differ.
    fn who(&self, c: usize) -> String {
        let id = InstanceId(c as u8).to_string();
        let name = self.name(c);
        if name == id {
            id
        } else {
            format!("{name} ({id})")
        }
    }

    fn in_window(&self, t: SimTime) -> bool {
        self.from.is_none_or(|f| t >= f) && self.until.is_none_or(|u| t <= u)
    }

    fn involves(&self, e: &TraceEvent) -> bool {
        let Some(i) = self.instance else {
            return true;
        };
        match &e.kind {
            TraceKind::Command { cluster, .. } | TraceKind::Op { cluster, .. } => *cluster == i,
            TraceKind::Deliver { src, dst, .. }
            | TraceKind::Reconnect { src, dst, .. }
            | TraceKind::FullSync { src, dst, .. } => *src == i || *dst == i,
            TraceKind::Fault { pairs, .. } => pairs.iter().any(|(a, b)| *a == i || *b == i),
            TraceKind::SyncStep { clusters } => clusters.contains(&i),
        }
    }

    /// Whether the narration and the diagram show this event: in the window, involving the
    /// instance asked for.
    pub fn shows(&self, e: &TraceEvent) -> bool {
        self.in_window(e.time) && self.involves(e)
    }

    /// The narration, as text or Markdown.
    pub fn render(&self, title: &str, format: Format) -> String {
        let mut d = Doc {
            format,
            out: String::new(),
        };
        match format {
            Format::Text => d.para(&format!("{title}\n{}", "=".repeat(title.chars().count()))),
            Format::Markdown => d.para(&format!("# {title}")),
        }
        if let Some(c) = &self.chosen {
            d.para(&format!("\n{}", c.replace("--key", &d.code("--key"))));
        }
        let keys = self.tracer.keys();
        let shown: Vec<String> = keys.iter().map(show_key).collect();
        d.para(&format!(
            "\nInstances: {}. Keys narrated: {}. Times are true (simulated) time; each op also carries its writer's clock reading.",
            (0..self.tracer.names.len())
                .map(|c| self.who(c))
                .collect::<Vec<_>>()
                .join(", "),
            if shown.is_empty() {
                "none".to_string()
            } else {
                shown.join(", ")
            }
        ));
        self.timeline(&mut d);
        self.conflicts_section(&mut d);
        self.finals(&mut d);
        d.out
    }

    fn timeline(&self, d: &mut Doc) {
        d.heading("What happened");
        let ops = ops_by_dot(&self.tracer);
        let label = |k: &Key, dot: Dot| {
            ops.get(&(k.clone(), dot))
                .map(|(_, l)| l.clone())
                .unwrap_or_else(|| "an op".into())
        };
        let multi_key = self.tracer.keys().len() > 1;
        let n = self.tracer.names.len();
        let mut shown = 0usize;
        let mut noted = vec![false; self.notes.len()];
        // A command's note goes after the ops it became.
        let mut pending: Option<SimTime> = None;
        for (at, e) in self.tracer.events.iter().enumerate() {
            let visible = self.shows(e);
            if !matches!(e.kind, TraceKind::Op { .. })
                && let Some(t) = pending.take()
            {
                self.flush_notes(d, t, &mut noted);
            }
            match &e.kind {
                TraceKind::Command {
                    cluster,
                    line,
                    reply,
                } if visible => {
                    d.line(
                        e.time,
                        &format!("{}: {} → {}", self.who(*cluster), d.code(line), reply),
                    );
                }
                TraceKind::Op { op, .. } => {
                    if visible {
                        let true_ms = op.annotation as f64 / 1e6;
                        let offset = op.ts as f64 - true_ms.floor();
                        let clock = if offset.abs() >= 1.0 {
                            format!(
                                " (its clock is {} ms {})",
                                trim_ms(offset.abs()),
                                if offset > 0.0 { "ahead" } else { "behind" }
                            )
                        } else {
                            String::new()
                        };
                        let on_key = if multi_key {
                            format!(" on {}", show_key(&op.key))
                        } else {
                            String::new()
                        };
                        d.detail(&format!(
                            "becomes op {}:{} ({} write{on_key}), vector clock {}, stamped {} ms by {}'s clock{clock}",
                            op.dot.origin,
                            op.dot.seq,
                            ordinal(op.dot.seq),
                            fmt_vc(op, n),
                            op.ts,
                            op.dot.origin,
                        ));
                    }
                }
                TraceKind::Deliver {
                    src,
                    dst,
                    op,
                    sent,
                    applied: result,
                } if visible => {
                    let lag = e.time.since(*sent);
                    let what = match result {
                        Applied::Applied => "applies",
                        Applied::Buffered => {
                            "buffers (causal consistency: an op it depends on is missing)"
                        }
                        Applied::Duplicate => "filters out a duplicate of",
                    };
                    d.line(
                        e.time,
                        &format!(
                            "{} {what} {}:{} ({}) from {}, written {} earlier",
                            self.who(*dst),
                            op.dot.origin,
                            op.dot.seq,
                            d.code(&label(&op.key, op.dot)),
                            self.who(*src),
                            trim_ms(lag.0 as f64 / 1e6) + " ms"
                        ),
                    );
                    for &i in &self.met[at] {
                        let c = &self.conflicts[i];
                        let other = if c.a == op.dot { c.b } else { c.a };
                        d.detail(&format!(
                            "concurrent with {}:{} ({}), already here: {} (conflict {})",
                            other.origin,
                            other.seq,
                            d.code(&label(&op.key, other)),
                            c.rule,
                            i + 1
                        ));
                    }
                }
                TraceKind::Fault {
                    name,
                    kind,
                    begin,
                    pairs,
                } if visible => {
                    let between: Vec<String> = pairs
                        .iter()
                        .map(|(a, b)| format!("{}–{}", self.name(*a), self.name(*b)))
                        .collect();
                    d.line(
                        e.time,
                        &format!(
                            "{} {kind} {name} ({})",
                            if *begin { "begins:" } else { "ends:" },
                            between.join(", ")
                        ),
                    );
                }
                TraceKind::Reconnect { src, dst, reason } if visible => {
                    let why = match reason {
                        ResyncReason::Partial => {
                            "partial sync: the backlog still holds everything it missed".to_string()
                        }
                        ResyncReason::BacklogOverflow { needed, first } => format!(
                            "FULL SYNC: the backlog overflowed — it needs offset {needed} but the backlog starts at {first}"
                        ),
                        ResyncReason::NewHistory => {
                            "FULL SYNC: the source's replication history changed (restart)".into()
                        }
                    };
                    d.line(
                        e.time,
                        &format!(
                            "syncer {} → {} reconnects: {why}",
                            self.name(*src),
                            self.name(*dst)
                        ),
                    );
                }
                TraceKind::FullSync {
                    src,
                    dst,
                    started,
                    entries,
                } if visible => {
                    d.line(
                        e.time,
                        &format!(
                            "{} loads the full-sync snapshot from {} taken at {} ({entries} traced key(s) in it): merged as state by the same per-type rules, not replayed op by op, so no arrow per op",
                            self.who(*dst),
                            self.who(*src),
                            secs(*started)
                        ),
                    );
                }
                TraceKind::SyncStep { clusters } if visible => {
                    let names: Vec<&str> = clusters.iter().map(|c| self.name(*c)).collect();
                    d.line(
                        e.time,
                        &format!(
                            "sync step: {} exchange everything pending",
                            names.join(", ")
                        ),
                    );
                }
                _ => continue,
            }
            shown += 1;
            if matches!(e.kind, TraceKind::SyncStep { .. } | TraceKind::Fault { .. }) {
                self.flush_notes(d, e.time, &mut noted);
            } else if matches!(e.kind, TraceKind::Command { .. }) {
                pending = Some(e.time);
            }
        }
        if let Some(t) = pending.take() {
            self.flush_notes(d, t, &mut noted);
        }
        if shown == 0 {
            d.para("(nothing in the chosen window)");
        }
        if self.tracer.dropped > 0 {
            d.para(&format!(
                "({} later events were not recorded: narrow the run with --key or a shorter duration)",
                self.tracer.dropped
            ));
        }
    }

    fn flush_notes(&self, d: &mut Doc, t: SimTime, noted: &mut [bool]) {
        for (i, (at, note)) in self.notes.iter().enumerate() {
            if *at == t && !noted[i] {
                noted[i] = true;
                d.detail(&format!("note: {note}"));
            }
        }
    }

    fn conflicts_section(&self, d: &mut Doc) {
        d.heading("Conflicts and the rules that settled them");
        let ops = ops_by_dot(&self.tracer);
        let shown: Vec<(usize, &Conflict)> = self
            .conflicts
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                let t = |dot: Dot| {
                    ops.get(&(c.key.clone(), dot))
                        .map(|(o, _)| SimTime(o.annotation))
                        .unwrap_or(SimTime::ZERO)
                };
                // Every op reaches every instance, so every conflict matters to each one.
                self.in_window(t(c.a)) || self.in_window(t(c.b))
            })
            .collect();
        if shown.is_empty() && !self.conflicts.is_empty() {
            d.para(&format!(
                "None in the chosen window ({} in the whole run).",
                self.conflicts.len()
            ));
            return;
        }
        if shown.is_empty() {
            d.para("No two ops on the same key were concurrent: every write had seen the writes before it, so causality alone ordered them.");
            return;
        }
        const MAX: usize = 60;
        for (i, c) in shown.iter().take(MAX) {
            let l = |dot: Dot| {
                ops.get(&(c.key.clone(), dot))
                    .map(|(_, l)| d.code(l))
                    .unwrap_or_default()
            };
            let _ = writeln!(
                d.out,
                "{}. {}:{} {} and {}:{} {} on {} were concurrent (neither had seen the other). Rule: {}. {}.",
                i + 1,
                c.a.origin,
                c.a.seq,
                l(c.a),
                c.b.origin,
                c.b.seq,
                l(c.b),
                show_key(&c.key),
                c.rule,
                upper_first(&c.why)
            );
        }
        if shown.len() > MAX {
            d.para(&format!("… and {} more.", shown.len() - MAX));
        }
    }

    fn finals(&self, d: &mut Doc) {
        d.heading("Final values");
        for f in &self.tracer.finals {
            let values: Vec<String> = f
                .per_instance
                .iter()
                .map(|(e, now)| render_value(e.as_ref(), *now))
                .collect();
            let agree = values.windows(2).all(|w| w[0] == w[1]);
            let _ = writeln!(d.out, "{}:", d.code(&show_key(&f.key)));
            for (c, v) in values.iter().enumerate() {
                if self.instance.is_some_and(|i| i != c) {
                    continue;
                }
                d.detail(&format!("{}: {v}", self.who(c)));
            }
            d.detail(if agree {
                "every instance reads the same"
            } else {
                "the instances read differently (not converged)"
            });
        }
        let _ = writeln!(
            d.out,
            "\nThe run {} (digest {:016x}).\n",
            if self.result.quiescent {
                "ended with nothing in flight"
            } else {
                "stopped with work still pending"
            },
            self.result.trace_digest
        );
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn fmt_vc(op: &Op, n: usize) -> String {
    let v: Vec<String> = (0..n)
        .map(|i| op.vc.get(InstanceId(i as u8)).to_string())
        .collect();
    format!("[{}]", v.join(","))
}
