//! `geosim bench`: figures measured against a baseline taken in the same run, because these
//! machines are shared and noisy. Wall-clock time is read here, outside any simulation run.

use std::path::Path;
use std::time::Instant; // Benchmark timing only; never inside a simulation run.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::engine::hold::{bare_heap_hold, delay_table, engine_hold};
use crate::report::run_scenario;
use crate::scenario::{self, LoadOptions};

/// Events per second of `f`, which runs `steps` timed steps after its own warm-up; the
/// warm-up is excluded because `f` returns only after it, so it is timed separately.
fn timed(steps: u64, f: impl FnOnce() -> std::time::Duration) -> f64 {
    steps as f64 / f().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The reference scenario for `hours` simulated hours: one line of figures.
pub fn reference_once(hours: u64) -> i32 {
    let path = Path::new("benches/reference.toml");
    let mut s = match scenario::load(path, &LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    s.config.duration = crate::engine::SimDuration::from_secs(3600 * hours);
    let start = Instant::now(); // Benchmark timing, outside any simulated run.
    let (r, c) = run_scenario(&s);
    let wall = start.elapsed().as_secs_f64();
    let writes: u64 = r.clusters.iter().map(|c| c.writes).sum();
    println!(
        "reference {hours} h: {:.0} simulated s in {wall:.1} s wall = {:.1} simulated s per wall s; {writes} writes, {} events ({:.0} events/s); peak memory {} MiB; {}",
        r.stopped_at.as_secs_f64(),
        r.stopped_at.as_secs_f64() / wall,
        r.events,
        r.events as f64 / wall,
        peak_rss_kib()
            .map(|k| (k / 1024).to_string())
            .unwrap_or_else(|| "?".into()),
        c.verdict.name()
    );
    EXIT_OK
}

pub fn bench(quick: bool, scenario_path: &Path, reference: bool) -> i32 {
    let delays = delay_table();
    let steps: u64 = if quick { 1_000_000 } else { 10_000_000 };
    let reps = 3;
    println!(
        "geosim bench ({} mode, median of {reps} interleaved repetitions)",
        if quick { "quick" } else { "full" }
    );
    println!(
        "engine hold model: events/s, engine (run loop + digest) vs a bare BinaryHeap hold loop"
    );
    for pending in [1_000usize, 100_000] {
        let (mut bare, mut eng) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            bare.push(timed(steps, || bare_heap_hold(pending, steps, &delays)));
            eng.push(timed(steps, || engine_hold(pending, steps, &delays)));
        }
        let (b, e) = (median(bare), median(eng));
        println!(
            "  pending {pending:>7}: engine {:>7.2} M/s, bare heap {:>7.2} M/s, ratio {:.2} (target >= 0.60)",
            e / 1e6,
            b / 1e6,
            e / b
        );
    }
    println!("merge core: replicated ops applied per second at a peer (median)");
    let n = if quick { 20_000 } else { 100_000 };
    for (name, template) in crate::redis::bench::KINDS {
        let ops = crate::redis::bench::ops_for(template, n);
        let rates: Vec<f64> = (0..reps)
            .map(|_| n as f64 / crate::redis::bench::apply_all(&ops).as_secs_f64())
            .collect();
        println!("  {name:<14} {:>8.2} M ops/s", median(rates) / 1e6);
    }
    let s = match scenario::load(scenario_path, &LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut walls = Vec::new();
    let mut last = None;
    for _ in 0..reps {
        let start = Instant::now(); // Benchmark timing, outside any simulated run.
        let (r, _) = run_scenario(&s);
        walls.push(start.elapsed().as_secs_f64());
        last = Some(r);
    }
    let r = last.expect("at least one repetition");
    let wall = median(walls);
    let writes: u64 = r.clusters.iter().map(|c| c.writes).sum();
    println!("scenario {}:", s.file);
    println!(
        "  {} writes, {} events, {:.3} s simulated in {:.3} s wall (median)",
        writes,
        r.events,
        r.stopped_at.as_secs_f64(),
        wall
    );
    println!(
        "  {:.0} simulated writes per wall second, {:.0} events/s, {:.1}x real time",
        writes as f64 / wall,
        r.events as f64 / wall,
        r.stopped_at.as_secs_f64() / wall
    );
    if reference {
        println!("reference scenario (benches/reference.toml), each run in its own process:");
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot find the geosim executable: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        for hours in [1u64, 4] {
            let out = std::process::Command::new(&exe)
                .args(["bench", "--reference-hours", &hours.to_string()])
                .output();
            match out {
                Ok(o) => print!("  {}", String::from_utf8_lossy(&o.stdout)),
                Err(e) => eprintln!("error: cannot run the reference scenario: {e}"),
            }
        }
    }
    EXIT_OK
}
