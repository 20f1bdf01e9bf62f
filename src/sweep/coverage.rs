//! What a hunt's seeds exercised: for each path of the model (a resync kind, a fault and its
//! consequences, a data type of the scripts), how many of the checked seeds went through it.
//! A path no seed reaches is a path the hunt cannot find bugs on; `geosim hunt` prints this
//! table so that a blind spot shows.

use super::hunt::{FaultSpec, Spec};
use crate::check::RunResult;

/// The paths counted, in the order printed.
pub(crate) const PATHS: [&str; 33] = [
    "partial resync",
    "full sync",
    "full sync after a backlog overflow",
    "failed full sync",
    "replication stopped by OOM",
    "eviction",
    "client write refused by OOM",
    "crash",
    "crash with AOF",
    "failover to a replica",
    "acknowledged writes lost",
    "partition (drop)",
    "partition (stall)",
    "degraded link",
    "clock step",
    "script: strings",
    "script: counters",
    "script: hashes",
    "script: sets",
    "script: sorted sets",
    "script: lists",
    "script: streams and HyperLogLog",
    "script: expiry",
    "cluster added (join)",
    "cluster removed after draining",
    "cluster removed by force",
    "writes lost to a removal",
    "causal consistency",
    "causal buffering (an op waited)",
    "centralized sync",
    "script: streams, non-strict IDs",
    "script: stream consumer groups",
    "script: JSON",
];

/// The paths one run went through, as a bit set over [`PATHS`].
pub(crate) fn paths(spec: &Spec, r: &RunResult) -> u64 {
    let mut bits = 0u64;
    let mut hit = |i: usize, yes: bool| {
        if yes {
            bits |= 1 << i;
        }
    };
    let peers = |f: fn(&crate::model::stats::PeerStats) -> u64| r.peers.iter().map(f).sum::<u64>();
    let clusters =
        |f: fn(&crate::model::stats::ClusterStats) -> u64| r.clusters.iter().map(f).sum::<u64>();
    hit(0, peers(|p| p.partial_syncs) > 0);
    hit(1, peers(|p| p.full_syncs) > 0);
    hit(2, peers(|p| p.full_syncs_after_overflow) > 0);
    hit(3, peers(|p| p.full_sync_failures) > 0);
    hit(4, peers(|p| p.oom_stops) > 0);
    hit(5, clusters(|c| c.evictions) > 0);
    hit(6, clusters(|c| c.oom_rejections) > 0);
    for f in &spec.faults {
        match f {
            FaultSpec::Crash { cluster, .. } => {
                let c = &spec.clusters[*cluster];
                hit(7, true);
                hit(8, c.persistence.starts_with("aof"));
                hit(9, c.replication);
            }
            FaultSpec::Partition { stall, .. } => hit(if *stall { 12 } else { 11 }, true),
            FaultSpec::Degrade { .. } => hit(13, true),
            FaultSpec::ClockStep { .. } => hit(14, true),
        }
    }
    hit(10, clusters(|c| c.writes_lost) > 0);
    use crate::model::Membership;
    hit(23, r.joined_at.iter().any(|j| j.is_some()));
    let removed = |forced: bool| {
        spec.leave
            .is_some_and(|(c, _, f)| f == forced && r.members[c] == Membership::Removed)
    };
    hit(24, removed(false));
    hit(25, removed(true));
    hit(26, clusters(|c| c.writes_lost_to_removal) > 0);
    hit(27, spec.causal);
    hit(28, peers(|p| p.ops_buffered) > 0);
    hit(29, spec.centralized);
    let streams = spec.steps.iter().any(|(_, _, c)| c.starts_with('X'));
    hit(30, streams && spec.xadd_mode != "strict");
    hit(
        31,
        spec.steps
            .iter()
            .any(|(_, _, c)| c.starts_with("XGROUP") || c.starts_with("XREADGROUP")),
    );
    hit(
        32,
        spec.steps.iter().any(|(_, _, c)| c.starts_with("JSON.")),
    );
    for (_, _, cmd) in &spec.steps {
        let name = cmd.split_whitespace().next().unwrap_or("");
        let i = match name {
            "SET" | "APPEND" | "GET" | "SETEX" | "GETDEL" | "GETEX" | "SETNX" | "MSET" => 15,
            "INCRBY" | "INCR" => 16,
            "EXPIRE" | "PERSIST" => 22,
            n if n.starts_with('H') => 17,
            n if n.starts_with('S') => 18,
            n if n.starts_with('Z') => 19,
            n if n.starts_with('L') || n.starts_with('R') => 20,
            n if n.starts_with('X') || n.starts_with("PF") => 21,
            _ => continue,
        };
        hit(i, true);
    }
    // A generated workload writes strings and counters.
    if spec.rate > 0 {
        hit(15, spec.incr_share_pct < 100);
        hit(16, spec.incr_share_pct > 0);
    }
    bits
}

/// Counts over many seeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Coverage {
    pub seeds: u64,
    pub counts: [u64; PATHS.len()],
}

impl Default for Coverage {
    fn default() -> Self {
        Coverage {
            seeds: 0,
            counts: [0; PATHS.len()],
        }
    }
}

impl Coverage {
    pub(crate) fn add(&mut self, bits: u64) {
        self.seeds += 1;
        for (i, n) in self.counts.iter_mut().enumerate() {
            *n += bits >> i & 1;
        }
    }

    /// The table `geosim hunt` prints.
    pub(crate) fn text(&self) -> String {
        let mut o = format!(
            "coverage: seeds (of {}) that went through each path\n",
            self.seeds
        );
        for (name, n) in PATHS.iter().zip(self.counts) {
            let pct = if self.seeds > 0 {
                100.0 * n as f64 / self.seeds as f64
            } else {
                0.0
            };
            o.push_str(&format!("  {name:<34} {n:>7} {pct:>5.1}%\n"));
        }
        o
    }
}
