//! The serde mirror of the TOML scenario format. Values with units stay strings here and
//! are parsed by `validate`, which knows each field's path; structure errors (unknown fields,
//! wrong types) come from serde with a position.
//!
//! The same types generate the JSON Schema (`geosim schema`, see [`super::schema`]): each
//! field's doc comment is its description; units carry their pattern, counts their bounds,
//! choices their names (from [`super::spelling`]), and required fields are marked.

use schemars::JsonSchema;
use serde::Deserialize;

use super::schema::{
    BANDWIDTH, DURATION, SIGNED_DURATION, SIZE, count_range, expected_reply, latency, size_dist,
    size_or_auto, sync_group, throughput,
};
use super::spelling;

/// A geosim scenario (TOML). See scenarios/README.md for every field.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "geosim scenario")]
pub(crate) struct RawScenario {
    pub run: Option<RawRun>,
    pub whatif: Option<RawWhatIf>,
    /// Participating clusters.
    #[serde(default)]
    pub cluster: Vec<RawCluster>,
    pub network: Option<RawNetwork>,
    pub replication: Option<RawReplication>,
    pub workload: Option<RawWorkload>,
    /// Faults.
    #[serde(default)]
    pub fault: Vec<RawFault>,
    /// Random fault processes: outages at random times.
    #[serde(default)]
    pub fault_process: Vec<RawFaultProcess>,
    pub database: Option<RawDatabase>,
    /// Scripted steps.
    #[serde(default)]
    pub step: Vec<RawStep>,
    pub expect: Option<RawExpect>,
    pub sweep: Option<RawSweep>,
}

/// `[sweep]`: what geosim sweep varies when the command line gives no --set.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSweep {
    /// Axes: path=v1,v2,...
    #[serde(default)]
    pub set: Vec<String>,
    /// "7" or "1..20".
    pub seeds: Option<String>,
    /// A share of runs: "0.05" or "5%".
    pub full_sync_target: Option<String>,
}

/// `[expect]`: what the run must show.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    /// The verdict is converged.
    pub converges: Option<bool>,
    /// Converged at most this long after writes end.
    #[schemars(regex(pattern = DURATION))]
    pub converge_within: Option<String>,
    /// Total full syncs: a count or { min, max }.
    #[schemars(schema_with = "count_range")]
    #[serde(default)]
    pub full_syncs: Option<toml::Value>,
    /// Total partial syncs: a count or { min, max }.
    #[schemars(schema_with = "count_range")]
    #[serde(default)]
    pub partial_syncs: Option<toml::Value>,
    /// Some syncer failed two full syncs in a row.
    pub full_sync_loop: Option<bool>,
    /// At least this many clock-inverted wins.
    pub clock_inverted_wins_min: Option<u64>,
    /// Worst per-peer p99 lag at most, ms.
    #[schemars(range(min = 0))]
    pub lag_ms_p99_max: Option<f64>,
    /// Worst per-peer p99 lag at least, ms.
    #[schemars(range(min = 0))]
    pub lag_ms_p99_min: Option<f64>,
    /// Acknowledged writes lost for good: a count or { min, max }.
    #[schemars(schema_with = "count_range")]
    #[serde(default)]
    pub lost_writes: Option<toml::Value>,
    /// At most this many lost writes.
    pub lost_writes_max: Option<u64>,
    /// Acknowledged writes of removed clusters that some member left never received: a count or
    /// { min, max }.
    #[schemars(schema_with = "count_range")]
    #[serde(default)]
    pub lost_to_removal: Option<toml::Value>,
    /// At most this many writes lost to removals.
    pub lost_to_removal_max: Option<u64>,
    /// The pinned trace digest for the file's seed.
    #[schemars(regex(pattern = r"^[0-9a-f]{16}$"))]
    pub digest: Option<String>,
}

