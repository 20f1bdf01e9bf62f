//! How each choice is spelled in a scenario file, written once: `validate` reads values with
//! these tables and the JSON Schema lists their names from them, so the two cannot drift.

use crate::crdt::stream::XaddIdMode;
use crate::model::backlog::BacklogModel;
use crate::model::fault::PartitionMode;
use crate::model::memory::EvictionPolicy;
use crate::model::topology::{ProxyPolicy, SyncerMode};
use crate::model::workload::Arrival;

pub(crate) const PROXY_POLICIES: &[(&str, ProxyPolicy)] = &[
    ("single", ProxyPolicy::Single),
    ("all-master-shards", ProxyPolicy::AllMasterShards),
    ("all-nodes", ProxyPolicy::AllNodes),
];

pub(crate) const SYNCER_MODES: &[(&str, SyncerMode)] = &[
    ("centralized", SyncerMode::Centralized),
    ("distributed", SyncerMode::Distributed),
];

pub(crate) const BACKLOG_MODELS: &[(&str, BacklogModel)] =
    &[("block", BacklogModel::Block), ("ring", BacklogModel::Ring)];

/// `workload.key_distribution`: whether keys follow a Zipf law.
pub(crate) const KEY_DISTRIBUTIONS: &[(&str, bool)] = &[("uniform", false), ("zipf", true)];

pub(crate) const ARRIVALS: &[(&str, Arrival)] = &[
    ("poisson", Arrival::Poisson),
    ("constant", Arrival::Constant),
];

pub(crate) const PARTITION_MODES: &[(&str, PartitionMode)] = &[
    ("drop", PartitionMode::Drop),
    ("stall", PartitionMode::Stall),
];

pub(crate) const XADD_ID_MODES: &[(&str, XaddIdMode)] = &[
    ("strict", XaddIdMode::Strict),
    ("semi-strict", XaddIdMode::SemiStrict),
    ("liberal", XaddIdMode::Liberal),
];

/// `fault.kind`.
pub(crate) const FAULT_KINDS: &[&str] = &["partition", "degrade", "clock_step", "crash"];

/// `cluster.persistence`.
pub(crate) const PERSISTENCE: &[&str] = &["aof-everysec", "aof-always", "snapshot", "none"];

/// `network.latency.dist` and the fields each distribution takes.
pub(crate) const LATENCY_DISTS: &[&str] = &["constant", "uniform", "normal", "lognormal", "pareto"];

/// The names in a choice table, in order.
pub(crate) fn names<T>(table: &[(&'static str, T)]) -> Vec<&'static str> {
    table.iter().map(|(n, _)| *n).collect()
}

/// `cluster.eviction_policy`: the policies geosim models.
pub(crate) fn eviction_policies() -> Vec<&'static str> {
    EvictionPolicy::ALL.iter().map(|p| p.name()).collect()
}
