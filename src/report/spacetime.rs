//! Space-time diagrams of a traced run, as SVG written by hand (no fonts or rasteriser
//! needed, byte-identical for a given run): one lane per instance, time downwards, one row
//! per distinct event time (rows are in time order, not to scale; each row is labelled with
//! its time), ops as labelled dots, each delivered op as an arrow from its write to its
//! apply, sync steps as dashed rules, partitions shaded, full syncs as thick orange arrows,
//! and every arrival that met a concurrent op marked with the rule that settled it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::explain::{Explained, ops_by_dot, secs};
use crate::crdt::keyspace::Key;
use crate::crdt::{Applied, Dot};
use crate::engine::SimTime;
use crate::model::trace::{ResyncReason, TraceEvent, TraceKind};

/// Rows beyond this many are left out (the diagram says so); narrow with a time window.
pub(crate) const MAX_ROWS: usize = 400;

const LANE_W: f64 = 260.0;
const ROW_H: f64 = 26.0;
const TOP: f64 = 80.0;
const LEFT: f64 = 90.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// What the diagram holds, for tests and the caller's message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiagramStats {
    pub lanes: usize,
    pub rows: usize,
    pub deliveries: usize,
    pub conflicts_marked: usize,
    /// Rows left out past `MAX_ROWS`.
    pub rows_left_out: usize,
}

/// Where things go: one lane per instance, one row per event time.
struct Canvas {
    times: Vec<SimTime>,
    row_of: BTreeMap<SimTime, usize>,
    rows_left_out: usize,
    width: f64,
    height: f64,
    bottom: f64,
}

impl Canvas {
    fn new(events: &[&TraceEvent], lanes: usize) -> Canvas {
        // Row per distinct time, in order; a delivery's send time gets a row too.
        let mut times: Vec<SimTime> = events.iter().map(|e| e.time).collect();
        times.sort();
        times.dedup();
        let rows_left_out = times.len().saturating_sub(MAX_ROWS);
        times.truncate(MAX_ROWS);
        let row_of = times.iter().enumerate().map(|(i, t)| (*t, i)).collect();
        let height =
            TOP + 60.0 + times.len() as f64 * ROW_H + if rows_left_out > 0 { 30.0 } else { 0.0 };
        Canvas {
            width: LEFT + 60.0 + lanes as f64 * LANE_W + 40.0,
            bottom: height - 30.0,
            height,
            times,
            row_of,
            rows_left_out,
        }
    }

    /// The row of time `t`; a time before the first row (a send outside the window) goes
    /// above it.
    fn y(&self, t: SimTime) -> Option<f64> {
        self.row_of
            .get(&t)
            .map(|r| TOP + 20.0 + *r as f64 * ROW_H)
            .or_else(|| (self.times.first().is_some_and(|f| t < *f)).then_some(TOP + 4.0))
    }

    /// The lane of instance `c`.
    fn lx(&self, c: usize) -> f64 {
        LEFT + 60.0 + c as f64 * LANE_W
    }
}

/// Draws the explained run's shown events (window and instance filter applied; every lane is
/// drawn so arrows have both ends).
pub fn diagram(x: &Explained, title: &str) -> (String, DiagramStats) {
    let n = x.tracer.names.len();
    let all = &x.tracer.events;
    // A command whose op follows at the same instant is drawn as that op's dot.
    let keep: Vec<bool> = (0..all.len())
        .map(|i| {
            let e = &all[i];
            let op_next = matches!(all.get(i + 1), Some(next)
                if matches!(next.kind, TraceKind::Op { .. }) && next.time == e.time);
            x.shows(e) && !(matches!(e.kind, TraceKind::Command { .. }) && op_next)
        })
        .collect();
    let events: Vec<&TraceEvent> = all
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(e, _)| e)
        .collect();
    let c = Canvas::new(&events, n);
    let mut s = String::new();
    header(&mut s, &c, title);
    let mut stats = DiagramStats {
        lanes: n,
        rows: c.times.len(),
        rows_left_out: c.rows_left_out,
        ..DiagramStats::default()
    };
    partition_bands(&mut s, &c, &events);
    lanes_and_times(&mut s, &c, x);
    marks(&mut s, &c, x, &keep, &mut stats);
    if c.rows_left_out > 0 {
        let _ = writeln!(
            s,
            r##"<text x="12" y="{:.1}" fill="#cc0000">… {} more rows after {} left out: narrow the window with --from/--until</text>"##,
            c.height - 10.0,
            c.rows_left_out,
            c.times.last().copied().map(secs).unwrap_or_default()
        );
    }
    s.push_str("</svg>\n");
    (s, stats)
}

