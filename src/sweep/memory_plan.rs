//! `geosim plan --dataset-keys N`: how much memory N string keys of a given size take in an
//! Active-Active database of K regions, by the documented sizing factors (`docs/semantics.md`,
//! "Memory, eviction and OOM"): the plain Redis size of each key (what `MEMORY USAGE` reports,
//! measured against a live Redis), the CRDT metadata geosim models on top, the replica's
//! copy when shards are replicated ("enabling replication doubles memory consumption"), and
//! the two backlogs, Active-Active and database replication (each 1 % of the database size by
//! default, 1MB to 250MB per shard). A database's memory limit covers primary and replica
//! shards alike \[MEMLIM\].

use crate::crdt::keyspace::entry_bytes;
use crate::crdt::memory::redis_text_bytes;
use crate::crdt::{InstanceId, Keyspace, OpKind, Value};
use crate::model::memory::EVICTION_THRESHOLD;
use crate::scenario::validate::{MAX_BACKLOG, MIN_BACKLOG};

/// What the planner knows about the dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryInput {
    /// Keys in the database.
    pub keys: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
    /// Participating clusters (regions).
    pub peers: u64,
    /// Primary shards per cluster.
    pub shards: u64,
    /// Whether each primary shard has a replica in its cluster.
    pub replication: bool,
    /// The Active-Active backlog per shard, when given (else the default, 1 % of the
    /// dataset over the shards, within 1MB to 250MB).
    pub backlog: Option<u64>,
}

/// The memory figures, in bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryPlan {
    /// One key in a plain Redis (dictionary entry, name, value object; jemalloc classes).
    pub plain_key: u64,
    /// The CRDT metadata geosim models per key (vector clock, timestamps, registers), for a
    /// key written at one region, and for one written in turn at every region.
    pub crdt_key_one_writer: u64,
    pub crdt_key_all_writers: u64,
    /// `keys × plain_key`: the dataset in a plain Redis.
    pub plain_dataset: u64,
    /// `keys × (plain_key + crdt_key_all_writers)`: one copy at one region.
    pub aa_dataset: u64,
    /// The Active-Active and the database replication backlog per shard (the second 0
    /// without replication).
    pub crdt_backlog_per_shard: u64,
    pub repl_backlog_per_shard: u64,
    /// One region's database: its copies of the dataset and its backlogs.
    pub per_region: u64,
    /// The docs' rule of thumb for one region: Active-Active up to 2× the data, replication
    /// 2× again, plus the backlogs.
    pub docs_bound_per_region: u64,
    /// Every region together.
    pub all_regions: u64,
    /// A memory limit for one region with no eviction (the database must fit) and with an
    /// eviction policy (eviction starts at 80 % of a shard's limit).
    pub limit_noeviction: u64,
    pub limit_with_eviction: u64,
}

/// The default backlog per shard: 1 % of the dataset over the shards, within 1MB to 250MB.
fn default_backlog(dataset: u64, shards: u64) -> u64 {
    (dataset / 100 / shards.max(1)).clamp(MIN_BACKLOG, MAX_BACKLOG)
}

/// The CRDT metadata geosim's memory model puts on one string key of `value_bytes` bytes
/// written in turn at `writers` of `peers` instances: its entry's bytes less their plain Redis
/// part (what `MEMORY USAGE` reports for the same key in a plain Redis).
fn crdt_metadata(key_bytes: u64, value_bytes: u64, peers: u64, writers: u64) -> u64 {
    let mut ks = Keyspace::new(peers as usize);
    let key = vec![b'k'; key_bytes as usize];
    let len = u32::try_from(value_bytes).unwrap_or(u32::MAX);
    for w in 0..writers {
        let op = ks.prepare(
            &key,
            InstanceId(w as u8),
            1 + w,
            OpKind::Set {
                value: Value::Synthetic { len, tag: w },
                observed: Vec::new(),
            },
        );
        ks.apply(&op);
    }
    let e = ks.entry(&key).expect("written");
    entry_bytes(&key, e).saturating_sub(redis_text_bytes(key_bytes, u64::from(len)))
}

pub fn memory_plan(i: &MemoryInput) -> MemoryPlan {
    let sat = |a: u64, b: u64| a.saturating_mul(b);
    let plain_key = redis_text_bytes(i.key_bytes, i.value_bytes);
    let one = crdt_metadata(i.key_bytes, i.value_bytes, i.peers, 1);
    let all = crdt_metadata(i.key_bytes, i.value_bytes, i.peers, i.peers);
    let plain_dataset = sat(i.keys, plain_key);
    let aa_dataset = sat(i.keys, plain_key + all);
    let crdt_backlog = i
        .backlog
        .unwrap_or_else(|| default_backlog(aa_dataset, i.shards));
    let repl_backlog = if i.replication {
        default_backlog(aa_dataset, i.shards)
    } else {
        0
    };
    let copies = if i.replication { 2 } else { 1 };
    // The replica holds what its primary holds: the data and both backlogs.
    let backlogs = sat(i.shards, crdt_backlog + repl_backlog);
    let per_region = sat(aa_dataset.saturating_add(backlogs), copies);
    let docs_bound = sat(sat(plain_dataset, 2).saturating_add(backlogs), copies);
    MemoryPlan {
        plain_key,
        crdt_key_one_writer: one,
        crdt_key_all_writers: all,
        plain_dataset,
        aa_dataset,
        crdt_backlog_per_shard: crdt_backlog,
        repl_backlog_per_shard: repl_backlog,
        per_region,
        docs_bound_per_region: docs_bound,
        all_regions: sat(per_region, i.peers),
        limit_noeviction: per_region,
        limit_with_eviction: (per_region as f64 / EVICTION_THRESHOLD).ceil() as u64,
    }
}

