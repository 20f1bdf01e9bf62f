//! End-to-end replication: partitions, heals, backlogs, convergence.

use geosim::check::Verdict;
use geosim::engine::{SimDuration, SimTime};
use geosim::sim::Simulation;
use geosim::sim::run_scenario;

#[test]
fn scenario_02_differs_during_the_partition_and_converges_after_the_heal() {
    let s = super::bundled("02-partition-and-heal.toml", None);
    let mut sim = Simulation::new(s.config.clone());
    // Mid-partition (60 s .. 180 s): us-east has not seen the others' writes, nor they its.
    sim.run_until(SimTime::ZERO + SimDuration::from_secs(150));
    let us = sim.world().instance_digest(0);
    let eu = sim.world().instance_digest(1);
    let ap = sim.world().instance_digest(2);
    assert_ne!(us, eu, "us-east and eu-west must differ while partitioned");
    assert_ne!(us, ap);

    let (r, c) = run_scenario(&s);
    assert_eq!(c.verdict, Verdict::Converged);
    assert!(
        r.instance_digests
            .iter()
            .all(|d| *d == r.instance_digests[0])
    );
    // Every syncer whose connection dropped resumed with a partial sync: us-east has 2 shards
    // feeding each of 2 peers (4) and pulls from eu-west's 2 shards and ap-south's 1 (3).
    let partial: u64 = r.peers.iter().map(|p| p.partial_syncs).sum();
    let full: u64 = r.peers.iter().map(|p| p.full_syncs).sum();
    assert_eq!(partial, 7);
    assert_eq!(full, 0);
    let heal = &r.heals[0];
    assert_eq!(heal.healed_at, SimTime::ZERO + SimDuration::from_secs(180));
    let caught_up = heal.caught_up_after.expect("caught up before the end");
    assert!(caught_up <= SimDuration::from_secs(3), "{caught_up}");
}

const OVERFLOW: &str = r#"
[run]
seed = 3
duration = "2m"
[whatif]
allow_any_backlog_size = true
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[network]
latency = "20ms"
[replication]
backlog_size = "BACKLOG"
[workload]
rate = "500/s"
keys = 1000
[[fault]]
kind = "partition"
begin = "10s"
duration = "30s"
links = [["a", "b"]]
"#;

#[test]
fn backlog_overflow_forces_a_full_sync_and_the_instances_still_converge() {
    // 30 s × 250 writes/s per side × ~300 B ≈ 2.2 MB per stream: a 256 KB backlog overflows.
    let s = super::inline(&OVERFLOW.replace("BACKLOG", "256KB"));
    assert_eq!(s.warnings.len(), 1, "the what-if switch is warned about");
    let (r, c) = run_scenario(&s);
    assert_eq!(c.verdict, Verdict::Converged);
    let full: u64 = r.peers.iter().map(|p| p.full_syncs).sum();
    let partial: u64 = r.peers.iter().map(|p| p.partial_syncs).sum();
    let snapshot: u64 = r.peers.iter().map(|p| p.snapshot_bytes).sum();
    assert_eq!((full, partial), (2, 0));
    assert!(snapshot > 0);

    // The same partition with a backlog that holds it: partial syncs only.
    let s = super::inline(&OVERFLOW.replace("BACKLOG", "16MB"));
    let (r, c) = run_scenario(&s);
    assert_eq!(c.verdict, Verdict::Converged);
    let full: u64 = r.peers.iter().map(|p| p.full_syncs).sum();
    let partial: u64 = r.peers.iter().map(|p| p.partial_syncs).sum();
    assert_eq!((full, partial), (0, 2));
}

