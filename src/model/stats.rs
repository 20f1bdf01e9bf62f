//! What a run reports: per peer pair, per instance, per heal, and the whole run's outcome.

use super::membership::Membership;
use super::metrics::{Histogram, Peaks};
use super::script::StepRecord;
use crate::engine::{SimDuration, SimTime};

/// Per directed peer pair `src → dst`.
#[derive(Clone, Debug, Default)]
pub struct PeerStats {
    pub src: usize,
    pub dst: usize,
    pub ops_applied: u64,
    /// Of those, ops that waited in the causal-consistency buffer for an op they depend on.
    pub ops_buffered: u64,
    pub duplicates: u64,
    /// Apply time at `dst` minus write time at `src`, in nanoseconds, of streamed ops.
    pub lag: Histogram,
    /// Time until a write of `src` is visible at `dst`, in nanoseconds, whichever way it
    /// arrived: streamed (its lag) or merged by a full sync's snapshot (the merge time minus
    /// its write time, to ±5 ms; for an added instance, from when it started joining).
    pub visible: Histogram,
    /// Writes of `src` that reached `dst` in a full sync's snapshot rather than streamed.
    pub writes_by_snapshot: u64,
    /// The longest any one session from `src` to `dst` spent not caught up (disconnected, in
    /// a full sync, or replaying a partial sync): `dst` may serve stale reads of that shard
    /// meanwhile. From the recorded state changes, to the end of the run.
    pub behind: crate::engine::SimDuration,
    /// The longest any one session from `src` to `dst` spent in full syncs (snapshots in
    /// transit).
    pub in_full_sync: crate::engine::SimDuration,
    /// Replication-stream bytes sent (before compression), resends included.
    pub stream_bytes: u64,
    /// Snapshot bytes sent (before compression).
    pub snapshot_bytes: u64,
    /// What crossed the WAN after compression: stream and snapshots.
    pub wire_bytes: u64,
    pub partial_syncs: u64,
    pub full_syncs: u64,
    /// Of those, the ones needed because the backlog no longer held the next byte.
    pub full_syncs_after_overflow: u64,
    pub full_sync_failures: u64,
    pub max_consecutive_full_sync_failures: u64,
    /// The most memory `dst` held while merging a snapshot from `src`: its used memory
    /// plus the snapshot (geosim's model: the destination holds the received snapshot
    /// beside its dataset while it merges it).
    pub snapshot_load_memory_max: u64,
    /// Times replication into `dst` stopped because the destination shard was full.
    pub oom_stops: u64,
}

/// What happened after one partition healed.
#[derive(Clone, Debug, PartialEq)]
pub struct HealStats {
    pub name: String,
    pub begin: SimTime,
    pub healed_at: SimTime,
    /// Time from the heal until every affected syncer had applied everything written before
    /// the heal. `None` if that did not happen before the run ended.
    pub caught_up_after: Option<SimDuration>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClusterStats {
    pub name: String,
    pub writes: u64,
    pub rejected: u64,
    pub keys: u64,
    pub oom_rejections: u64,
    pub unavailable_rejections: u64,
    pub writes_lost: u64,
    pub writes_recovered_from_peers: u64,
    /// For a removed cluster: its acknowledged writes that did not reach every member left
    /// (a forced removal of a cut-off cluster loses them; see docs/semantics.md).
    pub writes_lost_to_removal: u64,
    pub evictions: u64,
    /// Used memory at the end (keyspace estimate plus backlogs), all shards.
    pub memory_bytes: u64,
    pub memory_limit: u64,
}

/// What the model reports of a whole run (the checkers' findings are added by
/// [`crate::check::RunResult`]).
#[derive(Clone, Debug)]
pub struct Outcome {
    pub events: u64,
    pub trace_digest: u64,
    /// When the run stopped: at quiescence, or at the convergence deadline.
    pub stopped_at: SimTime,
    pub end_of_writes: SimTime,
    /// Whether every replication stream had drained (no event was pending) when it stopped.
    pub quiescent: bool,
    pub event_limit_hit: bool,
    /// Time from the end of writes (and the final heal) to the last op applied anywhere.
    pub settle_after_end: SimDuration,
    /// Per instance, the digest of what clients read (geosim-digest-v1 over keys and values).
    pub instance_digests: Vec<u64>,
    /// Per instance, its membership at the end (only active members must converge).
    pub members: Vec<Membership>,
    /// When each added cluster finished joining.
    pub joined_at: Vec<Option<SimTime>>,
    pub refused_reconnects: u64,
    pub clusters: Vec<ClusterStats>,
    pub peers: Vec<PeerStats>,
    pub heals: Vec<HealStats>,
    /// What each scripted step did.
    pub steps: Vec<StepRecord>,
    /// Tombstones collected during the run, all instances.
    pub tombstones_collected: u64,
    /// Peaks over the metric samples.
    pub peaks: Peaks,
    /// Per instance, tombstones held at the end: (count, estimated bytes).
    pub tombstones: Vec<(u64, u64)>,
    /// Every syncer session state change, in time order (the first for each session at
    /// time zero).
    pub state_changes: Vec<super::metrics::StateChange>,
}