fn human(b: u64) -> String {
    crate::report::summary::human_bytes(b)
}

/// The memory answer as text.
pub(crate) fn memory_text(i: &MemoryInput, m: &MemoryPlan) -> String {
    let mut o = String::new();
    o.push_str(&format!(
        "memory: {} keys of {} B names and {} B values, {} regions, {} primary shard(s) per region{}\n",
        i.keys,
        i.key_bytes,
        i.value_bytes,
        i.peers,
        i.shards,
        if i.replication {
            ", each with a replica"
        } else {
            ", no replicas"
        }
    ));
    o.push_str(&format!(
        "  per key:               {} B plain Redis (MEMORY USAGE) + {} B CRDT metadata written at all {} regions ({} B at one)\n",
        m.plain_key, m.crdt_key_all_writers, i.peers, m.crdt_key_one_writer
    ));
    o.push_str(&format!(
        "  dataset, one copy:     {} plain, {} Active-Active ({:.2}x)\n",
        human(m.plain_dataset),
        human(m.aa_dataset),
        m.aa_dataset as f64 / m.plain_dataset.max(1) as f64
    ));
    o.push_str(&format!(
        "  backlogs per shard:    {} Active-Active{}, {} database replication\n",
        human(m.crdt_backlog_per_shard),
        if i.backlog.is_some() {
            " (given)"
        } else {
            " (1% of the dataset, 1MB..250MB)"
        },
        human(m.repl_backlog_per_shard)
    ));
    o.push_str(&format!(
        "  per region:            {} (copies of the dataset and backlogs: {}; the docs' rule of thumb, Active-Active up to 2x the data: {})\n",
        human(m.per_region),
        if i.replication { 2 } else { 1 },
        human(m.docs_bound_per_region)
    ));
    o.push_str(&format!(
        "  all regions:           {}\n",
        human(m.all_regions)
    ));
    o.push_str(&format!(
        "  memory limit:          at least {} per region with noeviction, {} with an eviction policy (it starts at 80%); a scenario's memory_limit counts the same way\n",
        human(m.limit_noeviction),
        human(m.limit_with_eviction),
    ));
    o
}

/// The memory answer as JSON (bytes).
pub(crate) fn memory_json(i: &MemoryInput, m: &MemoryPlan) -> serde_json::Value {
    serde_json::json!({
        "inputs": {
            "keys": i.keys,
            "key_bytes": i.key_bytes,
            "value_bytes": i.value_bytes,
            "peers": i.peers,
            "shards": i.shards,
            "replication": i.replication,
            "backlog_bytes": i.backlog,
        },
        "plain_key_bytes": m.plain_key,
        "crdt_key_bytes_one_writer": m.crdt_key_one_writer,
        "crdt_key_bytes_all_writers": m.crdt_key_all_writers,
        "plain_dataset_bytes": m.plain_dataset,
        "aa_dataset_bytes": m.aa_dataset,
        "crdt_backlog_bytes_per_shard": m.crdt_backlog_per_shard,
        "repl_backlog_bytes_per_shard": m.repl_backlog_per_shard,
        "per_region_bytes": m.per_region,
        "docs_bound_per_region_bytes": m.docs_bound_per_region,
        "all_regions_bytes": m.all_regions,
        "limit_noeviction_bytes": m.limit_noeviction,
        "limit_with_eviction_bytes": m.limit_with_eviction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(replication: bool) -> MemoryInput {
        MemoryInput {
            keys: 10_000_000,
            key_bytes: 16,
            value_bytes: 100,
            peers: 3,
            shards: 4,
            replication,
            backlog: None,
        }
    }

    /// The figures add up as documented: plain Redis per key (a 16-byte name and a 100-byte
    /// value: 24 + 32 + 16 + 112 = 184 bytes), more CRDT metadata with more writers, the
    /// replica doubling the dataset, the backlogs at 1 % (within 1MB..250MB) per shard.
    #[test]
    fn the_memory_answer_adds_up() {
        let m = memory_plan(&input(false));
        assert_eq!(m.plain_key, 184);
        assert!(m.crdt_key_all_writers > m.crdt_key_one_writer && m.crdt_key_one_writer > 0);
        assert_eq!(m.plain_dataset, 1_840_000_000);
        assert_eq!(m.aa_dataset, 10_000_000 * (184 + m.crdt_key_all_writers));
        assert_eq!(m.repl_backlog_per_shard, 0);
        assert_eq!(
            m.crdt_backlog_per_shard,
            (m.aa_dataset / 100 / 4).clamp(MIN_BACKLOG, MAX_BACKLOG)
        );
        assert_eq!(m.per_region, m.aa_dataset + 4 * m.crdt_backlog_per_shard);
        assert_eq!(m.all_regions, 3 * m.per_region);
        let r = memory_plan(&input(true));
        assert_eq!(r.repl_backlog_per_shard, r.crdt_backlog_per_shard);
        assert_eq!(
            r.per_region,
            2 * (r.aa_dataset + 4 * (r.crdt_backlog_per_shard + r.repl_backlog_per_shard))
        );
        assert!(r.limit_with_eviction > r.limit_noeviction);
        // geosim's model stays within the docs' rule of thumb (Active-Active up to 2x).
        assert!(r.per_region <= r.docs_bound_per_region, "{r:?}");
        // A small dataset's backlogs take the 1MB minimum.
        let small = memory_plan(&MemoryInput {
            keys: 10,
            ..input(true)
        });
        assert_eq!(small.crdt_backlog_per_shard, MIN_BACKLOG);
    }
}
