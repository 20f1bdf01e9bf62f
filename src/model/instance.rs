//! One participating cluster's instance of the database: its shards, its node clock, the
//! client write path's admission rules, memory limits and eviction, and its counters.

use super::clock::NodeClock;
use super::memory::{EvictionPolicy, should_evict};
use super::shard::Shard;
use super::stats::ClusterStats;
use super::topology::ClusterTopo;
use super::world::ClusterConfig;
use crate::crdt::stream::XaddIdMode;
use crate::crdt::{Entry, InstanceId, Value};
use crate::engine::{RngStream, SimTime, dist, stream_for};
use crate::redis;

/// Counters of an instance's client writes and what happened to them.
#[derive(Clone, Debug, Default)]
pub struct WriteCounters {
    pub writes: u64,
    pub rejected: u64,
    /// Writes refused because a shard was full.
    pub oom_rejections: u64,
    /// Writes refused because their shard was down or stale.
    pub unavailable_rejections: u64,
    /// Acknowledged writes a crash lost: neither persisted nor replicated.
    pub writes_lost: u64,
    /// Writes of this cluster that did not reach every member left when it was removed.
    pub writes_lost_to_removal: u64,
    /// Acknowledged writes a crash lost locally that a peer had received (they come back).
    pub writes_recovered_from_peers: u64,
    pub evictions: u64,
}

#[derive(Debug)]
pub struct Instance {
    pub topo: ClusterTopo,
    pub shards: Vec<Shard>,
    pub clock: NodeClock,
    pub counters: WriteCounters,
    /// Whether shards have a replica inside the cluster.
    pub replication: bool,
    /// Memory limit per shard.
    shard_limit: u64,
    eviction: EvictionPolicy,
    evict_rng: RngStream,
    /// Access recency or frequency, for the LRU and LFU policies.
    access: Option<super::access::Access>,
}

const STALE_REFUSAL: &str = "ERR shard restarted from persistence and is resyncing (stale mode): it accepts writes once every peer's full sync has arrived";
const DOWN_REFUSAL: &str = "ERR shard unavailable: its primary crashed and has not recovered yet";

impl Instance {
    pub fn new(
        cfg: &ClusterConfig,
        topo: ClusterTopo,
        seed: u64,
        make_shard: impl Fn() -> Shard,
    ) -> Self {
        Instance {
            topo,
            shards: (0..cfg.shards).map(|_| make_shard()).collect(),
            clock: NodeClock::new(cfg.clock.clone(), seed, &format!("clock/{}", cfg.name)),
            counters: WriteCounters::default(),
            replication: cfg.replication,
            shard_limit: (cfg.memory_limit / cfg.shards.max(1) as u64).max(1),
            eviction: cfg.eviction,
            evict_rng: stream_for(seed, &format!("evict/{}", cfg.name)),
            access: cfg
                .eviction
                .access()
                .map(|k| super::access::Access::new(k, cfg.shards, seed, &cfg.name)),
        }
    }

    /// Whether the eviction policy ranks keys by their accesses (LRU, LFU).
    pub(crate) fn tracks_access(&self) -> bool {
        self.access.is_some()
    }