/// `[database]`: database-wide switches.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDatabase {
    /// Deliver ops in causal order.
    pub causal_consistency: Option<bool>,
    /// XADD ID uniqueness.
    #[schemars(extend("enum" = spelling::names(spelling::XADD_ID_MODES)))]
    pub xadd_id_mode: Option<String>,
}

/// `[[step]]`: one step of a scripted scenario.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    /// The instance that runs cmd.
    pub on: Option<String>,
    /// A redis-cli command line.
    pub cmd: Option<String>,
    /// Run at this time.
    #[schemars(regex(pattern = DURATION))]
    pub at: Option<String>,
    /// Run this long after the previous step.
    #[schemars(regex(pattern = DURATION))]
    pub after: Option<String>,
    /// "all" or a list of instances that exchange what is pending.
    #[schemars(schema_with = "sync_group")]
    #[serde(default)]
    pub sync: Option<toml::Value>,
    /// Cut these clusters from the others.
    pub partition: Option<Vec<String>>,
    /// End every step partition.
    pub heal: Option<bool>,
    /// The expected reply: a string, integer or list.
    #[schemars(schema_with = "expected_reply")]
    #[serde(default)]
    pub expect: Option<toml::Value>,
    /// The reply is nil.
    pub expect_nil: Option<bool>,
    /// The reply is an error starting with this.
    pub expect_error: Option<String>,
    /// Compare a list reply in any order.
    pub unordered: Option<bool>,
    /// Printed in the transcript.
    pub note: Option<String>,
}

/// `[run]`: seed, length and limits of the run.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRun {
    /// The master seed.
    pub seed: Option<u64>,
    /// Simulated time of client writes (a scripted scenario may leave it out).
    #[schemars(regex(pattern = DURATION))]
    pub duration: Option<String>,
    /// How long after `duration` the instances have to converge.
    #[schemars(regex(pattern = DURATION))]
    pub converge_deadline: Option<String>,
    /// Stop after this many events.
    #[schemars(range(min = 1))]
    pub max_events: Option<u64>,
    /// How often metrics are sampled (0: never).
    #[schemars(regex(pattern = DURATION))]
    pub sample_interval: Option<String>,
    /// "exact" (every key's CRDT state; the default) or "sampled" (every write's bytes and
    /// timing, CRDT state for a sample of the keys: see docs/semantics.md).
    pub fidelity: Option<String>,
    /// With fidelity = "sampled": the share of keys kept, "1/N" (default "1/64").
    #[schemars(regex(pattern = r"^1/[0-9]+$"))]
    pub sample: Option<String>,
}

/// `[whatif]`: switches past documented Redis limits.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWhatIf {
    /// Allow 6 to 32 participating clusters.
    pub allow_more_clusters: Option<bool>,
    /// Allow a backlog outside 1MB to 250MB.
    pub allow_any_backlog_size: Option<bool>,
    /// Skip the memory and event guards.
    pub allow_huge_runs: Option<bool>,
}

