//! Sampled fidelity (`run.fidelity = "sampled"`): which of a generated workload's keys keep
//! their CRDT state, and what the world still knows of the others.
//!
//! Every write is generated, admitted, appended to its shard's stream with its exact bytes
//! and shipped and delivered over its link exactly as in an exact run: backlogs, links,
//! syncers and resyncs see the same bytes at the same times. Only the keys of the sample keep
//! per-key CRDT state, are applied at peers, compared for convergence and observed by the
//! checkers. The other keys ("shadow" keys) are remembered by their hash slot and, per
//! instance, whether the instance holds them (one bit), which is what shard memory, snapshot
//! sizes and key counts need (see `docs/semantics.md`, "Sampled fidelity").
//!
//! The sample is a Poisson design: a key is in it with probability one (the workload's
//! hottest keys: those whose share of the writes is at least `every` times the average
//! share) or `1/every` (a hash of the key's number and the run's seed), so a figure summed
//! over the sample and weighted by the inverse of each key's probability estimates the
//! whole keyspace's figure without bias, and its variance can be estimated from the sample
//! itself ([`Estimate`]).

use super::workload::{KeyDist, WorkloadParams};
use crate::engine::Digest;
use crate::engine::dist::Zipf;

/// See [`KeySample::new`]: no uncertain key's expected conflicts, weighted, exceed this
/// fraction's inverse of the total.
const CONFLICT_SPREAD: f64 = 200.0;

/// Which generated keys are in the sample, by key number (`Workload::last_key`: index × 2,
/// plus 1 for a `SET` key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySample {
    /// A key outside the certain part is in the sample with probability `1 / every`.
    pub every: u64,
    /// Key indices below this are always in the sample (the hot keys of a skewed workload).
    pub certain_below: u64,
    salt: u64,
}

impl KeySample {
    /// The sample of a workload's keys for a run with seed `seed`.
    pub fn new(every: u64, params: &WorkloadParams, seed: u64) -> Self {
        let every = every.max(1);
        let certain_below = match params.key_dist {
            KeyDist::Uniform => 0,
            KeyDist::Zipf { exponent } => {
                let z = Zipf::new(params.keys, exponent);
                // Certain: a key whose share of the writes is `every` times the mean share,
                // or whose share of the pairs of writes that meet on one key (where
                // conflicts come from: a key's share squared, over the sum of squares) is
                // so large that, sampled with weight `every`, it alone would move the
                // estimate by more than 1/CONFLICT_SPREAD of the total.
                let by_writes = z.ranks_above_share(every as f64 / params.keys as f64);
                let by_pairs =
                    z.ranks_above_share((z.collision() / (CONFLICT_SPREAD * every as f64)).sqrt());
                by_writes.max(by_pairs)
            }
        };
        KeySample {
            every,
            certain_below: certain_below.min(params.keys),
            salt: Digest::new().str("key-sample").word(seed).value(),
        }
    }

    /// Whether the key numbered `number` is in the sample.
    #[inline]
    pub fn keeps(&self, number: u64) -> bool {
        self.weight(number).is_some()
    }

    /// The key's weight (the inverse of its probability of being in the sample), or `None`
    /// when it is not in the sample.
    #[inline]
    pub fn weight(&self, number: u64) -> Option<u64> {
        if self.every == 1 || number / 2 < self.certain_below {
            return Some(1);
        }
        mix(self.salt ^ number)
            .is_multiple_of(self.every)
            .then_some(self.every)
    }

    /// The weight of a key that is in the sample, by name: 1 for a name the workload does
    /// not generate (a sampled run has no other keys, but a caller may ask).
    pub fn weight_of_name(&self, name: &[u8], keys_per_kind: u64) -> u64 {
        super::workload::generated_number(name, keys_per_kind)
            .and_then(|n| self.weight(n))
            .unwrap_or(1)
    }
}

/// SplitMix64's finaliser: a well-mixed hash of one word.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a sampled run keeps of the keys outside the sample: by key number, the hash slot
/// (computed at first sight) and which instances hold the key (one bit per instance).
///
/// Both live in one 32-bit cell per key (the slot in the low half, instances 0 to 15 in the
/// high half), so that a write touches one cache line for its key: the table is larger than
/// the cache, and a shadow write's cost was mostly these misses. Instances 16 and up (a
/// what-if of more than 16 clusters) have a second table, made when first needed.
#[derive(Debug)]
pub(crate) struct Shadow {
    cells: Vec<u32>,
    wide: Vec<u16>,
}

const UNSEEN: u16 = u16::MAX;
/// Instances whose presence bits share the slot's cell.
const NARROW: usize = 16;

