//! Memory limits and eviction.
//!
//! A shard's memory limit is its instance's limit over its shard count. Used memory is the
//! keyspace's estimated bytes (keys, values, CRDT metadata: `crdt::keyspace::entry_bytes`)
//! plus the replication backlog held. With `noeviction` (the default), writes above the limit
//! are refused with Redis's OOM error. With an eviction policy, keys are evicted (deleted, and
//! the deletes replicated, as Redis Software does since 7.4.6) once a shard passes 80 % of its
//! limit \[EVICT\]. A shard at its limit stops applying replicated ops until memory is freed
//! (replication OOM protection [DEV; PLAN]).

/// Eviction starts at this share of the shard's limit \[EVICT\].
pub(crate) const EVICTION_THRESHOLD: f64 = 0.8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictionPolicy {
    NoEviction,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl EvictionPolicy {
    pub(crate) fn name(self) -> &'static str {
        match self {
            EvictionPolicy::NoEviction => "noeviction",
            EvictionPolicy::AllKeysRandom => "allkeys-random",
            EvictionPolicy::VolatileRandom => "volatile-random",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
        }
    }

    pub(crate) const ALL: [EvictionPolicy; 4] = [
        EvictionPolicy::NoEviction,
        EvictionPolicy::AllKeysRandom,
        EvictionPolicy::VolatileRandom,
        EvictionPolicy::VolatileTtl,
    ];
}

/// The error Redis replies when a write meets a full shard.
pub(crate) const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Whether a shard using `used` bytes out of `limit` should evict.
pub(crate) fn should_evict(policy: EvictionPolicy, used: u64, limit: u64) -> bool {
    policy != EvictionPolicy::NoEviction && used as f64 > EVICTION_THRESHOLD * limit as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eviction_starts_above_80_percent_and_never_with_noeviction() {
        assert!(!should_evict(EvictionPolicy::AllKeysRandom, 80, 100));
        assert!(should_evict(EvictionPolicy::AllKeysRandom, 81, 100));
        assert!(!should_evict(EvictionPolicy::NoEviction, 100, 100));
    }
}
