//! `geosim bench --fidelity`: every bundled numbered scenario and the reference scenario,
//! exact and sampled (1/64) with the same seed, side by side as a Markdown table (the one in
//! `docs/performance.md`). Fails (exit 1) when a figure that sampled fidelity promises to
//! keep differs: the verdict anywhere, and in a run without full syncs the writes, every
//! sync count, the backlog and link-queue peaks and every peer's lag percentiles.

use std::path::{Path, PathBuf};
use std::time::Instant; // Benchmark timing only; never inside a simulation run.

use super::super::{EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_OK, outln};
use super::REFERENCE_TOML;
use crate::check::{RunResult, Verdict};
use crate::scenario::{LoadOptions, Scenario};
use crate::sim::run_scenario;

/// The numbered scenarios in `dir` (`NN-*.toml`), in name order.
fn numbered(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".toml") && name.as_bytes().first().is_some_and(u8::is_ascii_digit)
        })
        .collect();
    out.sort();
    Ok(out)
}

/// One run's figures and wall time.
struct Run {
    r: RunResult,
    verdict: Verdict,
    wall: f64,
}

fn timed_run(s: &Scenario) -> Run {
    let start = Instant::now(); // Benchmark timing, outside any simulated run.
    let (r, c) = run_scenario(s);
    Run {
        r,
        verdict: c.verdict,
        wall: start.elapsed().as_secs_f64(),
    }
}

/// `a` once when the two are equal, else `a → b`.
fn pair<T: PartialEq + std::fmt::Display>(a: T, b: T) -> String {
    if a == b {
        format!("{a}")
    } else {
        format!("{a} → {b}")
    }
}

/// Partial, full and failed syncs, and the longest run of failed full syncs, summed over
/// the peer pairs.
fn syncs(r: &RunResult) -> String {
    let sum = |f: fn(&crate::model::stats::PeerStats) -> u64| r.peers.iter().map(f).sum::<u64>();
    let longest = r
        .peers
        .iter()
        .map(|p| p.max_consecutive_full_sync_failures)
        .max()
        .unwrap_or(0);
    format!(
        "{}/{}/{} ({longest})",
        sum(|p| p.partial_syncs),
        sum(|p| p.full_syncs),
        sum(|p| p.full_sync_failures)
    )
}

/// Every peer's lag p50, p99 and maximum, in nanoseconds.
fn lags(r: &RunResult) -> Vec<[u64; 3]> {
    r.peers
        .iter()
        .map(|p| {
            [
                p.lag.quantile(0.5).unwrap_or(0),
                p.lag.quantile(0.99).unwrap_or(0),
                p.lag.max(),
            ]
        })
        .collect()
}

/// The worst peer's lag p99 and the largest lag, in milliseconds.
fn worst_lag(l: &[[u64; 3]]) -> String {
    let p99 = l.iter().map(|x| x[1]).max().unwrap_or(0);
    let max = l.iter().map(|x| x[2]).max().unwrap_or(0);
    format!("{:.1} / {:.1}", p99 as f64 / 1e6, max as f64 / 1e6)
}

fn writes(r: &RunResult) -> Vec<(u64, u64)> {
    r.clusters.iter().map(|c| (c.writes, c.rejected)).collect()
}

/// What a row found: the Markdown row and whether a promised figure differed.
fn row(name: &str, e: &Run, s: &Run) -> (String, bool) {
    let full_syncs = e.r.peers.iter().any(|p| p.full_syncs > 0);
    let sync_counts = |r: &RunResult| {
        r.peers
            .iter()
            .map(|p| {
                (
                    p.partial_syncs,
                    p.full_syncs,
                    p.full_sync_failures,
                    p.full_syncs_after_overflow,
                    p.max_consecutive_full_sync_failures,
                )
            })
            .collect::<Vec<_>>()
    };
    let (le, ls) = (lags(&e.r), lags(&s.r));
    let byte_level_same = writes(&e.r) == writes(&s.r)
        && sync_counts(&e.r) == sync_counts(&s.r)
        && e.r.peaks.backlog_bytes_max == s.r.peaks.backlog_bytes_max
        && e.r.peaks.link_queue_bytes_max == s.r.peaks.link_queue_bytes_max
        && le == ls;
    let broken = e.verdict != s.verdict || (!full_syncs && !byte_level_same);
    let est = s.r.estimates.as_ref();
    let conflicts = match est {
        Some(x) => {
            let c = e.r.lww.conflicts as f64;
            let inside = x.lww_conflicts.low <= c && c <= x.lww_conflicts.high;
            format!(
                "{} / {:.0} [{:.0}, {:.0}]{}",
                e.r.lww.conflicts,
                x.lww_conflicts.value,
                x.lww_conflicts.low,
                x.lww_conflicts.high,
                if inside { "" } else { " (outside)" }
            )
        }
        None => "-".into(),
    };
    let lag_peers = le.iter().zip(&ls).filter(|(a, b)| a == b).count();
    let text = format!(
        "| {name} | {} | {} | {} | {} | {} of {} equal; {} | {} | {conflicts} | {:.2} / {:.2} |",
        pair(
            writes(&e.r).iter().map(|w| w.0).sum::<u64>(),
            writes(&s.r).iter().map(|w| w.0).sum::<u64>()
        ),
        pair(syncs(&e.r), syncs(&s.r)),
        pair(e.r.peaks.backlog_bytes_max, s.r.peaks.backlog_bytes_max),
        pair(
            e.r.peaks.link_queue_bytes_max,
            s.r.peaks.link_queue_bytes_max
        ),
        lag_peers,
        le.len(),
        pair(worst_lag(&le), worst_lag(&ls)),
        pair(e.verdict.name(), s.verdict.name()),
        e.wall,
        s.wall,
    );
    (text, broken)
}

