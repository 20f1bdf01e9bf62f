//! `geosim bench`: figures measured against a baseline taken in the same run, because these
//! machines are shared and noisy. Wall-clock time is read here, outside any simulation run.

use super::outln;

mod draws;
mod fidelity;
mod floor;
mod peer;
mod scaling;
pub(crate) use fidelity::fidelity;
pub(crate) use peer::peer;
pub(crate) use scaling::scaling;

use std::path::Path;
use std::time::Instant; // Benchmark timing only; never inside a simulation run.

use super::{EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_OK};
use crate::engine::SimDuration;
use crate::engine::hold::{bare_heap_hold, delay_table, engine_hold};
use crate::scenario::{self, LoadOptions};
use crate::sim::run_scenario;

/// The budget per write of the sampled-mode target (the reference hour, 36 M writes, in
/// 1.8 s: 50 ns), in ChaCha8 words: the machine `shared/RUST-STACK.md` measured draws one in
/// 2.0 ns, so 50 ns there is 25 words. Measured in words against a word drawn in the same
/// run, the budget holds on a slower or busier machine (this one has drawn a word in 4.5 to
/// 5.2 ns).
const TARGET_WORDS_PER_WRITE: f64 = 25.0;

/// Events per second of `f`, which runs `steps` timed steps after its own warm-up; the
/// warm-up is excluded because `f` returns only after it, so it is timed separately.
fn timed(steps: u64, f: impl FnOnce() -> std::time::Duration) -> f64 {
    steps as f64 / f().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The fastest of the repetitions: on a shared machine other work only ever adds time, so
/// the best run is the least disturbed one (printed next to the median-based figure).
fn best_time(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn best_rate(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Peak resident memory of this process, from `/proc/self/status` (Linux), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The bundled files `bench` runs, embedded so that it works from any directory.
pub(crate) const REFERENCE_TOML: &str = include_str!("../../benches/reference.toml");
pub(crate) const PEER_TOML: &str = include_str!("../../benches/peer.toml");
const SCENARIO_01_TOML: &str = include_str!("../../scenarios/01-two-regions-steady.toml");

/// `path` if it exists; else, when it names one of the bundled files `bench` embeds, that
/// file's text written to a temporary file (outside the checkout, `bench` still runs).
pub(crate) fn bundled_file(path: &Path) -> std::io::Result<std::path::PathBuf> {
    match embedded(path) {
        Some(text) if !path.exists() => copy_of(path, text),
        _ => Ok(path.to_path_buf()),
    }
}

/// The embedded text of a bundled file `bench` runs, by its path in the repository.
fn embedded(path: &Path) -> Option<&'static str> {
    match path.to_str()? {
        "benches/reference.toml" => Some(REFERENCE_TOML),
        "benches/peer.toml" => Some(PEER_TOML),
        "scenarios/01-two-regions-steady.toml" => Some(SCENARIO_01_TOML),
        _ => None,
    }
}

/// `text` written to a temporary file named after `path`.
fn copy_of(path: &Path, text: &str) -> std::io::Result<std::path::PathBuf> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let name = name.unwrap_or_else(|| "scenario.toml".into());
    let copy = std::env::temp_dir().join(format!("geosim-bench-{}-{name}", std::process::id()));
    std::fs::write(&copy, text)?;
    Ok(copy)
}

/// Keys per kind of the saturated variant: the 10k writes/s touch every one of them within
/// minutes, so after that the dataset no longer grows and neither may memory.
const SATURATED_KEYS: u64 = 20_000;

/// Peak memory may grow by at most this factor from 1 h to 4 h once the keyspace is full
/// (allocator noise and the histograms' first-use buckets).
const FLAT_MEMORY_RATIO: f64 = 1.05;

/// The reference scenario for `hours` simulated hours (and `keys` keys per kind if given):
/// one line of figures, then a `#figures` line for the parent process.
pub(crate) fn reference_once(hours: u64, keys: Option<u64>, batch: Option<SimDuration>) -> i32 {
    let mut s = match scenario::parse(
        REFERENCE_TOML,
        "benches/reference.toml",
        &LoadOptions::default(),
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    s.config.duration = crate::engine::SimDuration::from_secs(3600 * hours);
    if let (Some(k), Some(w)) = (keys, s.config.workload.as_mut()) {
        w.keys = k;
    }
    if let Some(b) = batch {
        s.config.replication.batch_window = b;
    }
    // This child process exits after the one run (as `geosim run` does).
    crate::model::driver::leak_worlds_at_exit();
    let start = Instant::now(); // Benchmark timing, outside any simulated run.
    let (r, c) = run_scenario(&s);
    let wall = start.elapsed().as_secs_f64();
    let writes: u64 = r.clusters.iter().map(|c| c.writes).sum();
    let live_keys = r.clusters.first().map(|c| c.keys).unwrap_or(0);
    let peak = peak_rss_kib().unwrap_or(0);
    outln!(
        "{}{} {hours} h: {:.0} simulated s in {wall:.1} s wall = {:.1} simulated s per wall s; {writes} writes, {} events ({:.0} events/s); {live_keys} keys per instance; peak memory {} MiB; {}",
        if keys.is_some() {
            "saturated"
        } else {
            "reference"
        },
        batch.map_or(String::new(), |b| format!(" (batch window {b})")),
        r.stopped_at.as_secs_f64(),
        r.stopped_at.as_secs_f64() / wall,
        r.events,
        r.events as f64 / wall,
        peak / 1024,
        c.verdict.name()
    );
    outln!("#figures {peak} {live_keys}");
    EXIT_OK
}

/// Runs `reference_once` in a child process (so that each peak is its own); echoes its line
/// and returns (peak KiB, keys per instance).
fn reference_child(
    exe: &Path,
    hours: u64,
    keys: Option<u64>,
    batch: Option<SimDuration>,
) -> Option<(u64, u64)> {
    let mut args = vec![
        "bench".to_string(),
        "--reference-hours".into(),
        hours.to_string(),
    ];
    if let Some(k) = keys {
        args.extend(["--reference-keys".into(), k.to_string()]);
    }
    if let Some(b) = batch {
        args.extend(["--batch-window".into(), format!("{}ns", b.0)]);
    }
    let out = match std::process::Command::new(exe).args(&args).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: cannot run the reference scenario: {e}");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut figures = None;
    for line in text.lines() {
        match line.strip_prefix("#figures ") {
            Some(f) => {
                let mut it = f.split(' ').filter_map(|x| x.parse::<u64>().ok());
                figures = it.next().zip(it.next());
            }
            None => outln!("  {line}"),
        }
    }
    figures
}

/// The reference runs: as given (the dataset grows as new keys are written, and memory with
/// it), then saturated (the dataset stops growing, so memory must too).
fn reference_runs(batch: Option<SimDuration>) -> i32 {
    outln!("reference scenario (benches/reference.toml), each run in its own process:");
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot find the geosim executable: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let per_key = |(peak, keys): (u64, u64)| peak as f64 * 1024.0 / keys.max(1) as f64;
    let (r1, r4) = (
        reference_child(&exe, 1, None, batch),
        reference_child(&exe, 4, None, batch),
    );
    if let (Some(a), Some(b)) = (r1, r4) {
        outln!(
            "  as given: keys per instance x{:.2}, peak memory x{:.2}, {:.0} -> {:.0} bytes of peak per key",
            b.1 as f64 / a.1.max(1) as f64,
            b.0 as f64 / a.0.max(1) as f64,
            per_key(a),
            per_key(b)
        );
    }
    let (s1, s4) = (
        reference_child(&exe, 1, Some(SATURATED_KEYS), batch),
        reference_child(&exe, 4, Some(SATURATED_KEYS), batch),
    );
    match (s1, s4) {
        (Some(a), Some(b)) => {
            let ratio = b.0 as f64 / a.0.max(1) as f64;
            let flat = ratio <= FLAT_MEMORY_RATIO;
            outln!(
                "  saturated ({SATURATED_KEYS} keys per kind): peak memory 4 h / 1 h = {ratio:.3} (limit {FLAT_MEMORY_RATIO}): {}",
                if flat {
                    "flat, memory does not grow with simulated duration"
                } else {
                    "GROWS with simulated duration"
                }
            );
            if flat { EXIT_OK } else { EXIT_DIVERGED }
        }
        _ => EXIT_BAD_INPUT,
    }
}

/// `--batch-window`, read: `Ok(None)` when not given, `Err(exit code)` when not valid.
pub(crate) fn batch_window(raw: Option<&str>) -> Result<Option<SimDuration>, i32> {
    let Some(raw) = raw else { return Ok(None) };
    match crate::scenario::units::parse_duration(raw) {
        Some(d) if d <= SimDuration::from_secs(1) => Ok(Some(d)),
        _ => {
            eprintln!(
                "error: --batch-window {raw:?}: expected a duration from \"0s\" to \"1s\", e.g. 10ms"
            );
            Err(EXIT_BAD_INPUT)
        }
    }
}

/// `reference`: also run the reference scenario, with this batch window if any.
pub(crate) fn bench(
    quick: bool,
    scenario_path: &Path,
    reference: Option<Option<SimDuration>>,
) -> i32 {
    let delays = delay_table();
    let steps: u64 = if quick { 1_000_000 } else { 10_000_000 };
    let reps = 3;
    outln!(
        "geosim bench ({} mode, median of {reps} interleaved repetitions)",
        if quick { "quick" } else { "full" }
    );
    outln!(
        "engine hold model: events/s, engine (run loop + digest) vs a bare BinaryHeap hold loop"
    );
    for pending in [1_000usize, 100_000] {
        let (mut bare, mut eng) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            bare.push(timed(steps, || bare_heap_hold(pending, steps, &delays)));
            eng.push(timed(steps, || engine_hold(pending, steps, &delays)));
        }
        let best = best_rate(&eng) / best_rate(&bare);
        let (b, e) = (median(bare), median(eng));
        outln!(
            "  pending {pending:>7}: engine {:>7.2} M/s, bare heap {:>7.2} M/s, ratio {:.2} (best runs {best:.2}; target >= 0.60)",
            e / 1e6,
            b / 1e6,
            e / b
        );
    }
    outln!("merge core: replicated ops applied per second at a peer (median)");
    let n = if quick { 20_000 } else { 100_000 };
    for (name, template) in crate::redis::bench::KINDS {
        let ops = crate::redis::bench::ops_for(template, n);
        let rates: Vec<f64> = (0..reps)
            .map(|_| n as f64 / crate::redis::bench::apply_all(&ops).as_secs_f64())
            .collect();
        outln!("  {name:<14} {:>8.2} M ops/s", median(rates) / 1e6);
    }
    let scenario_path = match bundled_file(scenario_path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: cannot write a copy of {}: {e}",
                scenario_path.display()
            );
            return EXIT_BAD_INPUT;
        }
    };
    let scenario_path = scenario_path.as_path();
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
    outln!("scenario {}:", s.file);
    outln!(
        "  {} writes, {} events, {:.3} s simulated in {:.3} s wall (median)",
        writes,
        r.events,
        r.stopped_at.as_secs_f64(),
        wall
    );
    outln!(
        "  {:.0} simulated writes per wall second, {:.0} events/s, {:.1}x real time",
        writes as f64 / wall,
        r.events as f64 / wall,
        r.stopped_at.as_secs_f64() / wall
    );
    let code = sweep_speedup(scenario_path, if quick { 1 } else { reps });
    if code != EXIT_OK {
        return code;
    }
    draws::draw_floor(quick, reps);
    floor::pipeline_floor(quick, reps);
    let code = sampled_speedup(if quick { 30 } else { 120 }, if quick { 1 } else { reps });
    if code != EXIT_OK {
        return code;
    }
    if let Some(batch) = reference {
        return reference_runs(batch);
    }
    EXIT_OK
}

