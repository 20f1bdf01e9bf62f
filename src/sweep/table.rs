//! The sweep's tables: a row per cell (`sweep.csv`, read back with the `csv` crate), and
//! `sweep.md` with the smallest sufficient backlog and the paired differences.

use super::*;

/// One cell's figures: a row of `sweep.csv`, from a run or read back from a shard's file.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub cell: usize,
    pub values: Vec<String>,
    pub seed: u64,
    pub verdict: String,
    pub time_to_converge_ms: Option<f64>,
    pub full_syncs: u64,
    pub partial_syncs: u64,
    pub full_sync_failures: u64,
    pub stream_bytes: u64,
    pub snapshot_bytes: u64,
    pub wire_bytes: u64,
    pub lag_ms_p99_worst: Option<f64>,
    /// The worst peer's p99 time until a write is visible (streamed or by snapshot).
    pub visible_ms_p99_worst: Option<f64>,
    /// The longest catch-up after a heal (`None`: no heal, or one never caught up).
    pub caught_up_ms_max: Option<f64>,
    /// The longest any session was not caught up (stale reads possible), in seconds.
    pub behind_s_worst: f64,
    pub writes_lost: u64,
    pub clock_inverted_wins: u64,
    pub trace_digest: String,
    /// `exact`, or `sampled 1/N`: then `clock_inverted_wins` is an estimate (its interval is in
    /// the cell's summary).
    pub fidelity: String,
}

impl Row {
    pub fn from_result(r: &CellResult) -> Row {
        let s = &r.summary;
        Row {
            cell: r.cell.index,
            values: r.cell.values.clone(),
            seed: r.cell.seed,
            verdict: s.verdict.clone(),
            time_to_converge_ms: s.time_to_converge_ms,
            full_syncs: s.totals.full_syncs,
            partial_syncs: s.totals.partial_syncs,
            full_sync_failures: s.totals.full_sync_failures,
            stream_bytes: s.totals.stream_bytes,
            snapshot_bytes: s.totals.snapshot_bytes,
            wire_bytes: s.totals.wire_bytes,
            lag_ms_p99_worst: worst_p99(s),
            visible_ms_p99_worst: worst(s.peers.iter().filter_map(|p| p.visible_ms_p99)),
            caught_up_ms_max: worst(s.heals.iter().filter_map(|h| h.caught_up_after_ms)),
            behind_s_worst: worst(s.peers.iter().map(|p| p.behind_s)).unwrap_or(0.0),
            writes_lost: s.totals.writes_lost,
            clock_inverted_wins: s.totals.clock_inverted_wins,
            trace_digest: s.trace_digest.clone(),
            fidelity: match &s.sampling {
                Some(x) => format!("sampled {}", x.sample),
                None => "exact".to_string(),
            },
        }
    }

    pub(super) fn converged(&self) -> bool {
        self.verdict == "converged"
    }

    /// A row from a `sweep.csv` record written by [`sweep_csv`] for `axes` axes: the cell,
    /// the axis values, then the fixed columns by name.
    pub fn from_record(record: &csv::StringRecord, axes: usize) -> Result<Row, String> {
        let want = axes + 1 + FIXED_COLUMNS.len();
        if record.len() != want {
            return Err(format!("{} fields, expected {want}", record.len()));
        }
        let cell = record[0]
            .parse()
            .map_err(|e| format!("cell {:?}: {e}", &record[0]))?;
        let values = record.iter().skip(1).take(axes).map(String::from).collect();
        let tail: csv::StringRecord = record.iter().skip(axes + 1).collect();
        let headers: csv::StringRecord = FIXED_COLUMNS.iter().collect();
        let t: RowTail = tail
            .deserialize(Some(&headers))
            .map_err(|e| e.to_string())?;
        Ok(Row {
            cell,
            values,
            seed: t.seed,
            verdict: t.verdict,
            time_to_converge_ms: t.time_to_converge_ms,
            full_syncs: t.full_syncs,
            partial_syncs: t.partial_syncs,
            full_sync_failures: t.full_sync_failures,
            stream_bytes: t.stream_bytes,
            snapshot_bytes: t.snapshot_bytes,
            wire_bytes: t.wire_bytes,
            lag_ms_p99_worst: t.lag_ms_p99_worst,
            visible_ms_p99_worst: t.visible_ms_p99_worst,
            caught_up_ms_max: t.caught_up_ms_max,
            behind_s_worst: t.behind_s_worst,
            writes_lost: t.writes_lost,
            clock_inverted_wins: t.clock_inverted_wins,
            trace_digest: t.trace_digest,
            fidelity: t.fidelity,
        })
    }

