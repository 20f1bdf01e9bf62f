//! Rendering an explained run as text or Markdown: the narration, the concurrent pairs with
//! their rules, and the final values.

use super::*;

impl Explained {
    pub(super) fn name(&self, c: usize) -> &str {
        self.tracer.names.get(c).map(|s| s.as_str()).unwrap_or("?")
    }

    /// The instance's display name with its id (`us (I1)`) when the two differ.
    pub(super) fn who(&self, c: usize) -> String {
        let id = InstanceId(c as u8).to_string();
        let name = self.name(c);
        if name == id {
            id
        } else {
            format!("{name} ({id})")
        }
    }

    pub(super) fn in_window(&self, t: SimTime) -> bool {
        self.from.is_none_or(|f| t >= f) && self.until.is_none_or(|u| t <= u)
    }

    pub(super) fn involves(&self, e: &TraceEvent) -> bool {
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
    pub(crate) fn shows(&self, e: &TraceEvent) -> bool {
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

    pub(super) fn timeline(&self, d: &mut Doc) {
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
                        self.narrate_op(d, op, multi_key, n);
                    }
                }
                TraceKind::Deliver {
                    src,
                    dst,
                    op,
                    sent,
                    applied: result,
                } if visible => {
                    self.narrate_delivery(d, e, at, (*src, *dst), op, *sent, *result, &label);
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
                    let why = reconnect_reason(reason);
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

    /// What a local write became: its op, vector clock and timestamp (and how far its
    /// writer's clock was off).
    fn narrate_op(&self, d: &mut Doc, op: &Op, multi_key: bool, n: usize) {
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

    /// An op's arrival at a peer, and the concurrent ops it met there.
    #[allow(clippy::too_many_arguments)]
    fn narrate_delivery(
        &self,
        d: &mut Doc,
        e: &TraceEvent,
        at: usize,
        (src, dst): (usize, usize),
        op: &Op,
        sent: SimTime,
        result: Applied,
        label: &dyn Fn(&Key, Dot) -> String,
    ) {
        let lag = e.time.since(sent);
        let what = match result {
            Applied::Applied => "applies",
            Applied::Buffered => "buffers (causal consistency: an op it depends on is missing)",
            Applied::Duplicate => "filters out a duplicate of",
        };
        d.line(
            e.time,
            &format!(
                "{} {what} {}:{} ({}) from {}, written {} earlier",
                self.who(dst),
                op.dot.origin,
                op.dot.seq,
                d.code(&label(&op.key, op.dot)),
                self.who(src),
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

    pub(super) fn flush_notes(&self, d: &mut Doc, t: SimTime, noted: &mut [bool]) {
        for (i, (at, note)) in self.notes.iter().enumerate() {
            if *at == t && !noted[i] {
                noted[i] = true;
                d.detail(&format!("note: {note}"));
            }
        }
    }

    pub(super) fn conflicts_section(&self, d: &mut Doc) {
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

    pub(super) fn finals(&self, d: &mut Doc) {
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

/// Why a reconnecting syncer resumed as it did.
fn reconnect_reason(reason: &ResyncReason) -> String {
    match reason {
        ResyncReason::Partial => {
            "partial sync: the backlog still holds everything it missed".to_string()
        }
        ResyncReason::BacklogOverflow { needed, first } => format!(
            "FULL SYNC: the backlog overflowed — it needs offset {needed} but the backlog starts at {first}"
        ),
        ResyncReason::NewHistory => {
            "FULL SYNC: the source's replication history changed (restart)".into()
        }
    }
}
