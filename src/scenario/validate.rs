//! Validation: turns the raw TOML mirror into a [`WorldConfig`], checking every field and the
//! documented Active-Active rules, and collecting every error (not just the first) and every
//! warning.

use super::diag::Diagnostic;
use super::expect::{CountRange, Expectation, Expected, Outcomes};
use super::raw::*;
use super::units::*;
use crate::crdt::stream::XaddIdMode;
use crate::engine::{SimDuration, SimTime};
use crate::model::backlog::BacklogModel;
use crate::model::clock::ClockParams;
use crate::model::fault::{Fault, FaultKind, PartitionMode};
use crate::model::memory::EvictionPolicy;
use crate::model::net::{LatencyDist, LinkParams};
use crate::model::persistence::Persistence;
use crate::model::script::{Step, StepAction};
use crate::model::topology::{ProxyPolicy, SyncerMode};
use crate::model::workload::{Arrival, KeyDist, OpMix, WorkloadParams};
use crate::model::{ClusterConfig, ReplicationConfig, WorldConfig};

/// The documented limits (see `docs/semantics.md` and `shared/redis-aa-facts.md`).
pub const MIN_CLUSTERS: usize = 2;
/// Historical Redis Software limit of participating clusters per database.
pub const MAX_CLUSTERS: usize = 5;
/// What the `whatif.allow_more_clusters` switch lifts the limit to (a resource guard).
pub const MAX_CLUSTERS_WHATIF: usize = 32;
pub const MIN_BACKLOG: u64 = 1024 * 1024;
pub const MAX_BACKLOG: u64 = 250 * 1024 * 1024;
pub const MAX_SHARDS: u64 = 256;
pub const MAX_NODES: u64 = 64;
pub const MAX_KEYS: u64 = 1_000_000_000_000;
pub const MAX_RATE: f64 = 10_000_000.0;
/// Memory per key per instance, measured on the reference scenario (5,590 MiB for about 1.66M
/// keys on each of 3 instances, streams and metrics included), rounded up.
pub const ESTIMATED_BYTES_PER_KEY_COPY: f64 = 1_200.0;
const GIB: f64 = 1_073_741_824.0;
/// Runs estimated to hold more than this are refused (unless `whatif.allow_huge_runs`).
pub const MAX_ESTIMATED_MEMORY: f64 = 64.0 * GIB;
/// Runs estimated to process more events than this are refused (about 4 days at 250k
/// events per wall second), unless `whatif.allow_huge_runs`.
pub const MAX_ESTIMATED_EVENTS: f64 = 1e11;
pub const MAX_VALUE: u64 = 512 * 1024 * 1024;

pub const DEFAULT_SEED: u64 = 1;

