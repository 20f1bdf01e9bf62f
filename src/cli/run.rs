//! `geosim run` and `geosim validate`.

use super::{out, outln};

use std::path::Path;

use super::outdir::OutDir;
use super::{EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_NOT_CONVERGED, EXIT_OK, EXIT_OUTPUT_FAILED};
use crate::check::Verdict;
use crate::report::run_and_judge;
use crate::report::summary::human_bytes;

use crate::scenario::{self, LoadOptions, Scenario};

fn load(path: &Path, seed: Option<u64>) -> Result<Scenario, i32> {
    load_with(path, seed, &[])
}

/// Loads the scenario at `path` with each `PATH=VALUE` of `sets` put in first.
fn load_with(path: &Path, seed: Option<u64>, sets: &[String]) -> Result<Scenario, i32> {
    let bad = |e: &dyn std::fmt::Display| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    };
    let opts = LoadOptions { seed };
    if sets.is_empty() {
        return scenario::load(path, &opts).map_err(|e| bad(&e));
    }
    let mut pairs = Vec::new();
    for spec in sets {
        match spec.split_once('=') {
            Some((p, v)) if !p.trim().is_empty() && !v.trim().is_empty() => {
                pairs.push((p.trim(), v.trim()));
            }
            _ => {
                return Err(bad(&format!(
                    "--set {spec:?}: expected PATH=VALUE, e.g. replication.backlog_size=32MB"
                )));
            }
        }
    }
    let text = crate::scenario::read_text(path).map_err(|e| bad(&e))?;
    crate::sweep::scenario_with(&text, &path.display().to_string(), &pairs, &opts)
        .map_err(|e| bad(&e))
}

/// When the run began (wall clock, for the progress line only: nothing in a run reads it).
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Redraws the progress line: simulated time, events and their rate, the phase's estimated
/// remaining wall time.
fn progress_line(now: crate::engine::SimTime, target: crate::engine::SimTime, events: u64) {
    let started = *STARTED.get_or_init(std::time::Instant::now); // Display only.
    let wall = started.elapsed().as_secs_f64();
    let (t, end) = (now.as_secs_f64(), target.as_secs_f64().max(1e-9));
    let rate = if wall > 0.0 {
        events as f64 / wall
    } else {
        0.0
    };
    let eta = if t > 0.0 {
        wall * (end - t).max(0.0) / t
    } else {
        0.0
    };
    eprint!(
        "\r  simulated {t:.1} s of {end:.1} s ({:.0}%), {events} events, {:.2} M events/s, ETA {eta:.0} s   ",
        100.0 * t / end,
        rate / 1e6
    );
    if now >= target {
        eprint!("\r{:100}\r", "");
    }
}

pub fn run(
    path: &Path,
    (seed, sets): (Option<u64>, &[String]),
    json: bool,
    (out, report, force): (Option<&Path>, Option<&Path>, bool),
) -> i32 {
    // An output that is a file is refused before the run, not after it.
    for (flag, dir) in [("--out", out), ("--report", report)] {
        if let Some(d) = dir.filter(|d| d.exists() && !d.is_dir()) {
            eprintln!(
                "error: {flag} {}: a file, not a directory: give a directory (it is created if missing)",
                d.display()
            );
            return EXIT_BAD_INPUT;
        }
    }
    let s = match load_with(path, seed, sets) {
        Ok(s) => s,
        Err(code) => return code,
    };
    warn_if_over_memory(&s, machine_memory());
    // The report holds summary.json too: an --out naming the same directory adds nothing.
    let out = out.filter(|o| report.is_none_or(|r| !same_dir(o, r)));
    let mut dirs = Vec::new();
    for (flag, dir) in [("--out", out), ("--report", report)] {
        match dir.map(|d| OutDir::prepare(d, flag, force)).transpose() {
            Ok(d) => dirs.push(d),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let report_dir = dirs.pop().flatten();
    let out_dir = dirs.pop().flatten();
    // One run, then the process exits: do not spend seconds freeing the keyspaces.
    crate::model::driver::leak_worlds_at_exit();
    // On a terminal, a progress line on stderr (nothing when piped or redirected).
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        crate::model::driver::report_progress(progress_line);
    }
    let judged = match &report_dir {
        None => run_and_judge(&s),
        Some(dir) => match crate::report::write_report(&s, dir.staging()) {
            Ok(j) => j,
            Err(e) => {
                eprintln!(
                    "error: cannot write the report into {}: {e}",
                    dir.dir().display()
                );
                return EXIT_OUTPUT_FAILED;
            }
        },
    };
    let (summary, conv) = (judged.summary, judged.convergence);
    if let Some(dir) = out_dir {
        let shown = dir.dir().join("summary.json");
        let written = std::fs::write(dir.staging().join("summary.json"), summary.to_json())
            .and_then(|_| dir.commit());
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", shown.display());
            return EXIT_OUTPUT_FAILED;
        }
    }
    if let Some(dir) = report_dir {
        let shown = dir.dir().display().to_string();
        if let Err(e) = dir.commit() {
            eprintln!("error: cannot move the report into {shown}: {e}");
            return EXIT_OUTPUT_FAILED;
        }
    }
    if json {
        out!("{}", summary.to_json());
    } else {
        out!("{}", summary.to_text());
    }
    if summary.expectations_failed > 0 {
        eprintln!(
            "error: {} expectation(s) failed; reproduce with: {}",
            summary.expectations_failed, summary.reproduce
        );
        return EXIT_DIVERGED;
    }
    match conv.verdict {
        Verdict::Converged => EXIT_OK,
        Verdict::Diverged => {
            eprintln!(
                "error: the instances diverged; reproduce with: {}",
                summary.reproduce
            );
            EXIT_DIVERGED
        }
        Verdict::NotConverged => {
            eprintln!(
                "error: no convergence within run.converge_deadline; reproduce with: {}",
                summary.reproduce
            );
            EXIT_NOT_CONVERGED
        }
    }
}