#[test]
fn a_snapshot_slower_than_the_backlog_turns_into_a_full_sync_loop() {
    // A thin link: the snapshot of ~50k keys takes seconds, during which the other side writes
    // more than the 64 KB backlog holds, so each full sync fails until the writes stop.
    let text = r#"
[run]
seed = 5
duration = "90s"
converge_deadline = "30m"
[whatif]
allow_any_backlog_size = true
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[network]
latency = "50ms"
bandwidth = "4Mbit/s"
[replication]
backlog_size = "64KB"
[workload]
rate = "1k/s"
keys = 50000
value_size = "200B"
[[fault]]
kind = "partition"
begin = "20s"
duration = "20s"
links = [["a", "b"]]
"#;
    let s = super::inline(text);
    let (r, c) = run_scenario(&s);
    let worst = r
        .peers
        .iter()
        .map(|p| p.max_consecutive_full_sync_failures)
        .max()
        .unwrap();
    assert!(
        worst >= 2,
        "expected a full-sync loop, worst streak {worst}"
    );
    // Once writes stop, the next full sync fits and the run converges.
    assert_eq!(c.verdict, Verdict::Converged);
}

#[test]
fn writes_outpacing_the_link_make_lag_grow() {
    let text = |bw: &str| {
        format!(
            r#"
[run]
seed = 9
duration = "30s"
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[network]
latency = "10ms"
bandwidth = "{bw}"
[replication]
compression = 0
[workload]
rate = "1k/s"
clusters = ["a"]
value_size = "1KB"
"#
        )
    };
    // 1,000 writes/s of ~1 KB need ~8.3 Mbit/s: 100 Mbit/s keeps up, 4 Mbit/s cannot.
    let fast = super::inline(&text("100Mbit/s"));
    let slow = super::inline(&text("4Mbit/s"));
    let p99 = |s: &geosim::scenario::Scenario| {
        let (r, _) = run_scenario(s);
        r.peers[0].lag.quantile(0.99).unwrap()
    };
    let (f, sl) = (p99(&fast), p99(&slow));
    assert!(f < 20_000_000, "fast link p99 {f} ns");
    assert!(
        sl > 5_000_000_000,
        "thin link p99 {sl} ns: the queue must build up"
    );
}

#[test]
fn tombstones_are_kept_until_every_instance_observed_the_delete() {
    let s = super::inline(
        r#"
[run]
duration = "12s"
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[[fault]]
kind = "partition"
begin = "1s"
end = "10s"
links = [["a", "b"]]
"#,
    );
    let mut sim = Simulation::new(s.config.clone());
    let cmd = |line: &str| geosim::redis::parse_line(line).unwrap();
    sim.execute(0, &cmd("SADD s x y"));
    sim.run_until(SimTime::ZERO + SimDuration::from_secs(2));
    assert_eq!(sim.world().tombstones(1), (0, 0));
    sim.execute(0, &cmd("SREM s x"));
    sim.run_until(SimTime::ZERO + SimDuration::from_secs(8));
    // b has not seen the SREM: a must keep the removed member's history.
    assert_eq!(sim.world().tombstones(0).0, 1);
    assert_eq!(sim.world().tombstones_collected(), 0);
    let r = sim.run();
    assert!(r.tombstones.iter().all(|t| t.0 == 0), "{:?}", r.tombstones);
    assert_eq!(r.tombstones_collected, 2, "one at each instance");
    assert!(r.quiescent);
}

#[test]
fn causal_consistency_adds_n_minus_2_relays_of_ordering_metadata() {
    let text = |causal: bool| {
        format!(
            "[database]\ncausal_consistency = {causal}\n[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n[[cluster]]\nname = \"c\"\n[[step]]\non = \"a\"\ncmd = \"SET key v\"\n[[step]]\nsync = \"all\"\n"
        )
    };
    let bytes = |causal: bool| {
        let s = super::inline(&text(causal));
        assert_eq!(s.config.causal_consistency, causal);
        let (r, c) = run_scenario(&s);
        assert_eq!(c.verdict, Verdict::Converged);
        r.peers.iter().map(|p| p.stream_bytes).sum::<u64>()
    };
    let (off, on) = (bytes(false), bytes(true));
    // Two peers each receive the op; each copy carries (N − 2) = 1 relay of 8·3 + 3 bytes.
    assert_eq!(on - off, 2 * (8 * 3 + 3));
}

const STALL: &str = r#"
[run]
seed = 4
duration = "60s"
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[network]
latency = "20ms"
[replication]
backlog_size = "1MB"
timeout = "TIMEOUT"
[workload]
rate = "1k/s"
keys = 1000
[[fault]]
kind = "partition"
mode = "stall"
begin = "10s"
duration = "8s"
links = [["a", "b"]]
"#;

