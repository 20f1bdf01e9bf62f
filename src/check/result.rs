//! A finished run: what the model reports, plus what the built-in observers found.

use super::lww::LwwStats;
use crate::model::Outcome;

/// The outcome of a whole run, for checks and reports. Derefs to the model's
/// [`Outcome`], so `result.trace_digest` reads as one record.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub outcome: Outcome,
    /// Concurrent string-write conflicts and clock-inverted wins.
    pub lww: LwwStats,
    /// Keys whose member instances had not applied the same writes when the run stopped
    /// (of the sample, in a sampled run).
    pub divergent_keys_end: u64,
    /// A sampled run's estimates of the whole keyspace's figures.
    pub estimates: Option<super::Estimates>,
}

impl RunResult {
    /// LWW conflicts: counted, or in a sampled run estimated (rounded).
    pub fn lww_conflicts(&self) -> u64 {
        self.estimates
            .as_ref()
            .map_or(self.lww.conflicts, |e| e.lww_conflicts.value.round() as u64)
    }

    /// Clock-inverted wins: counted, or in a sampled run estimated (rounded).
    pub fn clock_inverted_wins(&self) -> u64 {
        self.estimates
            .as_ref()
            .map_or(self.lww.clock_inverted, |e| {
                e.clock_inverted_wins.value.round() as u64
            })
    }

    /// Same-millisecond LWW ties: counted, or in a sampled run estimated (rounded).
    pub fn lww_ties(&self) -> u64 {
        self.estimates
            .as_ref()
            .map_or(self.lww.ties, |e| e.lww_ties.value.round() as u64)
    }

    /// Divergent keys at the end: counted, or in a sampled run estimated (rounded).
    pub fn divergent_keys(&self) -> u64 {
        self.estimates
            .as_ref()
            .map_or(self.divergent_keys_end, |e| {
                e.divergent_keys_end.value.round() as u64
            })
    }
}

impl std::ops::Deref for RunResult {
    type Target = Outcome;

    fn deref(&self) -> &Outcome {
        &self.outcome
    }
}
