//! Access recency (LRU) and frequency (LFU) of keys, as Redis approximates them for its
//! `*-lru` and `*-lfu` eviction policies: a 24-bit clock per key, of seconds for LRU, and for
//! LFU an 8-bit logarithmic counter beside a 16-bit minute of its last decrement
//! (`evict.c`, `object.c`; Redis's defaults `lfu-log-factor 10`, `lfu-decay-time 1`).
//!
//! Kept per shard beside the keyspace, only when a cluster's policy needs it, and never part
//! of the state: two instances with the same keys are converged whatever their access
//! history, as in Redis, where the LRU field is local to each process.

use crate::crdt::keyspace::Key;
use crate::engine::fxhash::FxBuild;
use crate::engine::{RngStream, dist, stream_for};
// A HashMap only looked up by key: never iterated, so its order reaches nothing.
use std::collections::HashMap;

/// Redis's `LRU_CLOCK_MAX`: the LRU clock wraps at 24 bits of seconds (194 days).
const LRU_CLOCK_MAX: u64 = (1 << 24) - 1;
/// `LFU_INIT_VAL`: a new key's counter, so that it is not evicted before it can be used.
const LFU_INIT_VAL: u8 = 5;
/// `lfu-log-factor` (Redis's default).
const LFU_LOG_FACTOR: f64 = 10.0;
/// `lfu-decay-time` in minutes (Redis's default): the counter drops by one per period idle.
const LFU_DECAY_MINUTES: u64 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Lru,
    Lfu,
}

/// The access field of every key of every shard of one instance.
#[derive(Debug)]
pub(crate) struct Access {
    kind: Kind,
    /// Per shard, per key, Redis's 24-bit field.
    fields: Vec<HashMap<Key, u32, FxBuild>>, // looked up by key only, never iterated
    /// Per shard, the field of a key with none recorded (loaded at a restart, when Redis
    /// gives every object it loads the clock of that moment).
    loaded: Vec<u32>,
    /// The LFU counter's random increments.
    rng: RngStream,
}

impl Access {
    pub(crate) fn new(kind: Kind, shards: usize, seed: u64, cluster: &str) -> Access {
        Access {
            kind,
            fields: (0..shards).map(|_| HashMap::default()).collect(), // never iterated
            loaded: vec![Self::fresh(kind, 0); shards],
            rng: stream_for(seed, &format!("access/{cluster}")),
        }
    }

    /// The field of a key created at `now_ms`.
    fn fresh(kind: Kind, now_ms: u64) -> u32 {
        match kind {
            Kind::Lru => lru_clock(now_ms),
            Kind::Lfu => (minutes(now_ms) << 8) | u32::from(LFU_INIT_VAL),
        }
    }

    /// `key` of `shard` was looked up by a command (a client's or a peer's) at `now_ms`, by
    /// the instance's clock: LRU stamps the clock; LFU decays the counter by the minutes
    /// since its last decrement and then increments it with probability
    /// `1 / ((counter − 5) · 10 + 1)`. A key seen for the first time starts fresh.
    pub(crate) fn touch(&mut self, shard: usize, key: &[u8], now_ms: u64) {
        let kind = self.kind;
        let map = &mut self.fields[shard];
        let Some(field) = map.get_mut(key) else {
            map.insert(Key::from(key), Self::fresh(kind, now_ms));
            return;
        };
        *field = match kind {
            Kind::Lru => lru_clock(now_ms),
            Kind::Lfu => {
                let counter = log_incr(decayed(*field, now_ms), &mut self.rng);
                (minutes(now_ms) << 8) | u32::from(counter)
            }
        };
    }

