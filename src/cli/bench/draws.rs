//! `geosim bench`'s draw floor: what the random draws of one generated write cost, against
//! the cheapest draw there is (one ChaCha8 word) measured in the same run.
//!
//! A generated write draws its gap, its key (Zipf) and its kind; the latency of its trips
//! is drawn once per `network.latency_interval` per link direction and shared. However the
//! rest of a run is organised, a run that keeps the exact run's random process makes these
//! draws for every write, sampled or not: this is the floor under the cost of a sampled
//! write, and what a target per write must be compared with.

use std::time::Instant; // Benchmark timing only; never inside a simulation run.

use super::super::outln;
use super::{TARGET_WORDS_PER_WRITE, median};
use crate::engine::dist::{self, Zipf};
use crate::engine::{SimDuration, stream_for};
use crate::model::net::LatencyDist;

/// One measured kind of draw: its name and a loop making `n` of them, returning a value
/// the optimiser must keep.
type Draw = (&'static str, fn(u64) -> f64);

const DRAWS: [Draw; 5] = [
    ("one ChaCha8 word (the baseline)", |n| {
        let mut r = stream_for(1, "bench/draws");
        (0..n).fold(0u64, |a, _| a ^ rand::Rng::next_u64(&mut r)) as f64
    }),
    ("gap (exponential)", |n| {
        let mut r = stream_for(1, "bench/draws");
        (0..n).map(|_| dist::exponential(&mut r, 3e-4)).sum()
    }),
    ("key (Zipf, 1 M keys, s = 0.99)", |n| {
        let mut r = stream_for(1, "bench/draws");
        let z = Zipf::new(1_000_000, 0.99);
        (0..n).map(|_| z.sample(&mut r)).sum::<u64>() as f64
    }),
    ("kind (one uniform)", |n| {
        let mut r = stream_for(1, "bench/draws");
        (0..n).map(|_| dist::unit(&mut r)).sum()
    }),
    ("latency (lognormal, 80 ms, sigma 0.2)", |n| {
        let mut r = stream_for(1, "bench/draws");
        let d = LatencyDist::LogNormal {
            median: SimDuration::from_millis(80),
            sigma: 0.2,
        };
        (0..n).map(|_| d.sample(&mut r).0 as f64).sum()
    }),
];

/// How many of each draw one write of the reference scenario makes: a gap, a key, a kind,
/// and its share of the latency draws: each of the 6 link directions carries 10,000 × 2 / 6
/// ops a second and draws 100 times a second (10 ms intervals), so 600 draws per 10,000
/// writes (before `latency_interval`, two per write).
const PER_WRITE: [f64; 5] = [0.0, 1.0, 1.0, 1.0, 0.06];

/// Prints each draw's cost in nanoseconds and in baseline words, and the sum one write
/// makes, with `reps` interleaved repetitions of `n` draws each.
pub(crate) fn draw_floor(quick: bool, reps: usize) {
    let n: u64 = if quick { 2_000_000 } else { 20_000_000 };
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); DRAWS.len()];
    for _ in 0..reps {
        for (i, (_, f)) in DRAWS.iter().enumerate() {
            let start = Instant::now(); // Benchmark timing, outside any simulated run.
            std::hint::black_box(f(std::hint::black_box(n)));
            ns[i].push(start.elapsed().as_secs_f64() * 1e9 / n as f64);
        }
    }
    let ns: Vec<f64> = ns.into_iter().map(median).collect();
    let base = ns[0];
    outln!("draw floor: the random draws of one generated write (median of {reps}, {n} each)");
    for (i, (name, _)) in DRAWS.iter().enumerate() {
        outln!(
            "  {name:<40} {:>6.1} ns = {:>5.1} words",
            ns[i],
            ns[i] / base
        );
    }
    let per_write: f64 = ns.iter().zip(PER_WRITE).map(|(t, k)| t * k).sum();
    outln!(
        "  one write's draws (gap, key, kind, 0.06 latencies): {per_write:.0} ns = {:.0} words, {:.1}x the sampled target's {TARGET_WORDS_PER_WRITE:.0} words a write",
        per_write / base,
        per_write / base / TARGET_WORDS_PER_WRITE
    );
}
