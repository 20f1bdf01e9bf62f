//! A sampled run's estimates of the whole keyspace's figures (`run.fidelity = "sampled"`):
//! LWW conflicts and clock-inverted wins, divergent keys at the end, and each instance's
//! memory, each with a 95 % confidence interval (see `model::keysample`).

use super::divergence::Divergence;
use super::lww::LwwObserver;
use crate::crdt::keyspace::entry_bytes;
use crate::model::World;
use crate::model::keysample::{Estimate, EstimateSum, KeySample};

/// What a sampled run estimates of the whole keyspace.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimates {
    /// `run.sample`'s N: a key outside the certain part is in the sample with probability 1/N.
    pub every: u64,
    /// Keys kept with certainty (the workload's hottest; both kinds).
    pub certain_keys: u64,
    /// Keys of the sample the run saw.
    pub sampled_keys: u64,
    pub lww_conflicts: Estimate,
    pub clock_inverted_wins: Estimate,
    pub lww_ties: Estimate,
    pub divergent_keys_end: Estimate,
    /// Per instance, used memory (keyspace and backlogs), with the keys outside the sample
    /// counted as their number times a ratio estimate of their mean size.
    pub memory_bytes: Vec<Estimate>,
}

impl Estimates {
    /// The estimates of a finished sampled run (`None` for an exact one).
    pub(crate) fn of(world: &World, lww: &LwwObserver, divergence: &Divergence) -> Option<Self> {
        let sample = world.key_sample()?;
        let keys_per_kind = world.generated_keys_per_kind();
        let weight = |name: &[u8]| sample.weight_of_name(name, keys_per_kind);
        let mut conflicts = EstimateSum::new(sample.every);
        let mut inverted = EstimateSum::new(sample.every);
        let mut ties = EstimateSum::new(sample.every);
        for (key, &(c, i, t)) in lww.per_key.iter().flatten() {
            let w = weight(key);
            conflicts.add(w, c as f64);
            inverted.add(w, i as f64);
            ties.add(w, t as f64);
        }
        let mut divergent = EstimateSum::new(sample.every);
        for id in divergence.divergent_ids() {
            divergent.add(weight(world.key_name(id)), 1.0);
        }
        let sampled_keys = (0..world.key_count() as u32)
            .map(crate::model::keys::KeyId)
            .filter(|&id| world.key_seen(id))
            .count() as u64;
        Some(Estimates {
            every: sample.every,
            certain_keys: sample.certain_below.saturating_mul(2),
            sampled_keys,
            lww_conflicts: conflicts.finish(),
            clock_inverted_wins: inverted.finish(),
            lww_ties: ties.finish(),
            divergent_keys_end: divergent.finish(),
            memory_bytes: (0..world.instances().len())
                .map(|c| memory(world, sample, c))
                .collect(),
        })
    }
}

/// Instance `c`'s used memory: its sampled keys' and backlogs' bytes as they are, plus its
/// shadow keys times their mean size (both once per copy: a replica holds them again), a
/// ratio estimate over the sampled keys it holds, each weighted by the unsampled keys it
/// stands for (its weight less one). The interval is the ratio estimate's (linearised)
/// variance.
fn memory(world: &World, sample: &KeySample, c: usize) -> Estimate {
    let keys_per_kind = world.generated_keys_per_kind();
    let inst = &world.instances()[c];
    // Every shard of an instance has a replica or none: the limit counts its keys that often.
    let copies = inst.shards.first().map_or(1, |s| s.copies());
    let modelled: u64 = inst
        .shards
        .iter()
        .map(|s| s.copies() * s.shadow_bytes)
        .sum();
    let known = inst.used() - modelled;
    let shadow = world.shadow_keys()[c] as f64;
    let mut sizes = Vec::new();
    for id in (0..world.key_count() as u32).map(crate::model::keys::KeyId) {
        if !world.key_seen(id) {
            continue;
        }
        let name = world.key_name(id);
        let w = sample.weight_of_name(name, keys_per_kind) - 1;
        if w == 0 {
            continue;
        }
        if let Some(e) = world.entry(c, name) {
            let b = entry_bytes(name, &e);
            if b > 0 {
                sizes.push((w as f64, b as f64));
            }
        }
    }
    let ws: f64 = sizes.iter().map(|s| s.0).sum();
    if ws == 0.0 || shadow == 0.0 {
        let v = (known + modelled) as f64;
        return Estimate {
            value: v,
            low: v,
            high: v,
        };
    }
    let mean = sizes.iter().map(|s| s.0 * s.1).sum::<f64>() / ws;
    let var_mean = sizes
        .iter()
        .map(|s| s.0 * s.0 * (s.1 - mean) * (s.1 - mean))
        .sum::<f64>()
        / (ws * ws);
    let value = known as f64 + copies as f64 * shadow * mean;
    let half = 1.96 * copies as f64 * shadow * var_mean.sqrt();
    Estimate {
        value,
        low: value - half,
        high: value + half,
    }
}