#[test]
fn a_stall_shorter_than_the_timeout_loses_nothing_and_needs_no_resync() {
    // 8 s at 500 writes/s per side is ~1.2 MB per stream: more than the 1 MB backlog, which
    // does not matter while the connections stay open (measured on Redis: no resync).
    let s = super::inline(&STALL.replace("TIMEOUT", "60s"));
    let (r, c) = run_scenario(&s);
    assert_eq!(c.verdict, Verdict::Converged);
    let syncs: u64 = r.peers.iter().map(|p| p.partial_syncs + p.full_syncs).sum();
    assert_eq!(syncs, 0);
    // Ops written during the stall arrived late, after it ended.
    let max_lag = r.peers.iter().map(|p| p.lag.max()).max().unwrap();
    assert!(max_lag > 7_000_000_000, "{max_lag}");
    assert_eq!(r.heals.len(), 1);
}

#[test]
fn a_stall_longer_than_the_timeout_drops_the_connections() {
    let s = super::inline(&STALL.replace("TIMEOUT", "2s"));
    let (r, c) = run_scenario(&s);
    assert_eq!(c.verdict, Verdict::Converged);
    // Dropped at 12 s; by the heal at 18 s the 1 MB backlog no longer holds 12 s of writes.
    let full: u64 = r.peers.iter().map(|p| p.full_syncs).sum();
    assert_eq!(full, 2);
}

#[test]
fn a_degraded_link_adds_latency_for_its_window_only() {
    let s = super::inline(
        r#"
[run]
duration = "30s"
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[network]
latency = "10ms"
[workload]
rate = "200/s"
[[fault]]
kind = "degrade"
begin = "10s"
duration = "10s"
links = [["a", "b"]]
latency_add = "300ms"
"#,
    );
    let (r, c) = run_scenario(&s);
    assert_eq!(c.verdict, Verdict::Converged);
    let p = &r.peers[0];
    // About a third of the ops crossed during the window.
    let p50 = p.lag.quantile(0.5).unwrap();
    let p90 = p.lag.quantile(0.9).unwrap();
    assert!(p50 < 20_000_000, "{p50}");
    assert!(p90 > 300_000_000, "{p90}");
    let syncs: u64 = r.peers.iter().map(|p| p.partial_syncs + p.full_syncs).sum();
    assert_eq!(syncs, 0, "a degraded link keeps its connections");
}

#[test]
fn compression_shrinks_wire_bytes_by_the_documented_ratio() {
    let text = |level: u8| {
        format!(
            "[run]\nduration = \"5s\"\n[[cluster]]\nname = \"a\"\n[[cluster]]\nname = \"b\"\n[replication]\ncompression = {level}\n[workload]\nrate = \"100/s\"\n"
        )
    };
    for (level, ratio) in [(0u8, 1.0), (3, 0.5), (6, 0.45)] {
        let (r, _) = run_scenario(&super::inline(&text(level)));
        let stream: u64 = r.peers.iter().map(|p| p.stream_bytes).sum();
        let wire: u64 = r.peers.iter().map(|p| p.wire_bytes).sum();
        let got = wire as f64 / stream as f64;
        assert!((got - ratio).abs() < 0.01, "level {level}: {got}");
    }
}

#[test]
fn a_centralized_syncer_bottlenecks_where_distributed_syncers_keep_up() {
    let text = |mode: &str, policy: &str| {
        format!(
            r#"
[run]
duration = "20s"
[[cluster]]
name = "a"
shards = 4
nodes = 4
[[cluster]]
name = "b"
shards = 4
nodes = 4
syncer_mode = "{mode}"
proxy_policy = "{policy}"
[network]
latency = "10ms"
[replication]
syncer_throughput = "2k/s"
[workload]
rate = "3k/s"
clusters = ["a"]
"#
        )
    };
    let p99 = |t: String| {
        let (r, c) = run_scenario(&super::inline(&t));
        assert_eq!(c.verdict, Verdict::Converged);
        r.peers
            .iter()
            .find(|p| p.src == 0)
            .unwrap()
            .lag
            .quantile(0.99)
            .unwrap()
    };
    let central = p99(text("centralized", "single"));
    let distributed = p99(text("distributed", "all-nodes"));
    // One syncer applying 2k ops/s falls behind 3k writes/s: seconds of lag after 20 s.
    assert!(central > 3_000_000_000, "centralized p99 {central} ns");
    // Four syncers (one per node with a proxy) keep up: about the link latency.
    assert!(distributed < 20_000_000, "distributed p99 {distributed} ns");
}