/// Collects diagnostics while validating.
#[derive(Default)]
pub struct Findings {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Findings {
    fn err(&mut self, path: impl Into<String>, value: Option<String>, msg: impl Into<String>) {
        self.errors.push(Diagnostic::new(path, value, msg));
    }
    fn warn(&mut self, path: impl Into<String>, value: Option<String>, msg: impl Into<String>) {
        self.warnings.push(Diagnostic::new(path, value, msg));
    }
}

fn quoted(s: &str) -> Option<String> {
    Some(format!("{s:?}"))
}

fn duration_field(
    f: &mut Findings,
    path: &str,
    raw: Option<&String>,
    default: Option<SimDuration>,
) -> Option<SimDuration> {
    match raw {
        None => {
            if default.is_none() {
                f.err(path, None, format!("missing; expected {DURATION_HELP}"));
            }
            default
        }
        Some(s) => {
            let d = parse_duration(s);
            if d.is_none() {
                f.err(path, quoted(s), format!("expected {DURATION_HELP}"));
            }
            d
        }
    }
}

fn size_field(f: &mut Findings, path: &str, raw: &str) -> Option<u64> {
    let v = parse_size(raw);
    if v.is_none() {
        f.err(path, quoted(raw), format!("expected {SIZE_HELP}"));
    }
    v
}

fn bandwidth_field(f: &mut Findings, path: &str, raw: &str) -> Option<u64> {
    match parse_bandwidth(raw) {
        Some(0) => {
            f.err(path, quoted(raw), "a bandwidth must be above zero");
            None
        }
        Some(b) => Some(b),
        None => {
            f.err(path, quoted(raw), format!("expected {BANDWIDTH_HELP}"));
            None
        }
    }
}

fn loss_field(f: &mut Findings, path: &str, raw: f64) -> Option<f64> {
    if (0.0..1.0).contains(&raw) {
        Some(raw)
    } else {
        f.err(
            path,
            Some(raw.to_string()),
            "expected a probability in [0, 1) (the share of transmissions that wait a retransmission timeout)",
        );
        None
    }
}

fn choice<T: Copy>(
    f: &mut Findings,
    path: &str,
    raw: Option<&String>,
    default: T,
    options: &[(&str, T)],
) -> T {
    match raw {
        None => default,
        Some(s) => match options.iter().find(|(n, _)| n == s) {
            Some((_, v)) => *v,
            None => {
                let valid: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
                f.err(
                    path,
                    quoted(s),
                    format!("expected one of {}", valid.join(", ")),
                );
                default
            }
        },
    }
}

const LATENCY_HELP: &str = "a duration such as \"40ms\" (constant), or a table with dist = \"constant\" (value), \"uniform\" (min, max), \"normal\" (mean, stddev), \"lognormal\" (median, sigma) or \"pareto\" (scale, shape)";

fn latency_field(f: &mut Findings, path: &str, v: &toml::Value) -> Option<LatencyDist> {
    if let Some(s) = v.as_str() {
        return match parse_duration(s) {
            Some(d) => Some(LatencyDist::Constant(d)),
            None => {
                f.err(path, quoted(s), format!("expected {LATENCY_HELP}"));
                None
            }
        };
    }
    let Some(t) = v.as_table() else {
        f.err(
            path,
            Some(v.to_string()),
            format!("expected {LATENCY_HELP}"),
        );
        return None;
    };
    let Some(dist) = t.get("dist").and_then(|d| d.as_str()) else {
        f.err(
            format!("{path}.dist"),
            t.get("dist").map(|d| d.to_string()),
            "missing or not a string; expected one of \"constant\", \"uniform\", \"normal\", \"lognormal\", \"pareto\"",
        );
        return None;
    };
    let allowed: &[&str] = match dist {
        "constant" => &["dist", "value"],
        "uniform" => &["dist", "min", "max"],
        "normal" => &["dist", "mean", "stddev"],
        "lognormal" => &["dist", "median", "sigma"],
        "pareto" => &["dist", "scale", "shape"],
        other => {
            f.err(
                format!("{path}.dist"),
                quoted(other),
                "expected one of \"constant\", \"uniform\", \"normal\", \"lognormal\", \"pareto\"",
            );
            return None;
        }
    };
    for k in t.keys() {
        if !allowed.contains(&k.as_str()) {
            f.err(
                format!("{path}.{k}"),
                None,
                format!(
                    "unknown field for dist = \"{dist}\"; expected {}",
                    allowed[1..].join(", ")
                ),
            );
        }
    }
    let mut dur = |name: &str| -> Option<SimDuration> {
        let p = format!("{path}.{name}");
        match t.get(name) {
            Some(toml::Value::String(s)) => duration_field(f, &p, Some(s), None),
            Some(other) => {
                f.err(
                    p,
                    Some(other.to_string()),
                    format!("expected {DURATION_HELP}"),
                );
                None
            }
            None => duration_field(f, &p, None, None),
        }
    };
    let d = match dist {
        "constant" => LatencyDist::Constant(dur("value")?),
        "uniform" => {
            let (min, max) = (dur("min"), dur("max"));
            let (min, max) = (min?, max?);
            if min > max {
                f.err(
                    format!("{path}.max"),
                    None,
                    format!("max ({max}) must not be below min ({min})"),
                );
                return None;
            }
            LatencyDist::Uniform { min, max }
        }
        "normal" => {
            let (mean, stddev) = (dur("mean"), dur("stddev"));
            LatencyDist::Normal {
                mean: mean?,
                stddev: stddev?,
            }
        }
        "lognormal" => {
            let median = dur("median");
            let sigma = positive_float(f, path, t, "sigma", 0.0, 10.0);
            LatencyDist::LogNormal {
                median: median?,
                sigma: sigma?,
            }
        }
        "pareto" => {
            let scale = dur("scale");
            let shape = positive_float(f, path, t, "shape", 0.0, 1000.0);
            let scale = scale?;
            if scale.is_zero() {
                f.err(
                    format!("{path}.scale"),
                    None,
                    "a Pareto scale must be above zero",
                );
                return None;
            }
            LatencyDist::Pareto {
                scale,
                shape: shape?,
            }
        }
        _ => unreachable!("dist names were checked above"),
    };
    Some(d)
}

fn positive_float(
    f: &mut Findings,
    path: &str,
    t: &toml::Table,
    name: &str,
    above: f64,
    max: f64,
) -> Option<f64> {
    let p = format!("{path}.{name}");
    let x = match t.get(name) {
        Some(toml::Value::Float(x)) => *x,
        Some(toml::Value::Integer(i)) => *i as f64,
        Some(other) => {
            f.err(
                p,
                Some(other.to_string()),
                format!("expected a number in ({above}, {max}]"),
            );
            return None;
        }
        None => {
            f.err(
                p,
                None,
                format!("missing; expected a number in ({above}, {max}]"),
            );
            return None;
        }
    };
    if x > above && x <= max {
        Some(x)
    } else {
        f.err(
            p,
            Some(x.to_string()),
            format!("expected a number in ({above}, {max}]"),
        );
        None
    }
}

/// The end of fault `i`, from `end` or `begin + duration` (exactly one must be given).
fn fault_end(
    f: &mut Findings,
    fl: &RawFault,
    i: usize,
    begin: Option<SimDuration>,
) -> Option<SimDuration> {
    let p = |field: &str| format!("fault[{i}].{field}");
    match (&fl.end, &fl.duration) {
        (Some(e), None) => duration_field(f, &p("end"), Some(e), None),
        (None, Some(d)) => duration_field(f, &p("duration"), Some(d), None)
            .zip(begin)
            .map(|(d, b)| b + d),
        (Some(_), Some(_)) => {
            f.err(
                format!("fault[{i}]"),
                None,
                "give either end or duration, not both",
            );
            None
        }
        (None, None) => {
            f.err(
                format!("fault[{i}]"),
                None,
                "missing end or duration (e.g. duration = \"5m\")",
            );
            None
        }
    }
}

/// The cluster a fault names in `cluster`; `what` says what it is for.
fn fault_cluster(
    f: &mut Findings,
    fl: &RawFault,
    i: usize,
    index_of: &dyn Fn(&str) -> Option<usize>,
    what: &str,
) -> Option<usize> {
    let path = format!("fault[{i}].cluster");
    match &fl.cluster {
        Some(name) => {
            let c = index_of(name);
            if c.is_none() {
                f.err(path, quoted(name), "no such cluster");
            }
            c
        }
        None => {
            f.err(path, None, format!("missing: {what}"));
            None
        }
    }
}

/// What validation found: the world to build, the warnings, the resolved seed.
pub struct Validated {
    pub config: WorldConfig,
    pub expectations: Vec<Expectation>,
    pub outcomes: Outcomes,
    pub notes: Vec<(usize, String)>,
    pub sweep: super::SweepSpec,
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Validates `raw`; `seed_override` replaces `run.seed`.
pub fn validate(
    raw: &RawScenario,
    seed_override: Option<u64>,
    f: &mut Findings,
) -> Option<Validated> {
    let run = raw.run.as_ref();
    let whatif = raw.whatif.as_ref();
    let allow_more = whatif.and_then(|w| w.allow_more_clusters).unwrap_or(false);
    let allow_any_backlog = whatif
        .and_then(|w| w.allow_any_backlog_size)
        .unwrap_or(false);

    let seed = seed_override
        .or_else(|| run.and_then(|r| r.seed))
        .unwrap_or(DEFAULT_SEED);
    // A scripted scenario may leave the duration out: it then ends after its last step.
    let scripted = !raw.step.is_empty();
    let duration = duration_field(
        f,
        "run.duration",
        run.and_then(|r| r.duration.as_ref()),
        scripted.then_some(SimDuration::ZERO),
    );
    if duration == Some(SimDuration::ZERO) && run.and_then(|r| r.duration.as_ref()).is_some() {
        f.err(
            "run.duration",
            quoted("0"),
            "a run must last longer than zero",
        );
    }
    let converge_deadline = duration_field(
        f,
        "run.converge_deadline",
        run.and_then(|r| r.converge_deadline.as_ref()),
        Some(SimDuration::from_secs(600)),
    );
    let max_events = run.and_then(|r| r.max_events).unwrap_or(2_000_000_000);
    let sample_interval = duration_field(
        f,
        "run.sample_interval",
        run.and_then(|r| r.sample_interval.as_ref()),
        Some(SimDuration::from_secs(1)),
    );
    if max_events == 0 {
        f.err("run.max_events", Some("0".into()), "expected at least 1");
    }

    // Clusters.
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
    let mut names: Vec<String> = Vec::new();
    let mut clusters = Vec::new();
    let mut backlog_ok = true;
    let raw_backlog = raw
        .replication
        .as_ref()
        .and_then(|r| r.backlog_size.as_ref());
    // "auto" (RS ≥ 6.0.20) is documented only as sized from the shard: approximated by the
    // default formula, so it is treated as no explicit size.
    let raw_backlog = raw_backlog.filter(|s| s.as_str() != "auto");
    let explicit_backlog = raw_backlog.and_then(|s| size_field(f, "replication.backlog_size", s));
    if raw_backlog.is_some() && explicit_backlog.is_none() {
        backlog_ok = false;
    }
    for (i, c) in raw.cluster.iter().enumerate() {
        let p = |field: &str| format!("cluster[{i}].{field}");
        let name = match &c.name {
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
        };
        names.push(name.clone());
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
            &[
                ("single", ProxyPolicy::Single),
                ("all-master-shards", ProxyPolicy::AllMasterShards),
                ("all-nodes", ProxyPolicy::AllNodes),
            ],
        );
        let syncer_mode = choice(
            f,
            &p("syncer_mode"),
            c.syncer_mode.as_ref(),
            SyncerMode::Centralized,
            &[
                ("centralized", SyncerMode::Centralized),
                ("distributed", SyncerMode::Distributed),
            ],
        );
        if syncer_mode == SyncerMode::Distributed && proxy_policy == ProxyPolicy::Single {
            f.err(
                p("proxy_policy"),
                quoted("single"),
                "distributed sync needs proxy policy \"all-master-shards\" or \"all-nodes\": it spreads syncer traffic over several proxy endpoints, and \"single\" provides only one",
            );
        }
        let memory_limit = match &c.memory_limit {
            Some(s) => size_field(f, &p("memory_limit"), s),
            None => Some(1024 * 1024 * 1024),
        };
        let backlog_bytes = match (explicit_backlog, memory_limit) {
            (Some(b), _) => b,
            // The documented default: 1% of the database memory limit over its shards,
            // clamped to the 1MB–250MB range.
            (None, Some(m)) => (m / 100 / shards.max(1)).clamp(MIN_BACKLOG, MAX_BACKLOG),
            (None, None) => MIN_BACKLOG,
        };
        if let Some(m) = memory_limit {
            let per_shard = m / shards.max(1);
            if backlog_bytes * 4 > per_shard {
                f.warn(
                    p("memory_limit"),
                    c.memory_limit.as_deref().and_then(quoted),
                    format!(
                        "the replication backlog ({backlog_bytes} B per shard) takes more than a quarter of the shard's memory limit ({per_shard} B): it counts as used memory, so writes will meet OOM early"
                    ),
                );
            }
        }
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
        let eviction = match c.eviction_policy.as_deref() {
            None => EvictionPolicy::NoEviction,
            Some(name) => match EvictionPolicy::ALL.iter().find(|p| p.name() == name) {
                Some(p) => *p,
                None => {
                    let approx = ["allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu"];
                    let why = if approx.contains(&name) {
                        " (geosim does not track access recency or frequency, so LRU and LFU are not modelled)"
                    } else {
                        ""
                    };
                    f.err(
                        p("eviction_policy"),
                        quoted(name),
                        format!("expected \"noeviction\", \"allkeys-random\", \"volatile-random\" or \"volatile-ttl\"{why}"),
                    );
                    EvictionPolicy::NoEviction
                }
            },
        };
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
        clusters.push(ClusterConfig {
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
            clock: ClockParams {
                offset_ns,
                drift_ppm,
                ntp,
                ntp_interval: duration_field(
                    f,
                    &p("ntp_interval"),
                    c.ntp_interval.as_ref(),
                    Some(SimDuration::from_secs(64)),
                )
                .filter(|d| !d.is_zero())
                .unwrap_or(SimDuration::from_secs(64)),
                ntp_residual: duration_field(
                    f,
                    &p("ntp_residual"),
                    c.ntp_residual.as_ref(),
                    Some(SimDuration::from_millis(1)),
                )
                .unwrap_or_default(),
                steps: Vec::new(),
            },
        });
    }
    if backlog_ok && let Some(b) = explicit_backlog {
        let raw_s = raw_backlog.expect("explicit backlog came from a raw value");
        if !(MIN_BACKLOG..=MAX_BACKLOG).contains(&b) {
            if allow_any_backlog {
                if b == 0 {
                    f.err(
                        "replication.backlog_size",
                        quoted(raw_s),
                        "a backlog must hold at least one byte",
                    );
                } else {
                    f.warn(
                        "replication.backlog_size",
                        quoted(raw_s),
                        "outside the documented 1MB–250MB per shard: a what-if beyond supported Redis behaviour",
                    );
                }
            } else {
                f.err(
                    "replication.backlog_size",
                    quoted(raw_s),
                    "the CRDT replication backlog must be 1MB to 250MB per shard (documented range); set whatif.allow_any_backlog_size = true to explore other sizes",
                );
            }
        }
    }
    let index_of = |name: &str| names.iter().position(|n| n == name);

