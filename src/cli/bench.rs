//! `geosim bench`: figures measured against a baseline taken in the same run, because these
//! machines are shared and noisy. Wall-clock time is read here, outside any simulation run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::time::Instant; // Benchmark timing only; never inside a simulation run.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::engine::{
    Digest, EventQueue, Model, RunLimits, Scheduler, SimDuration, SimTime, dist, run_until,
    stream_for,
};
use crate::report::run_scenario;
use crate::scenario::{self, LoadOptions};

/// Exponential delays with a 1 ms mean, precomputed so that only the queue is measured.
fn delay_table() -> Vec<u64> {
    let mut r = stream_for(0, "bench/delays");
    (0..65_536)
        .map(|_| (dist::exponential(&mut r, 1e6) as u64).max(1))
        .collect()
}

/// The bare baseline: a binary heap of `(time, seq, payload index)` with the same hold loop.
fn bare_heap_hold(pending: usize, steps: u64, delays: &[u64]) -> f64 {
    let mut heap = BinaryHeap::with_capacity(pending + 1);
    let mut seq = 0u64;
    for i in 0..pending {
        heap.push(Reverse((delays[i % delays.len()], seq, i as u32)));
        seq += 1;
    }
    let mut k = 0usize;
    let mut hold = |heap: &mut BinaryHeap<Reverse<(u64, u64, u32)>>, n: u64| {
        for _ in 0..n {
            let Reverse((t, _, p)) = heap.pop().expect("pending events");
            k = (k + 1) & (delays.len() - 1);
            heap.push(Reverse((t + delays[k], seq, p)));
            seq += 1;
        }
    };
    hold(&mut heap, 2 * pending as u64);
    let start = Instant::now();
    hold(&mut heap, steps);
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(heap.len());
    steps as f64 / secs
}

/// The engine: `run_until` with a model that reschedules every event (digest folding included).
struct Hold<'a> {
    delays: &'a [u64],
    k: usize,
}

impl Model for Hold<'_> {
    type Event = u32;
    fn handle(&mut self, ev: u32, q: &mut Scheduler<u32>) {
        self.k = (self.k + 1) & (self.delays.len() - 1);
        q.schedule_in(SimDuration(self.delays[self.k]), ev);
    }
    fn digest_event(&self, ev: &u32, d: &mut Digest) {
        d.word(*ev as u64);
    }
}

fn engine_hold(pending: usize, steps: u64, delays: &[u64]) -> f64 {
    let mut model = Hold { delays, k: 0 };
    let mut q = EventQueue::new();
    for i in 0..pending {
        q.schedule(SimTime(delays[i % delays.len()]), i as u32);
    }
    let mut d = Digest::new();
    let limits = |n| RunLimits {
        end: SimTime::MAX,
        max_events: n,
    };
    run_until(&mut model, &mut q, limits(2 * pending as u64), &mut d);
    let start = Instant::now();
    run_until(&mut model, &mut q, limits(steps), &mut d);
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(d.value());
    steps as f64 / secs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn bench(quick: bool, scenario_path: &Path) -> i32 {
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
            bare.push(bare_heap_hold(pending, steps, &delays));
            eng.push(engine_hold(pending, steps, &delays));
        }
        let (b, e) = (median(bare), median(eng));
        println!(
            "  pending {pending:>7}: engine {:>7.2} M/s, bare heap {:>7.2} M/s, ratio {:.2} (target >= 0.60)",
            e / 1e6,
            b / 1e6,
            e / b
        );
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
        let start = Instant::now();
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
    EXIT_OK
}
