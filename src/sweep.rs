//! Sweeps: a grid of scenario variants (axes over any field, by path) × seeds, each cell a
//! deterministic single-threaded run, cells run in parallel with rayon and collected by index,
//! so the output is the same for any number of threads. Every cell with the same seed sees the
//! same workload and fault timeline (common random numbers): differences between cells come
//! from the swept values alone.

pub mod crosscheck;
pub mod hunt;
pub mod plan;

use std::path::Path;

use rayon::prelude::*;

use crate::report::{Summary, run_and_judge};
use crate::scenario::{self, Diagnostic, ErrorKind, LoadOptions, ScenarioError};

pub use crate::scenario::axes::{Axis, parse_axis, parse_seeds, parse_share};

/// A TOML value from a command-line string: integers, floats and booleans keep their type;
/// anything else (sizes, durations, names) is a string.
fn toml_value(v: &str) -> toml::Value {
    if let Ok(i) = v.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = v.parse::<f64>()
        && v.contains('.')
    {
        return toml::Value::Float(f);
    }
    match v {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(v.to_string()),
    }
}

/// Sets `path` to `value` in a parsed scenario; returns how many places were set.
fn set_path(doc: &mut toml::Value, path: &str, value: &toml::Value) -> usize {
    let segs: Vec<&str> = path.split('.').collect();
    set_in(doc, &segs, value)
}

fn set_in(cur: &mut toml::Value, segs: &[&str], value: &toml::Value) -> usize {
    let Some((first, rest)) = segs.split_first() else {
        *cur = value.clone();
        return 1;
    };
    let (name, index) = match first.split_once('[') {
        Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
        None => (*first, None),
    };
    let Some(table) = cur.as_table_mut() else {
        return 0;
    };
    if rest.is_empty() && index.is_none() {
        table.insert(name.to_string(), value.clone());
        return 1;
    }
    let Some(child) = table.get_mut(name) else {
        if index.is_none() {
            table.insert(name.to_string(), toml::Value::Table(Default::default()));
            return set_in(table.get_mut(name).expect("inserted"), rest, value);
        }
        return 0;
    };
    match (child, index) {
        (toml::Value::Array(items), Some(i)) => match items.get_mut(i) {
            Some(item) => set_in(item, rest, value),
            None => 0,
        },
        // `fault.partition.duration`: every element whose kind (or name) is the next segment.
        (toml::Value::Array(items), None) => {
            let Some((selector, rest2)) = rest.split_first() else {
                return 0;
            };
            let mut n = 0;
            for item in items.iter_mut() {
                let t = item.as_table();
                let hit = t.is_some_and(|t| {
                    t.get("kind").and_then(|k| k.as_str()) == Some(*selector)
                        || t.get("name").and_then(|k| k.as_str()) == Some(*selector)
                });
                if hit {
                    n += set_in(item, rest2, value);
                }
            }
            n
        }
        (other, None) => set_in(other, rest, value),
        _ => 0,
    }
}

/// One cell of the grid: a value per axis and a seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub index: usize,
    pub values: Vec<String>,
    pub seed: u64,
}