/// `geosim bench --floor`: the draw floor and the sampled pipeline floor only.
pub(crate) fn floors(quick: bool) -> i32 {
    let reps = 3;
    draws::draw_floor(quick, reps);
    floor::pipeline_floor(quick, reps);
    EXIT_OK
}

/// Sampled fidelity against exact on the peer scenario (3 × 16 shards, 10k writes/s) for
/// `secs` simulated seconds, interleaved; the figure is their ratio. Both runs must give the
/// same trace digest (the same events in the same order) and the same stream bytes.
fn sampled_speedup(secs: u64, reps: usize) -> i32 {
    let load = |fidelity: &str| {
        let text = PEER_TOML.replace(
            "duration = \"300s\"",
            &format!("duration = \"{secs}s\"\nfidelity = \"{fidelity}\""),
        );
        scenario::parse(&text, "benches/peer.toml", &LoadOptions::default())
    };
    let (exact, sampled) = match (load("exact"), load("sampled")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (mut e_walls, mut s_walls) = (Vec::new(), Vec::new());
    let mut digests = Vec::new();
    for _ in 0..reps {
        for (s, walls) in [(&exact, &mut e_walls), (&sampled, &mut s_walls)] {
            let start = Instant::now(); // Benchmark timing, outside any simulated run.
            let (r, _) = run_scenario(s);
            walls.push(start.elapsed().as_secs_f64());
            let bytes: u64 = r.peers.iter().map(|p| p.stream_bytes).sum();
            digests.push((r.trace_digest, bytes));
        }
    }
    if digests.windows(2).any(|w| w[0] != w[1]) {
        eprintln!("error: the sampled run's events or stream bytes differ from the exact run's");
        return EXIT_DIVERGED;
    }
    let best = best_time(&e_walls) / best_time(&s_walls);
    let (a, b) = (median(e_walls), median(s_walls));
    outln!(
        "sampled fidelity (benches/peer.toml, {secs} s simulated, 1/64): exact {a:.2} s, sampled {b:.2} s, speed-up {:.2} (best runs {best:.2}); same events and stream bytes",
        a / b
    );
    EXIT_OK
}

/// Cells in the parallel-sweep figure: 16 seeds of the benchmark scenario.
const SWEEP_CELLS: u64 = 16;

/// The same 16-cell sweep on one thread and on two, interleaved; the speed-up is their ratio
/// (target >= 1.8 on two cores). The two sweeps must produce identical results.
fn sweep_speedup(path: &Path, reps: usize) -> i32 {
    let seeds: Vec<u64> = (1..=SWEEP_CELLS).collect();
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let mut outputs = Vec::new();
        for (threads, walls) in [(1, &mut one), (2, &mut two)] {
            let start = Instant::now(); // Benchmark timing, outside any simulated run.
            match crate::sweep::run_sweep(path, &[], &seeds, threads) {
                Ok(cells) => outputs.push(
                    cells
                        .iter()
                        .map(|c| c.summary.to_json())
                        .collect::<Vec<_>>(),
                ),
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_BAD_INPUT;
                }
            }
            walls.push(start.elapsed().as_secs_f64());
        }
        if outputs[0] != outputs[1] {
            eprintln!("error: the sweep's results differ between -j 1 and -j 2");
            return EXIT_DIVERGED;
        }
    }
    let best = best_time(&one) / best_time(&two);
    let (a, b) = (median(one), median(two));
    outln!(
        "sweep of {SWEEP_CELLS} cells ({} seeds 1..{SWEEP_CELLS}): -j 1 {a:.2} s, -j 2 {b:.2} s, speed-up {:.2} (best runs {best:.2}; target >= 1.80 on 2 cores; this machine has {} logical CPUs); results identical",
        path.display(),
        a / b,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_finds_its_bundled_files_from_any_directory() {
        // In the checkout (the tests' working directory), the file itself; a path that is not
        // a bundled file, as it is.
        let here = Path::new("benches/peer.toml");
        assert_eq!(bundled_file(here).unwrap(), here);
        let other = std::env::temp_dir().join("nowhere/peer.toml");
        assert_eq!(bundled_file(&other).unwrap(), other);
        // Outside it, the embedded copy, written where a run can read it.
        for name in [
            "benches/reference.toml",
            "benches/peer.toml",
            "scenarios/01-two-regions-steady.toml",
        ] {
            let text = embedded(Path::new(name)).expect("embedded");
            assert_eq!(
                std::fs::read_to_string(name).unwrap(),
                text,
                "{name} is embedded as it is"
            );
            let copy = copy_of(Path::new(name), text).unwrap();
            assert_ne!(copy, Path::new(name));
            let s = scenario::load(&copy, &LoadOptions::default()).unwrap();
            assert!(s.config.duration.0 > 0, "{name}");
            std::fs::remove_file(copy).unwrap();
        }
    }
}