    /// How good a victim `key` is at `now_ms` (Redis's "idle" score: larger evicts first):
    /// for LRU the milliseconds since its last access, for LFU 255 less its decayed counter.
    pub(crate) fn score(&self, shard: usize, key: &[u8], now_ms: u64) -> u64 {
        let field = self.fields[shard]
            .get(key)
            .copied()
            .unwrap_or(self.loaded[shard]);
        match self.kind {
            Kind::Lru => {
                let now = u64::from(lru_clock(now_ms));
                let then = u64::from(field);
                if now >= then {
                    (now - then) * 1000
                } else {
                    (now + (LRU_CLOCK_MAX - then)) * 1000
                }
            }
            Kind::Lfu => 255 - u64::from(decayed(field, now_ms)),
        }
    }

    /// `shard` restarted from persistence at `now_ms`: every key it loaded is as new.
    pub(crate) fn reload(&mut self, shard: usize, now_ms: u64) {
        self.fields[shard].clear();
        self.loaded[shard] = Self::fresh(self.kind, now_ms);
    }
}

/// The LRU clock at `now_ms`: seconds, 24 bits.
fn lru_clock(now_ms: u64) -> u32 {
    ((now_ms / 1000) & LRU_CLOCK_MAX) as u32
}

/// Minutes, 16 bits (`LFUGetTimeInMinutes`).
fn minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

/// The counter of an LFU `field` after its idle minutes' decay (`LFUDecrAndReturn`).
fn decayed(field: u32, now_ms: u64) -> u8 {
    let ldt = u64::from(field >> 8);
    let counter = (field & 0xFF) as u8;
    let now = u64::from(minutes(now_ms));
    let elapsed = if now >= ldt {
        now - ldt
    } else {
        65_535 - ldt + now
    };
    let periods = elapsed / LFU_DECAY_MINUTES;
    counter.saturating_sub(periods.min(255) as u8)
}

/// One logarithmic increment (`LFULogIncr`).
fn log_incr(counter: u8, rng: &mut RngStream) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * LFU_LOG_FACTOR + 1.0);
    if dist::unit(rng) < p {
        counter + 1
    } else {
        counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counter grows like Redis's table for `lfu-log-factor 10` (100 hits: 10, 1,000:
    /// 18, 100,000: 142, a million: 255).
    #[test]
    fn the_lfu_counter_grows_logarithmically_and_decays_per_idle_minute() {
        let mut a = Access::new(Kind::Lfu, 1, 1, "x");
        let mut counter_after = Vec::new();
        let mut n = 0u64;
        for target in [100u64, 1_000, 100_000, 1_000_000] {
            while n < target {
                a.touch(0, b"k", 0);
                n += 1;
            }
            counter_after.push(255 - a.score(0, b"k", 0));
        }
        let want = [(8, 13), (15, 21), (130, 155), (240, 255)];
        for (got, (lo, hi)) in counter_after.iter().zip(want) {
            assert!((lo..=hi).contains(got), "{counter_after:?}");
        }
        // Ten idle minutes take ten off.
        let now = 10 * 60_000;
        assert_eq!(255 - a.score(0, b"k", now), counter_after[3] - 10);
        // A key never seen scores as one loaded at the start.
        assert_eq!(a.score(0, b"other", 0), 255 - u64::from(LFU_INIT_VAL));
    }

    #[test]
    fn lru_scores_the_idle_time_in_whole_seconds_across_the_wrap() {
        let mut a = Access::new(Kind::Lru, 2, 1, "x");
        a.touch(1, b"k", 5_500);
        assert_eq!(a.score(1, b"k", 65_900), 60_000);
        a.touch(1, b"k", 65_900);
        assert_eq!(a.score(1, b"k", 65_900), 0);
        // The 24-bit clock wraps after 194 days; the idle time does not go negative.
        let wrap = (LRU_CLOCK_MAX + 1) * 1000;
        a.touch(0, b"w", wrap - 2_000);
        assert_eq!(a.score(0, b"w", wrap + 3_000), 4_000);
        a.reload(1, 100_000);
        assert_eq!(a.score(1, b"k", 160_000), 60_000);
    }
}