    // Network.
    let net = raw.network.as_ref();
    let default_latency = match net.and_then(|n| n.latency.as_ref()) {
        Some(v) => latency_field(f, "network.latency", v),
        None => Some(LatencyDist::Constant(SimDuration::from_millis(50))),
    };
    let default_jitter = duration_field(
        f,
        "network.jitter",
        net.and_then(|n| n.jitter.as_ref()),
        Some(SimDuration::ZERO),
    );
    let default_bw = match net.and_then(|n| n.bandwidth.as_ref()) {
        Some(s) => bandwidth_field(f, "network.bandwidth", s),
        None => Some(1_000_000_000),
    };
    let default_loss = match net.and_then(|n| n.loss) {
        Some(x) => loss_field(f, "network.loss", x),
        None => Some(0.0),
    };
    let defaults = LinkParams {
        latency: default_latency.unwrap_or(LatencyDist::Constant(SimDuration::ZERO)),
        jitter: default_jitter.unwrap_or_default(),
        bandwidth_bps: default_bw.unwrap_or(1),
        loss: default_loss.unwrap_or(0.0),
    };
    let mut links: Vec<((usize, usize), LinkParams)> = Vec::new();
    for a in 0..clusters.len() {
        for b in 0..clusters.len() {
            if a != b {
                links.push(((a, b), defaults.clone()));
            }
        }
    }
    for (i, l) in net
        .map(|n| n.link.as_slice())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let p = |field: &str| format!("network.link[{i}].{field}");
        let mut dirs: Vec<(usize, usize)> = Vec::new();
        let endpoint = |f: &mut Findings, path: String, name: &str| -> Option<usize> {
            let r = index_of(name);
            if r.is_none() {
                f.err(
                    path,
                    quoted(name),
                    format!(
                        "no such cluster; expected one of {}",
                        names
                            .iter()
                            .map(|n| format!("\"{n}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            r
        };
        match (&l.between, &l.from, &l.to) {
            (Some(pair), None, None) => {
                if pair.len() != 2 {
                    f.err(p("between"), Some(format!("{pair:?}")), "expected two cluster names, e.g. [\"us-east\", \"eu-west\"]");
                } else if let (Some(a), Some(b)) = (
                    endpoint(f, format!("{}[0]", p("between")), &pair[0]),
                    endpoint(f, format!("{}[1]", p("between")), &pair[1]),
                ) {
                    if a == b {
                        f.err(p("between"), Some(format!("{pair:?}")), "a link joins two different clusters");
                    } else {
                        dirs.push((a, b));
                        dirs.push((b, a));
                    }
                }
            }
            (None, Some(from), Some(to)) => {
                if let (Some(a), Some(b)) = (endpoint(f, p("from"), from), endpoint(f, p("to"), to)) {
                    if a == b {
                        f.err(p("to"), quoted(to), "a link joins two different clusters");
                    } else {
                        dirs.push((a, b));
                    }
                }
            }
            _ => f.err(
                format!("network.link[{i}]"),
                None,
                "name the link with either between = [\"a\", \"b\"] (both directions) or from = \"a\" and to = \"b\" (one direction)",
            ),
        }
        let latency = l
            .latency
            .as_ref()
            .and_then(|v| latency_field(f, &p("latency"), v));
        let jitter = l
            .jitter
            .as_ref()
            .and_then(|s| duration_field(f, &p("jitter"), Some(s), None));
        let bw = l
            .bandwidth
            .as_ref()
            .and_then(|s| bandwidth_field(f, &p("bandwidth"), s));
        let loss = l.loss.and_then(|x| loss_field(f, &p("loss"), x));
        for d in dirs {
            let entry = links
                .iter_mut()
                .find(|(k, _)| *k == d)
                .expect("every directed pair exists");
            if let Some(v) = &latency {
                entry.1.latency = v.clone();
            }
            if let Some(v) = jitter {
                entry.1.jitter = v;
            }
            if let Some(v) = bw {
                entry.1.bandwidth_bps = v;
            }
            if let Some(v) = loss {
                entry.1.loss = v;
            }
        }
    }

    // Replication.
    let repl = raw.replication.as_ref();
    let backlog_model = choice(
        f,
        "replication.backlog_model",
        repl.and_then(|r| r.backlog_model.as_ref()),
        BacklogModel::Block,
        &[("block", BacklogModel::Block), ("ring", BacklogModel::Ring)],
    );
    let timeout = duration_field(
        f,
        "replication.timeout",
        repl.and_then(|r| r.timeout.as_ref()),
        Some(SimDuration::from_secs(60)),
    );
    let syncer_ops_per_sec = match repl.and_then(|r| r.syncer_throughput.as_ref()) {
        None => 100_000.0,
        Some(s) if s == "unlimited" => 0.0,
        Some(s) => match parse_rate(s) {
            Some(r) if r > 0.0 => r,
            _ => {
                f.err(
                    "replication.syncer_throughput",
                    quoted(s),
                    format!("expected {RATE_HELP} above zero, or \"unlimited\""),
                );
                0.0
            }
        },
    };
    let compression = repl.and_then(|r| r.compression).unwrap_or(3);
    if compression > 6 {
        f.err(
            "replication.compression",
            Some(compression.to_string()),
            "expected a compression level from 0 (off) to 6 (maximum); the default is 3",
        );
    }
    let reconnect_delay = duration_field(
        f,
        "replication.reconnect_delay",
        repl.and_then(|r| r.reconnect_delay.as_ref()),
        Some(SimDuration::from_secs(1)),
    );

    // Workload.
    let workload = raw.workload.as_ref().map(|w| {
        let rate = match &w.rate {
            None => {
                f.err(
                    "workload.rate",
                    None,
                    format!("missing; expected {RATE_HELP}"),
                );
                1.0
            }
            Some(s) => match parse_rate(s) {
                Some(r) if r > 0.0 && r <= MAX_RATE => r,
                Some(_) => {
                    f.err(
                        "workload.rate",
                        quoted(s),
                        format!("expected a rate above 0 and at most {MAX_RATE}/s"),
                    );
                    1.0
                }
                None => {
                    f.err("workload.rate", quoted(s), format!("expected {RATE_HELP}"));
                    1.0
                }
            },
        };
        let keys = w.keys.unwrap_or(10_000);
        if !(1..=MAX_KEYS).contains(&keys) {
            f.err(
                "workload.keys",
                Some(keys.to_string()),
                format!("expected 1 to {MAX_KEYS} keys"),
            );
        }
        let is_zipf = choice(
            f,
            "workload.key_distribution",
            w.key_distribution.as_ref(),
            false,
            &[("uniform", false), ("zipf", true)],
        );
        let key_dist = if is_zipf {
            let s = w.zipf_exponent.unwrap_or(0.99);
            if !(s > 0.0 && s <= 10.0) {
                f.err(
                    "workload.zipf_exponent",
                    Some(s.to_string()),
                    "expected an exponent in (0, 10]",
                );
            }
            KeyDist::Zipf { exponent: s }
        } else {
            if let Some(s) = w.zipf_exponent {
                f.err(
                    "workload.zipf_exponent",
                    Some(s.to_string()),
                    "only valid with key_distribution = \"zipf\"",
                );
            }
            KeyDist::Uniform
        };
        let value_bytes = match &w.value_size {
            None => 256,
            Some(s) => match size_field(f, "workload.value_size", s) {
                Some(v) if v <= MAX_VALUE => v as u32,
                Some(_) => {
                    f.err(
                        "workload.value_size",
                        quoted(s),
                        "expected at most 512MB (the Redis string limit)",
                    );
                    0
                }
                None => 0,
            },
        };
        let arrival = choice(
            f,
            "workload.arrival",
            w.arrival.as_ref(),
            Arrival::Poisson,
            &[
                ("poisson", Arrival::Poisson),
                ("constant", Arrival::Constant),
            ],
        );
        let writers: Vec<usize> = match &w.clusters {
            None => (0..names.len()).collect(),
            Some(list) => {
                if list.is_empty() {
                    f.err(
                        "workload.clusters",
                        Some("[]".into()),
                        "expected at least one cluster name (or omit the field for all)",
                    );
                }
                let mut v = Vec::new();
                for (i, name) in list.iter().enumerate() {
                    match index_of(name) {
                        Some(c) if !v.contains(&c) => v.push(c),
                        Some(_) => f.err(
                            format!("workload.clusters[{i}]"),
                            quoted(name),
                            "listed twice",
                        ),
                        None => f.err(
                            format!("workload.clusters[{i}]"),
                            quoted(name),
                            "no such cluster",
                        ),
                    }
                }
                v.sort_unstable();
                v
            }
        };
        let mix = match &w.mix {
            None => OpMix {
                set: 1.0,
                incr: 0.0,
            },
            Some(m) => {
                let set = m.set.unwrap_or(0.0);
                let incr = m.incr.unwrap_or(0.0);
                for (name, x) in [("set", set), ("incr", incr)] {
                    if !(x.is_finite() && x >= 0.0) {
                        f.err(
                            format!("workload.mix.{name}"),
                            Some(x.to_string()),
                            "expected a weight of zero or more",
                        );
                    }
                }
                if set + incr <= 0.0 {
                    f.err("workload.mix", None, "the weights must not all be zero");
                }
                OpMix { set, incr }
            }
        };
        WorkloadParams {
            rate_per_sec: rate,
            keys: keys.clamp(1, MAX_KEYS),
            key_dist,
            value_bytes,
            mix,
            arrival,
            clusters: writers,
        }
    });

    // Resource guard: refuse, before anything runs, a run that would need absurd memory or
    // time, with the estimate and what to change.
    if let (Some(w), Some(d)) = (&workload, duration) {
        let allow_huge = whatif.and_then(|w| w.allow_huge_runs).unwrap_or(false);
        let writes = w.rate_per_sec * d.as_secs_f64();
        let kinds = u64::from(w.mix.set > 0.0) + u64::from(w.mix.incr > 0.0);
        let distinct = (w.keys.saturating_mul(kinds) as f64).min(writes);
        let n = clusters.len().max(1) as f64;
        let bytes = distinct * n * ESTIMATED_BYTES_PER_KEY_COPY;
        // A write is an arrival and an apply at each peer (and a delivery per batch).
        let events = writes * (1.0 + 2.0 * (n - 1.0));
        if !allow_huge && bytes > MAX_ESTIMATED_MEMORY {
            f.err(
                "workload.keys",
                Some(w.keys.to_string()),
                format!(
                    "the run would hold about {:.0} GiB ({:.3e} distinct keys × {} instances × ~{} bytes each), over the {} GiB guard; use fewer keys, a lower rate or a shorter run (or whatif.allow_huge_runs = true)",
                    bytes / GIB,
                    distinct,
                    clusters.len(),
                    ESTIMATED_BYTES_PER_KEY_COPY,
                    MAX_ESTIMATED_MEMORY / GIB
                ),
            );
        }
        if !allow_huge && events > MAX_ESTIMATED_EVENTS {
            f.err(
                "run.duration",
                run.and_then(|r| r.duration.as_deref()).and_then(quoted),
                format!(
                    "the run would process about {events:.3e} events ({writes:.3e} writes), over the {MAX_ESTIMATED_EVENTS:.0e} guard (days of wall time); lower workload.rate or run.duration (or whatif.allow_huge_runs = true)"
                ),
            );
        } else if events > max_events as f64 {
            f.warn(
                "run.max_events",
                Some(max_events.to_string()),
                format!(
                    "the run needs about {events:.3e} events, more than this bound: it will stop early and not converge"
                ),
            );
        }
    }

    // Faults.
    let mut faults = Vec::new();
    let mut clock_steps: Vec<(usize, SimTime, i64)> = Vec::new();
    const FAULT_KINDS: &str = "\"partition\", \"degrade\", \"clock_step\" or \"crash\"";
    for (i, fl) in raw.fault.iter().enumerate() {
        let p = |field: &str| format!("fault[{i}].{field}");
        if fl.kind.as_deref() == Some("clock_step") {
            let at = duration_field(f, &p("begin"), fl.begin.as_ref(), None);
            let cluster = fault_cluster(f, fl, i, &index_of, "the cluster whose clock steps");
            let step = match &fl.step {
                None => {
                    f.err(
                        p("step"),
                        None,
                        "missing: how far the clock jumps, e.g. \"500ms\" or \"-2s\"",
                    );
                    None
                }
                Some(s) => {
                    let (neg, body) = s
                        .strip_prefix('-')
                        .map_or((false, s.as_str()), |b| (true, b));
                    match parse_duration(body) {
                        Some(d) if d.0 <= i64::MAX as u64 => {
                            Some(if neg { -(d.0 as i64) } else { d.0 as i64 })
                        }
                        _ => {
                            f.err(
                                p("step"),
                                quoted(s),
                                format!("expected {DURATION_HELP}, optionally negative"),
                            );
                            None
                        }
                    }
                }
            };
            for (field, given) in [
                ("end", fl.end.is_some()),
                ("duration", fl.duration.is_some()),
                ("isolate", fl.isolate.is_some()),
                ("links", fl.links.is_some()),
                ("mode", fl.mode.is_some()),
                ("latency_add", fl.latency_add.is_some()),
                ("bandwidth", fl.bandwidth.is_some()),
            ] {
                if given {
                    f.err(
                        p(field),
                        None,
                        "not valid for kind = \"clock_step\" (it takes cluster, begin and step)",
                    );
                }
            }
            if let (Some(at), Some(c), Some(step)) = (at, cluster, step) {
                clock_steps.push((c, SimTime::ZERO + at, step));
            }
            continue;
        }
        if fl.kind.as_deref() == Some("crash") {
            let begin = duration_field(f, &p("begin"), fl.begin.as_ref(), None);
            let end = fault_end(f, fl, i, begin);
            let cluster = fault_cluster(f, fl, i, &index_of, "the cluster whose shard crashes");
            let shard = fl.shard.unwrap_or(0);
            if let Some(c) = cluster
                && shard >= clusters[c].shards as u64
            {
                f.err(
                    p("shard"),
                    Some(shard.to_string()),
                    format!(
                        "expected a shard index from 0 to {}",
                        clusters[c].shards - 1
                    ),
                );
            }
            for (field, given) in [
                ("isolate", fl.isolate.is_some()),
                ("links", fl.links.is_some()),
                ("mode", fl.mode.is_some()),
                ("step", fl.step.is_some()),
                ("latency_add", fl.latency_add.is_some()),
                ("bandwidth", fl.bandwidth.is_some()),
            ] {
                if given {
                    f.err(
                        p(field),
                        None,
                        "not valid for kind = \"crash\" (it takes cluster, shard or node, begin and end or duration)",
                    );
                }
            }
            if let (Some(b), Some(e), Some(c)) = (begin, end, cluster) {
                if e <= b {
                    f.err(p("end"), None, "the restart must come after the crash");
                }
                if let Some(d) = duration
                    && b >= d
                {
                    f.err(
                        p("begin"),
                        fl.begin.as_deref().and_then(quoted),
                        format!("must be before the end of run.duration ({d})"),
                    );
                }
                // A node crash takes down every primary placed on that node.
                let shards: Vec<usize> = match fl.node {
                    None => vec![shard as usize],
                    Some(node) => {
                        let cl = &clusters[c];
                        if fl.shard.is_some() {
                            f.err(p("node"), None, "give shard or node, not both");
                        }
                        if node >= cl.nodes as u64 {
                            f.err(
                                p("node"),
                                Some(node.to_string()),
                                format!("expected a node index from 0 to {}", cl.nodes - 1),
                            );
                        }
                        crate::model::topology::ClusterTopo::new(
                            &cl.name,
                            cl.nodes,
                            cl.shards,
                            cl.replication,
                            cl.proxy_policy,
                        )
                        .shards
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| t.primary_node as u64 == node)
                        .map(|(s, _)| s)
                        .collect()
                    }
                };
                let name = fl.name.clone().unwrap_or_else(|| format!("fault[{i}]"));
                for sh in shards {
                    faults.push(Fault {
                        name: name.clone(),
                        begin: SimTime::ZERO + b,
                        end: SimTime::ZERO + e,
                        pairs: Vec::new(),
                        kind: FaultKind::Crash {
                            cluster: c,
                            shard: sh,
                        },
                    });
                }
            }
            continue;
        }
        for (field, given) in [
            ("cluster", fl.cluster.is_some()),
            ("step", fl.step.is_some()),
            ("shard", fl.shard.is_some()),
            ("node", fl.node.is_some()),
        ] {
            if given {
                f.err(
                    p(field),
                    None,
                    "only valid with kind = \"clock_step\" or \"crash\"",
                );
            }
        }
        let kind = match fl.kind.as_deref() {
            Some("partition") => {
                let mode = choice(
                    f,
                    &p("mode"),
                    fl.mode.as_ref(),
                    PartitionMode::Drop,
                    &[
                        ("drop", PartitionMode::Drop),
                        ("stall", PartitionMode::Stall),
                    ],
                );
                for (field, given) in [
                    ("latency_add", fl.latency_add.is_some()),
                    ("bandwidth", fl.bandwidth.is_some()),
                ] {
                    if given {
                        f.err(p(field), None, "only valid with kind = \"degrade\"");
                    }
                }
                FaultKind::Partition(mode)
            }
            Some("degrade") => {
                if fl.mode.is_some() {
                    f.err(p("mode"), None, "only valid with kind = \"partition\"");
                }
                let extra_latency = fl
                    .latency_add
                    .as_ref()
                    .and_then(|s| duration_field(f, &p("latency_add"), Some(s), None))
                    .unwrap_or_default();
                let bandwidth_bps = fl
                    .bandwidth
                    .as_ref()
                    .and_then(|s| bandwidth_field(f, &p("bandwidth"), s));
                if fl.latency_add.is_none() && fl.bandwidth.is_none() {
                    f.err(format!("fault[{i}]"), None, "a degradation needs latency_add (e.g. \"200ms\") and/or bandwidth (e.g. \"1Mbit/s\")");
                }
                FaultKind::Degrade {
                    extra_latency,
                    bandwidth_bps,
                }
            }
            Some(other) => {
                f.err(p("kind"), quoted(other), format!("expected {FAULT_KINDS}"));
                continue;
            }
            None => {
                f.err(p("kind"), None, format!("missing; expected {FAULT_KINDS}"));
                continue;
            }
        };
        let begin = duration_field(f, &p("begin"), fl.begin.as_ref(), None);
        let end = fault_end(f, fl, i, begin);
        if let (Some(b), Some(e)) = (begin, end)
            && e <= b
        {
            f.err(
                p(if fl.end.is_some() { "end" } else { "duration" }),
                None,
                format!(
                    "the fault must end after it begins ({})",
                    crate::engine::time::format_duration(b)
                ),
            );
        }
        if let (Some(b), Some(d)) = (begin, duration)
            && b >= d
        {
            f.err(
                p("begin"),
                fl.begin.as_deref().and_then(quoted),
                format!("must be before the end of run.duration ({d})"),
            );
        }
        let mut pairs = Vec::new();
        match (&fl.isolate, &fl.links) {
            (Some(iso), None) => {
                let mut side = Vec::new();
                for (j, name) in iso.iter().enumerate() {
                    match index_of(name) {
                        Some(c) => side.push(c),
                        None => f.err(format!("{}[{j}]", p("isolate")), quoted(name), "no such cluster"),
                    }
                }
                for a in 0..names.len() {
                    for b in a + 1..names.len() {
                        if side.contains(&a) != side.contains(&b) {
                            pairs.push((a, b));
                        }
                    }
                }
                if pairs.is_empty() && !iso.is_empty() && side.len() == iso.len() {
                    f.err(p("isolate"), Some(format!("{iso:?}")), "isolating every cluster (or none) cuts no link; list the clusters on one side");
                }
            }
            (None, Some(ls)) => {
                for (j, pair) in ls.iter().enumerate() {
                    let lp = format!("{}[{j}]", p("links"));
                    if pair.len() != 2 {
                        f.err(lp, Some(format!("{pair:?}")), "expected a pair of cluster names");
                        continue;
                    }
                    match (index_of(&pair[0]), index_of(&pair[1])) {
                        (Some(a), Some(b)) if a != b => {
                            let k = (a.min(b), a.max(b));
                            if !pairs.contains(&k) {
                                pairs.push(k);
                            }
                        }
                        (Some(_), Some(_)) => f.err(lp, Some(format!("{pair:?}")), "a link joins two different clusters"),
                        _ => f.err(lp, Some(format!("{pair:?}")), "no such cluster"),
                    }
                }
            }
            _ => f.err(
                format!("fault[{i}]"),
                None,
                "say which links the fault affects: isolate = [\"us-east\"] (these clusters from the rest) or links = [[\"us-east\", \"eu-west\"]]",
            ),
        }
        pairs.sort_unstable();
        if let (Some(begin), Some(end)) = (begin, end) {
            faults.push(Fault {
                name: fl.name.clone().unwrap_or_else(|| format!("fault[{i}]")),
                begin: crate::engine::SimTime::ZERO + begin,
                end: crate::engine::SimTime::ZERO + end,
                pairs,
                kind,
            });
        }
    }

    // Database options.
    let db = raw.database.as_ref();
    let causal_consistency = db.and_then(|d| d.causal_consistency).unwrap_or(false);
    let xadd_mode = choice(
        f,
        "database.xadd_id_mode",
        db.and_then(|d| d.xadd_id_mode.as_ref()),
        XaddIdMode::Strict,
        &[
            ("strict", XaddIdMode::Strict),
            ("semi-strict", XaddIdMode::SemiStrict),
            ("liberal", XaddIdMode::Liberal),
        ],
    );

    // Scripted steps.
    let mut script = Vec::new();
    let mut expectations = Vec::new();
    let mut notes = Vec::new();
    for (i, st) in raw.step.iter().enumerate() {
        let p = |field: &str| format!("step[{i}].{field}");
        let at = st
            .at
            .as_ref()
            .and_then(|s| duration_field(f, &p("at"), Some(s), None));
        let after = st
            .after
            .as_ref()
            .and_then(|s| duration_field(f, &p("after"), Some(s), None));
        if st.at.is_some() && st.after.is_some() {
            f.err(
                format!("step[{i}]"),
                None,
                "give at (an absolute time) or after (a delay), not both",
            );
        }
        let actions = [
            st.cmd.is_some(),
            st.sync.is_some(),
            st.partition.is_some(),
            st.heal.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if actions > 1 {
            f.err(
                format!("step[{i}]"),
                None,
                "a step does one thing: cmd (with on), sync, partition or heal",
            );
            continue;
        }
        let action = if let Some(line) = &st.cmd {
            let cluster = match &st.on {
                None => {
                    f.err(
                        p("on"),
                        None,
                        "missing: which instance runs the command (a cluster name)",
                    );
                    None
                }
                Some(name) => {
                    let c = index_of(name);
                    if c.is_none() {
                        f.err(
                            p("on"),
                            quoted(name),
                            format!(
                                "no such cluster; expected one of {}",
                                names
                                    .iter()
                                    .map(|n| format!("\"{n}\""))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                    }
                    c
                }
            };
            match crate::redis::parse_line(line) {
                Err(e) => {
                    f.err(p("cmd"), quoted(line), e.0);
                    None
                }
                Ok(cmd) => cluster.map(|cluster| StepAction::Command {
                    cluster,
                    line: line.clone(),
                    cmd,
                }),
            }
        } else if let Some(v) = &st.sync {
            let group = match v {
                toml::Value::String(s) if s == "all" => Some((0..names.len()).collect::<Vec<_>>()),
                toml::Value::Array(items) => {
                    let mut g = Vec::new();
                    for (j, it) in items.iter().enumerate() {
                        match it.as_str().and_then(index_of) {
                            Some(c) if !g.contains(&c) => g.push(c),
                            _ => f.err(
                                format!("{}[{j}]", p("sync")),
                                Some(it.to_string()),
                                "expected the name of a cluster, once",
                            ),
                        }
                    }
                    if g.len() < 2 {
                        f.err(
                            p("sync"),
                            Some(v.to_string()),
                            "a sync needs at least two clusters (or \"all\")",
                        );
                    }
                    g.sort_unstable();
                    Some(g)
                }
                other => {
                    f.err(
                        p("sync"),
                        Some(other.to_string()),
                        "expected \"all\" or a list of cluster names",
                    );
                    None
                }
            };
            group.map(|clusters| StepAction::Sync { clusters })
        } else if let Some(iso) = &st.partition {
            let mut side = Vec::new();
            for (j, name) in iso.iter().enumerate() {
                match index_of(name) {
                    Some(c) => side.push(c),
                    None => f.err(
                        format!("{}[{j}]", p("partition")),
                        quoted(name),
                        "no such cluster",
                    ),
                }
            }
            let mut pairs = Vec::new();
            for a in 0..names.len() {
                for b in a + 1..names.len() {
                    if side.contains(&a) != side.contains(&b) {
                        pairs.push((a, b));
                    }
                }
            }
            if pairs.is_empty() {
                f.err(
                    p("partition"),
                    Some(format!("{iso:?}")),
                    "list the clusters to cut off from the others (not all, not none)",
                );
            }
            Some(StepAction::Partition { pairs })
        } else if let Some(h) = st.heal {
            if !h {
                f.err(
                    p("heal"),
                    Some("false".into()),
                    "write heal = true, or leave the field out",
                );
            }
            Some(StepAction::Heal)
        } else if st.after.is_some() || st.at.is_some() {
            Some(StepAction::Wait)
        } else {
            f.err(format!("step[{i}]"), None, "empty step: give cmd (with on), sync, partition, heal, or a time (at/after) to wait");
            None
        };
        if st.on.is_some() && st.cmd.is_none() {
            f.err(p("on"), None, "only valid with cmd");
        }
        let expect_given = [
            st.expect.is_some(),
            st.expect_nil == Some(true),
            st.expect_error.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if expect_given > 0 && st.cmd.is_none() {
            f.err(
                format!("step[{i}]"),
                None,
                "expectations apply to a cmd step",
            );
        } else if expect_given > 1 {
            f.err(
                format!("step[{i}]"),
                None,
                "give one of expect, expect_nil, expect_error",
            );
        } else if expect_given == 1 {
            let expected = if let Some(v) = &st.expect {
                match Expected::from_toml(v) {
                    Ok(e) => Some(e),
                    Err(msg) => {
                        f.err(p("expect"), Some(v.to_string()), msg);
                        None
                    }
                }
            } else if let Some(e) = &st.expect_error {
                Some(Expected::Error(e.clone()))
            } else {
                Some(Expected::Nil)
            };
            if let Some(expected) = expected {
                expectations.push(Expectation {
                    step: i,
                    expected,
                    unordered: st.unordered.unwrap_or(false),
                });
            }
        }
        if st.unordered.is_some() && st.expect.is_none() {
            f.err(p("unordered"), None, "only valid with expect = [ ... ]");
        }
        if let Some(n) = &st.note {
            notes.push((i, n.clone()));
        }
        if let Some(action) = action {
            script.push(Step {
                at: at.map(|d| SimTime::ZERO + d),
                after,
                action,
            });
        }
    }

    // Membership rules [MANAGE; CLI-ADD; CLI-REMOVE].
    let joining: Vec<usize> = (0..clusters.len())
        .filter(|c| clusters[*c].join_at.is_some())
        .collect();
    if clusters.len() >= MIN_CLUSTERS && clusters.len() - joining.len() < MIN_CLUSTERS {
        f.err(
            "cluster",
            None,
            format!(
                "at least {MIN_CLUSTERS} clusters must be members from the start (without join_at)"
            ),
        );
    }
    for (c, cl) in clusters.iter().enumerate() {
        let partitioned_at = |t: SimTime| {
            faults.iter().any(|ft| {
                ft.is_partition()
                    && ft.begin <= t
                    && t < ft.end
                    && ft.pairs.iter().any(|(a, b)| *a == c || *b == c)
            })
        };
        if let Some(j) = cl.join_at
            && faults
                .iter()
                .any(|ft| ft.is_partition() && ft.begin <= j && j < ft.end)
        {
            f.err(
                format!("cluster[{c}].join_at"),
                None,
                "adding a cluster requires every existing cluster online and syncing: no partition may be active then",
            );
        }
        if let Some((l, force)) = cl.leave_at
            && !force
            && partitioned_at(l)
        {
            f.err(
                format!("cluster[{c}].leave_at"),
                None,
                "removing a cluster requires it online and syncing; while it is partitioned only a forced removal works (leave_force = true)",
            );
        }
    }

    // Expected outcomes.
    let mut outcomes = Outcomes::default();
    if let Some(e) = &raw.expect {
        outcomes.converges = e.converges;
        outcomes.converge_within = e
            .converge_within
            .as_ref()
            .and_then(|s| duration_field(f, "expect.converge_within", Some(s), None));
        for (name, v, slot) in [
            ("full_syncs", &e.full_syncs, &mut outcomes.full_syncs),
            (
                "partial_syncs",
                &e.partial_syncs,
                &mut outcomes.partial_syncs,
            ),
        ] {
            if let Some(v) = v {
                match CountRange::from_toml(v) {
                    Ok(r) => *slot = Some(r),
                    Err(msg) => f.err(format!("expect.{name}"), Some(v.to_string()), msg),
                }
            }
        }
        outcomes.full_sync_loop = e.full_sync_loop;
        outcomes.clock_inverted_wins_min = e.clock_inverted_wins_min;
        for (name, v) in [
            ("lag_ms_p99_max", e.lag_ms_p99_max),
            ("lag_ms_p99_min", e.lag_ms_p99_min),
        ] {
            if let Some(x) = v
                && !(x.is_finite() && x >= 0.0)
            {
                f.err(
                    format!("expect.{name}"),
                    Some(x.to_string()),
                    "expected milliseconds, zero or more",
                );
            }
        }
        if let Some(v) = &e.lost_writes {
            match CountRange::from_toml(v) {
                Ok(r) => outcomes.lost_writes = Some(r),
                Err(msg) => f.err("expect.lost_writes", Some(v.to_string()), msg),
            }
        }
        if let Some(max) = e.lost_writes_max {
            if e.lost_writes.is_some() {
                f.err(
                    "expect.lost_writes_max",
                    None,
                    "give lost_writes or lost_writes_max, not both",
                );
            }
            outcomes.lost_writes = Some(CountRange {
                min: None,
                max: Some(max),
            });
        }
        outcomes.lag_ms_p99_max = e.lag_ms_p99_max;
        outcomes.lag_ms_p99_min = e.lag_ms_p99_min;
        if let Some(d) = &e.digest {
            if d.len() == 16
                && d.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                let file_seed = run.and_then(|r| r.seed).unwrap_or(DEFAULT_SEED);
                outcomes.digest = Some((d.clone(), file_seed));
            } else {
                f.err(
                    "expect.digest",
                    quoted(d),
                    "expected the trace digest as 16 lowercase hex digits, as `geosim run` prints it (or let `geosim check --bless` write it)",
                );
            }
        }
    }

    // `[sweep]`: checked for shape here; whether each path exists is checked when a sweep
    // applies it (`geosim sweep` validates every cell before running any).
    let mut sweep = super::SweepSpec::default();
    if let Some(sw) = &raw.sweep {
        for (i, spec) in sw.set.iter().enumerate() {
            match super::axes::parse_axis(spec) {
                Ok(a) => sweep.axes.push(a),
                Err(e) => f.err(format!("sweep.set[{i}]"), quoted(spec), e),
            }
        }
        if let Some(s) = &sw.seeds {
            match super::axes::parse_seeds(s) {
                Ok(v) => sweep.seeds = Some(v),
                Err(e) => f.err("sweep.seeds", quoted(s), e),
            }
        }
        if let Some(t) = &sw.full_sync_target {
            match super::axes::parse_share(t) {
                Ok(v) => sweep.full_sync_target = Some(v),
                Err(e) => f.err("sweep.full_sync_target", quoted(t), e),
            }
        }
    }

    for (c, at, step) in clock_steps {
        if let Some(cl) = clusters.get_mut(c) {
            cl.clock.steps.push((at, step));
            cl.clock.steps.sort();
        }
    }

    if !f.errors.is_empty() {
        return None;
    }
    Some(Validated {
        sweep,
        outcomes,
        expectations,
        notes,
        config: WorldConfig {
            seed,
            duration: duration?,
            converge_deadline: converge_deadline?,
            clusters,
            links,
            replication: ReplicationConfig {
                syncer_ops_per_sec,
                timeout: timeout?,
                compression: compression.min(6) as u8,
                backlog_model,
                reconnect_delay: reconnect_delay?,
            },
            workload,
            faults,
            script,
            step_advance: SimDuration::from_millis(1),
            causal_consistency,
            xadd_mode,
            max_events,
            sample_interval: sample_interval?,
        },
    })
}
