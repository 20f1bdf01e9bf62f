//! Convergence: after the healed phase, every instance must read the same keyspace.

use crate::check::RunResult;
use crate::engine::SimDuration;

/// The judgement of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every replication stream drained and every instance reads the same keyspace.
    Converged,
    /// Every stream drained, yet the instances differ: a correctness failure.
    Diverged,
    /// Streams were still busy at the convergence deadline (or the event bound was hit).
    NotConverged,
}

impl Verdict {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Verdict::Converged => "converged",
            Verdict::Diverged => "diverged",
            Verdict::NotConverged => "not converged by the deadline",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Convergence {
    pub verdict: Verdict,
    /// From the end of writes (when every fault heals) to the last op applied, when converged.
    pub time_to_converge: Option<SimDuration>,
    /// Groups of instance indices that read the same keyspace (one group when converged).
    pub groups: Vec<Vec<usize>>,
}

pub fn check_convergence(r: &RunResult) -> Convergence {
    let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
    for (i, d) in r.instance_digests.iter().enumerate() {
        // A removed instance (or one never added) is no longer held to the others' state.
        use crate::model::Membership::{Absent, Removed};
        if r.members
            .get(i)
            .is_some_and(|m| matches!(m, Absent | Removed))
        {
            continue;
        }
        match groups.iter_mut().find(|(g, _)| g == d) {
            Some((_, members)) => members.push(i),
            None => groups.push((*d, vec![i])),
        }
    }
    let all_equal = groups.len() <= 1;
    let verdict = if !r.quiescent || r.event_limit_hit {
        Verdict::NotConverged
    } else if all_equal {
        Verdict::Converged
    } else {
        Verdict::Diverged
    };
    Convergence {
        verdict,
        time_to_converge: (verdict == Verdict::Converged).then_some(r.settle_after_end),
        groups: groups.into_iter().map(|(_, m)| m).collect(),
    }
}
