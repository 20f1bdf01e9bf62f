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
use crate::model::trace::{ResyncReason, TraceKind};

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
    let events: Vec<_> = all
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(e, _)| e)
        .collect();
    // Row per distinct time, in order; a delivery's send time gets a row too.
    let mut times: Vec<SimTime> = events.iter().map(|e| e.time).collect();
    times.sort();
    times.dedup();
    let rows_left_out = times.len().saturating_sub(MAX_ROWS);
    times.truncate(MAX_ROWS);
    let row_of: BTreeMap<SimTime, usize> = times.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let last = times.last().copied();
    let y = |t: SimTime| -> Option<f64> {
        row_of
            .get(&t)
            .map(|r| TOP + 20.0 + *r as f64 * ROW_H)
            .or_else(|| {
                // A time between rows (a send outside the window): above the first row.
                (times.first().is_some_and(|f| t < *f)).then_some(TOP + 4.0)
            })
    };
    let lx = |c: usize| LEFT + 60.0 + c as f64 * LANE_W;
    let height =
        TOP + 60.0 + times.len() as f64 * ROW_H + if rows_left_out > 0 { 30.0 } else { 0.0 };
    let width = LEFT + 60.0 + n as f64 * LANE_W + 40.0;
    let bottom = height - 30.0;
    let mut s = String::new();
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
    let mut stats = DiagramStats {
        lanes: n,
        rows: times.len(),
        rows_left_out,
        ..DiagramStats::default()
    };
    // Partitions first (underneath): from begin row to end row (or the bottom).
    let mut open: BTreeMap<String, (SimTime, Vec<(usize, usize)>)> = BTreeMap::new();
    let mut bands = Vec::new();
    for e in &events {
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
        let y0 = y(*b).unwrap_or(TOP);
        let y1 = end.and_then(y).unwrap_or(bottom);
        let _ = writeln!(
            s,
            r##"<rect class="partition" x="{:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="#888a85" fill-opacity="0.18"/><text x="{:.1}" y="{:.1}" fill="#555753" font-style="italic">{}</text>"##,
            lx(*lo) - 30.0,
            lx(*hi) - lx(*lo) + 60.0,
            (y1 - y0).max(4.0),
            lx(*lo) - 26.0,
            y0 + 12.0,
            esc(label)
        );
    }
    // Lanes and time labels.
    for c in 0..n {
        let _ = writeln!(
            s,
            r##"<g class="lane"><line x1="{x:.1}" y1="{TOP:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#2e3436" stroke-width="1.5"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-weight="bold" font-size="13">{}</text></g>"##,
            TOP - 8.0,
            esc(&x.tracer.names[c]),
            x = lx(c)
        );
    }
    for t in &times {
        if let Some(yy) = y(*t) {
            let _ = writeln!(
                s,
                r##"<text x="8" y="{:.1}" fill="#888a85">{}</text>"##,
                yy + 4.0,
                secs(*t)
            );
        }
    }
    let ops = ops_by_dot(&x.tracer);
    let label = |k: &Key, d: Dot| {
        ops.get(&(k.clone(), d))
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    };
    for (at, (e, kept)) in all.iter().zip(&keep).enumerate() {
        let visible = *kept && row_of.contains_key(&e.time);
        let yy = y(e.time);
        match &e.kind {
            TraceKind::Op { cluster, op } => {
                let (true, Some(yy)) = (visible, yy) else {
                    continue;
                };
                let cx = lx(*cluster);
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
                let cx = lx(*cluster);
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
                let y0 = y(*sent).unwrap_or(TOP + 4.0);
                let (x0, x1) = (lx(*src), lx(*dst));
                let inset = if x1 > x0 { -6.0 } else { 6.0 };
                let class = if *result == Applied::Duplicate {
                    r##"duplicate" stroke-dasharray="3,3"##
                } else {
                    stats.deliveries += 1;
                    "delivery"
                };
                let _ = writeln!(
                    s,
                    r##"<line class="{class}" x1="{x0:.1}" y1="{y0:.1}" x2="{:.1}" y2="{y1:.1}" stroke="#3465a4" stroke-width="1.3" marker-end="url(#arrow)"><title>{}:{} {} → {}</title></line>"##,
                    x1 + inset,
                    op.dot.origin,
                    op.dot.seq,
                    esc(&label(&op.key, op.dot)),
                    esc(&x.tracer.names[*dst])
                );
                // The first conflict met names the rule (a ring per arrival).
                if let Some(c) = x.met[at].first().map(|i| &x.conflicts[*i]) {
                    stats.conflicts_marked += 1;
                    let _ = writeln!(
                        s,
                        r##"<g class="conflict"><circle cx="{x1:.1}" cy="{y1:.1}" r="9" fill="none" stroke="#cc0000" stroke-width="2"/><text x="{:.1}" y="{:.1}" fill="#cc0000" font-weight="bold">{}</text></g>"##,
                        x1 + 12.0,
                        y1 + 4.0,
                        esc(c.rule)
                    );
                }
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
                    lx(lo) - 30.0,
                    lx(hi) + 30.0,
                    lx(lo) - 60.0,
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
                    lx(*dst) + 9.0,
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
                let y0 = y(*started).unwrap_or(TOP + 4.0);
                let _ = writeln!(
                    s,
                    r##"<line class="fullsync" x1="{:.1}" y1="{y0:.1}" x2="{:.1}" y2="{y1:.1}" stroke="#f57900" stroke-width="4" stroke-opacity="0.8" marker-end="url(#arrow-full)"><title>full sync {} → {}</title></line>"##,
                    lx(*src),
                    lx(*dst),
                    esc(&x.tracer.names[*src]),
                    esc(&x.tracer.names[*dst])
                );
            }
            TraceKind::Fault { .. } => {}
        }
    }
    if rows_left_out > 0 {
        let _ = writeln!(
            s,
            r##"<text x="12" y="{:.1}" fill="#cc0000">… {rows_left_out} more rows after {} left out: narrow the window with --from/--until</text>"##,
            height - 10.0,
            last.map(secs).unwrap_or_default()
        );
    }
    s.push_str("</svg>\n");
    (s, stats)
}
