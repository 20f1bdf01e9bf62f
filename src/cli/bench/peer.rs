//! `geosim bench --peer`: geosim against the SimPy model of the same system, side by side on
//! one machine (`benches/peer.toml` and `geo_simpy.py --duration 300 --link-model inline`),
//! interleaved, each process timed by GNU time: CPU seconds (user + system) and peak memory.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::super::{EXIT_BAD_INPUT, EXIT_OK, outln};
use super::median;

/// The target of the performance issue: geosim at least this many times faster in CPU time.
const CPU_RATIO_TARGET: f64 = 30.0;

/// The SimPy model's syncers pull every 10 ms (its `--batch-interval`): geosim's batch
/// window of the same length is the like-for-like comparison, printed next to the per-op one.
const PEER_BATCH: &str = "10ms";

/// CPU seconds and peak resident KiB of one process.
#[derive(Clone, Copy, Debug)]
struct Cost {
    cpu_s: f64,
    max_rss_kib: u64,
}

/// Runs `program args` under `/usr/bin/time`, discarding its output; its cost, or why not.
fn timed_run(program: &Path, args: &[&str]) -> Result<Cost, String> {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("#cost %U %S %M")
        .arg(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time: {e}"))?;
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .rev()
        .find(|l| l.starts_with("#cost "))
        .ok_or_else(|| format!("{} printed no timing: {err}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {} failed: {err}",
            program.display(),
            args.join(" ")
        ));
    }
    let f: Vec<&str> = line.split_whitespace().skip(1).collect();
    let num = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok());
    match (num(0), num(1), num(2)) {
        (Some(u), Some(s), Some(m)) => Ok(Cost {
            cpu_s: u + s,
            max_rss_kib: m as u64,
        }),
        _ => Err(format!("unreadable timing line: {line}")),
    }
}

/// Why the SimPy side cannot run here, if it cannot.
fn simpy_missing(dir: &Path) -> Option<String> {
    if !dir.join("geo_simpy.py").is_file() {
        return Some(format!(
            "{} has no geo_simpy.py (give its folder with --simpy DIR)",
            dir.display()
        ));
    }
    let ok = Command::new("python3")
        .args(["-c", "import simpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return Some("python3 with simpy is not available (pip install simpy)".into());
    }
    if !Path::new("/usr/bin/time").is_file() {
        return Some("/usr/bin/time (GNU time) is not installed".into());
    }
    None
}

/// Runs the comparison `reps` times, interleaved; prints each run, the medians and the
/// ratios against the targets. Exit 0 when it ran (whatever the ratios), 2 when it could not.
pub(crate) fn peer(simpy_dir: &Path, reps: usize) -> i32 {
    outln!(
        "side by side with the SimPy model (benches/peer.toml, 300 simulated s, {reps} interleaved run(s) each):"
    );
    if let Some(why) = simpy_missing(simpy_dir) {
        outln!("  skipped: {why}");
        return EXIT_OK;
    }
    let me: PathBuf = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find this program: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let script = simpy_dir.join("geo_simpy.py");
    let script = script.to_string_lossy();
    let python = PathBuf::from("python3");
    let python = which(&python).unwrap_or(python);
    let peer_toml = match super::bundled_file(Path::new("benches/peer.toml")) {
        Ok(p) => p.to_string_lossy().into_owned(),
        Err(e) => {
            eprintln!("error: cannot write a copy of benches/peer.toml: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (mut ours, mut batched, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    let batch = format!("replication.batch_window={PEER_BATCH}");
    for r in 1..=reps {
        let g = timed_run(&me, &["run", &peer_toml]);
        let b = timed_run(&me, &["run", &peer_toml, "--set", &batch]);
        let p = timed_run(
            &python,
            &[
                &script,
                "--duration",
                "300",
                "--link-model",
                "inline",
                "--json",
            ],
        );
        match (g, b, p) {
            (Ok(g), Ok(b), Ok(p)) => {
                outln!(
                    "  run {r}: geosim {:.2} s CPU, {} MiB; geosim batched {:.2} s CPU, {} MiB; SimPy {:.2} s CPU, {} MiB",
                    g.cpu_s,
                    g.max_rss_kib / 1024,
                    b.cpu_s,
                    b.max_rss_kib / 1024,
                    p.cpu_s,
                    p.max_rss_kib / 1024
                );
                ours.push(g);
                batched.push(b);
                theirs.push(p);
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let cpu = |v: &[Cost]| median(v.iter().map(|c| c.cpu_s).collect());
    let mem = |v: &[Cost]| median(v.iter().map(|c| c.max_rss_kib as f64).collect());
    let met = |ok: bool| if ok { "met" } else { "not met" };
    for (what, v) in [
        ("every op on its own (as given)", &ours),
        (
            "batched as the SimPy model pulls (replication.batch_window = 10ms)",
            &batched,
        ),
    ] {
        let ratio = cpu(&theirs) / cpu(v).max(1e-9);
        let memory = mem(v) / mem(&theirs).max(1.0);
        outln!(
            "  geosim, {what}: {ratio:.1}x faster in CPU time (medians; target >= {CPU_RATIO_TARGET}x: {}), with {memory:.2}x the SimPy model's memory (target <= 1: {})",
            met(ratio >= CPU_RATIO_TARGET),
            met(memory <= 1.0)
        );
    }
    EXIT_OK
}

/// The full path of `program` on `PATH` (so that GNU time runs the same interpreter).
fn which(program: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