impl Shadow {
    /// Room for the key numbers below `numbers`.
    pub(crate) fn new(numbers: u64) -> Self {
        let n = usize::try_from(numbers).expect("validation bounds a sampled keyspace");
        Shadow {
            cells: vec![u32::from(UNSEEN); n],
            wide: Vec::new(),
        }
    }

    /// The hash slot of the key numbered `number`, whose name `name` gives (asked only the
    /// first time).
    #[inline]
    pub(crate) fn slot_with(&mut self, number: u64, name: impl FnOnce() -> Vec<u8>) -> u16 {
        let c = &mut self.cells[number as usize];
        if *c as u16 == UNSEEN {
            *c = (*c & 0xFFFF_0000) | u32::from(crate::redis::slot::key_slot(&name()));
        }
        *c as u16
    }

    /// The hash slot of a key seen before.
    #[inline]
    pub(crate) fn slot_of(&self, number: u64) -> u16 {
        let s = self.cells[number as usize] as u16;
        debug_assert_ne!(s, UNSEEN, "a held key has been seen");
        s
    }

    /// Marks the key held at `instance`; whether it was not before.
    #[inline]
    pub(crate) fn hold(&mut self, number: u64, instance: usize) -> bool {
        let i = number as usize;
        if instance < NARROW {
            let bit = 1u32 << (16 + instance);
            let new = self.cells[i] & bit == 0;
            self.cells[i] |= bit;
            return new;
        }
        if self.wide.is_empty() {
            self.wide = vec![0; self.cells.len()];
        }
        let bit = 1u16 << (instance - NARROW);
        let new = self.wide[i] & bit == 0;
        self.wide[i] |= bit;
        new
    }

    /// Which of instances 0 to 15 hold the key numbered `number` (bit `i` for instance `i`).
    #[inline]
    pub(crate) fn narrow_holders(&self, number: u64) -> u16 {
        (self.cells[number as usize] >> 16) as u16
    }

    /// Whether `instance` holds the key numbered `i`.
    #[inline]
    fn holds(&self, i: usize, instance: usize) -> bool {
        if instance < NARROW {
            self.cells[i] & (1u32 << (16 + instance)) != 0
        } else {
            self.wide
                .get(i)
                .is_some_and(|w| w & (1u16 << (instance - NARROW)) != 0)
        }
    }

    /// The key numbers `instance` holds in slots that `owns`, in number order.
    pub(crate) fn held(&self, instance: usize, owns: impl Fn(u16) -> bool) -> Vec<u32> {
        (0..self.cells.len())
            .filter(|&i| self.holds(i, instance) && owns(self.cells[i] as u16))
            .map(|i| i as u32)
            .collect()
    }

    /// Keys `instance` holds.
    pub(crate) fn count(&self, instance: usize) -> u64 {
        (0..self.cells.len())
            .filter(|&i| self.holds(i, instance))
            .count() as u64
    }
}

/// A figure estimated from the sample: the weighted sum over the sampled keys, with a 95 %
/// confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Estimate {
    /// The estimate (exact when every key is certain).
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Accumulates an estimate key by key: the Horvitz–Thompson sum `Σ w·y` over the sampled
/// keys, with the variance estimate `Σ (w − 1)·w·y²` of Poisson sampling.
#[derive(Clone, Copy, Debug, Default)]
pub struct EstimateSum {
    sum: f64,
    var: f64,
    /// Sampled keys with a non-zero figure and a weight above one.
    uncertain_hits: u64,
    every: u64,
}

impl EstimateSum {
    pub fn new(every: u64) -> Self {
        EstimateSum {
            every: every.max(1),
            ..EstimateSum::default()
        }
    }

    /// Adds a sampled key's figure `y`, the key having weight `w`.
    pub fn add(&mut self, w: u64, y: f64) {
        let w = w as f64;
        self.sum += w * y;
        self.var += (w - 1.0) * w * y * y;
        if w > 1.0 && y != 0.0 {
            self.uncertain_hits += 1;
        }
    }

