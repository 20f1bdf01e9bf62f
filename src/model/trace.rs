//! An optional record of what happened to some keys, for `geosim explain` and space-time
//! diagrams: every command on them, the op each write became, every delivery of those ops,
//! partitions, reconnects and full syncs. Off unless a caller installs a [`Tracer`]; when off
//! the world pays one branch per hook. The record never feeds back into the run: a traced run
//! has the same digest as an untraced one (tested).

use std::collections::BTreeMap;

use crate::crdt::keyspace::Key;
use crate::crdt::{Applied, Entry, Op};
use crate::engine::SimTime;

pub use super::syncer::ResyncReason;

/// Which keys a tracer records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceFilter {
    /// Every key (scripted scenarios: a handful of keys).
    All,
    /// One key.
    Key(Key),
    /// Record nothing but, per key, how many replicated ops arrived concurrent with a write
    /// the destination had already applied (to find the most contended key).
    Contention,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TraceKind {
    /// A client command on a traced key at `cluster`, with its reply as text.
    Command {
        cluster: usize,
        line: String,
        reply: String,
    },
    /// The op a write became at its origin (one command can make several).
    Op { cluster: usize, op: Op },
    /// A replicated op reached `dst` and was applied (or filtered as a duplicate).
    Deliver {
        src: usize,
        dst: usize,
        op: Op,
        sent: SimTime,
        applied: Applied,
    },
    /// A partition or other fault began or ended between these cluster pairs.
    Fault {
        name: String,
        kind: String,
        begin: bool,
        pairs: Vec<(usize, usize)>,
    },
    /// A syncer (`src` → `dst`) connected again and chose a partial or a full sync.
    Reconnect {
        src: usize,
        dst: usize,
        reason: ResyncReason,
    },
    /// A full-sync snapshot from `src` was loaded at `dst`; `started` is when it was taken,
    /// `entries` how many traced keys it carried.
    FullSync {
        src: usize,
        dst: usize,
        started: SimTime,
        entries: usize,
    },
    /// A scripted sync step began among these clusters.
    SyncStep { clusters: Vec<usize> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct TraceEvent {
    pub time: SimTime,
    pub kind: TraceKind,
}

/// The final state of a traced key at every instance.
#[derive(Clone, Debug)]
pub struct FinalState {
    pub key: Key,
    /// Per instance: the entry (if the key was ever written there) and the instance's clock
    /// in milliseconds at the end (to judge expiry).
    pub per_instance: Vec<(Option<Entry>, u64)>,
}

#[derive(Clone, Debug)]
pub struct Tracer {
    pub filter: TraceFilter,
    pub events: Vec<TraceEvent>,
    /// Under [`TraceFilter::Contention`]: per key, concurrent arrivals.
    pub contention: BTreeMap<Key, u64>,
    /// Under [`TraceFilter::Contention`]: the first key any op wrote (the fallback when no
    /// key saw concurrent writes).
    pub first_key: Option<Key>,
    /// Filled at the end of the run, one per traced key, in key order.
    pub finals: Vec<FinalState>,
    /// The clusters' names, in index order (filled at the end of the run).
    pub names: Vec<String>,
    /// Events beyond this many are counted but not kept.
    pub limit: usize,
    pub dropped: u64,
}

impl Tracer {
    pub fn new(filter: TraceFilter) -> Tracer {
        Tracer {
            filter,
            events: Vec::new(),
            contention: BTreeMap::new(),
            first_key: None,
            finals: Vec::new(),
            names: Vec::new(),
            limit: 200_000,
            dropped: 0,
        }
    }

    /// Whether events about `key` are recorded.
    pub(crate) fn wants(&self, key: &[u8]) -> bool {
        match &self.filter {
            TraceFilter::All => true,
            TraceFilter::Key(k) => k.as_bytes() == key,
            TraceFilter::Contention => false,
        }
    }

    /// Whether events about no key in particular (faults, reconnects) are recorded.
    pub(crate) fn records(&self) -> bool {
        !matches!(self.filter, TraceFilter::Contention)
    }

    pub(crate) fn push(&mut self, time: SimTime, kind: TraceKind) {
        if self.events.len() >= self.limit {
            self.dropped += 1;
            return;
        }
        self.events.push(TraceEvent { time, kind });
    }

    /// The traced keys: those some recorded op wrote, in key order.
    pub fn keys(&self) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                TraceKind::Op { op, .. } => Some(op.key.clone()),
                _ => None,
            })
            .collect();
        if let TraceFilter::Key(k) = &self.filter {
            keys.push(k.clone());
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// The most contended key (most concurrent arrivals; the smallest key on a tie).
    pub fn most_contended(&self) -> Option<(Key, u64)> {
        let mut best: Option<(&Key, u64)> = None;
        for (k, n) in &self.contention {
            if best.is_none_or(|(_, m)| *n > m) {
                best = Some((k, *n));
            }
        }
        best.map(|(k, n)| (k.clone(), n))
    }
}

// The world's hooks: each is one branch when no tracer is installed.

/// A client command at `cluster` is about to run: records it (its reply is filled in by
/// [`end_command`]) and returns where, if its key is traced.
pub(crate) fn begin_command(
    tracer: &mut Option<Box<Tracer>>,
    cluster: usize,
    cmd: &crate::redis::Command,
    now: SimTime,
) -> Option<usize> {
    let t = tracer.as_mut().filter(|t| t.wants(&cmd.key()))?;
    // The command goes before the ops it becomes.
    let at = t.events.len();
    let line = command_line(cmd);
    t.push(
        now,
        TraceKind::Command {
            cluster,
            line,
            reply: String::new(),
        },
    );
    Some(at)
}

/// Fills in the reply of the command recorded at `at`.
pub(crate) fn end_command(
    tracer: &mut Option<Box<Tracer>>,
    at: usize,
    reply: &crate::redis::Reply,
) {
    if let Some(TraceEvent {
        kind: TraceKind::Command { reply: r, .. },
        ..
    }) = tracer.as_mut().and_then(|t| t.events.get_mut(at))
    {
        *r = reply.to_string();
    }
}

/// The op a local write became at `cluster`.
pub(crate) fn local_op(tracer: &mut Option<Box<Tracer>>, cluster: usize, op: &Op, now: SimTime) {
    let Some(t) = tracer.as_mut() else { return };
    if t.wants(&op.key) {
        let op = op.clone();
        t.push(now, TraceKind::Op { cluster, op });
    } else if t.first_key.is_none() {
        t.first_key = Some(op.key.clone());
    }
}

/// Counts an arriving op that `dst` had not seen everything of: it is concurrent with a
/// write `dst` already applied (some origin's count there is past the op's clock).
pub(crate) fn contention(tracer: &mut Option<Box<Tracer>>, before: Option<&Entry>, op: &Op) {
    let Some(t) = tracer.as_mut() else { return };
    if !matches!(t.filter, TraceFilter::Contention) {
        return;
    }
    let Some(e) = before else {
        return;
    };
    let concurrent = e.ctx.entries().iter().enumerate().any(|(i, have)| {
        i != op.dot.origin.index() && *have > op.vc.get(crate::crdt::InstanceId(i as u8))
    });
    if concurrent {
        *t.contention.entry(op.key.clone()).or_default() += 1;
    }
}

/// A replicated op from `src` reached `dst` and was applied (or filtered).
pub(crate) fn delivery(
    tracer: &mut Option<Box<Tracer>>,
    (src, dst): (usize, usize),
    op: &Op,
    sent: &super::syncer::StreamOp,
    applied: Applied,
    now: SimTime,
) {
    if let Some(t) = tracer.as_mut()
        && t.wants(&op.key)
    {
        let kind = TraceKind::Deliver {
            src,
            dst,
            op: op.clone(),
            sent: sent.written_at,
            applied,
        };
        t.push(now, kind);
    }
}

/// A command as a line of text (for traces of generated workloads, which have no script
/// line): the name and its arguments, quoted when they hold spaces or are empty.
pub(crate) fn command_line(cmd: &crate::redis::Command) -> String {
    let mut line = cmd.name.to_string();
    for a in &cmd.args {
        let text = a.to_string();
        if text.is_empty() || text.contains(char::is_whitespace) || text.contains('"') {
            line.push_str(&format!(" {text:?}"));
        } else {
            line.push(' ');
            line.push_str(&text);
        }
    }
    line
}
