//! `[[cluster]]`: each participating cluster (name, shards, nodes, proxies, syncer mode,
//! memory, eviction, persistence, membership times, clock), the cluster count limits and the
//! backlog size that `[replication]` gives every shard.

use super::*;

/// The clusters and their names (a cluster's index is its position in both).
pub(super) fn cluster_tables(
    raw: &RawScenario,
    f: &mut Findings,
) -> (Vec<String>, Vec<ClusterConfig>) {
    let whatif = raw.whatif.as_ref();
    let allow_any_backlog = whatif
        .and_then(|w| w.allow_any_backlog_size)
        .unwrap_or(false);
    cluster_count(raw, f);
    let mut names: Vec<String> = Vec::new();
    let mut clusters = Vec::new();
    let repl = raw.replication.as_ref();
    let backlogs = Backlogs {
        crdt: explicit_backlog(
            f,
            repl.and_then(|r| r.backlog_size.as_ref()),
            "replication.backlog_size",
            "the CRDT replication backlog",
            allow_any_backlog,
        ),
        database: explicit_backlog(
            f,
            repl.and_then(|r| r.repl_backlog_size.as_ref()),
            "replication.repl_backlog_size",
            "the database replication backlog",
            allow_any_backlog,
        ),
    };
    for (i, c) in raw.cluster.iter().enumerate() {
        let name = cluster_name(f, c, i, &names);
        names.push(name.clone());
        clusters.push(one_cluster(f, c, i, name, backlogs));
    }
    (names, clusters)
}

/// The backlog sizes `[replication]` gives every shard (`None`: the documented default).
#[derive(Clone, Copy)]
struct Backlogs {
    crdt: Option<u64>,
    database: Option<u64>,
}

/// A backlog size given as `raw` at `field` (`None` when absent, "auto" or invalid), checked
/// against the documented 1MB–250MB per shard (or only warned about, as a what-if).
fn explicit_backlog(
    f: &mut Findings,
    raw: Option<&String>,
    field: &str,
    what: &str,
    allow_any: bool,
) -> Option<u64> {
    // "auto" (RS ≥ 6.0.20) is documented only as sized from the shard: approximated by the
    // default formula, so it is treated as no explicit size.
    let raw = raw.filter(|s| s.as_str() != "auto")?;
    let b = size_field(f, field, raw)?;
    if !(MIN_BACKLOG..=MAX_BACKLOG).contains(&b) {
        if !allow_any {
            f.err(
                field,
                quoted(raw),
                format!(
                    "{what} must be 1MB to 250MB per shard (documented range); set whatif.allow_any_backlog_size = true to explore other sizes"
                ),
            );
            return None;
        }
        if b == 0 {
            f.err(field, quoted(raw), "a backlog must hold at least one byte");
            return None;
        }
        f.warn(
            field,
            quoted(raw),
            "outside the documented 1MB–250MB per shard: a what-if beyond supported Redis behaviour",
        );
    }
    Some(b)
}

/// The number of clusters against the documented limit (and the what-if switch).
fn cluster_count(raw: &RawScenario, f: &mut Findings) {
    let allow_more = raw
        .whatif
        .as_ref()
        .and_then(|w| w.allow_more_clusters)
        .unwrap_or(false);
    let n = raw.cluster.len();
    if n < MIN_CLUSTERS {
        f.err(
            "cluster",
            Some(format!("{n} cluster(s)")),
            format!("an Active-Active database needs at least {MIN_CLUSTERS} participating clusters; add [[cluster]] tables"),
        );
    } else if n > MAX_CLUSTERS {
        if !allow_more {
            f.err(
                "cluster",
                Some(format!("{n} clusters")),
                format!("at most {MAX_CLUSTERS} participating clusters (the documented Redis Software limit); set whatif.allow_more_clusters = true to explore more"),
            );
        } else if n > MAX_CLUSTERS_WHATIF {
            f.err(
                "cluster",
                Some(format!("{n} clusters")),
                format!("even with whatif.allow_more_clusters, at most {MAX_CLUSTERS_WHATIF} clusters are simulated"),
            );
        } else {
            f.warn(
                "whatif.allow_more_clusters",
                Some("true".into()),
                format!("{n} participating clusters exceed the documented limit of {MAX_CLUSTERS}: a what-if beyond supported Redis behaviour"),
            );
        }
    }
}

/// Cluster `i`'s name: valid and unique among those before it (a placeholder if not).
fn cluster_name(f: &mut Findings, c: &RawCluster, i: usize, names: &[String]) -> String {
    let p = |field: &str| format!("cluster[{i}].{field}");
    match &c.name {
        Some(s) if valid_name(s) => {
            if names.contains(s) {
                f.err(p("name"), quoted(s), "cluster names must be unique");
            }
            s.clone()
        }
        Some(s) => {
            f.err(
                p("name"),
                quoted(s),
                "expected 1 to 64 characters from A-Z a-z 0-9 - _ .",
            );
            format!("cluster{i}")
        }
        None => {
            f.err(
                p("name"),
                None,
                "missing; every cluster needs a name such as \"us-east\"",
            );
            format!("cluster{i}")
        }
    }
}