    /// A command here (a client's, or a peer's op applied) looked `keys` of `shard` up at
    /// `now`: their access history moves (LRU and LFU policies only; a key the command left
    /// absent has none).
    pub(crate) fn touch<'a>(
        &mut self,
        shard: usize,
        keys: impl Iterator<Item = &'a [u8]>,
        now: SimTime,
    ) {
        let Some(access) = self.access.as_mut() else {
            return;
        };
        let now_ms = self.clock.read_ms(now);
        let ks = &self.shards[shard].keyspace;
        for k in keys {
            if ks.entry(k).is_some() {
                access.touch(shard, k, now_ms);
            }
        }
    }

    /// `shard` restarted from persistence at `now`: every key it loaded is as if new.
    pub(crate) fn reloaded(&mut self, shard: usize, now: SimTime) {
        let now_ms = self.clock.read_ms(now);
        if let Some(a) = self.access.as_mut() {
            a.reload(shard, now_ms);
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.topo.name
    }

    /// The shard that owns `key`.
    pub(crate) fn shard_of(&self, key: &[u8]) -> &Shard {
        &self.shards[self.topo.shard_of_key(key)]
    }

    /// What a command executed here at `now` stamps on its ops.
    pub(crate) fn context(
        &self,
        id: usize,
        now: SimTime,
        xadd_mode: XaddIdMode,
    ) -> redis::ExecContext {
        redis::ExecContext {
            origin: InstanceId(id as u8),
            now_ms: self.clock.read_ms(now),
            xadd_mode,
            annotation: now.0,
        }
    }

    /// Why shard `shard` refuses a command now, if it does (a write to a stale shard, any
    /// command to a down one); the refusal is counted.
    pub(crate) fn refusal(&mut self, shard: usize, is_write: bool) -> Option<&'static str> {
        let sh = &self.shards[shard];
        let msg = if sh.is_stale() && is_write {
            STALE_REFUSAL
        } else if sh.is_down() {
            DOWN_REFUSAL
        } else {
            return None;
        };
        self.counters.rejected += 1;
        self.counters.unavailable_rejections += 1;
        Some(msg)
    }

    /// Whether `shard` is past the eviction threshold of its policy.
    pub(crate) fn wants_eviction(&self, shard: usize) -> bool {
        should_evict(self.eviction, self.shards[shard].used(), self.shard_limit)
    }

    /// Whether `shard` is below its memory limit (a write or a replicated op may go ahead).
    pub(crate) fn has_room(&self, shard: usize) -> bool {
        self.shards[shard].used() < self.shard_limit
    }

    /// Evicts one key of `shard` under the policy: executes a `DEL` of a sampled victim and
    /// returns its effects (to replicate), or `None` when no key is eligible.
    pub(crate) fn evict_one(
        &mut self,
        id: usize,
        shard: usize,
        now: SimTime,
        xadd_mode: XaddIdMode,
    ) -> Option<Vec<redis::Effect>> {
        let victim = self.pick_victim(shard, now)?;
        let del = redis::Command::new(redis::Cmd::Del, vec![Value::Bytes(victim)]);
        let cx = self.context(id, now, xadd_mode);
        let out = redis::execute(&mut self.shards[shard].keyspace, &del, &cx);
        self.counters.evictions += 1;
        Some(out.effects)
    }

    /// A key to evict under the policy, if any. Like Redis, it samples a few keys at random
    /// (`maxmemory-samples` 5) rather than scanning: the random policies take the first
    /// eligible sample, `volatile-ttl` the one that expires soonest, LRU the one idle the
    /// longest and LFU the one used least (Redis also keeps a pool of 16 good candidates
    /// across evictions; geosim samples afresh each time).
    fn pick_victim(&mut self, shard: usize, now: SimTime) -> Option<Box<[u8]>> {
        const SAMPLES: usize = 5;
        const TRIES: usize = 64;
        let now_ms = self.clock.read_ms(now);
        let ks = &self.shards[shard].keyspace;
        let n = ks.key_count() as u64;
        if n == 0 {
            return None;
        }
        let mut best: Option<(u64, Box<[u8]>)> = None;
        let mut found = 0;
        for _ in 0..TRIES {
            let i = dist::below(&mut self.evict_rng, n) as usize;
            let Some((k, e)) = ks.key_at(i) else { continue };
            if e.key_type().is_none() || e.expired(now_ms) {
                continue;
            }
            let expiry = match e.expiry() {
                Some((crate::crdt::Expiry::At(t), _)) => Some(t),
                _ => None,
            };
            if self.eviction.volatile() && expiry.is_none() {
                continue;
            }
            // Lower ranks evict first.
            let rank = match (self.eviction, expiry, &self.access) {
                (EvictionPolicy::VolatileTtl, Some(t), _) => t,
                (_, _, Some(a)) => u64::MAX - a.score(shard, k, now_ms),
                _ => 0,
            };
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, k.clone().into()));
            }
            found += 1;
            let ranked = self.eviction == EvictionPolicy::VolatileTtl || self.access.is_some();
            if !ranked || found == SAMPLES {
                break;
            }
        }
        best.map(|(_, k)| k)
    }

    /// Merges a peer shard's full-sync snapshot: each shard takes the keys it owns, of those
    /// for which `unmerged` is true (the others were merged where they are held compact).
    pub(crate) fn merge_snapshot(
        &mut self,
        snapshot: &crate::crdt::Keyspace,
        now: SimTime,
        unmerged: impl Fn(&[u8]) -> bool,
    ) {
        for (i, shard) in self.shards.iter_mut().enumerate() {
            let topo = &self.topo;
            shard.merge_snapshot(snapshot, |k| topo.shard_of_key(k) == i && unmerged(k));
        }
        // A key loaded from the snapshot is as new (Redis stamps an object when it creates
        // it). Only with an LRU or LFU policy, which is never on with compact keys.
        if self.access.is_some() {
            for (k, _) in snapshot.iter() {
                let shard = self.topo.shard_of_key(k);
                self.touch(shard, std::iter::once(&k[..]), now);
            }
        }
    }

    /// Used memory: every shard's keyspace estimate plus its backlog.
    pub(crate) fn used(&self) -> u64 {
        self.shards.iter().map(Shard::used).sum()
    }

    /// Client-visible keys.
    pub(crate) fn live_keys(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.keyspace.live_count() as u64 + s.compact_live + s.shadow_keys)
            .sum()
    }

    /// Tombstones held: (count, estimated bytes).
    pub fn tombstones(&self) -> (u64, u64) {
        self.shards.iter().fold((0, 0), |(n, b), s| {
            let (n2, b2) = s.keyspace.tombstones();
            (n + n2, b + b2)
        })
    }

    /// The entry of `key` in its shard's keyspace, if it has one there: not a key held
    /// compact (`World::entry` sees both).
    pub(crate) fn general_entry(&self, key: &[u8]) -> Option<&Entry> {
        self.shard_of(key).keyspace.entry(key)
    }

    pub(crate) fn stats(&self) -> ClusterStats {
        let c = &self.counters;
        ClusterStats {
            name: self.topo.name.clone(),
            writes: c.writes,
            rejected: c.rejected,
            keys: self.live_keys(),
            oom_rejections: c.oom_rejections,
            unavailable_rejections: c.unavailable_rejections,
            writes_lost: c.writes_lost,
            writes_recovered_from_peers: c.writes_recovered_from_peers,
            writes_lost_to_removal: c.writes_lost_to_removal,
            evictions: c.evictions,
            memory_bytes: self.used(),
            memory_limit: self.shard_limit * self.shards.len() as u64,
        }
    }
}
