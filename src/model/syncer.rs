//! Syncer sessions: the replication of one source shard's stream into one destination
//! instance. The destination's syncer keeps the offset it has consumed; after a dropped
//! connection it asks to continue from it (partial sync) or, if the source backlog no longer
//! holds it, takes a full sync (a snapshot of the source shard's CRDT state, then the stream
//! from the snapshot's offset).

use std::collections::VecDeque;
use std::rc::Rc;

use crate::crdt::{Keyspace, Op};
use crate::engine::{RngStream, SimTime};

/// One write in a shard's replication stream.
#[derive(Debug)]
pub struct StreamOp {
    pub op: Op,
    /// True time at which the origin applied it (for lag).
    pub written_at: SimTime,
    /// The key's hash slot, computed once at the origin: every instance routes the op by it.
    pub slot: u16,
}

/// What a session is doing.
#[derive(Debug)]
pub enum SyncState {
    /// Connected; every new write is shipped as it is appended.
    Streaming,
    /// No connection (the link is cut, or a reconnect is pending).
    Disconnected,
    /// A snapshot is on its way; the stream resumes from `offset` once it is merged.
    FullSync {
        snapshot: Box<Keyspace>,
        offset: u64,
    },
}

impl SyncState {
    pub fn code(&self) -> u64 {
        match self {
            SyncState::Streaming => 0,
            SyncState::Disconnected => 1,
            SyncState::FullSync { .. } => 2,
        }
    }
}

/// An op on the wire.
#[derive(Debug)]
pub struct InFlight {
    pub arrives: SimTime,
    /// Stream offset after this op: what the destination has consumed once it is applied.
    pub end: u64,
    pub op: Rc<StreamOp>,
}

/// What the syncer should do on reconnecting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resync {
    Partial,
    Full,
}

/// Partial sync iff the next byte the destination needs is still in the source backlog.
pub fn decide_resync(backlog_has_next: bool) -> Resync {
    if backlog_has_next {
        Resync::Partial
    } else {
        Resync::Full
    }
}

#[derive(Debug)]
pub struct Session {
    pub src: usize,
    pub src_shard: usize,
    pub dst: usize,
    /// Index of the directed link `src → dst`.
    pub link: usize,
    /// Index of the destination syncer process that applies this session's ops.
    pub syncer: usize,
    pub state: SyncState,
    /// Stream offset after the last op applied at the destination.
    pub consumed: u64,
    /// Bumped on every disconnect, so that events of an older connection are ignored.
    pub generation: u32,
    pub inflight: VecDeque<InFlight>,
    /// Ops waiting for a held link to carry them: (bytes, stream offset after, op).
    pub outbox: VecDeque<(u64, u64, Rc<StreamOp>)>,
    pub delivery_scheduled: bool,
    /// Arrival time of the newest op on the wire: the stream is ordered.
    pub last_arrival: SimTime,
    pub rng: RngStream,
    /// After a partial sync: the stream offset it must reach to be caught up again.
    pub catchup_until: Option<u64>,
    /// Replication into a full shard is stopped (replication OOM protection).
    pub oom_blocked: bool,
    /// The source shard's replication history this session's offset belongs to.
    pub epoch: u32,
    /// The destination lost data (a restart): the next resync must be a full sync.
    pub force_full: bool,
    /// True write time of the last op applied (for the sampled lag).
    pub last_applied_written_at: SimTime,
    pub partial_syncs: u64,
    pub full_syncs: u64,
    /// When the latest full sync's snapshot was taken.
    pub full_sync_started: SimTime,
    /// Full syncs that ended with the snapshot offset already gone from the backlog.
    pub full_sync_failures: u64,
    /// Consecutive failed full syncs (a full-sync loop when it reaches 2).
    pub consecutive_failures: u64,
    pub max_consecutive_failures: u64,
}

impl Session {
    /// Nothing queued, on the wire or being synced.
    pub fn idle(&self) -> bool {
        self.inflight.is_empty()
            && self.outbox.is_empty()
            && !matches!(self.state, SyncState::FullSync { .. })
    }

    pub fn disconnect(&mut self) {
        self.state = SyncState::Disconnected;
        self.generation = self.generation.wrapping_add(1);
        self.inflight.clear();
        self.outbox.clear();
        self.delivery_scheduled = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resync_follows_the_backlog() {
        assert_eq!(decide_resync(true), Resync::Partial);
        assert_eq!(decide_resync(false), Resync::Full);
    }
}
