//! Faults scheduled by a scenario (or a script step): partitions that drop or stall syncer
//! connections, and link degradation.

use crate::engine::{SimDuration, SimTime};

/// How a partition treats the syncer connections over the links it cuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionMode {
    /// Both sides see the connections close at once (as in the `shared/validation/` trials):
    /// ops in flight are lost and resent after the heal, from the backlog if it still holds
    /// them.
    Drop,
    /// The links go silent but the connections stay open: nothing is lost, what is sent waits
    /// (Redis keeps what an attached peer has not been sent). If the silence outlasts the
    /// replication timeout, the connections drop then, and it continues as `Drop`.
    Stall,
}

impl PartitionMode {
    pub fn name(self) -> &'static str {
        match self {
            PartitionMode::Drop => "drop",
            PartitionMode::Stall => "stall",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    Partition(PartitionMode),
    /// The links' one-way latency grows by `extra_latency`; their bandwidth drops to
    /// `bandwidth_bps` when given (never above the link's own).
    Degrade {
        extra_latency: SimDuration,
        bandwidth_bps: Option<u64>,
    },
    /// The primary of `shard` in `cluster` crashes at `begin` and its process restarts at
    /// `end`. With a replica the cluster fails over to it; without one the shard is down
    /// until the restart and recovers what its persistence kept.
    Crash {
        cluster: usize,
        shard: usize,
    },
}

/// A fault on some cluster pairs during `[begin, end)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// A label for reports: `fault[0]` or the scenario's `name`.
    pub name: String,
    pub begin: SimTime,
    pub end: SimTime,
    /// Unordered cluster pairs `(a, b)` with `a < b`; both directions are affected.
    pub pairs: Vec<(usize, usize)>,
    pub kind: FaultKind,
}

impl Fault {
    pub fn is_partition(&self) -> bool {
        matches!(self.kind, FaultKind::Partition(_))
    }
}