#[test]
fn samples_stream_sync_states_through_a_partition() {
    use geosim::model::metrics::SessionState;
    use std::cell::RefCell;
    use std::rc::Rc;
    let mut s = super::inline(&OVERFLOW.replace("BACKLOG", "256KB"));
    s.config.sample_interval = SimDuration::from_millis(10);
    let seen: Rc<RefCell<Vec<(u64, SessionState, u64)>>> = Rc::default();
    let sink_seen = seen.clone();
    let sim = Simulation::builder(s.config.clone())
        .sink(Box::new(move |layout, sample| {
            assert_eq!(layout.sessions.len(), sample.sessions.len());
            let st = sample.sessions[0];
            sink_seen
                .borrow_mut()
                .push((sample.time_ns, st.state, st.lag_ns));
        }))
        .build();
    let r = sim.run();
    let seen = seen.borrow();
    // One sample per 10 ms over the 2-minute run (and a little after).
    assert!(
        seen.len() >= 12_000 && seen.len() < 12_300,
        "{}",
        seen.len()
    );
    let at = |sec: u64| seen.iter().find(|x| x.0 == sec * 1_000_000_000).unwrap();
    assert_eq!(at(5).1, SessionState::Streaming);
    assert!(at(5).2 < 100_000_000, "lag before the partition");
    assert_eq!(at(30).1, SessionState::Disconnected);
    assert!(
        at(30).2 > 19_000_000_000,
        "20 s behind, 20 s into the partition"
    );
    assert!(
        seen.iter().any(|x| x.1 == SessionState::Full),
        "the overflow forces a full sync"
    );
    assert_eq!(seen.last().unwrap().1, SessionState::Streaming);
    assert!(
        r.peaks.backlog_fill_max > 1.0,
        "the block backlog holds more than its size"
    );
    assert!(r.peaks.lag_ns_max > 30_000_000_000);
}

const CRASH: &str = r#"
[run]
seed = 12
duration = "60s"
[[cluster]]
name = "a"
shards = 2
replication = REPLICATION
persistence = "PERSISTENCE"
[[cluster]]
name = "b"
[network]
latency = "30ms"
[workload]
rate = "1k/s"
keys = 5000
[[fault]]
kind = "crash"
cluster = "a"
shard = 0
begin = "20s"
duration = "10s"
"#;

fn crash_run(replication: bool, persistence: &str) -> geosim::check::RunResult {
    let text = CRASH
        .replace("REPLICATION", &replication.to_string())
        .replace("PERSISTENCE", persistence);
    let (r, c) = run_scenario(&super::inline(&text));
    assert_eq!(c.verdict, Verdict::Converged, "{replication} {persistence}");
    r
}

#[test]
fn a_crash_with_a_replica_fails_over_without_loss_and_partial_syncs() {
    let r = crash_run(true, "aof-everysec");
    let a = &r.clusters[0];
    assert_eq!((a.writes_lost, a.writes_recovered_from_peers), (0, 0));
    // Writes to shard 0 during the 2 s failover are refused.
    assert!(
        a.unavailable_rejections > 100,
        "{}",
        a.unavailable_rejections
    );
    let full: u64 = r.peers.iter().map(|p| p.full_syncs).sum();
    let partial: u64 = r.peers.iter().map(|p| p.partial_syncs).sum();
    assert_eq!(
        (full, partial),
        (0, 1),
        "b's syncer continues from the replica's backlog"
    );
}