/// `[[cluster]]`: one participating cluster.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCluster {
    /// Unique name: 1 to 64 letters, digits, '-', '_' or '.'.
    #[schemars(required, regex(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    pub name: Option<String>,
    /// Primary shards.
    #[schemars(range(min = 1, max = 256))]
    pub shards: Option<u64>,
    /// Nodes the shards are placed on.
    #[schemars(range(min = 1, max = 64))]
    pub nodes: Option<u64>,
    /// Replica shards.
    pub replication: Option<bool>,
    /// Proxy endpoints.
    #[schemars(extend("enum" = spelling::names(spelling::PROXY_POLICIES)))]
    pub proxy_policy: Option<String>,
    /// Syncer layout.
    #[schemars(extend("enum" = spelling::names(spelling::SYNCER_MODES)))]
    pub syncer_mode: Option<String>,
    /// The instance's memory limit.
    #[schemars(regex(pattern = SIZE))]
    pub memory_limit: Option<String>,
    /// What happens when a shard fills.
    #[schemars(extend("enum" = spelling::eviction_policies()))]
    pub eviction_policy: Option<String>,
    /// What a shard without a replica recovers after a crash.
    #[schemars(extend("enum" = spelling::PERSISTENCE))]
    pub persistence: Option<String>,
    /// With persistence = "snapshot".
    #[schemars(regex(pattern = DURATION))]
    pub snapshot_interval: Option<String>,
    /// Time to promote a replica.
    #[schemars(regex(pattern = DURATION))]
    pub failover_delay: Option<String>,
    /// The cluster is added at this time.
    #[schemars(regex(pattern = DURATION))]
    pub join_at: Option<String>,
    /// The cluster is removed at this time.
    #[schemars(regex(pattern = DURATION))]
    pub leave_at: Option<String>,
    /// Force the removal.
    pub leave_force: Option<bool>,
    /// Clock corrected by NTP (default true).
    pub ntp: Option<bool>,
    /// Initial clock error, may start with '-'.
    #[schemars(regex(pattern = SIGNED_DURATION))]
    pub clock_offset: Option<String>,
    /// Clock drift in parts per million.
    #[schemars(range(min = -1_000_000.0, max = 1_000_000.0))]
    pub clock_drift_ppm: Option<f64>,
    /// Time between NTP corrections.
    #[schemars(regex(pattern = DURATION))]
    pub ntp_interval: Option<String>,
    /// Clock error left after a correction.
    #[schemars(regex(pattern = DURATION))]
    pub ntp_residual: Option<String>,
}

/// `[network]`: defaults for every link.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    /// One-way latency.
    #[schemars(schema_with = "latency")]
    #[serde(default)]
    pub latency: Option<toml::Value>,
    /// Uniform extra latency.
    #[schemars(regex(pattern = DURATION))]
    pub jitter: Option<String>,
    /// Per direction.
    #[schemars(regex(pattern = BANDWIDTH))]
    pub bandwidth: Option<String>,
    /// Share of transmissions that wait a retransmission timeout.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub loss: Option<f64>,
    /// How long one latency draw holds on a link direction: transmissions leaving within
    /// this much of the one that drew it travel with the same latency. "0s": one draw per
    /// transmission. Default "10ms".
    #[schemars(regex(pattern = DURATION))]
    pub latency_interval: Option<String>,
    /// Per-link overrides.
    #[serde(default)]
    pub link: Vec<RawLink>,
}

/// `[[network.link]]`: one link's overrides.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    /// Both directions between two clusters.
    #[schemars(length(min = 2, max = 2))]
    pub between: Option<Vec<String>>,
    /// One direction: from this cluster.
    pub from: Option<String>,
    /// One direction: to this cluster.
    pub to: Option<String>,
    /// One-way latency.
    #[schemars(schema_with = "latency")]
    #[serde(default)]
    pub latency: Option<toml::Value>,
    /// Uniform extra latency.
    #[schemars(regex(pattern = DURATION))]
    pub jitter: Option<String>,
    /// Per direction.
    #[schemars(regex(pattern = BANDWIDTH))]
    pub bandwidth: Option<String>,
    /// Share of transmissions that wait a retransmission timeout.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub loss: Option<f64>,
}

/// `[replication]`: backlog and syncers.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReplication {
    /// Per shard, or "auto".
    #[schemars(schema_with = "size_or_auto")]
    #[serde(default)]
    pub backlog_size: Option<String>,
    /// The database replication backlog (primary to replica) per shard, or "auto".
    #[schemars(schema_with = "size_or_auto")]
    #[serde(default)]
    pub repl_backlog_size: Option<String>,
    /// A silent syncer connection is dropped after this.
    #[schemars(regex(pattern = DURATION))]
    pub timeout: Option<String>,
    /// Inter-cluster compression level.
    #[schemars(range(min = 0, max = 6))]
    pub compression: Option<u64>,
    /// Ops/s a syncer applies, or "unlimited".
    #[schemars(schema_with = "throughput")]
    #[serde(default)]
    pub syncer_throughput: Option<String>,
    /// Backlog trimming model.
    #[schemars(extend("enum" = spelling::names(spelling::BACKLOG_MODELS)))]
    pub backlog_model: Option<String>,
    /// A dropped syncer retries after up to this.
    #[schemars(regex(pattern = DURATION))]
    pub reconnect_delay: Option<String>,
    /// Ops a syncer session ships within this long of a batch's first op travel with it
    /// (one latency draw, one arrival): faster, up to this much later; "0s" (the default)
    /// sends every op on its own. At most 1s.
    #[schemars(regex(pattern = DURATION))]
    pub batch_window: Option<String>,
}

