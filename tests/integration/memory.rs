//! Memory under a limit: OOM refusals and stopped replication, eviction policies, and what a
//! replica adds to the used memory.

use geosim::check::Verdict;
use geosim::engine::{SimDuration, SimTime};
use geosim::sim::Simulation;
use geosim::sim::run_scenario;

/// Cluster a has no replica, so its 4 MB hold its data and its 1 MB CRDT backlog only (a
/// replica would count all of it again, and a database replication backlog on top).
pub(crate) const OOM: &str = r#"
[run]
duration = "60s"
converge_deadline = "30s"
[[cluster]]
name = "a"
memory_limit = "4MB"
replication = false
POLICY
[[cluster]]
name = "b"
memory_limit = "64MB"
POLICY
[replication]
backlog_size = "1MB"
[workload]
rate = "500/s"
keys = 100000
value_size = "512B"
clusters = ["b"]
"#;

#[test]
fn a_full_shard_refuses_writes_and_stops_replication_which_diverges() {
    // b writes ~30k keys of ~600 B: far more than a's 4 MB. With noeviction a fills up, stops
    // applying b's stream, and never catches up: shown, not hidden.
    let s = super::inline(&OOM.replace("POLICY", ""));
    let (r, c) = run_scenario(&s);
    assert_eq!(c.verdict, Verdict::NotConverged);
    let a_from_b = r.peers.iter().find(|p| p.src == 1 && p.dst == 0).unwrap();
    assert!(a_from_b.oom_stops >= 1);
    let a = &r.clusters[0];
    // The write that crosses the limit is admitted (Redis checks before a write), no more.
    assert!(
        a.memory_bytes <= a.memory_limit + 2_000,
        "{} > {}",
        a.memory_bytes,
        a.memory_limit
    );
    // A local write at a is refused with Redis's OOM error.
    let mut sim = Simulation::new(s.config.clone());
    sim.run_until(SimTime::ZERO + SimDuration::from_secs(59));
    let reply = sim.execute(0, &geosim::redis::parse_line("SET x y").unwrap());
    assert_eq!(
        reply,
        geosim::redis::Reply::err("OOM command not allowed when used memory > 'maxmemory'.")
    );
}

#[test]
fn an_eviction_policy_keeps_the_shard_under_its_limit_and_replication_flowing() {
    let s = super::inline(&OOM.replace("POLICY", "eviction_policy = \"allkeys-random\""));
    let (r, c) = run_scenario(&s);
    let a = &r.clusters[0];
    assert!(a.evictions > 1000, "{}", a.evictions);
    assert!(
        a.memory_bytes as f64 <= 0.85 * a.memory_limit as f64,
        "{} of {}",
        a.memory_bytes,
        a.memory_limit
    );
    let a_from_b = r.peers.iter().find(|p| p.src == 1 && p.dst == 0).unwrap();
    assert_eq!(a_from_b.oom_stops, 0);
    // a's evictions are replicated deletes, so b loses those keys too: the instances agree.
    assert_eq!(c.verdict, Verdict::Converged);
}

/// Under memory pressure with a skewed workload, LRU and LFU evict the keys not used lately
/// or rarely, so the hot keys stay; random eviction takes hot keys as often as cold ones.
/// Measured as the hottest keys present at a, sampled through the run.
#[test]
fn lru_and_lfu_keep_the_hot_keys_that_random_eviction_drops() {
    let hot_present = |policy: &str| {
        let text = OOM
            .replace("POLICY", &format!("eviction_policy = \"{policy}\""))
            .replace(
                "keys = 100000",
                "keys = 100000\nkey_distribution = \"zipf\"",
            );
        let s = super::inline(&text);
        let mut sim = Simulation::new(s.config.clone());
        let mut present = 0;
        for t in (20..60).step_by(5) {
            sim.run_until(SimTime::ZERO + SimDuration::from_secs(t));
            for i in 0..400 {
                let key = format!("key:{i:012}");
                present += u64::from(sim.world().read(0, key.as_bytes()).is_some());
            }
        }
        let r = sim.run();
        let c = geosim::check::check_convergence(&r);
        assert!(
            r.clusters[0].evictions > 1000,
            "{policy}: {}",
            r.clusters[0].evictions
        );
        assert_eq!(c.verdict, Verdict::Converged, "{policy}");
        present
    };
    let random = hot_present("allkeys-random");
    let lru = hot_present("allkeys-lru");
    let lfu = hot_present("allkeys-lfu");
    // 8 samples of 400 keys: 3,200 at most.
    assert!(lru > random + 200, "lru {lru}, random {random}");
    assert!(lfu > random + 200, "lfu {lfu}, random {random}");
    // The volatile variants find no key with a TTL to evict, like Redis: writes are refused.
    let s = super::inline(&OOM.replace("POLICY", "eviction_policy = \"volatile-lru\""));
    let (r, _) = run_scenario(&s);
    assert_eq!(r.clusters[0].evictions, 0);
    assert!(r.peers.iter().any(|p| p.oom_stops > 0));
}

/// A replica counts against the memory limit: with replication a shard's used memory is
/// twice what the primary holds (its keys, its CRDT backlog), plus twice the database
/// replication backlog, which holds at most its size of the primary's writes and applied
/// peer ops (here 1 MB, filled: the run writes several MB).
#[test]
fn a_replica_doubles_the_memory_and_adds_the_replication_backlog() {
    let text = |replication: bool| {
        format!(
            r#"
[run]
duration = "20s"
[[cluster]]
name = "a"
replication = {replication}
[[cluster]]
name = "b"
replication = false
[replication]
backlog_size = "1MB"
repl_backlog_size = "1MB"
[workload]
rate = "500/s"
keys = 2000
value_size = "512B"
"#
        )
    };
    let (with, _) = run_scenario(&super::inline(&text(true)));
    let (without, _) = run_scenario(&super::inline(&text(false)));
    // The same history: a replica changes nothing a client or a peer sees without a fault.
    assert_eq!(with.instance_digests, without.instance_digests);
    assert_eq!(with.clusters[0].writes, without.clusters[0].writes);
    assert_eq!(
        with.clusters[0].memory_bytes,
        2 * (without.clusters[0].memory_bytes + 1024 * 1024)
    );
    // b has no replica in either run.
    assert_eq!(
        with.clusters[1].memory_bytes,
        without.clusters[1].memory_bytes
    );
}
