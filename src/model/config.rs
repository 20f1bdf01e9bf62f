//! The world's configuration, as the scenario layer builds it.

use super::backlog::BacklogModel;
use super::clock::ClockParams;
use super::fault::Fault;
use super::memory::EvictionPolicy;
use super::net::LinkParams;
use super::persistence::Persistence;
use super::script::Step;
use super::topology::{ProxyPolicy, SyncerMode};
use super::workload::WorkloadParams;
use crate::crdt::stream::XaddIdMode;
use crate::engine::{SimDuration, SimTime};

#[derive(Clone, Debug, PartialEq)]
pub struct ClusterConfig {
    pub name: String,
    pub nodes: usize,
    pub shards: usize,
    /// Whether shards have a replica inside the cluster.
    pub replication: bool,
    pub proxy_policy: ProxyPolicy,
    pub syncer_mode: SyncerMode,
    /// CRDT replication backlog per shard, in bytes.
    pub backlog_bytes: u64,
    /// The database replication backlog (primary to replica) per shard, in bytes; it only
    /// counts with `replication`.
    pub repl_backlog_bytes: u64,
    /// The instance's memory limit (split evenly over its shards; it covers the replicas).
    pub memory_limit: u64,
    pub eviction: EvictionPolicy,
    pub persistence: Persistence,
    /// How long a crashed primary's shard is unavailable before its replica takes over.
    pub failover_delay: SimDuration,
    /// The instance is added to the database at this time (absent before).
    pub join_at: Option<SimTime>,
    /// The instance is removed at this time; `true` for a forced removal (while offline).
    pub leave_at: Option<(SimTime, bool)>,
    pub clock: ClockParams,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReplicationConfig {
    /// Ops per second one syncer process applies (0: unlimited).
    pub syncer_ops_per_sec: f64,
    /// How long a silent syncer connection lasts before both sides drop it.
    pub timeout: SimDuration,
    /// Inter-cluster compression level 0–6 (see [`compression_ratio`]).
    pub compression: u8,
    pub backlog_model: BacklogModel,
    /// A syncer whose connection dropped retries after a delay drawn uniformly from
    /// `(0, reconnect_delay]` (Redis's once-per-second replication cron).
    pub reconnect_delay: SimDuration,
    /// Ops a session ships within this long of a batch's first op travel as one batch (one
    /// latency draw, one arrival); zero (the default) sends every op on its own.
    pub batch_window: SimDuration,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorldConfig {
    pub seed: u64,
    /// Writes are generated during `[0, duration)`; then every fault heals.
    pub duration: SimDuration,
    /// How long after `duration` the instances have to converge.
    pub converge_deadline: SimDuration,
    pub clusters: Vec<ClusterConfig>,
    /// Parameters of every directed link `(from, to)` of the full mesh.
    pub links: Vec<((usize, usize), LinkParams)>,
    pub replication: ReplicationConfig,
    pub workload: Option<WorkloadParams>,
    pub faults: Vec<Fault>,
    /// Scripted steps (empty: none). With steps, links hold their traffic except at syncs.
    pub script: Vec<Step>,
    /// How far the clock moves between steps that give no time.
    pub step_advance: SimDuration,
    /// Causal consistency (off by default, as in Redis).
    pub causal_consistency: bool,
    /// How `XADD` makes stream IDs unique across instances.
    pub xadd_mode: XaddIdMode,
    /// A bound on processed events for the whole run.
    pub max_events: u64,
    /// How often metrics are sampled (0: never).
    pub sample_interval: SimDuration,
    /// Hold plain string and counter keys compact where the configuration allows (see
    /// `ARCHITECTURE.md`, "Compact keys"): on for every scenario. Off, a run has the same
    /// history and outputs, only slower; the tests compare the two.
    pub compact_keys: bool,
    /// Whether every key keeps its CRDT state (`Exact`) or only a sample of the generated
    /// workload's keys does (`Sampled`; see `model::keysample`).
    pub fidelity: Fidelity,
}

/// How much of the keyspace a run models key by key (`run.fidelity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fidelity {
    /// Every key's CRDT state, everywhere (the default).
    #[default]
    Exact,
    /// Every write's bytes and timing, but CRDT state only for a deterministic sample of the
    /// generated keys: about one key in `every`, plus the workload's hottest keys.
    Sampled { every: u64 },
}

/// The share of bytes left after inter-cluster compression at `level` (0–6, Redis's default
/// 3). Redis documents the levels but no ratios; these are assumptions for a typical mix of
/// short keys and text-like values (documented in `docs/semantics.md`).
pub fn compression_ratio(level: u8) -> f64 {
    match level {
        0 => 1.0,
        1 => 0.60,
        2 => 0.55,
        3 => 0.50,
        4 => 0.48,
        5 => 0.46,
        _ => 0.45,
    }
}