/// The cells of `axes` × `seeds`, in a fixed order (axes vary slowest first, seeds fastest).
pub fn cells(axes: &[Axis], seeds: &[u64]) -> Vec<Cell> {
    let mut combos: Vec<Vec<String>> = vec![Vec::new()];
    for a in axes {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                a.values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    let mut out = Vec::new();
    for values in combos {
        for &seed in seeds {
            out.push(Cell {
                index: out.len(),
                values: values.clone(),
                seed,
            });
        }
    }
    out
}

/// The outcome of one cell.
#[derive(Clone, Debug)]
pub struct CellResult {
    pub cell: Cell,
    pub summary: Summary,
}

/// Builds the scenario of one cell from the scenario text.
pub fn cell_scenario(
    text: &str,
    file: &str,
    axes: &[Axis],
    cell: &Cell,
) -> Result<scenario::Scenario, ScenarioError> {
    let mut doc: toml::Value = toml::from_str(text).map_err(|e| ScenarioError {
        file: file.to_string(),
        kind: ErrorKind::Syntax,
        diagnostics: vec![Diagnostic::new("", None, e.message().to_string())],
    })?;
    for (axis, v) in axes.iter().zip(&cell.values) {
        if set_path(&mut doc, &axis.path, &toml_value(v)) == 0 {
            return Err(ScenarioError {
                file: file.to_string(),
                kind: ErrorKind::Invalid,
                diagnostics: vec![Diagnostic::new(
                    axis.path.clone(),
                    Some(v.clone()),
                    "no such field in the scenario to sweep (a path like replication.backlog_size, cluster[0].shards or fault.partition.duration)",
                )],
            });
        }
    }
    let text = toml::to_string(&doc).map_err(|e| ScenarioError {
        file: file.to_string(),
        kind: ErrorKind::Invalid,
        diagnostics: vec![Diagnostic::new("", None, e.to_string())],
    })?;
    scenario::parse(
        &text,
        file,
        &LoadOptions {
            seed: Some(cell.seed),
        },
    )
}

/// Runs every cell on `threads` threads (0: rayon's default); results in cell order.
pub fn run_sweep(
    path: &Path,
    axes: &[Axis],
    seeds: &[u64],
    threads: usize,
) -> Result<Vec<CellResult>, ScenarioError> {
    run_sweep_shard(path, axes, seeds, threads, (1, 1))
}

/// As [`run_sweep`], running only shard `k` of `n` (1-based): the cells whose index is
/// `k − 1` modulo `n`, a deterministic share that `geosim merge` puts back together.
pub fn run_sweep_shard(
    path: &Path,
    axes: &[Axis],
    seeds: &[u64],
    threads: usize,
    shard: (usize, usize),
) -> Result<Vec<CellResult>, ScenarioError> {
    run_sweep_shard_with_progress(path, axes, seeds, threads, shard, &|| {})
}

/// The number of cells shard `k` of `n` runs.
pub fn shard_len(axes: &[Axis], seeds: &[u64], (k, n): (usize, usize)) -> usize {
    cells(axes, seeds)
        .iter()
        .filter(|c| c.index % n == k - 1)
        .count()
}

/// As [`run_sweep_shard`], calling `on_done` (from any worker thread) as each cell finishes.
/// It only observes: the results do not depend on it.
pub fn run_sweep_shard_with_progress(
    path: &Path,
    axes: &[Axis],
    seeds: &[u64],
    threads: usize,
    (k, n): (usize, usize),
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<CellResult>, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        kind: ErrorKind::Io,
        diagnostics: vec![Diagnostic::new("", None, e.to_string())],
    })?;
    let grid: Vec<Cell> = cells(axes, seeds)
        .into_iter()
        .filter(|c| c.index % n == k - 1)
        .collect();
    // Validate every cell before running any, so a bad value fails fast.
    let scenarios: Vec<scenario::Scenario> = grid
        .iter()
        .map(|c| cell_scenario(&text, &file, axes, c))
        .collect::<Result<_, _>>()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ScenarioError {
            file: file.clone(),
            kind: ErrorKind::Io,
            diagnostics: vec![Diagnostic::new(
                "",
                None,
                format!("cannot start threads: {e}"),
            )],
        })?;
    let summaries: Vec<Summary> = pool.install(|| {
        scenarios
            .par_iter()
            .map(|s| {
                let summary = run_and_judge(s).summary;
                on_done();
                summary
            })
            .collect()
    });
    Ok(grid
        .into_iter()
        .zip(summaries)
        .map(|(cell, summary)| CellResult { cell, summary })
        .collect())
}

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
    pub writes_lost: u64,
    pub clock_inverted_wins: u64,
    pub trace_digest: String,
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
            writes_lost: s.totals.writes_lost,
            clock_inverted_wins: s.totals.clock_inverted_wins,
            trace_digest: s.trace_digest.clone(),
        }
    }

    fn converged(&self) -> bool {
        self.verdict == "converged"
    }

    /// A row from a `sweep.csv` record written by [`sweep_csv`] for `axes` axes: the cell,
    /// the axis values, then the fixed columns by name.
    pub fn from_record(record: &csv::StringRecord, axes: usize) -> Result<Row, String> {
        if record.len() != axes + 14 {
            return Err(format!("{} fields, expected {}", record.len(), axes + 14));
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
            writes_lost: t.writes_lost,
            clock_inverted_wins: t.clock_inverted_wins,
            trace_digest: t.trace_digest,
        })
    }

    /// The fields of this row in `sweep.csv`'s column order.
    fn record(&self) -> Vec<String> {
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
            self.writes_lost.to_string(),
            self.clock_inverted_wins.to_string(),
            self.trace_digest.clone(),
        ]);
        r
    }
}

