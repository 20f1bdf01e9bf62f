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
    /// Keys whose member instances had not applied the same writes when the run stopped.
    pub divergent_keys_end: u64,
}

impl std::ops::Deref for RunResult {
    type Target = Outcome;

    fn deref(&self) -> &Outcome {
        &self.outcome
    }
}
