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
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
}

impl EvictionPolicy {
    pub(crate) fn name(self) -> &'static str {
        match self {
            EvictionPolicy::NoEviction => "noeviction",
            EvictionPolicy::AllKeysRandom => "allkeys-random",
            EvictionPolicy::VolatileRandom => "volatile-random",
            EvictionPolicy::VolatileTtl => "volatile-ttl",
            EvictionPolicy::AllKeysLru => "allkeys-lru",
            EvictionPolicy::VolatileLru => "volatile-lru",
            EvictionPolicy::AllKeysLfu => "allkeys-lfu",
            EvictionPolicy::VolatileLfu => "volatile-lfu",
        }
    }

    pub(crate) const ALL: [EvictionPolicy; 8] = [
        EvictionPolicy::NoEviction,
        EvictionPolicy::AllKeysRandom,
        EvictionPolicy::VolatileRandom,
        EvictionPolicy::VolatileTtl,
        EvictionPolicy::AllKeysLru,
        EvictionPolicy::VolatileLru,
        EvictionPolicy::AllKeysLfu,
        EvictionPolicy::VolatileLfu,
    ];

    /// Whether only keys with a time to live may be evicted.
    pub(crate) fn volatile(self) -> bool {
        matches!(
            self,
            EvictionPolicy::VolatileRandom
                | EvictionPolicy::VolatileTtl
                | EvictionPolicy::VolatileLru
                | EvictionPolicy::VolatileLfu
        )
    }

    /// The access history the policy ranks victims by, if any.
    pub(crate) fn access(self) -> Option<super::access::Kind> {
        match self {
            EvictionPolicy::AllKeysLru | EvictionPolicy::VolatileLru => {
                Some(super::access::Kind::Lru)
            }
            EvictionPolicy::AllKeysLfu | EvictionPolicy::VolatileLfu => {
                Some(super::access::Kind::Lfu)
            }
            _ => None,
        }
    }
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