#[test]
fn a_crash_without_a_replica_loses_what_persistence_did_not_keep() {
    let lost = |p: &str| {
        let r = crash_run(false, p);
        let full: u64 = r.peers.iter().map(|p| p.full_syncs).sum();
        // b pulls from the restarted shard's new history (1); a resyncs from b in full (1).
        assert_eq!(full, 2, "{p}");
        let a = &r.clusters[0];
        assert!(a.unavailable_rejections > 1000, "down for 10 s");
        a.writes_lost + a.writes_recovered_from_peers
    };
    assert_eq!(lost("aof-always"), 0);
    let everysec = lost("aof-everysec");
    // At most one second of shard 0's ~500 writes/s at a.
    assert!(everysec > 0 && everysec <= 300, "{everysec}");
    let none = lost("none");
    assert!(
        none > 4_000,
        "all of shard 0's writes since the start: {none}"
    );
}

#[test]
fn a_force_removed_instance_that_comes_back_is_refused() {
    let s = super::inline(
        r#"
[run]
duration = "60s"
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[[cluster]]
name = "c"
leave_at = "20s"
leave_force = true
[workload]
rate = "300/s"
[[fault]]
kind = "partition"
begin = "10s"
end = "40s"
isolate = ["c"]
"#,
    );
    let (r, conv) = run_scenario(&s);
    // c keeps writing while cut off, then tries to resync after the heal: refused.
    assert!(r.refused_reconnects >= 4, "{}", r.refused_reconnects);
    assert_eq!(r.members[2], geosim::model::Membership::Removed);
    assert_ne!(r.instance_digests[2], r.instance_digests[0]);
    // a and b converge; c is no longer held to their state.
    assert_eq!(conv.verdict, Verdict::Converged);
    // What c acknowledged while cut off and still a member (10 s to 20 s at its ~100
    // writes/s) reached neither a nor b: lost to the removal, and counted. Its writes after
    // the removal are not a member's and are not counted.
    let lost: Vec<u64> = r
        .clusters
        .iter()
        .map(|c| c.writes_lost_to_removal)
        .collect();
    assert_eq!(&lost[..2], &[0, 0]);
    assert!((900..=1100).contains(&lost[2]), "{lost:?}");
    // Removed without force and without a partition, c first refuses writes while its
    // stream drains into a and b, is then removed and deleted (it refuses writes for good),
    // and nothing is lost; a and b converge, and tombstone collection is not held back by
    // the removed instance.
    let mut graceful = s.config.clone();
    graceful.faults.clear();
    graceful.clusters[2].leave_at = graceful.clusters[2].leave_at.map(|(t, _)| (t, false));
    let g = Simulation::builder(graceful).build().run();
    assert_eq!(g.clusters[2].writes_lost_to_removal, 0);
    assert_eq!(g.members[2], geosim::model::Membership::Removed);
    // ~100 writes/s at c from 20 s to 60 s refused.
    let refused = g.clusters[2].rejected;
    assert!((3_500..=4_500).contains(&refused), "{refused}");
    assert_eq!(g.instance_digests[0], g.instance_digests[1]);
}

#[test]
fn a_joining_instance_refuses_writes_until_it_has_synced() {
    let s = super::inline(
        r#"
[run]
duration = "30s"
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[[cluster]]
name = "n"
join_at = "10s"
[network]
latency = "50ms"
[workload]
rate = "300/s"
keys = 2000
"#,
    );
    let (r, conv) = run_scenario(&s);
    assert_eq!(conv.verdict, Verdict::Converged);
    let joined = r.joined_at[2].expect("n joined");
    assert!(joined > SimTime::ZERO + SimDuration::from_secs(10));
    assert!(
        joined < SimTime::ZERO + SimDuration::from_secs(12),
        "{joined}"
    );
    // The workload wrote at n from the start: ~10 s × 100 writes/s refused.
    assert!(r.clusters[2].rejected > 900, "{}", r.clusters[2].rejected);
    let full: u64 = r
        .peers
        .iter()
        .filter(|p| p.dst == 2)
        .map(|p| p.full_syncs)
        .sum();
    assert_eq!(full, 2, "one full sync from each peer");
}