    /// The estimate with its 95 % interval: normal, `±1.96·√var`. With fewer than five
    /// uncertain keys contributing, the normal interval is unreliable; the interval is then
    /// widened to what a Poisson count of such keys allows (upper 95 % bound of a Poisson
    /// mean given the count, times the largest weight), a conservative choice.
    pub fn finish(&self) -> Estimate {
        let half = 1.96 * self.var.sqrt();
        let (mut low, mut high) = ((self.sum - half).max(0.0), self.sum + half);
        if self.uncertain_hits < 5 && self.every > 1 {
            // Upper 95 % Poisson bounds for counts 0..4 (exact chi-square quantiles / 2).
            const UPPER: [f64; 5] = [3.0, 4.74, 6.30, 7.75, 9.15];
            let k = self.uncertain_hits as usize;
            let per_key = if k == 0 {
                1.0
            } else {
                // The mean figure of the uncertain keys seen, in unweighted units.
                (self.var / ((self.every - 1) * self.every) as f64 / k as f64).sqrt()
            };
            let extra = (UPPER[k] - k as f64) * self.every as f64 * per_key;
            high = high.max(self.sum + extra);
            low = low.min(self.sum);
        }
        Estimate {
            value: self.sum,
            low,
            high,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::workload::OpMix;

    fn params(keys: u64, key_dist: KeyDist) -> WorkloadParams {
        WorkloadParams::set_incr(
            1000.0,
            keys,
            key_dist,
            64,
            OpMix::set_incr(1.0, 1.0),
            vec![0],
        )
    }

    #[test]
    fn about_one_key_in_every_is_kept_and_the_choice_is_the_seeds() {
        let p = params(100_000, KeyDist::Uniform);
        let s = KeySample::new(64, &p, 7);
        assert_eq!(s.certain_below, 0);
        let kept = (0..200_000).filter(|&n| s.keeps(n)).count();
        assert!((2_900..3_350).contains(&kept), "{kept}");
        let again = KeySample::new(64, &p, 7);
        assert!((0..200_000).all(|n| s.keeps(n) == again.keeps(n)));
        let other = KeySample::new(64, &p, 8);
        assert!((0..200_000).any(|n| s.keeps(n) != other.keeps(n)));
        // Every key is kept at 1/1.
        let all = KeySample::new(1, &p, 7);
        assert!((0..1000).all(|n| all.weight(n) == Some(1)));
    }

    #[test]
    fn a_skewed_workloads_hottest_keys_are_always_kept() {
        let p = params(1_000_000, KeyDist::Zipf { exponent: 0.99 });
        let s = KeySample::new(64, &p, 1);
        // Keys with at least 64x the mean share: about the top thousand of a million.
        assert!(
            (800..1_500).contains(&s.certain_below),
            "{}",
            s.certain_below
        );
        assert!((0..2 * s.certain_below).all(|n| s.weight(n) == Some(1)));
        assert!(
            (2 * s.certain_below..2 * s.certain_below + 10_000)
                .filter_map(|n| s.weight(n))
                .all(|w| w == 64)
        );
    }

    #[test]
    fn shadow_keys_remember_where_they_are_held() {
        let mut sh = Shadow::new(10);
        assert_eq!(
            sh.slot_with(3, || b"key:000000000001".to_vec()),
            crate::redis::slot::key_slot(b"key:000000000001")
        );
        assert!(sh.hold(3, 0));
        assert!(!sh.hold(3, 0));
        assert!(sh.hold(3, 2));
        sh.slot_with(5, || b"x".to_vec());
        // The name is asked for once.
        sh.slot_with(5, || unreachable!("seen before"));
        assert!(sh.hold(5, 2));
        assert_eq!(sh.held(2, |_| true), vec![3, 5]);
        assert_eq!(sh.count(0), 1);
        assert_eq!(sh.count(2), 2);
        // Instances past the cell's 16 bits, and the slot kept beside the bits.
        assert!(sh.hold(3, 16) && sh.hold(3, 31) && sh.hold(7, 15));
        assert!(!sh.hold(3, 31));
        assert_eq!((sh.count(16), sh.count(31), sh.count(15)), (1, 1, 1));
        assert_eq!(sh.held(31, |_| true), vec![3]);
        assert_eq!(sh.held(2, |s| s != sh.slot_of(5)), vec![3]);
        assert_eq!(
            sh.slot_of(3),
            crate::redis::slot::key_slot(b"key:000000000001")
        );
    }

    #[test]
    fn estimates_are_exact_for_certain_keys_and_cover_a_known_total() {
        let mut e = EstimateSum::new(64);
        e.add(1, 10.0);
        e.add(1, 5.0);
        let r = e.finish();
        assert_eq!(r.value, 15.0);
        // No uncertain key was seen: the upper bound allows for those that may exist.
        assert!(r.low <= 15.0 && r.high >= 15.0 + 3.0 * 64.0 - 1e-9, "{r:?}");
        // Many uncertain keys: the normal interval.
        let mut e = EstimateSum::new(4);
        for _ in 0..100 {
            e.add(4, 1.0);
        }
        let r = e.finish();
        assert_eq!(r.value, 400.0);
        let half = 1.96 * (100.0f64 * 12.0).sqrt();
        assert!((r.high - 400.0 - half).abs() < 1e-9 && (400.0 - r.low - half).abs() < 1e-9);
    }
}
