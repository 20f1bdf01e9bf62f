//! The serde mirror of the TOML scenario format. Values with units stay strings here and
//! are parsed by `validate`, which knows each field's path; structure errors (unknown fields,
//! wrong types) come from serde with a position.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub run: Option<RawRun>,
    pub whatif: Option<RawWhatIf>,
    #[serde(default)]
    pub cluster: Vec<RawCluster>,
    pub network: Option<RawNetwork>,
    pub replication: Option<RawReplication>,
    pub workload: Option<RawWorkload>,
    #[serde(default)]
    pub fault: Vec<RawFault>,
    pub database: Option<RawDatabase>,
    #[serde(default)]
    pub step: Vec<RawStep>,
    pub expect: Option<RawExpect>,
    pub sweep: Option<RawSweep>,
}

/// `[sweep]`: what `geosim sweep` varies when the command line gives no `--set`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    #[serde(default)]
    pub set: Vec<String>,
    pub seeds: Option<String>,
    pub full_sync_target: Option<String>,
}

/// Expected outcomes of a whole run.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    pub converges: Option<bool>,
    pub converge_within: Option<String>,
    pub full_syncs: Option<toml::Value>,
    pub partial_syncs: Option<toml::Value>,
    pub full_sync_loop: Option<bool>,
    pub clock_inverted_wins_min: Option<u64>,
    pub lag_ms_p99_max: Option<f64>,
    pub lag_ms_p99_min: Option<f64>,
    pub lost_writes: Option<toml::Value>,
    pub lost_writes_max: Option<u64>,
    pub digest: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub causal_consistency: Option<bool>,
    pub xadd_id_mode: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub on: Option<String>,
    pub cmd: Option<String>,
    pub at: Option<String>,
    pub after: Option<String>,
    pub sync: Option<toml::Value>,
    pub partition: Option<Vec<String>>,
    pub heal: Option<bool>,
    pub expect: Option<toml::Value>,
    pub expect_nil: Option<bool>,
    pub expect_error: Option<String>,
    pub unordered: Option<bool>,
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub seed: Option<u64>,
    pub duration: Option<String>,
    pub converge_deadline: Option<String>,
    pub max_events: Option<u64>,
    pub sample_interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWhatIf {
    pub allow_more_clusters: Option<bool>,
    pub allow_any_backlog_size: Option<bool>,
    pub allow_huge_runs: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub name: Option<String>,
    pub shards: Option<u64>,
    pub nodes: Option<u64>,
    pub replication: Option<bool>,
    pub proxy_policy: Option<String>,
    pub syncer_mode: Option<String>,
    pub memory_limit: Option<String>,
    pub eviction_policy: Option<String>,
    pub persistence: Option<String>,
    pub snapshot_interval: Option<String>,
    pub failover_delay: Option<String>,
    pub join_at: Option<String>,
    pub leave_at: Option<String>,
    pub leave_force: Option<bool>,
    pub ntp: Option<bool>,
    pub clock_offset: Option<String>,
    pub clock_drift_ppm: Option<f64>,
    pub ntp_interval: Option<String>,
    pub ntp_residual: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub latency: Option<toml::Value>,
    pub jitter: Option<String>,
    pub bandwidth: Option<String>,
    pub loss: Option<f64>,
    #[serde(default)]
    pub link: Vec<RawLink>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub between: Option<Vec<String>>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub latency: Option<toml::Value>,
    pub jitter: Option<String>,
    pub bandwidth: Option<String>,
    pub loss: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReplication {
    pub backlog_size: Option<String>,
    pub timeout: Option<String>,
    pub compression: Option<u64>,
    pub syncer_throughput: Option<String>,
    pub backlog_model: Option<String>,
    pub reconnect_delay: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub rate: Option<String>,
    pub keys: Option<u64>,
    pub key_distribution: Option<String>,
    pub zipf_exponent: Option<f64>,
    pub value_size: Option<String>,
    pub arrival: Option<String>,
    pub clusters: Option<Vec<String>>,
    pub mix: Option<RawMix>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMix {
    pub set: Option<f64>,
    pub incr: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub begin: Option<String>,
    pub end: Option<String>,
    pub duration: Option<String>,
    pub isolate: Option<Vec<String>>,
    pub links: Option<Vec<Vec<String>>>,
    pub mode: Option<String>,
    pub latency_add: Option<String>,
    pub bandwidth: Option<String>,
    pub cluster: Option<String>,
    pub step: Option<String>,
    pub shard: Option<u64>,
    pub node: Option<u64>,
}