#[test]
fn the_first_write_after_a_full_sync_carries_a_select() {
    // Measured on Redis 7: 323 bytes = SELECT 0 (23) + SET of a 16-byte key and 256-byte value.
    let key = "k".repeat(16);
    let value = "v".repeat(256);
    let text = format!(
        r#"
[whatif]
allow_any_backlog_size = true
[[cluster]]
name = "a"
[[cluster]]
name = "b"
[replication]
backlog_size = "1KB"
backlog_model = "ring"
compression = 0
[[step]]
on = "a"
cmd = "SET {key} {value}"
[[step]]
sync = "all"
[[step]]
partition = ["a"]
{writes}
[[step]]
heal = true
[[step]]
after = "2s"
sync = "all"
[[step]]
on = "a"
cmd = "SET {key} {value}"
[[step]]
sync = "all"
"#,
        writes = (0..5)
            .map(|i| format!("[[step]]\non = \"a\"\ncmd = \"SET {key} {value}{i}\"\n"))
            .collect::<String>()
    );
    let (r, c) = run_scenario(&super::inline(&text));
    assert_eq!(c.verdict, Verdict::Converged);
    let ab = r.peers.iter().find(|p| p.src == 0).unwrap();
    assert_eq!(ab.full_syncs, 1);
    // The stream carried only the first SET (after the initial SELECT) and the one after
    // the full sync (after a new SELECT); the writes in between travelled in the snapshot.
    assert_eq!(ab.stream_bytes, 323 + 323);
}

#[test]
fn a_node_crash_takes_down_every_primary_on_that_node() {
    let s = super::inline(
        r#"
[run]
duration = "30s"
[[cluster]]
name = "a"
shards = 4
nodes = 2
replication = true
[[cluster]]
name = "b"
[workload]
rate = "500/s"
[[fault]]
kind = "crash"
cluster = "a"
node = 0
begin = "10s"
duration = "5s"
"#,
    );
    // Primaries are placed round-robin: node 0 holds shards 0 and 2.
    assert_eq!(s.config.faults.len(), 2);
    let (r, c) = run_scenario(&s);
    assert_eq!(c.verdict, Verdict::Converged);
    let partial: u64 = r.peers.iter().map(|p| p.partial_syncs).sum();
    assert_eq!(partial, 2, "b resumes from both failed-over shards");
}

/// Session states are recorded as they change, not sampled: with one sample a minute, every
/// full sync still shows as a session entering the `full` state, once per full sync.
#[test]
fn every_full_sync_is_in_the_state_log_however_rarely_samples_are_taken() {
    use geosim::model::metrics::SessionState;
    let mut s = super::bundled("07-full-sync-loop.toml", None);
    s.config.sample_interval = geosim::engine::SimDuration::from_secs(60);
    let (r, _) = geosim::sim::run_scenario(&s);
    let full_syncs: u64 = r.peers.iter().map(|p| p.full_syncs).sum();
    let entered_full = r
        .state_changes
        .iter()
        .filter(|c| c.state == SessionState::Full)
        .count() as u64;
    assert!(full_syncs >= 4, "{full_syncs}");
    assert_eq!(entered_full, full_syncs);
    // In time order, one entry per change, each session's first at time zero.
    assert!(r.state_changes.windows(2).all(|w| w[0].time <= w[1].time));
    let sessions = 1 + r.state_changes.iter().map(|c| c.session).max().unwrap_or(0) as usize;
    for sid in 0..sessions {
        let mine: Vec<_> = r
            .state_changes
            .iter()
            .filter(|c| c.session as usize == sid)
            .collect();
        assert_eq!(mine[0].time, geosim::engine::SimTime::ZERO);
        assert!(mine.windows(2).all(|w| w[0].state != w[1].state));
    }
    assert!(r.peaks.samples <= 6, "{}", r.peaks.samples);
}

/// A scripted run samples after every step (its queue empties between steps, which used to
/// stop sampling after the first sample): lesson 10's divergence shows in its peaks.
#[test]
fn a_scripted_run_is_sampled_after_every_step() {
    let s = super::bundled("teaching/10-partition-backlog-full-sync.toml", None);
    let (r, _) = geosim::sim::run_scenario(&s);
    assert!(
        r.peaks.samples > s.config.script.len() as u64,
        "{}",
        r.peaks.samples
    );
    assert!(r.peaks.divergent_keys_max > 0);
    assert!(r.peaks.backlog_bytes_max > 0);
}

