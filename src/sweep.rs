//! Sweeps: a grid of scenario variants (axes over any field, by path) × seeds, each cell a
//! deterministic single-threaded run, cells run in parallel with rayon and collected by index,
//! so the output is the same for any number of threads. Every cell with the same seed sees the
//! same workload and fault timeline (common random numbers): differences between cells come
//! from the swept values alone.

pub(crate) mod charts;
pub(crate) mod coverage;
pub mod crosscheck;
pub mod hunt;
pub mod memory_plan;
pub(crate) mod page;
pub mod plan;
mod shard;
mod table;

pub use charts::*;
pub(crate) use shard::*;
pub use table::*;

use std::path::Path;

#[cfg(feature = "parallel")]
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
pub(crate) fn cells(axes: &[Axis], seeds: &[u64]) -> Vec<Cell> {
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
pub(crate) fn cell_scenario(
    text: &str,
    file: &str,
    axes: &[Axis],
    cell: &Cell,
) -> Result<scenario::Scenario, ScenarioError> {
    let sets: Vec<(&str, &str)> = axes
        .iter()
        .zip(&cell.values)
        .map(|(a, v)| (a.path.as_str(), v.as_str()))
        .collect();
    scenario_with(
        text,
        file,
        &sets,
        &LoadOptions {
            seed: Some(cell.seed),
        },
    )
}

/// Validates scenario text with each `(path, value)` of `sets` put in first (the fields
/// `sweep --set` and `run --set` name).
pub(crate) fn scenario_with(
    text: &str,
    file: &str,
    sets: &[(&str, &str)],
    opts: &LoadOptions,
) -> Result<scenario::Scenario, ScenarioError> {
    let original = text;
    let mut doc: toml::Value = toml::from_str(text).map_err(|e| ScenarioError {
        file: file.to_string(),
        kind: ErrorKind::Syntax,
        diagnostics: vec![Diagnostic::new("", None, e.message().to_string())],
    })?;
    for &(path, v) in sets {
        if set_path(&mut doc, path, &toml_value(v)) == 0 {
            return Err(ScenarioError {
                file: file.to_string(),
                kind: ErrorKind::Invalid,
                diagnostics: vec![Diagnostic::new(
                    path.to_string(),
                    Some(v.to_string()),
                    "no such field in the scenario to set (a path like replication.backlog_size, cluster[0].shards or fault.partition.duration)",
                )],
            });
        }
    }
    let text = toml::to_string(&doc).map_err(|e| ScenarioError {
        file: file.to_string(),
        kind: ErrorKind::Invalid,
        diagnostics: vec![Diagnostic::new("", None, e.to_string())],
    })?;
    // Positions are found again in the file as written (errors and warnings alike): a field
    // that was set has none there.
    let relocate = |d: &mut Diagnostic| {
        d.position = if sets.iter().any(|(p, _)| *p == d.path) {
            None
        } else {
            scenario::diag::locate(original, &d.path)
        };
    };
    let mut s = scenario::parse(&text, file, opts).map_err(|mut e| {
        e.diagnostics.iter_mut().for_each(relocate);
        e
    })?;
    s.warnings.iter_mut().for_each(relocate);
    s.sets = sets.iter().map(|(p, v)| format!("{p}={v}")).collect();
    s.text = original.to_string();
    Ok(s)
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
pub(crate) fn run_sweep_shard(
    path: &Path,
    axes: &[Axis],
    seeds: &[u64],
    threads: usize,
    shard: (usize, usize),
) -> Result<Vec<CellResult>, ScenarioError> {
    run_sweep_shard_with_progress(path, axes, seeds, threads, shard, &|| {})
}

/// Runs and judges every scenario on `threads` threads (0: rayon's default), results in the
/// scenarios' order.
#[cfg(feature = "parallel")]
fn run_all(
    scenarios: &[scenario::Scenario],
    threads: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Summary>, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(pool.install(|| {
        scenarios
            .par_iter()
            .map(|s| {
                let summary = run_and_judge(s).summary;
                on_done();
                summary
            })
            .collect()
    }))
}

/// Without the `parallel` feature: every scenario in turn on this thread (`threads` is
/// ignored; each cell is a deterministic run, so the results are the same).
#[cfg(not(feature = "parallel"))]
fn run_all(
    scenarios: &[scenario::Scenario],
    _threads: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Summary>, String> {
    Ok(scenarios
        .iter()
        .map(|s| {
            let summary = run_and_judge(s).summary;
            on_done();
            summary
        })
        .collect())
}

/// The number of cells shard `k` of `n` runs.
pub(crate) fn shard_len(axes: &[Axis], seeds: &[u64], (k, n): (usize, usize)) -> usize {
    cells(axes, seeds)
        .iter()
        .filter(|c| c.index % n == k - 1)
        .count()
}

/// As [`run_sweep_shard`], calling `on_done` (from any worker thread) as each cell finishes.
/// It only observes: the results do not depend on it.
pub(crate) fn run_sweep_shard_with_progress(
    path: &Path,
    axes: &[Axis],
    seeds: &[u64],
    threads: usize,
    (k, n): (usize, usize),
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<CellResult>, ScenarioError> {
    let file = path.display().to_string();
    let text = scenario::read_text(path)?;
    let grid: Vec<Cell> = cells(axes, seeds)
        .into_iter()
        .filter(|c| c.index % n == k - 1)
        .collect();
    // Validate every cell before running any, so a bad value fails fast.
    let scenarios: Vec<scenario::Scenario> = grid
        .iter()
        .map(|c| cell_scenario(&text, &file, axes, c))
        .collect::<Result<_, _>>()?;
    let summaries = run_all(&scenarios, threads, on_done).map_err(|e| ScenarioError {
        file: file.clone(),
        kind: ErrorKind::Io,
        diagnostics: vec![Diagnostic::new(
            "",
            None,
            format!("cannot start threads: {e}"),
        )],
    })?;
    Ok(grid
        .into_iter()
        .zip(summaries)
        .map(|(cell, summary)| CellResult { cell, summary })
        .collect())
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
            visible_ms_p99_worst: None,
            caught_up_ms_max: None,
            behind_s_worst: 0.0,
            writes_lost: 0,
            clock_inverted_wins: 0,
            trace_digest: "0".into(),
            fidelity: "exact".into(),
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