/// Whether two paths name one directory (compared as written when one does not exist yet).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

pub(crate) fn validate(path: &Path) -> i32 {
    let s = match load(path, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for w in &s.warnings {
        eprintln!("warning: {}", w.render(&s.file));
    }
    let c = &s.config;
    outln!("{}: valid", s.file);
    outln!(
        "  seed {}, {} of writes, convergence deadline {}",
        c.seed,
        c.duration,
        c.converge_deadline
    );
    for cl in &c.clusters {
        outln!(
            "  cluster {}: {} shard(s) on {} node(s), replica shards {}, proxy {}, syncer {}, backlog {} B/shard, ntp {}",
            cl.name,
            cl.shards,
            cl.nodes,
            if cl.replication { "on" } else { "off" },
            cl.proxy_policy.name(),
            cl.syncer_mode.name(),
            cl.backlog_bytes,
            if cl.clock.ntp { "on" } else { "off" }
        );
    }
    match &c.workload {
        Some(w) => outln!(
            "  workload: {}/s over {} key(s) per kind, {} values",
            w.rate_per_sec,
            w.keys,
            crate::model::workload::describe_sizes(&w.value_size)
        ),
        None => outln!("  workload: none"),
    }
    for p in &c.faults {
        let what = match &p.kind {
            crate::model::fault::FaultKind::Partition(m) => format!("partition ({})", m.name()),
            crate::model::fault::FaultKind::Degrade { .. } => "degradation".to_string(),
            crate::model::fault::FaultKind::Crash { cluster, shard } => {
                format!("crash of {} shard {shard}", c.clusters[*cluster].name)
            }
        };
        outln!(
            "  {what} {}: {} to {}, {} cluster pair(s)",
            p.name,
            p.begin,
            p.end,
            p.pairs.len()
        );
    }
    let machine = machine_memory();
    outln!(
        "  estimated peak memory: {}{}",
        human_bytes(s.estimated_memory),
        match machine {
            Some(m) => format!(" (this machine has {})", human_bytes(m)),
            None => String::new(),
        }
    );
    warn_if_over_memory(&s, machine);
    EXIT_OK
}

/// This machine's memory (Linux's `MemTotal`). Used only for a warning on standard error:
/// whether a scenario is valid, and what a run writes, never depend on the machine.
fn machine_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// Warns when the resource guard's estimate exceeds this machine's memory.
fn warn_if_over_memory(s: &Scenario, machine: Option<u64>) {
    if let Some(m) = machine
        && s.estimated_memory > m
    {
        eprintln!(
            "warning: {}: the run may need about {} of memory, more than this machine's {}: it may be killed for lack of memory",
            s.file,
            human_bytes(s.estimated_memory),
            human_bytes(m)
        );
    }
}