/// Everything of cluster `i` but its name.
fn one_cluster(
    f: &mut Findings,
    c: &RawCluster,
    i: usize,
    name: String,
    backlogs: Backlogs,
) -> ClusterConfig {
    let p = |field: &str| format!("cluster[{i}].{field}");
    let shards = c.shards.unwrap_or(1);
    if !(1..=MAX_SHARDS).contains(&shards) {
        f.err(
            p("shards"),
            Some(shards.to_string()),
            format!("expected 1 to {MAX_SHARDS} shards"),
        );
    }
    let nodes = c.nodes.unwrap_or(3);
    if !(1..=MAX_NODES).contains(&nodes) {
        f.err(
            p("nodes"),
            Some(nodes.to_string()),
            format!("expected 1 to {MAX_NODES} nodes"),
        );
    }
    let replication = c.replication.unwrap_or(true);
    let proxy_policy = choice(
        f,
        &p("proxy_policy"),
        c.proxy_policy.as_ref(),
        ProxyPolicy::Single,
        spelling::PROXY_POLICIES,
    );
    let syncer_mode = choice(
        f,
        &p("syncer_mode"),
        c.syncer_mode.as_ref(),
        SyncerMode::Centralized,
        spelling::SYNCER_MODES,
    );
    if syncer_mode == SyncerMode::Distributed && proxy_policy == ProxyPolicy::Single {
        f.err(
            p("proxy_policy"),
            quoted("single"),
            "distributed sync needs proxy policy \"all-master-shards\" or \"all-nodes\": it spreads syncer traffic over several proxy endpoints, and \"single\" provides only one",
        );
    }
    if syncer_mode == SyncerMode::Centralized && shards > 1 {
        f.warn(
            p("syncer_mode"),
            c.syncer_mode.as_deref().and_then(quoted),
            "centralized sync (the default) carries every shard's sync traffic through one proxy endpoint; for Active-Active under load Redis documents distributed sync (syncer_mode = \"distributed\" with proxy_policy = \"all-master-shards\" or \"all-nodes\") for higher throughput and lower latency; geosim models the difference as syncer throughput (replication.syncer_ops_per_sec)",
        );
    }
    let memory_limit = match &c.memory_limit {
        Some(s) => size_field(f, &p("memory_limit"), s),
        None => Some(1024 * 1024 * 1024),
    };
    // The documented default of both backlogs: 1% of the database memory limit over its
    // shards, clamped to the 1MB–250MB range.
    let default_backlog = memory_limit.map_or(MIN_BACKLOG, |m| {
        (m / 100 / shards.max(1)).clamp(MIN_BACKLOG, MAX_BACKLOG)
    });
    let backlog_bytes = backlogs.crdt.unwrap_or(default_backlog);
    let repl_backlog_bytes = backlogs.database.unwrap_or(default_backlog);
    if let Some(m) = memory_limit {
        let per_shard = m / shards.max(1);
        let (copies, held) = if replication {
            (2, backlog_bytes + repl_backlog_bytes)
        } else {
            (1, backlog_bytes)
        };
        if held * copies * 4 > per_shard {
            f.warn(
                p("memory_limit"),
                c.memory_limit.as_deref().and_then(quoted),
                format!(
                    "the replication backlogs ({held} B per shard{}) take more than a quarter of the shard's memory limit ({per_shard} B): they count as used memory, so writes will meet OOM early",
                    if replication {
                        ", CRDT and database, held by the primary and its replica"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    let (ntp, offset_ns, drift_ppm) = clock_params(f, c, i);
    let eviction = eviction_policy(f, c, i);
    let persistence = persistence(f, c, i);
    let failover_delay = duration_field(
        f,
        &p("failover_delay"),
        c.failover_delay.as_ref(),
        Some(SimDuration::from_secs(2)),
    )
    .unwrap_or_default();
    let join_at = c
        .join_at
        .as_ref()
        .and_then(|s| duration_field(f, &p("join_at"), Some(s), None))
        .map(|d| SimTime::ZERO + d);
    let leave_at = c
        .leave_at
        .as_ref()
        .and_then(|s| duration_field(f, &p("leave_at"), Some(s), None))
        .map(|d| (SimTime::ZERO + d, c.leave_force.unwrap_or(false)));
    if c.leave_force.is_some() && c.leave_at.is_none() {
        f.err(p("leave_force"), None, "only valid with leave_at");
    }
    if let (Some(j), Some((l, _))) = (join_at, leave_at)
        && l <= j
    {
        f.err(
            p("leave_at"),
            c.leave_at.as_deref().and_then(quoted),
            "must be after join_at",
        );
    }
    let (ntp_interval, ntp_residual) = ntp_timing(f, c, i);
    ClusterConfig {
        join_at,
        leave_at,
        memory_limit: memory_limit.unwrap_or(1024 * 1024 * 1024),
        eviction,
        persistence,
        failover_delay,
        name,
        nodes: nodes.clamp(1, MAX_NODES) as usize,
        shards: shards.clamp(1, MAX_SHARDS) as usize,
        replication,
        proxy_policy,
        syncer_mode,
        backlog_bytes,
        repl_backlog_bytes,
        clock: ClockParams {
            offset_ns,
            drift_ppm,
            ntp,
            ntp_interval,
            ntp_residual,
            steps: Vec::new(),
        },
    }
}

/// How often NTP corrects the clock, and the error it leaves.
fn ntp_timing(f: &mut Findings, c: &RawCluster, i: usize) -> (SimDuration, SimDuration) {
    let p = |field: &str| format!("cluster[{i}].{field}");
    let interval = duration_field(
        f,
        &p("ntp_interval"),
        c.ntp_interval.as_ref(),
        Some(SimDuration::from_secs(64)),
    )
    .filter(|d| !d.is_zero())
    .unwrap_or(SimDuration::from_secs(64));
    let residual = duration_field(
        f,
        &p("ntp_residual"),
        c.ntp_residual.as_ref(),
        Some(SimDuration::from_millis(1)),
    )
    .unwrap_or_default();
    (interval, residual)
}

/// NTP, the clock's initial offset and its drift.
fn clock_params(f: &mut Findings, c: &RawCluster, i: usize) -> (bool, i64, f64) {
    let p = |field: &str| format!("cluster[{i}].{field}");
    let ntp = c.ntp.unwrap_or(true);
    if !ntp {
        f.warn(
            p("ntp"),
            Some("false".into()),
            "Redis requires a time service on every node; without NTP this cluster's clock drifts freely, which skews last-write-wins",
        );
    }
    let offset_ns = match &c.clock_offset {
        None => 0,
        Some(s) => {
            let (neg, body) = match s.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, s.as_str()),
            };
            match parse_duration(body) {
                Some(d) if d.0 <= i64::MAX as u64 => {
                    if neg {
                        -(d.0 as i64)
                    } else {
                        d.0 as i64
                    }
                }
                _ => {
                    f.err(
                        p("clock_offset"),
                        quoted(s),
                        format!("expected {DURATION_HELP}, optionally negative (\"-300ms\")"),
                    );
                    0
                }
            }
        }
    };
    let drift_ppm = c.clock_drift_ppm.unwrap_or(0.0);
    if !drift_ppm.is_finite() || drift_ppm.abs() > 1_000_000.0 {
        f.err(
            p("clock_drift_ppm"),
            Some(drift_ppm.to_string()),
            "expected a number of parts per million in [-1000000, 1000000]",
        );
    }
    (ntp, offset_ns, drift_ppm)
}

/// The eviction policy.
fn eviction_policy(f: &mut Findings, c: &RawCluster, i: usize) -> EvictionPolicy {
    let p = |field: &str| format!("cluster[{i}].{field}");
    match c.eviction_policy.as_deref() {
        None => EvictionPolicy::NoEviction,
        Some(name) => match EvictionPolicy::ALL.iter().find(|p| p.name() == name) {
            Some(p) => *p,
            None => {
                let valid: Vec<String> = EvictionPolicy::ALL
                    .iter()
                    .map(|p| format!("\"{}\"", p.name()))
                    .collect();
                f.err(
                    p("eviction_policy"),
                    quoted(name),
                    format!("expected one of {}", valid.join(", ")),
                );
                EvictionPolicy::NoEviction
            }
        },
    }
}

/// Persistence, with a snapshot's interval.
fn persistence(f: &mut Findings, c: &RawCluster, i: usize) -> Persistence {
    let p = |field: &str| format!("cluster[{i}].{field}");
    let snapshot_interval = c
        .snapshot_interval
        .as_ref()
        .and_then(|s| duration_field(f, &p("snapshot_interval"), Some(s), None))
        .filter(|d| !d.is_zero());
    let persistence = match c.persistence.as_deref() {
        None | Some("aof-everysec") => Persistence::AofEverySec,
        Some("aof-always") => Persistence::AofAlways,
        Some("none") => Persistence::None,
        Some("snapshot") => {
            Persistence::Snapshot(snapshot_interval.unwrap_or(SimDuration::from_secs(300)))
        }
        Some(other) => {
            f.err(
                p("persistence"),
                quoted(other),
                "expected \"aof-everysec\" (the default, as Redis recommends), \"aof-always\", \"snapshot\" or \"none\"",
            );
            Persistence::AofEverySec
        }
    };
    if c.snapshot_interval.is_some() && c.persistence.as_deref() != Some("snapshot") {
        f.err(
            p("snapshot_interval"),
            None,
            "only valid with persistence = \"snapshot\"",
        );
    }
    if matches!(persistence, Persistence::Snapshot(_)) {
        f.warn(
            p("persistence"),
            quoted("snapshot"),
            "current Redis docs support only AOF persistence for Active-Active databases: a what-if",
        );
    }
    persistence
}
