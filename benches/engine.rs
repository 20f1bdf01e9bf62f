//! Criterion benchmarks of the engine's hold model against a bare `BinaryHeap` hold loop, at
//! 1e3 and 1e5 pending events. `geosim bench` prints the same comparison as a ratio measured
//! in one run; criterion adds confidence intervals.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geosim::engine::hold::{bare_heap_hold, delay_table, engine_hold};

fn hold(c: &mut Criterion) {
    let delays = delay_table();
    let steps = 200_000u64;
    let mut g = c.benchmark_group("hold");
    g.throughput(Throughput::Elements(steps));
    g.sample_size(10);
    for pending in [1_000usize, 100_000] {
        g.bench_with_input(BenchmarkId::new("bare_heap", pending), &pending, |b, &p| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| bare_heap_hold(p, steps, &delays))
                    .sum::<Duration>()
            })
        });
        g.bench_with_input(BenchmarkId::new("engine", pending), &pending, |b, &p| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| engine_hold(p, steps, &delays))
                    .sum::<Duration>()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