    /// The fields of this row in `sweep.csv`'s column order.
    pub(super) fn record(&self) -> Vec<String> {
        let opt = |x: Option<f64>| x.map(|x| x.to_string()).unwrap_or_default();
        let mut r = vec![self.cell.to_string()];
        r.extend(self.values.iter().cloned());
        r.extend([
            self.seed.to_string(),
            self.verdict.clone(),
            opt(self.time_to_converge_ms),
            self.full_syncs.to_string(),
            self.partial_syncs.to_string(),
            self.full_sync_failures.to_string(),
            self.stream_bytes.to_string(),
            self.snapshot_bytes.to_string(),
            self.wire_bytes.to_string(),
            opt(self.lag_ms_p99_worst),
            opt(self.visible_ms_p99_worst),
            opt(self.caught_up_ms_max),
            self.behind_s_worst.to_string(),
            self.writes_lost.to_string(),
            self.clock_inverted_wins.to_string(),
            self.trace_digest.clone(),
            self.fidelity.clone(),
        ]);
        r
    }
}

/// `sweep.csv`'s columns after the cell and the axes.
pub(super) const FIXED_COLUMNS: [&str; 17] = [
    "seed",
    "verdict",
    "time_to_converge_ms",
    "full_syncs",
    "partial_syncs",
    "full_sync_failures",
    "stream_bytes",
    "snapshot_bytes",
    "wire_bytes",
    "lag_ms_p99_worst",
    "visible_ms_p99_worst",
    "caught_up_ms_max",
    "behind_s_worst",
    "writes_lost",
    "clock_inverted_wins",
    "trace_digest",
    "fidelity",
];

/// The fixed columns of a `sweep.csv` row, read by name.
#[derive(serde::Deserialize)]
pub(super) struct RowTail {
    seed: u64,
    verdict: String,
    time_to_converge_ms: Option<f64>,
    full_syncs: u64,
    partial_syncs: u64,
    full_sync_failures: u64,
    stream_bytes: u64,
    snapshot_bytes: u64,
    wire_bytes: u64,
    lag_ms_p99_worst: Option<f64>,
    visible_ms_p99_worst: Option<f64>,
    caught_up_ms_max: Option<f64>,
    behind_s_worst: f64,
    writes_lost: u64,
    clock_inverted_wins: u64,
    trace_digest: String,
    fidelity: String,
}

pub(super) fn worst_p99(s: &Summary) -> Option<f64> {
    worst(s.peers.iter().filter_map(|p| p.lag_ms_p99))
}

/// The largest of some figures, if any.
fn worst(xs: impl Iterator<Item = f64>) -> Option<f64> {
    xs.fold(None, |m, x| Some(m.map_or(x, |m: f64| m.max(x))))
}

