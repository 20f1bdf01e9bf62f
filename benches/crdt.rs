//! Criterion benchmarks of the merge core: replicated ops applied per second, per data type.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geosim::redis::bench::{KINDS, apply_all, ops_for};

fn apply(c: &mut Criterion) {
    let n = 20_000;
    let mut g = c.benchmark_group("apply");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    for (name, template) in KINDS {
        let ops = ops_for(template, n);
        g.bench_with_input(BenchmarkId::from_parameter(name), &ops, |b, ops| {
            b.iter_custom(|iters| (0..iters).map(|_| apply_all(ops)).sum())
        });
    }
    g.finish();
}

criterion_group!(benches, apply);
criterion_main!(benches);