/// The reference scenario's text: as given, or (`quick`) its first 10 minutes with the
/// partition at 2 minutes.
fn reference_text(quick: bool) -> String {
    if quick {
        REFERENCE_TOML
            .replace("duration = \"1h\"", "duration = \"10m\"")
            .replace("begin = \"20m\"", "begin = \"2m\"")
    } else {
        REFERENCE_TOML.to_string()
    }
}

/// Runs the table over `dir`'s numbered scenarios and the reference scenario.
pub(crate) fn fidelity(dir: &Path, quick: bool) -> i32 {
    let files = match numbered(dir) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            eprintln!(
                "error: {}: no numbered scenarios (NN-name.toml) there",
                dir.display()
            );
            return EXIT_BAD_INPUT;
        }
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            return EXIT_BAD_INPUT;
        }
    };
    let mut inputs = Vec::new();
    for f in &files {
        match crate::scenario::read_text(f) {
            Ok(t) => inputs.push((f.display().to_string(), t)),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let reference = if quick {
        "benches/reference.toml (first 10 min)"
    } else {
        "benches/reference.toml"
    };
    inputs.push((reference.to_string(), reference_text(quick)));
    outln!(
        "exact vs sampled (1/64), same seed; where they differ: exact → sampled. Syncs: partial/full/failed (longest run of failures); peaks in bytes; lag in ms (worst peer's p99 / largest); conflicts: exact / estimate [95 % interval]; wall seconds exact / sampled."
    );
    outln!();
    outln!(
        "| scenario | writes | syncs | backlog peak | link-queue peak | lag: peers equal in p50, p99 and max; worst p99 / largest (ms) | verdict | LWW conflicts | wall (s) |"
    );
    outln!("|---|---|---|---|---|---|---|---|---|");
    let mut broken = Vec::new();
    let opts = LoadOptions::default();
    for (file, text) in &inputs {
        let name = Path::new(file)
            .file_name()
            .map_or(file.clone(), |n| n.to_string_lossy().into_owned());
        let name = if file.starts_with("benches/") {
            file.clone()
        } else {
            name
        };
        let exact = match crate::scenario::parse(text, file, &opts) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        let sampled =
            crate::sweep::scenario_with(text, file, &[("run.fidelity", "sampled")], &opts);
        let sampled = match sampled {
            Ok(s) => s,
            Err(e) => {
                // The validation's own words, up to the first clause after its reason.
                let why = e.to_string();
                let why = why
                    .split_once("sampled fidelity ")
                    .map_or(why.as_str(), |(_, w)| w);
                let why = why.split(" (").next().unwrap_or(why).trim();
                outln!("| {name} | refused in sampled fidelity: {why} |||||||");
                continue;
            }
        };
        let (e, s) = (timed_run(&exact), timed_run(&sampled));
        let (text, bad) = row(&name, &e, &s);
        outln!("{text}");
        if bad {
            broken.push(name);
        }
    }
    if broken.is_empty() {
        EXIT_OK
    } else {
        eprintln!(
            "error: a figure sampled fidelity keeps differed in: {}",
            broken.join(", ")
        );
        EXIT_DIVERGED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"
[run]
duration = "2s"
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[workload]
rate = "500/s"
keys = 1000
"#;

    fn runs() -> (Run, Run) {
        let opts = LoadOptions::default();
        let exact = crate::scenario::parse(TINY, "tiny.toml", &opts).expect("valid");
        let sampled =
            crate::sweep::scenario_with(TINY, "tiny.toml", &[("run.fidelity", "sampled")], &opts)
                .expect("valid sampled");
        (timed_run(&exact), timed_run(&sampled))
    }

    #[test]
    fn a_row_holds_when_the_byte_level_figures_agree_and_flags_any_that_differs() {
        let (e, mut s) = runs();
        let (text, broken) = row("tiny", &e, &s);
        assert!(!broken, "{text}");
        assert!(text.starts_with("| tiny | "), "{text}");
        assert!(text.contains(" converged "), "{text}");
        s.r.outcome.peaks.backlog_bytes_max += 1;
        let (text, broken) = row("tiny", &e, &s);
        assert!(broken);
        assert!(
            text.contains(" → "),
            "the differing peak shows both: {text}"
        );
        s.r.outcome.peaks.backlog_bytes_max -= 1;
        s.verdict = Verdict::Diverged;
        assert!(row("tiny", &e, &s).1, "a verdict that differs");
    }

    #[test]
    fn numbered_scenarios_are_found_in_name_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let files = numbered(&dir).expect("the bundled scenarios");
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.len() >= 10 && names[0].starts_with("01-"),
            "{names:?}"
        );
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(names.iter().all(|n| n.ends_with(".toml")));
        assert!(numbered(&dir.join("no-such-folder")).is_err());
    }
}