/// `sweep.csv`'s columns after the cell and the axes.
const FIXED_COLUMNS: [&str; 13] = [
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
    "writes_lost",
    "clock_inverted_wins",
    "trace_digest",
];

/// The fixed columns of a `sweep.csv` row, read by name.
#[derive(serde::Deserialize)]
struct RowTail {
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
    writes_lost: u64,
    clock_inverted_wins: u64,
    trace_digest: String,
}

fn worst_p99(s: &Summary) -> Option<f64> {
    s.peers
        .iter()
        .filter_map(|p| p.lag_ms_p99)
        .fold(None, |m, x| Some(m.map_or(x, |m: f64| m.max(x))))
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
    let mut o = format!(
        "# Sweep of `{scenario}`\n\n{} cells: {} × {} seed(s) ({}).\n\n",
        results.len(),
        axes.iter()
            .map(|a| format!("`{}` = {}", a.path, a.values.join(", ")))
            .collect::<Vec<_>>()
            .join(" × "),
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
fn smallest_backlogs(
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
fn percent(x: f64) -> String {
    let s = format!("{:.1}", x * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// Paired differences against the first value of the first axis: each cell is compared with
/// the cell of the same seed and the same other values (common random numbers make the pair
/// differ only in the swept value).
fn paired_deltas(axes: &[Axis], rows: &[Row]) -> String {
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

/// Parses `--shard K/N` (1 ≤ K ≤ N).
pub fn parse_shard(spec: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {spec:?}: expected K/N with 1 <= K <= N, e.g. 2/8");
    let (k, n) = spec.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// What a sweep (or one shard of it) was: written as `sweep.json` beside `sweep.csv`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub scenario: String,
    pub axes: Vec<(String, Vec<String>)>,
    pub seeds: Vec<u64>,
    pub cells: usize,
    pub shard: (usize, usize),
    /// The full-sync-rate target of `sweep.md`'s planner answer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_sync_target: Option<f64>,
}

impl Manifest {
    /// The manifest of a sweep of `scenario` over `axes` × `seeds`, or of shard `shard` of it.
    pub fn new(
        scenario: &Path,
        axes: &[Axis],
        seeds: &[u64],
        shard: (usize, usize),
        full_sync_target: Option<f64>,
    ) -> Manifest {
        Manifest {
            scenario: scenario.display().to_string(),
            axes: axes
                .iter()
                .map(|a| (a.path.clone(), a.values.clone()))
                .collect(),
            seeds: seeds.to_vec(),
            cells: cells(axes, seeds).len(),
            shard,
            full_sync_target,
        }
    }

    pub fn axes(&self) -> Vec<Axis> {
        self.axes
            .iter()
            .map(|(path, values)| Axis {
                path: path.clone(),
                values: values.clone(),
            })
            .collect()
    }
}

/// Combines shard outputs (their `sweep.json` and `sweep.csv`) into the manifest and rows of
/// the whole sweep, checking that they belong together and cover every cell exactly once.
pub fn merge_shards(dirs: &[&Path]) -> Result<(Manifest, Vec<Row>), String> {
    let mut first: Option<Manifest> = None;
    let mut rows: Vec<Row> = Vec::new();
    for d in dirs {
        let m: Manifest = serde_json::from_str(
            &std::fs::read_to_string(d.join("sweep.json"))
                .map_err(|e| format!("{}: {e}", d.join("sweep.json").display()))?,
        )
        .map_err(|e| format!("{}: {e}", d.join("sweep.json").display()))?;
        if let Some(f) = &first
            && (f.scenario != m.scenario
                || f.axes != m.axes
                || f.seeds != m.seeds
                || f.full_sync_target != m.full_sync_target
                || f.shard.1 != m.shard.1)
        {
            return Err(format!("{}: a shard of a different sweep", d.display()));
        }
        let path = d.join("sweep.csv");
        let mut reader =
            csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (i, record) in reader.records().enumerate() {
            let row = record
                .map_err(|e| e.to_string())
                .and_then(|r| Row::from_record(&r, m.axes.len()))
                .map_err(|e| {
                    format!("{}: line {} is not a sweep row: {e}", path.display(), i + 2)
                })?;
            rows.push(row);
        }
        first.get_or_insert(m);
    }
    let mut m = first.ok_or("nothing to merge: give the shards' output directories")?;
    rows.sort_by_key(|r| r.cell);
    let complete = rows.len() == m.cells && rows.iter().enumerate().all(|(i, r)| r.cell == i);
    if !complete {
        return Err(format!(
            "the shards hold {} rows for {} cells: some shard is missing or given twice",
            rows.len(),
            m.cells
        ));
    }
    m.shard = (1, 1);
    Ok((m, rows))
}

/// The chart files [`write_sweep_charts`] writes, each as SVG and PNG.
pub const SWEEP_CHARTS: [&str; 4] = [
    "full_sync_rate",
    "wan_bytes",
    "time_to_converge",
    "full_sync_heatmap",
];

/// Charts of a whole sweep: against the backlog-size axis (or the first axis when none is
/// swept), one line per combination of the other axes: the share of seeds that needed a full
/// sync, mean WAN bytes and mean time to converge; and, with two or more axes, a heatmap of
/// the share of runs with a full sync over the x axis × the first other axis.
pub fn write_sweep_charts(dir: &Path, axes: &[Axis], rows: &[Row]) -> Result<(), String> {
    use crate::report::plot::{Heatmap, SweepChart, write_heatmap, write_sweep_chart};
    if axes.is_empty() || rows.is_empty() {
        return Ok(());
    }
    let xi = axes
        .iter()
        .position(|a| a.path.ends_with("backlog_size"))
        .unwrap_or(0);
    let others: Vec<usize> = (0..axes.len()).filter(|i| *i != xi).collect();
    let x_labels = axes[xi].values.clone();
    // Line groups: the other axes' value combinations, in the order the cells list them.
    let mut keys: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let k: Vec<String> = others.iter().map(|i| r.values[*i].clone()).collect();
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let label = |k: &[String]| {
        if k.is_empty() {
            "all seeds".to_string()
        } else {
            others
                .iter()
                .zip(k)
                .map(|(i, v)| format!("{} = {v}", axes[*i].path))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let at = |k: &[String], x: &str| -> Vec<&Row> {
        rows.iter()
            .filter(|r| r.values[xi] == x && others.iter().zip(k).all(|(i, v)| r.values[*i] == *v))
            .collect()
    };
    let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let series = |f: &dyn Fn(&[&Row]) -> Option<f64>| -> Vec<(String, Vec<Option<f64>>)> {
        keys.iter()
            .map(|k| {
                let v = x_labels
                    .iter()
                    .map(|x| {
                        let g = at(k, x);
                        if g.is_empty() { None } else { f(&g) }
                    })
                    .collect();
                (label(k), v)
            })
            .collect()
    };
    let full_rate =
        |g: &[&Row]| Some(g.iter().filter(|r| r.full_syncs > 0).count() as f64 / g.len() as f64);
    let x_desc = axes[xi].path.clone();
    let charts = [
        (
            "full_sync_rate",
            "Share of seeds that needed a full sync",
            "runs with a full sync / runs",
            series(&full_rate),
        ),
        (
            "wan_bytes",
            "WAN bytes (mean over seeds)",
            "bytes on the wire",
            series(&|g| mean(g.iter().map(|r| r.wire_bytes as f64).collect())),
        ),
        (
            "time_to_converge",
            "Time to converge (mean over converged seeds)",
            "ms",
            series(&|g| mean(g.iter().filter_map(|r| r.time_to_converge_ms).collect())),
        ),
    ];
    let err = |name: &str, e: Box<dyn std::error::Error>| format!("chart {name}: {e}");
    for (name, title, y_desc, lines) in charts {
        let c = SweepChart {
            title: title.into(),
            x_desc: x_desc.clone(),
            y_desc: y_desc.into(),
            x_labels: x_labels.clone(),
            lines,
        };
        write_sweep_chart(dir, name, &c).map_err(|e| err(name, e))?;
    }
    if let Some(&yi) = others.first() {
        let y_labels = axes[yi].values.clone();
        let cells = y_labels
            .iter()
            .map(|y| {
                x_labels
                    .iter()
                    .map(|x| {
                        let g: Vec<&Row> = rows
                            .iter()
                            .filter(|r| r.values[xi] == *x && r.values[yi] == *y)
                            .collect();
                        if g.is_empty() {
                            0.0
                        } else {
                            full_rate(&g).unwrap_or(0.0)
                        }
                    })
                    .collect()
            })
            .collect();
        let h = Heatmap {
            title: "Probability of a full sync".into(),
            x_desc,
            y_desc: axes[yi].path.clone(),
            x_labels,
            y_labels,
            cells,
        };
        write_heatmap(dir, "full_sync_heatmap", &h).map_err(|e| err("full_sync_heatmap", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cell: usize, backlog: &str, seed: u64, full_syncs: u64) -> Row {
        Row {
            cell,
            values: vec![backlog.to_string()],
            seed,
            verdict: "converged".into(),
            time_to_converge_ms: Some(1.0),
            full_syncs,
            partial_syncs: 0,
            full_sync_failures: 0,
            stream_bytes: 0,
            snapshot_bytes: 0,
            wire_bytes: 0,
            lag_ms_p99_worst: None,
            writes_lost: 0,
            clock_inverted_wins: 0,
            trace_digest: "0".into(),
        }
    }

    #[test]
    fn a_full_sync_target_accepts_the_smallest_size_whose_rate_is_under_it() {
        let axes = vec![Axis {
            path: "replication.backlog_size".into(),
            values: vec!["1MB".into(), "2MB".into(), "4MB".into()],
        }];
        // Full syncs in 4 of 4 seeds at 1MB, 1 of 4 at 2MB, none at 4MB.
        let mut rows = Vec::new();
        for (b, fulls) in [
            ("1MB", [1, 1, 2, 1]),
            ("2MB", [0, 1, 0, 0]),
            ("4MB", [0; 4]),
        ] {
            for (seed, f) in fulls.into_iter().enumerate() {
                rows.push(row(rows.len(), b, seed as u64 + 1, f));
            }
        }
        let seeds = [1, 2, 3, 4];
        let plain = sweep_md("s.toml", &axes, &seeds, &rows, None);
        assert!(
            plain.contains("needed no full sync\n\n* all runs: **4MB**\n"),
            "{plain}"
        );
        assert!(!plain.contains("at most"), "{plain}");
        let md = sweep_md("s.toml", &axes, &seeds, &rows, Some(0.25));
        assert!(
            md.contains("rate of at most 25%\n\n* all runs: **2MB** (full-sync rate 25%)\n"),
            "{md}"
        );
        let strict = sweep_md("s.toml", &axes, &seeds, &rows, Some(0.2));
        assert!(
            strict.contains("* all runs: **4MB** (full-sync rate 0%)"),
            "{strict}"
        );
        let none = sweep_md("s.toml", &axes, &seeds, &rows[..8], Some(0.2));
        assert!(
            none.contains("at most 20%\n\n* all runs: none of the swept sizes"),
            "{none}"
        );
    }

    #[test]
    fn shares_parse_as_fractions_or_percentages() {
        assert_eq!(parse_share("5%"), Ok(0.05));
        assert_eq!(parse_share("0.125"), Ok(0.125));
        assert_eq!(parse_share("0"), Ok(0.0));
        assert_eq!(parse_share("100%"), Ok(1.0));
        for bad in ["", "5", "-1%", "x", "NaN", "1.5"] {
            assert!(parse_share(bad).is_err(), "{bad}");
        }
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(1.0 / 3.0), "33.3%");
    }
}
