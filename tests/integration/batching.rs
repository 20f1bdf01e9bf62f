//! Batched sending (`replication.batch_window`): fewer events, the same final state, lag
//! within the window, deterministic.

use geosim::check::Verdict;
use geosim::engine::SimDuration;
use geosim::sim::run_scenario;

/// Three clusters at 3,000 writes/s over 4 shards each (about 190 ops/s per session), a
/// lognormal 60 ms link: `BATCH` is the batch window.
const BATCHED: &str = r#"
[run]
seed = 11
duration = "20s"
[[cluster]]
name = "a"
shards = 4
[[cluster]]
name = "b"
shards = 4
[[cluster]]
name = "c"
shards = 4
[network]
latency = { dist = "lognormal", median = "60ms", sigma = 0.25 }
[replication]
batch_window = "BATCH"
[workload]
rate = "3k/s"
keys = 5000
[workload.mix]
set = 0.8
incr = 0.2
"#;

#[test]
fn batched_sending_takes_fewer_events_and_reaches_the_same_state_with_lag_within_the_window() {
    let run = |w: &str| run_scenario(&super::inline(&BATCHED.replace("BATCH", w)));
    let (alone, ca) = run("0s");
    let (batched, cb) = run("10ms");
    assert_eq!(ca.verdict, Verdict::Converged);
    assert_eq!(cb.verdict, Verdict::Converged);
    // The same writes, every op applied at every peer, and the same final state (last-write-
    // wins goes by the writes' clocks, not by when they arrive).
    let applied = |r: &geosim::check::RunResult| -> Vec<u64> {
        r.peers.iter().map(|p| p.ops_applied).collect()
    };
    assert_eq!(applied(&alone), applied(&batched));
    assert_eq!(alone.instance_digests, batched.instance_digests);
    // Ops of one batch share one delivery: about three per batch at this rate.
    assert!(
        batched.events * 10 < alone.events * 7,
        "{} events batched against {} alone",
        batched.events,
        alone.events
    );
    // An op waits at most the window more; fewer independent draws hold each other up less.
    for (a, b) in alone.peers.iter().zip(&batched.peers) {
        let (pa, pb) = (a.lag.quantile(0.5).unwrap(), b.lag.quantile(0.5).unwrap());
        let window = SimDuration::from_millis(10).0;
        assert!(
            pb <= pa + window && pb + window >= pa,
            "p50 {pa} -> {pb} ns"
        );
    }
}

#[test]
fn a_batched_run_is_deterministic() {
    let s = super::inline(&BATCHED.replace("BATCH", "5ms"));
    let (a, _) = run_scenario(&s);
    let (b, _) = run_scenario(&s);
    assert_eq!(a.trace_digest, b.trace_digest);
    assert_eq!(a.events, b.events);
}
