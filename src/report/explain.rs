//! `geosim explain`: a run narrated step by step — each command, the op it became (dot,
//! vector clock, timestamp by the writer's clock and by true time), when it reached each
//! instance, which ops were concurrent, which rule settled each conflict and why, and the
//! final value on every instance.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::check::RunResult;
use crate::crdt::json::{Edit as JsonEdit, NodeId, Place};
use crate::crdt::keyspace::Key;
use crate::crdt::value::format_float;
use crate::crdt::{Applied, Dot, Entry, Expiry, InstanceId, KeyType, Op, OpKind};
use crate::engine::SimTime;
use crate::model::trace::{ResyncReason, TraceEvent, TraceFilter, TraceKind, Tracer};
use crate::scenario::Scenario;
use crate::sim::Simulation;

mod render;
mod rules;

pub use rules::rule;

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
    // A key's history needs every key's state: a sampled scenario is explained exact (the
    // byte-level process is the same; see `docs/semantics.md`, "Sampled fidelity").
    let mut exact;
    let s = if s.config.fidelity == crate::model::Fidelity::Exact {
        s
    } else {
        exact = s.clone();
        exact.config.fidelity = crate::model::Fidelity::Exact;
        &exact
    };
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
pub(crate) fn find_conflicts(t: &Tracer) -> Vec<Conflict> {
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

fn trim_ms(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Simulated time as seconds with millisecond precision.
pub(crate) fn secs(t: SimTime) -> String {
    format!("{}.{:03} s", t.0 / 1_000_000_000, (t.0 / 1_000_000) % 1000)
}

/// What a client would read at an instance: the entry rendered by type.
pub(crate) fn render_value(entry: Option<&Entry>, now_ms: u64) -> String {
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
        KeyType::Json => {
            let d = e.json().and_then(|j| j.doc()).map(|d| d.to_lit().to_json());
            format!("JSON {}", d.unwrap_or_default())
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
