//! The hold model, the classic event-queue benchmark: N events are pending; each step pops
//! the earliest and schedules one new event at `t + Exp(mean 1 ms)`. Used by `geosim bench`
//! and `benches/engine.rs` to compare the engine with a bare `BinaryHeap` (the baseline of
//! `shared/bench-baseline/`). Each function warms up with 2N untimed steps, then returns the
//! wall time of `steps` timed steps. Wall time is read here only, never inside a run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::{
    Digest, EventQueue, Model, RunLimits, Scheduler, SimDuration, SimTime, dist, run_until,
    stream_for,
};

/// 65,536 exponential delays with a 1 ms mean, precomputed so that only the queue is measured.
pub fn delay_table() -> Vec<u64> {
    let mut r = stream_for(0, "bench/delays");
    (0..65_536)
        .map(|_| (dist::exponential(&mut r, 1e6) as u64).max(1))
        .collect()
}

/// The bare baseline: a binary heap of `(time, seq, payload index)` entries.
pub fn bare_heap_hold(pending: usize, steps: u64, delays: &[u64]) -> Duration {
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
    let start = Instant::now(); // Benchmark timing, outside any simulated run.
    hold(&mut heap, steps);
    let elapsed = start.elapsed();
    std::hint::black_box(heap.len());
    elapsed
}

/// A model that reschedules every event it handles.
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

/// The engine: `run_until` over an [`EventQueue`], trace digest included.
pub fn engine_hold(pending: usize, steps: u64, delays: &[u64]) -> Duration {
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
    let start = Instant::now(); // Benchmark timing, outside any simulated run.
    run_until(&mut model, &mut q, limits(steps), &mut d);
    let elapsed = start.elapsed();
    std::hint::black_box(d.value());
    elapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_table_is_full_and_positive() {
        let delays = delay_table();
        assert_eq!(delays.len(), 65_536);
        assert!(delays.iter().all(|d| *d >= 1));
    }
}