/// `sweep.csv`: one row per cell (written with the `csv` crate: a field is quoted only when
/// it must be).
pub fn sweep_csv(axes: &[Axis], rows: &[Row]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = std::iter::once("cell")
        .chain(axes.iter().map(|a| a.path.as_str()))
        .chain(FIXED_COLUMNS);
    w.write_record(header).expect("writing to memory");
    for r in rows {
        w.write_record(r.record()).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("the fields are text")
}

/// `sweep.md`: per combination of axis values, over the seeds: how often a full sync was
/// needed, mean WAN bytes, mean time to converge; and, when an axis sweeps the backlog size,
/// the smallest size that needed no full sync for each combination of the other axes (and,
/// with a `full_sync_target`, the smallest whose share of runs with a full sync is at most it).
pub fn sweep_md(
    scenario: &str,
    axes: &[Axis],
    seeds: &[u64],
    results: &[Row],
    full_sync_target: Option<f64>,
) -> String {
    let grid = axes
        .iter()
        .map(|a| format!("`{}` = {}", a.path, a.values.join(", ")))
        .collect::<Vec<_>>()
        .join(" × ");
    let mut o = format!(
        "# Sweep of `{scenario}`\n\n{} cells: {}{} seed(s) ({}).\n\n",
        results.len(),
        if grid.is_empty() {
            "the scenario as written over ".to_string()
        } else {
            format!("{grid} × ")
        },
        seeds.len(),
        match (seeds.first(), seeds.last()) {
            (Some(a), Some(b)) if a != b => format!("seeds {a}..{b}"),
            (Some(a), _) => format!("seed {a}"),
            _ => String::new(),
        }
    );
    o.push_str("| ");
    for a in axes {
        o.push_str(&format!("{} | ", a.path));
    }
    o.push_str(
        "runs with a full sync | mean WAN bytes | mean time to converge (ms) | converged |\n|",
    );
    for _ in 0..axes.len() + 4 {
        o.push_str("---|");
    }
    o.push('\n');
    let mut groups: Vec<(Vec<String>, Vec<&Row>)> = Vec::new();
    for r in results {
        match groups.iter_mut().find(|(v, _)| *v == r.values) {
            Some((_, g)) => g.push(r),
            None => groups.push((r.values.clone(), vec![r])),
        }
    }
    for (values, g) in &groups {
        let n = g.len() as f64;
        let full = g.iter().filter(|r| r.full_syncs > 0).count();
        let wan = g.iter().map(|r| r.wire_bytes as f64).sum::<f64>() / n;
        let conv: Vec<f64> = g.iter().filter_map(|r| r.time_to_converge_ms).collect();
        let mean_conv = if conv.is_empty() {
            "–".to_string()
        } else {
            format!("{:.1}", conv.iter().sum::<f64>() / conv.len() as f64)
        };
        let converged = g.iter().filter(|r| r.converged()).count();
        o.push_str("| ");
        for v in values {
            o.push_str(&format!("{v} | "));
        }
        o.push_str(&format!(
            "{full} of {} | {wan:.0} | {mean_conv} | {converged} of {} |\n",
            g.len(),
            g.len()
        ));
    }
    o.push_str(&paired_deltas(axes, results));
    if let Some(bi) = axes.iter().position(|a| a.path.ends_with("backlog_size")) {
        o.push_str(&smallest_backlogs(axes, bi, &groups, None));
        if let Some(t) = full_sync_target {
            o.push_str(&smallest_backlogs(axes, bi, &groups, Some(t)));
        }
    }
    o
}

/// The planner's answer for each combination of the axes other than the backlog axis `bi`:
/// the smallest swept backlog size for which no seed needed a full sync (`target` None), or
/// for which the share of seeds that needed one is at most `target`.
pub(super) fn smallest_backlogs(
    axes: &[Axis],
    bi: usize,
    groups: &[(Vec<String>, Vec<&Row>)],
    target: Option<f64>,
) -> String {
    let mut o = match target {
        None => "\n## The smallest backlog that needed no full sync\n\n".to_string(),
        Some(t) => format!(
            "\n## The smallest backlog with a full-sync rate of at most {}\n\n",
            percent(t)
        ),
    };
    let others: Vec<usize> = (0..axes.len()).filter(|i| *i != bi).collect();
    let mut keys: Vec<Vec<String>> = Vec::new();
    for (values, _) in groups {
        let k: Vec<String> = others.iter().map(|i| values[*i].clone()).collect();
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for k in keys {
        let label = if others.is_empty() {
            "all runs".to_string()
        } else {
            others
                .iter()
                .zip(&k)
                .map(|(i, v)| format!("{} = {v}", axes[*i].path))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut candidates: Vec<(u64, String, f64)> = groups
            .iter()
            .filter(|(values, _)| others.iter().zip(&k).all(|(i, v)| values[*i] == *v))
            .map(|(values, g)| {
                let with_full = g.iter().filter(|r| r.full_syncs > 0).count();
                let rate = with_full as f64 / g.len().max(1) as f64;
                let v = values[bi].clone();
                let size = crate::scenario::units::parse_size(&v).unwrap_or(u64::MAX);
                (size, v, rate)
            })
            .filter(|(_, _, rate)| match target {
                None => *rate == 0.0,
                Some(t) => *rate <= t,
            })
            .collect();
        candidates.sort_by_key(|a| a.0);
        match (candidates.first(), target) {
            (Some((_, v, _)), None) => o.push_str(&format!("* {label}: **{v}**\n")),
            (Some((_, v, rate)), Some(_)) => o.push_str(&format!(
                "* {label}: **{v}** (full-sync rate {})\n",
                percent(*rate)
            )),
            (None, _) => o.push_str(&format!("* {label}: none of the swept sizes\n")),
        }
    }
    o
}

/// A share as a percentage with at most one decimal: 0.05 → "5%", 0.125 → "12.5%".
pub(super) fn percent(x: f64) -> String {
    let s = format!("{:.1}", x * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// Paired differences against the first value of the first axis: each cell is compared with
/// the cell of the same seed and the same other values (common random numbers make the pair
/// differ only in the swept value).
pub(super) fn paired_deltas(axes: &[Axis], rows: &[Row]) -> String {
    let Some(first) = axes.first() else {
        return String::new();
    };
    if first.values.len() < 2 {
        return String::new();
    }
    let base_value = &first.values[0];
    let mut o = format!(
        "\n## Paired differences against {} = {base_value}\n\n\
         Each run minus the run with the same seed and other values but {} = {base_value}.\n\n\
         | {} | others | pairs | mean Δ WAN bytes | mean Δ full syncs | mean Δ time to converge (ms) |\n\
         |---|---|---|---|---|---|\n",
        first.path, first.path, first.path
    );
    // Per combination: (Δ WAN bytes, Δ full syncs, Δ time to converge) of each pair.
    type Delta = (f64, f64, Option<f64>);
    let mut groups: Vec<(Vec<String>, Vec<Delta>)> = Vec::new();
    for r in rows.iter().filter(|r| r.values[0] != *base_value) {
        let Some(b) = rows.iter().find(|b| {
            b.seed == r.seed && b.values[0] == *base_value && b.values[1..] == r.values[1..]
        }) else {
            continue;
        };
        let d = (
            r.wire_bytes as f64 - b.wire_bytes as f64,
            r.full_syncs as f64 - b.full_syncs as f64,
            r.time_to_converge_ms
                .zip(b.time_to_converge_ms)
                .map(|(x, y)| x - y),
        );
        match groups.iter_mut().find(|(v, _)| *v == r.values) {
            Some((_, g)) => g.push(d),
            None => groups.push((r.values.clone(), vec![d])),
        }
    }
    for (values, g) in &groups {
        let n = g.len() as f64;
        let conv: Vec<f64> = g.iter().filter_map(|d| d.2).collect();
        let others = axes[1..]
            .iter()
            .zip(&values[1..])
            .map(|(a, v)| format!("{} = {v}", a.path))
            .collect::<Vec<_>>()
            .join(", ");
        o.push_str(&format!(
            "| {} | {} | {} | {:+.0} | {:+.2} | {} |\n",
            values[0],
            if others.is_empty() { "–" } else { &others },
            g.len(),
            g.iter().map(|d| d.0).sum::<f64>() / n,
            g.iter().map(|d| d.1).sum::<f64>() / n,
            if conv.is_empty() {
                "–".to_string()
            } else {
                format!("{:+.1}", conv.iter().sum::<f64>() / conv.len() as f64)
            }
        ));
    }
    o
}
