//! The run summary's tables, built once and rendered by `summary.md` (Markdown) and
//! `index.html` (HTML), so the two can never disagree on a figure.

use super::summary::Summary;

/// One table cell; the renderer escapes it for its format.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    /// A figure or a validated name (cluster, shard): shown as is in Markdown, escaped in HTML.
    Plain(String),
    /// Free text from a scenario (a fault's name, an expected reply): escaped in both.
    Text(String),
    /// A command, file name or digest, shown as code.
    Code(String),
    /// Text then code (e.g. "step 3 on us-east: " then the command).
    TextCode(String, String),
    /// A pass (✓) or a failure (✗).
    Pass(bool),
}

/// A titled table with an optional sentence before it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Table {
    pub title: String,
    pub intro: Option<String>,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "–".into())
}

fn plain(s: impl Into<String>) -> Cell {
    Cell::Plain(s.into())
}

/// Every table of the run summary, in the order the reports show them.
pub(crate) fn tables(s: &Summary) -> Vec<Table> {
    let mut out = vec![headline(s), peers(s)];
    if !s.heals.is_empty() {
        out.push(Table {
            title: "Heals".into(),
            intro: None,
            header: vec!["fault", "began (s)", "healed (s)", "caught up after (ms)"],
            rows: s
                .heals
                .iter()
                .map(|h| {
                    vec![
                        Cell::Text(h.name.clone()),
                        plain(format!("{:.3}", h.begin_s)),
                        plain(format!("{:.3}", h.healed_at_s)),
                        plain(opt(h.caught_up_after_ms)),
                    ]
                })
                .collect(),
        });
    }
    out.push(Table {
        title: "Instances".into(),
        intro: None,
        header: vec![
            "cluster",
            "membership",
            "keys",
            "memory bytes",
            "keyspace digest",
        ],
        rows: s
            .clusters
            .iter()
            .map(|c| {
                vec![
                    plain(&c.name),
                    plain(&c.membership),
                    plain(c.keys.to_string()),
                    plain(c.memory_bytes.to_string()),
                    Cell::Code(c.keyspace_digest.clone()),
                ]
            })
            .collect(),
    });
    if !s.expectations.is_empty() {
        out.push(Table {
            title: format!(
                "Expectations: {} of {} passed",
                s.expectations.len() - s.expectations_failed,
                s.expectations.len()
            ),
            intro: None,
            header: vec!["check", "expected", "actual", ""],
            rows: s
                .expectations
                .iter()
                .map(|e| {
                    let what = match e.step {
                        Some(i) => Cell::TextCode(format!("step {i} on {}: ", e.on), e.cmd.clone()),
                        None => Cell::Code(e.cmd.clone()),
                    };
                    vec![
                        what,
                        Cell::Text(e.expected.clone()),
                        Cell::Text(e.actual.clone()),
                        Cell::Pass(e.pass),
                    ]
                })
                .collect(),
        });
    }
    out
}

fn peers(s: &Summary) -> Table {
    Table {
        title: "Replication per peer".into(),
        intro: Some(
            "Visible after: time until a write is visible at the peer, streamed or by a full \
             sync's snapshot."
                .into(),
        ),
        header: vec![
            "from → to",
            "visible p50 ms",
            "visible p99 ms",
            "visible max ms",
            "streamed lag p99 ms",
            "streamed",
            "by snapshot",
            "partial",
            "full",
            "full-sync loop",
        ],
        rows: s
            .peers
            .iter()
            .map(|p| {
                vec![
                    plain(format!("{} → {}", p.from, p.to)),
                    plain(opt(p.visible_ms_p50)),
                    plain(opt(p.visible_ms_p99)),
                    plain(opt(p.visible_ms_max)),
                    plain(opt(p.lag_ms_p99)),
                    plain(p.ops_applied.to_string()),
                    plain(p.writes_by_snapshot.to_string()),
                    plain(p.partial_syncs.to_string()),
                    plain(p.full_syncs.to_string()),
                    plain(if p.full_sync_loop { "yes" } else { "no" }),
                ]
            })
            .collect(),
    }
}

/// The headline figures table.
fn headline(s: &Summary) -> Table {
    let t = &s.totals;
    let rows: Vec<(&str, String)> = vec![
        (
            "writes accepted / refused",
            format!("{} / {}", t.writes, t.rejected_writes),
        ),
        ("ops applied at peers", t.ops_applied.to_string()),
        (
            "stream bytes / snapshot bytes / on the wire",
            format!(
                "{} / {} / {}",
                t.stream_bytes, t.snapshot_bytes, t.wire_bytes
            ),
        ),
        (
            "partial syncs / full syncs (failed)",
            format!(
                "{} / {} ({})",
                t.partial_syncs, t.full_syncs, t.full_sync_failures
            ),
        ),
        (
            "fullest backlog (bytes, share of capacity)",
            format!(
                "{} ({:.0}%)",
                s.peaks.backlog_bytes_max,
                s.peaks.backlog_fill_max * 100.0
            ),
        ),
        (
            "longest link queue (bytes)",
            s.peaks.link_queue_bytes_max.to_string(),
        ),
        (
            "furthest behind at a sample (ms)",
            format!("{:.3}", s.peaks.lag_ms_max_sampled),
        ),
        (
            "most divergent keys at a sample",
            s.peaks.divergent_keys_max.to_string(),
        ),
        (
            "LWW conflicts / clock-inverted wins / same-ms ties",
            format!(
                "{} / {} / {}",
                t.lww_conflicts, t.clock_inverted_wins, t.lww_ties
            ),
        ),
        (
            "tombstones held (most at a sample) / collected",
            format!(
                "{} ({}) / {}",
                t.tombstones, s.peaks.tombstones_max, t.tombstones_collected
            ),
        ),
        (
            "OOM refusals / evictions / replication OOM stops",
            format!(
                "{} / {} / {}",
                t.oom_rejections, t.evictions, t.replication_oom_stops
            ),
        ),
        (
            "writes lost for good / recovered from peers",
            format!("{} / {}", t.writes_lost, t.writes_recovered_from_peers),
        ),
        (
            "writes lost to removals",
            t.writes_lost_to_removal.to_string(),
        ),
    ];
    Table {
        title: "Headline figures".into(),
        intro: None,
        header: vec!["figure", "value"],
        rows: rows
            .into_iter()
            .map(|(k, v)| vec![plain(k), plain(v)])
            .collect(),
    }
}