/// `[workload]`: generated client writes.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkload {
    /// Writes per second over all writing clusters.
    #[schemars(required, regex(pattern = super::schema::RATE))]
    pub rate: Option<String>,
    /// Keys per kind.
    #[schemars(range(min = 1, max = 1_000_000_000_000u64))]
    pub keys: Option<u64>,
    /// How keys are chosen.
    #[schemars(extend("enum" = spelling::names(spelling::KEY_DISTRIBUTIONS)))]
    pub key_distribution: Option<String>,
    /// With key_distribution = "zipf".
    #[schemars(range(min = 0.0, max = 10.0))]
    pub zipf_exponent: Option<f64>,
    /// Value length (`SET`, `HSET`, `RPUSH`, `XADD`): a size, or a distribution table.
    #[schemars(schema_with = "size_dist")]
    #[serde(default)]
    pub value_size: Option<toml::Value>,
    /// Distinct fields or members per collection key.
    #[schemars(range(min = 1, max = 1_000_000_000u64))]
    pub members: Option<u64>,
    /// Time to live of `set_ex` keys: a duration or a distribution table.
    #[schemars(schema_with = "latency")]
    #[serde(default)]
    pub ttl: Option<toml::Value>,
    /// Each writing cluster's share of the rate (relative weights by cluster name).
    pub shares: Option<std::collections::BTreeMap<String, f64>>,
    /// How the rate moves over time.
    pub shape: Option<RawShape>,
    /// Gaps between writes.
    #[schemars(extend("enum" = spelling::names(spelling::ARRIVALS)))]
    pub arrival: Option<String>,
    /// The clusters that receive writes.
    #[schemars(length(min = 1))]
    pub clusters: Option<Vec<String>>,
    pub mix: Option<RawMix>,
}

/// `[workload.mix]`: weights of the generated commands.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMix {
    /// Weight of SET.
    #[schemars(range(min = 0.0))]
    pub set: Option<f64>,
    /// Weight of INCR.
    #[schemars(range(min = 0.0))]
    pub incr: Option<f64>,
    /// Weight of SET with a time to live (`workload.ttl`).
    #[schemars(range(min = 0.0))]
    pub set_ex: Option<f64>,
    /// Weight of HSET.
    #[schemars(range(min = 0.0))]
    pub hset: Option<f64>,
    /// Weight of SADD.
    #[schemars(range(min = 0.0))]
    pub sadd: Option<f64>,
    /// Weight of ZINCRBY.
    #[schemars(range(min = 0.0))]
    pub zincrby: Option<f64>,
    /// Weight of RPUSH.
    #[schemars(range(min = 0.0))]
    pub rpush: Option<f64>,
    /// Weight of LPOP (on the lists RPUSH fills).
    #[schemars(range(min = 0.0))]
    pub lpop: Option<f64>,
    /// Weight of XADD.
    #[schemars(range(min = 0.0))]
    pub xadd: Option<f64>,
    /// Weight of PFADD.
    #[schemars(range(min = 0.0))]
    pub pfadd: Option<f64>,
    /// Weight of DEL (of a key of the other kinds).
    #[schemars(range(min = 0.0))]
    pub del: Option<f64>,
}