/// After an outage that ends in full syncs, the headline lag is the time until a write is
/// visible at the peer, whichever way it came: its p99 is about the outage, where the
/// streamed ops alone show tens of milliseconds; every write arrives once, streamed or by
/// snapshot (to the snapshot buckets' 10 ms).
#[test]
fn writes_merged_by_a_snapshot_count_in_the_time_until_visible() {
    let s = super::bundled("03-backlog-overflow-full-sync.toml", None);
    let (r, _) = geosim::sim::run_scenario(&s);
    for p in r.peers.iter().filter(|p| p.src != p.dst) {
        assert!(p.full_syncs > 0);
        let streamed_p99 = p.lag.quantile(0.99).unwrap() as f64 / 1e6;
        let visible_p99 = p.visible.quantile(0.99).unwrap() as f64 / 1e6;
        assert!(streamed_p99 < 100.0, "{streamed_p99}");
        assert!((30_000.0..45_000.0).contains(&visible_p99), "{visible_p99}");
        assert!(p.writes_by_snapshot > 10_000, "{}", p.writes_by_snapshot);
        let written = r.clusters[p.src].writes;
        let arrived = p.ops_applied + p.writes_by_snapshot;
        assert!(
            arrived.abs_diff(written) * 1000 <= written,
            "{arrived} arrived of {written} written"
        );
        assert_eq!(p.visible.count(), arrived);
        // Behind for the 40 s cut and the resync after it, part of it in full syncs.
        let behind = p.behind.as_secs_f64();
        assert!((40.0..42.0).contains(&behind), "{behind}");
        assert!(p.in_full_sync > geosim::engine::SimDuration::ZERO);
        assert!(p.in_full_sync < p.behind);
    }
    // Without full syncs the two figures are the same.
    let s = super::bundled("02-partition-and-heal.toml", None);
    let (r, _) = geosim::sim::run_scenario(&s);
    for p in r.peers.iter().filter(|p| p.src != p.dst) {
        assert_eq!(p.writes_by_snapshot, 0);
        assert_eq!(p.visible, p.lag);
        assert_eq!(p.in_full_sync, geosim::engine::SimDuration::ZERO);
    }
    // A run without faults is never behind.
    let s = super::bundled("01-two-regions-steady.toml", None);
    let (r, _) = geosim::sim::run_scenario(&s);
    assert!(
        r.peers
            .iter()
            .all(|p| p.behind == geosim::engine::SimDuration::ZERO)
    );
}

#[test]
fn a_scripted_sync_into_a_full_shard_gives_up_promptly_and_says_why() {
    // b writes 10 values of 200 KB; a holds 1 MB with noeviction, so replication into a
    // stops for good. The sync names that, 30 s after the last apply, not after the
    // 10-minute convergence deadline.
    let mut text = String::from(
        "[run]\nconverge_deadline = \"10m\"\n\
         [[cluster]]\nname = \"a\"\nmemory_limit = \"1MB\"\n\
         [[cluster]]\nname = \"b\"\n",
    );
    for i in 0..10 {
        text.push_str(&format!(
            "[[step]]\non = \"b\"\ncmd = \"SETRANGE k{i} 200000 x\"\n"
        ));
    }
    text.push_str("[[step]]\nsync = \"all\"\n[[step]]\non = \"a\"\ncmd = \"EXISTS k0\"\n");
    let s = super::inline(&text);
    let (r, _) = run_scenario(&s);
    let sync = &r.steps[10];
    assert!(
        sync.line
            .starts_with("sync a b (gave up: replication from b into a stopped by OOM"),
        "{}",
        sync.line
    );
    assert!(
        sync.line.contains("nothing was freed for 30s"),
        "{}",
        sync.line
    );
    let after = r.steps[11].time.since(sync.time);
    assert!(
        after < SimDuration::from_secs(60),
        "the sync gave up after {after}"
    );
    assert!(r.peers.iter().any(|p| p.dst == 0 && p.oom_stops > 0));
}