/// The SVG element, markers, background, title and legend.
fn header(s: &mut String, c: &Canvas, title: &str) {
    let (width, height) = (c.width, c.height);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        s,
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#3465a4"/></marker><marker id="arrow-full" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#f57900"/></marker></defs>"##
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(
        s,
        r##"<text x="12" y="22" font-size="15" font-weight="bold">{}</text>"##,
        esc(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="12" y="37" fill="#555555">time runs down, one row per event time (not to scale) · dot: write · square: read</text>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="12" y="51" fill="#555555">blue arrow: op delivered · orange: full sync · grey band: partition · red ring: concurrent op, settled by the rule named</text>"##
    );
}

/// Partitions first (underneath): from begin row to end row (or the bottom).
fn partition_bands(s: &mut String, c: &Canvas, events: &[&TraceEvent]) {
    let bottom = c.bottom;
    let mut open: BTreeMap<String, (SimTime, Vec<(usize, usize)>)> = BTreeMap::new();
    let mut bands = Vec::new();
    for e in events {
        if let TraceKind::Fault {
            name,
            kind,
            begin,
            pairs,
        } = &e.kind
        {
            if *begin {
                open.insert(format!("{name} {kind}"), (e.time, pairs.clone()));
            } else if let Some((b, p)) = open.remove(&format!("{name} {kind}")) {
                bands.push((format!("{name}: {kind}"), b, Some(e.time), p));
            }
        }
    }
    for (label, (b, p)) in open {
        bands.push((label, b, None, p));
    }
    for (label, b, end, pairs) in &bands {
        let lanes: Vec<usize> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
        let (Some(lo), Some(hi)) = (lanes.iter().min(), lanes.iter().max()) else {
            continue;
        };
        let y0 = c.y(*b).unwrap_or(TOP);
        let y1 = end.and_then(|t| c.y(t)).unwrap_or(bottom);
        let _ = writeln!(
            s,
            r##"<rect class="partition" x="{:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="#888a85" fill-opacity="0.18"/><text x="{:.1}" y="{:.1}" fill="#555753" font-style="italic">{}</text>"##,
            c.lx(*lo) - 30.0,
            c.lx(*hi) - c.lx(*lo) + 60.0,
            (y1 - y0).max(4.0),
            c.lx(*lo) - 26.0,
            y0 + 12.0,
            esc(label)
        );
    }
}

/// A lane per instance, and each row's time.
fn lanes_and_times(s: &mut String, canvas: &Canvas, x: &Explained) {
    let (c, bottom) = (canvas, canvas.bottom);
    for lane in 0..x.tracer.names.len() {
        let _ = writeln!(
            s,
            r##"<g class="lane"><line x1="{x:.1}" y1="{TOP:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#2e3436" stroke-width="1.5"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-weight="bold" font-size="13">{}</text></g>"##,
            TOP - 8.0,
            esc(&x.tracer.names[lane]),
            x = c.lx(lane)
        );
    }
    for t in &c.times {
        if let Some(yy) = c.y(*t) {
            let _ = writeln!(
                s,
                r##"<text x="8" y="{:.1}" fill="#888a85">{}</text>"##,
                yy + 4.0,
                secs(*t)
            );
        }
    }
}

/// A mark per shown event: dots, reads, arrows, conflicts, syncs, reconnects, full syncs.
fn marks(s: &mut String, c: &Canvas, x: &Explained, keep: &[bool], stats: &mut DiagramStats) {
    let ops = ops_by_dot(&x.tracer);
    let label = |k: &Key, d: Dot| {
        ops.get(&(k.clone(), d))
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    };
    let all = &x.tracer.events;
    for (at, (e, kept)) in all.iter().zip(keep).enumerate() {
        let visible = *kept && c.row_of.contains_key(&e.time);
        let yy = c.y(e.time);
        match &e.kind {
            TraceKind::Op { cluster, op } => {
                let (true, Some(yy)) = (visible, yy) else {
                    continue;
                };
                let cx = c.lx(*cluster);
                let _ = writeln!(
                    s,
                    r##"<g class="op"><circle cx="{cx:.1}" cy="{yy:.1}" r="5" fill="#3465a4"/><text x="{:.1}" y="{:.1}">{}:{} {}</text></g>"##,
                    cx + 9.0,
                    yy + 4.0,
                    op.dot.origin,
                    op.dot.seq,
                    esc(&clip(&label(&op.key, op.dot), 30))
                );
            }
            TraceKind::Command {
                cluster,
                line,
                reply,
            } => {
                let (true, Some(yy)) = (visible, yy) else {
                    continue;
                };
                let cx = c.lx(*cluster);
                let _ = writeln!(
                    s,
                    r##"<g class="read"><rect x="{:.1}" y="{:.1}" width="8" height="8" fill="#ffffff" stroke="#2e3436"/><text x="{:.1}" y="{:.1}" fill="#2e3436">{}</text></g>"##,
                    cx - 4.0,
                    yy - 4.0,
                    cx + 9.0,
                    yy + 4.0,
                    esc(&clip(&format!("{line} → {reply}"), 34))
                );
            }
            TraceKind::Deliver {
                src,
                dst,
                op,
                sent,
                applied: result,
            } => {
                let (true, Some(y1)) = (visible, yy) else {
                    continue;
                };
                let title = format!(
                    "{}:{} {} → {}",
                    op.dot.origin,
                    op.dot.seq,
                    esc(&label(&op.key, op.dot)),
                    esc(&x.tracer.names[*dst])
                );
                let arrow = Arrow {
                    from: (c.lx(*src), c.y(*sent).unwrap_or(TOP + 4.0)),
                    to: (c.lx(*dst), y1),
                };
                let rule = x.met[at].first().map(|i| x.conflicts[*i].rule);
                delivery_arrow(s, arrow, *result == Applied::Duplicate, &title, rule, stats);
            }
            TraceKind::SyncStep { clusters } => {
                let (true, Some(yy)) = (visible, yy) else {
                    continue;
                };
                let lo = clusters.iter().min().copied().unwrap_or(0);
                let hi = clusters.iter().max().copied().unwrap_or(0);
                let _ = writeln!(
                    s,
                    r##"<g class="sync"><line x1="{:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#73d216" stroke-width="1.5" stroke-dasharray="6,4"/><text x="{:.1}" y="{:.1}" fill="#4e9a06">sync</text></g>"##,
                    c.lx(lo) - 30.0,
                    c.lx(hi) + 30.0,
                    c.lx(lo) - 60.0,
                    yy + 4.0
                );
            }
            TraceKind::Reconnect { src, dst, reason } => {
                let (true, Some(yy)) = (visible, yy) else {
                    continue;
                };
                let text = match reason {
                    ResyncReason::Partial => "partial sync".to_string(),
                    ResyncReason::BacklogOverflow { .. } => "backlog overflowed: full sync".into(),
                    ResyncReason::NewHistory => "new history: full sync".into(),
                };
                let _ = writeln!(
                    s,
                    r##"<text class="reconnect" x="{:.1}" y="{:.1}" fill="#ce5c00">{} → {}: {}</text>"##,
                    c.lx(*dst) + 9.0,
                    yy + 4.0,
                    esc(&x.tracer.names[*src]),
                    esc(&x.tracer.names[*dst]),
                    esc(&text)
                );
            }
            TraceKind::FullSync {
                src, dst, started, ..
            } => {
                let (true, Some(y1)) = (visible, yy) else {
                    continue;
                };
                let y0 = c.y(*started).unwrap_or(TOP + 4.0);
                let _ = writeln!(
                    s,
                    r##"<line class="fullsync" x1="{:.1}" y1="{y0:.1}" x2="{:.1}" y2="{y1:.1}" stroke="#f57900" stroke-width="4" stroke-opacity="0.8" marker-end="url(#arrow-full)"><title>full sync {} → {}</title></line>"##,
                    c.lx(*src),
                    c.lx(*dst),
                    esc(&x.tracer.names[*src]),
                    esc(&x.tracer.names[*dst])
                );
            }
            TraceKind::Fault { .. } => {}
        }
    }
}

/// An arrow between two points of the diagram.
struct Arrow {
    from: (f64, f64),
    to: (f64, f64),
}

/// A delivered op's arrow (dashed for a duplicate), with a ring naming the rule when the
/// arrival met a concurrent op.
fn delivery_arrow(
    s: &mut String,
    Arrow {
        from: (x0, y0),
        to: (x1, y1),
    }: Arrow,
    duplicate: bool,
    title: &str,
    rule: Option<&str>,
    stats: &mut DiagramStats,
) {
    let inset = if x1 > x0 { -6.0 } else { 6.0 };
    let class = if duplicate {
        r##"duplicate" stroke-dasharray="3,3"##
    } else {
        stats.deliveries += 1;
        "delivery"
    };
    let _ = writeln!(
        s,
        r##"<line class="{class}" x1="{x0:.1}" y1="{y0:.1}" x2="{:.1}" y2="{y1:.1}" stroke="#3465a4" stroke-width="1.3" marker-end="url(#arrow)"><title>{title}</title></line>"##,
        x1 + inset,
    );
    // The first conflict met names the rule (a ring per arrival).
    if let Some(rule) = rule {
        stats.conflicts_marked += 1;
        let _ = writeln!(
            s,
            r##"<g class="conflict"><circle cx="{x1:.1}" cy="{y1:.1}" r="9" fill="none" stroke="#cc0000" stroke-width="2"/><text x="{:.1}" y="{:.1}" fill="#cc0000" font-weight="bold">{}</text></g>"##,
            x1 + 12.0,
            y1 + 4.0,
            esc(rule)
        );
    }
}