/// `[workload.shape]`: the rate's multiplier over time.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawShape {
    /// "flat", "diurnal" or "step".
    #[schemars(extend("enum" = ["flat", "diurnal", "step"]))]
    pub kind: Option<String>,
    /// diurnal: the length of a cycle (default 24h).
    #[schemars(regex(pattern = DURATION))]
    pub period: Option<String>,
    /// diurnal: the multiplier at the trough, in (0, 1] (the peak is 1).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub trough: Option<f64>,
    /// diurnal: when the writing clusters peak (default 0s).
    #[schemars(regex(pattern = DURATION))]
    pub peak: Option<String>,
    /// diurnal: per cluster name, another peak time (another time zone).
    pub peaks: Option<std::collections::BTreeMap<String, String>>,
    /// step: when the rate changes.
    #[schemars(regex(pattern = DURATION))]
    pub at: Option<String>,
    /// step: the multiplier from `at` on (above 0).
    #[schemars(range(min = 0.0))]
    pub factor: Option<f64>,
}

/// `[[fault]]`: a partition, degradation, clock step or crash.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    /// What happens.
    #[schemars(required, extend("enum" = spelling::FAULT_KINDS))]
    pub kind: Option<String>,
    /// A label for reports.
    pub name: Option<String>,
    /// When it starts.
    #[schemars(required, regex(pattern = DURATION))]
    pub begin: Option<String>,
    /// When it ends.
    #[schemars(regex(pattern = DURATION))]
    pub end: Option<String>,
    /// How long it lasts (instead of end).
    #[schemars(regex(pattern = DURATION))]
    pub duration: Option<String>,
    /// Cut these clusters from the others.
    pub isolate: Option<Vec<String>>,
    /// Cut these links.
    pub links: Option<Vec<Vec<String>>>,
    /// Partitions: close or hold connections.
    #[schemars(extend("enum" = spelling::names(spelling::PARTITION_MODES)))]
    pub mode: Option<String>,
    /// Degradations: added latency.
    #[schemars(regex(pattern = DURATION))]
    pub latency_add: Option<String>,
    /// Degradations: bandwidth meanwhile.
    #[schemars(regex(pattern = BANDWIDTH))]
    pub bandwidth: Option<String>,
    /// Clock steps and crashes: which cluster.
    pub cluster: Option<String>,
    /// Clock steps: how far the clock jumps, may start with '-'.
    #[schemars(regex(pattern = SIGNED_DURATION))]
    pub step: Option<String>,
    /// Crashes: which shard's primary.
    pub shard: Option<u64>,
    /// Crashes: which node.
    pub node: Option<u64>,
}

/// A random fault process: outages of some links, one after another at random times.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFaultProcess {
    /// What each outage is (default "partition").
    #[schemars(extend("enum" = ["partition", "degrade"]))]
    pub kind: Option<String>,
    /// A label for reports (each outage is `<name>#<n>`); it also names the process's random
    /// stream.
    pub name: Option<String>,
    /// The mean time from the end of one outage to the start of the next (exponential).
    #[schemars(required, regex(pattern = DURATION))]
    pub every: Option<String>,
    /// How long each outage lasts: a duration, or a distribution as for latency.
    #[schemars(required, schema_with = "latency")]
    #[serde(default)]
    pub duration: Option<toml::Value>,
    /// When the process starts (default 0s).
    #[schemars(regex(pattern = DURATION))]
    pub begin: Option<String>,
    /// When it stops starting outages (default the end of run.duration).
    #[schemars(regex(pattern = DURATION))]
    pub end: Option<String>,
    /// Cut these clusters from the others.
    pub isolate: Option<Vec<String>>,
    /// Cut these links.
    pub links: Option<Vec<Vec<String>>>,
    /// Partitions: close or hold connections.
    #[schemars(extend("enum" = spelling::names(spelling::PARTITION_MODES)))]
    pub mode: Option<String>,
    /// Degradations: added latency.
    #[schemars(regex(pattern = DURATION))]
    pub latency_add: Option<String>,
    /// Degradations: bandwidth meanwhile.
    #[schemars(regex(pattern = BANDWIDTH))]
    pub bandwidth: Option<String>,
}
