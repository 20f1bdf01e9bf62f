//! `geosim bench --scaling`: how the cost of an exact run grows. At a fixed write rate and
//! keyspace, the cost per write should not grow with simulated duration (nothing is held per
//! event); at a fixed duration, the cost should grow linearly with the write rate. Each point
//! is the median of interleaved repetitions; the figures are ratios to the first point of
//! each series, measured in the same run, because these machines are shared and noisy.

use std::path::Path;
use std::time::Instant; // Benchmark timing only; never inside a simulation run.

use super::super::{EXIT_BAD_INPUT, EXIT_OK, outln};
use super::median;
use crate::engine::SimDuration;
use crate::report::plot::{SweepChart, Unit, write_sweep_chart};
use crate::scenario::{self, LoadOptions, Scenario};
use crate::sim::run_scenario;

/// The scenario measured: the side-by-side peer scenario (3 clusters × 16 shards, 100k keys
/// per kind, 10k writes/s), embedded so that the bench runs from any directory.
use super::PEER_TOML;

/// One measured point: the scenario's duration and rate, and its median wall time.
struct Point {
    duration_s: u64,
    rate: f64,
    writes: u64,
    wall_s: f64,
}

impl Point {
    fn us_per_write(&self) -> f64 {
        self.wall_s * 1e6 / self.writes.max(1) as f64
    }
}

fn variant(base: &Scenario, duration_s: u64, rate: f64) -> Scenario {
    let mut s = base.clone();
    s.config.duration = SimDuration::from_secs(duration_s);
    if let Some(w) = s.config.workload.as_mut() {
        w.rate_per_sec = rate;
    }
    s
}

/// Runs every variant `reps` times, interleaved (one of each, then again), and returns each
/// one's median wall time.
fn measure(base: &Scenario, grid: &[(u64, f64)], reps: usize) -> Vec<Point> {
    let mut walls = vec![Vec::new(); grid.len()];
    let mut writes = vec![0; grid.len()];
    for _ in 0..reps {
        for (i, &(d, r)) in grid.iter().enumerate() {
            let s = variant(base, d, r);
            let start = Instant::now(); // Benchmark timing, outside the simulated run.
            let (result, _) = run_scenario(&s);
            walls[i].push(start.elapsed().as_secs_f64());
            writes[i] = result.clusters.iter().map(|c| c.writes).sum();
        }
    }
    grid.iter()
        .zip(walls)
        .zip(writes)
        .map(|((&(duration_s, rate), w), writes)| Point {
            duration_s,
            rate,
            writes,
            wall_s: median(w),
        })
        .collect()
}

fn print_series(title: &str, points: &[Point]) {
    outln!("{title}");
    let first = points[0].us_per_write();
    for p in points {
        outln!(
            "  {:>5} s at {:>6.0} writes/s: {:>9} writes in {:>6.2} s wall = {:>5.2} µs per write ({:.2}x the first point's cost per write)",
            p.duration_s,
            p.rate,
            p.writes,
            p.wall_s,
            p.us_per_write(),
            p.us_per_write() / first
        );
    }
}

fn chart(title: &str, x_desc: &str, labels: Vec<String>, points: &[Point]) -> SweepChart {
    SweepChart {
        title: title.to_string(),
        x_desc: x_desc.to_string(),
        y_desc: "wall time per write".to_string(),
        unit: Unit::Micros,
        x_labels: labels,
        lines: vec![(
            "µs per write".to_string(),
            points.iter().map(|p| Some(p.us_per_write())).collect(),
        )],
    }
}

/// `geosim bench --scaling [--quick] --out DIR`: prints both series and writes
/// `DIR/scaling.csv` and the charts `DIR/scaling-duration.{svg,png}` and
/// `DIR/scaling-rate.{svg,png}`.
pub(crate) fn scaling(out: &Path, quick: bool) -> i32 {
    let base = match scenario::parse(PEER_TOML, "benches/peer.toml", &LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Err(e) = std::fs::create_dir_all(out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return EXIT_BAD_INPUT;
    }
    // Durations at 10k writes/s, then rates over 150 s (a fifth of both with --quick). The
    // keyspace (100k keys per kind) fills in the first ~30 s at 10k writes/s.
    let (scale, reps) = if quick { (5, 1) } else { (1, 3) };
    let durations: Vec<(u64, f64)> = [75, 150, 300, 600]
        .iter()
        .map(|d| (d / scale, 10_000.0))
        .collect();
    let rates: Vec<(u64, f64)> = [2_500.0, 5_000.0, 10_000.0, 20_000.0]
        .iter()
        .map(|&r| (150 / scale, r))
        .collect();
    outln!(
        "geosim bench --scaling (benches/peer.toml: 3 clusters x 16 shards, 100k keys per kind; median of {reps} interleaved run(s))"
    );
    let by_duration = measure(&base, &durations, reps);
    print_series(
        "cost per write vs simulated duration, 10k writes/s:",
        &by_duration,
    );
    let by_rate = measure(&base, &rates, reps);
    print_series(
        &format!("cost per write vs write rate, {} s:", 150 / scale),
        &by_rate,
    );
    let mut csv = String::from("series,duration_s,rate_per_s,writes,wall_s,us_per_write\n");
    for (series, points) in [("duration", &by_duration), ("rate", &by_rate)] {
        for p in points {
            csv.push_str(&format!(
                "{series},{},{},{},{:.4},{:.4}\n",
                p.duration_s,
                p.rate,
                p.writes,
                p.wall_s,
                p.us_per_write()
            ));
        }
    }
    let csv_path = out.join("scaling.csv");
    if let Err(e) = std::fs::write(&csv_path, csv) {
        eprintln!("error: cannot write {}: {e}", csv_path.display());
        return EXIT_BAD_INPUT;
    }
    let charts = [
        (
            "scaling-duration",
            chart(
                "Cost per write vs simulated duration (10k writes/s, 100k keys per kind)",
                "simulated duration [s]",
                by_duration
                    .iter()
                    .map(|p| p.duration_s.to_string())
                    .collect(),
                &by_duration,
            ),
        ),
        (
            "scaling-rate",
            chart(
                &format!(
                    "Cost per write vs write rate ({} simulated s, 100k keys per kind)",
                    150 / scale
                ),
                "writes per second",
                by_rate.iter().map(|p| format!("{:.0}", p.rate)).collect(),
                &by_rate,
            ),
        ),
    ];
    for (name, c) in &charts {
        if let Err(e) = write_sweep_chart(out, name, c) {
            eprintln!("error: cannot draw {name}: {e}");
            return EXIT_BAD_INPUT;
        }
    }
    outln!(
        "wrote {}, scaling-duration.svg/png and scaling-rate.svg/png in {}",
        csv_path.display(),
        out.display()
    );
    EXIT_OK
}
