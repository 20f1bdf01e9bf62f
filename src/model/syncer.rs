//! Syncer sessions: the replication of one source shard's stream into one destination
//! instance, as a state machine. The destination's syncer keeps the offset it has consumed;
//! after a dropped connection it asks to continue from it (partial sync) or, if the source
//! backlog no longer holds it, takes a full sync (a snapshot of the source shard's CRDT
//! state, then the stream from the snapshot's offset).
//!
//! ```text
//!   Streaming ──disconnect──▶ Disconnected ──reconnect: partial──▶ Streaming
//!       ▲                          │  ▲
//!       │                reconnect: full   snapshot arrived, backlog moved on (failed)
//!       │                          ▼  │
//!       └──snapshot arrived, ── FullSync
//!          backlog still holds its offset
//! ```
//!
//! The session decides; the world carries out what it answers (ship, schedule, merge). What
//! it needs of the source shard comes in as a read-only `SourceView`; the link it sends
//! over is passed in.

use std::collections::VecDeque;

use super::backlog::Backlog;
use super::net::Link;
use super::shard::BacklogItem;

pub use super::stream_op::StreamOp;
use crate::crdt::Keyspace;
use crate::engine::{RngStream, SimDuration, SimTime, dist};

/// What a session is doing.
#[derive(Debug)]
pub(crate) enum SyncState {
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

/// An op on the wire.
#[derive(Debug)]
pub(crate) struct InFlight {
    pub arrives: SimTime,
    /// Stream offset after this op: what the destination has consumed once it is applied.
    pub end: u64,
    pub op: StreamOp,
}

/// How every session puts ops on the wire: fixed for a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SendParams {
    /// Wire bytes per stream byte (compression).
    pub compression: f64,
    /// The destination syncer's time per op (`None`: unlimited throughput).
    pub per_op: Option<SimDuration>,
    /// Ops a session ships within this long of a batch's first op travel with it (zero:
    /// every op travels alone).
    pub batch_window: SimDuration,
}

/// A batch being gathered by a session (`replication.batch_window`): its ops share one
/// latency draw and arrive together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Batch {
    /// Ops shipped up to this time join the batch.
    closes: SimTime,
    /// The batch's one latency draw.
    delay: SimDuration,
    /// When the batch arrives (and is applied) at the destination.
    arrives: SimTime,
}

/// How a reconnecting syncer resumes, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResyncReason {
    /// The source backlog still held the next byte the destination needed.
    Partial,
    /// The backlog had moved past it: `needed` is the next offset the destination needed,
    /// `first` the oldest offset the backlog still held.
    BacklogOverflow { needed: u64, first: u64 },
    /// The source's replication history changed (a restart without a replica, or a forced
    /// resync): offsets cannot continue.
    NewHistory,
}

/// What a reconnecting session sees of its source shard.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SourceView<'a> {
    pub backlog: &'a Backlog<BacklogItem>,
    /// The source's replication history.
    pub epoch: u32,
    /// Crashed and not failed over or restarted yet.
    pub down: bool,
    /// Restarted from persistence and not resynced from its own peers yet.
    pub stale: bool,
}

/// The answer to a reconnect attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Reconnect {
    /// Nothing to connect to until the source recovers (its recovery schedules the attempt).
    Wait,
    /// Continue the stream from the consumed offset; caught up again at `until`.
    Partial { until: u64 },
    /// Take a full sync.
    Full(ResyncReason),
}

/// What sending one stream op did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// The link is held: the op waits in the session's outbox.
    Held,
    /// On the wire: `wire` bytes after compression; deliver at `deliver_at` if no delivery
    /// was scheduled yet.
    OnWire {
        wire: u64,
        deliver_at: Option<SimTime>,
    },
}

/// How a full sync ended when its snapshot arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FullSyncEnd {
    /// The backlog still holds the snapshot's offset: streaming resumes from it.
    Resumed,
    /// The backlog moved on while the snapshot travelled: the sync failed and starts over.
    Failed,
}

/// The longest a syncer waits between attempts after repeated failed full syncs (chosen here).
pub(crate) const MAX_BACKOFF: SimDuration = SimDuration::from_secs(30);

#[derive(Debug)]
pub(crate) struct Session {
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
    /// How many of the source shard's writes (ops that take stream bytes) have reached the
    /// destination, streamed or in a merged snapshot.
    pub consumed_writes: u64,
    /// The source shard's write count when the snapshot in transit was taken.
    snapshot_writes: u64,
    /// Bumped on every disconnect, so that events of an older connection are ignored.
    pub generation: u32,
    pub inflight: VecDeque<InFlight>,
    /// Ops waiting for a held link to carry them: (bytes, stream offset after, op).
    pub outbox: VecDeque<(u64, u64, StreamOp)>,
    pub delivery_scheduled: bool,
    /// The batch gathering ops, if batching is on and one is open.
    batch: Option<Batch>,
    /// Arrival time of the newest op on the wire: the stream is ordered.
    pub last_arrival: SimTime,
    rng: RngStream,
    /// Planted bug `offset-reuse-after-failover` only: the next op delivered is taken for a
    /// duplicate (always `false` in a normal build).
    pub skip_next_as_duplicate: bool,
    /// After a partial sync: the stream offset it must reach to be caught up again.
    pub catchup_until: Option<u64>,
    /// Replication into a full shard is stopped (replication OOM protection).
    pub oom_blocked: bool,
    /// The source shard's replication history this session's offset belongs to.
    pub epoch: u32,
    /// The destination lost data or is new: the next resync must be a full sync.
    pub force_full: bool,
    /// True write time of the last op applied (for the sampled lag).
    pub last_applied_written_at: SimTime,
    /// Write time up to which the destination has seen the source shard's writes (streamed
    /// or in a merged snapshot).
    pub visible_until: SimTime,
    pub partial_syncs: u64,
    pub full_syncs: u64,
    /// When the latest full sync's snapshot was taken.
    pub full_sync_started: SimTime,
    /// Bytes (before compression) of the snapshot in transit.
    pub full_sync_bytes: u64,
    /// Full syncs that ended with the snapshot offset already gone from the backlog.
    pub full_sync_failures: u64,
    /// Consecutive failed full syncs (a full-sync loop when it reaches 2).
    pub consecutive_failures: u64,
    pub max_consecutive_failures: u64,
}

impl Session {
    pub fn new(
        (src, src_shard, dst): (usize, usize, usize),
        link: usize,
        syncer: usize,
        rng: RngStream,
    ) -> Self {
        Session {
            src,
            src_shard,
            dst,
            link,
            syncer,
            state: SyncState::Streaming,
            consumed: 0,
            consumed_writes: 0,
            snapshot_writes: 0,
            generation: 0,
            inflight: VecDeque::new(),
            outbox: VecDeque::new(),
            delivery_scheduled: false,
            batch: None,
            last_arrival: SimTime::ZERO,
            rng,
            catchup_until: None,
            skip_next_as_duplicate: false,
            oom_blocked: false,
            epoch: 0,
            force_full: false,
            last_applied_written_at: SimTime::ZERO,
            visible_until: SimTime::ZERO,
            partial_syncs: 0,
            full_syncs: 0,
            full_sync_started: SimTime::ZERO,
            full_sync_bytes: 0,
            full_sync_failures: 0,
            consecutive_failures: 0,
            max_consecutive_failures: 0,
        }
    }

    /// Nothing queued, on the wire or being synced.
    pub(crate) fn idle(&self) -> bool {
        self.inflight.is_empty()
            && self.outbox.is_empty()
            && !matches!(self.state, SyncState::FullSync { .. })
    }

    pub(crate) fn is_streaming(&self) -> bool {
        matches!(self.state, SyncState::Streaming)
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        matches!(self.state, SyncState::Disconnected)
    }

    pub(crate) fn in_full_sync(&self) -> bool {
        matches!(self.state, SyncState::FullSync { .. })
    }

    /// The connection drops: what was queued or on the wire is gone, and events of the old
    /// connection are ignored from now on.
    pub(crate) fn disconnect(&mut self) {
        self.state = SyncState::Disconnected;
        self.generation = self.generation.wrapping_add(1);
        self.inflight.clear();
        self.outbox.clear();
        self.delivery_scheduled = false;
        self.batch = None;
    }

    /// Whether a reconnect attempt of connection `generation` still applies: the session is
    /// disconnected, on the same connection, and its link is up.
    pub(crate) fn accepts_reconnect(&self, generation: u32, link_up: bool) -> bool {
        self.generation == generation && self.is_disconnected() && link_up
    }

    /// The resync decision. A down source, or a stale one (restarted from persistence and
    /// not yet resynced itself) unless the destination is stale too, serves nothing yet.
    /// Otherwise: partial iff the source is on the same replication history, no full sync is
    /// owed, and its backlog still holds the next byte this session needs.
    pub(crate) fn decide(&self, source: &SourceView, dst_stale: bool) -> Reconnect {
        if source.down || (source.stale && !dst_stale) {
            return Reconnect::Wait;
        }
        let same_history = self.epoch == source.epoch && !self.force_full;
        use crate::crdt::planted::{PlantedBug, planted};
        let overflowed_anyway =
            self.consumed < source.backlog.first() && planted(PlantedBug::PartialAfterOverflow);
        if same_history && (source.backlog.can_continue_from(self.consumed) || overflowed_anyway) {
            Reconnect::Partial {
                until: source.backlog.end(),
            }
        } else if same_history {
            Reconnect::Full(ResyncReason::BacklogOverflow {
                needed: self.consumed,
                first: source.backlog.first(),
            })
        } else {
            Reconnect::Full(ResyncReason::NewHistory)
        }
    }

    /// A partial sync begins: caught up again once `until` is consumed.
    pub(crate) fn begin_partial(&mut self, until: u64) {
        self.catchup_until = Some(until);
        self.partial_syncs += 1;
    }

    /// Streaming (re)starts at `now`: the stream from the consumed offset is shipped next.
    pub(crate) fn resume(&mut self, now: SimTime) -> u64 {
        self.state = SyncState::Streaming;
        self.last_arrival = now;
        self.batch = None;
        self.consumed
    }

    /// A full sync begins at `now` with the source's snapshot (of history `epoch`, covering
    /// the stream up to `offset`).
    pub(crate) fn begin_full_sync(
        &mut self,
        now: SimTime,
        snapshot: Box<Keyspace>,
        (epoch, offset, writes): (u32, u64, u64),
    ) {
        self.epoch = epoch;
        self.snapshot_writes = writes;
        self.full_syncs += 1;
        self.full_sync_started = now;
        self.state = SyncState::FullSync { snapshot, offset };
    }

    /// The snapshot of connection `generation` arrived: hands it over with its offset, or
    /// `None` if the connection has changed since or no full sync is under way. The session
    /// owes no full sync any more.
    pub(crate) fn take_snapshot(&mut self, generation: u32) -> Option<(Box<Keyspace>, u64)> {
        if self.generation != generation {
            return None;
        }
        let state = std::mem::replace(&mut self.state, SyncState::Disconnected);
        let SyncState::FullSync { snapshot, offset } = state else {
            self.state = state;
            return None;
        };
        Some((snapshot, offset))
    }

    /// The merged snapshot's offset becomes the consumed offset; `backlog_holds_it` says
    /// whether the source backlog can still continue from there.
    pub(crate) fn finish_full_sync(&mut self, offset: u64, backlog_holds_it: bool) -> FullSyncEnd {
        self.consumed = offset;
        self.consumed_writes = self.consumed_writes.max(self.snapshot_writes);
        if backlog_holds_it {
            self.consecutive_failures = 0;
            FullSyncEnd::Resumed
        } else {
            self.full_sync_failures += 1;
            self.consecutive_failures += 1;
            self.max_consecutive_failures =
                self.max_consecutive_failures.max(self.consecutive_failures);
            FullSyncEnd::Failed
        }
    }

    /// The delay before the next attempt: uniform in `(0, d]`, where `d` is `base` doubled for
    /// each consecutive failed full sync, up to [`MAX_BACKOFF`].
    pub(crate) fn reconnect_delay(&mut self, base: SimDuration) -> SimDuration {
        let base = base.0;
        if base == 0 {
            return SimDuration::ZERO;
        }
        let doublings = self.consecutive_failures.min(16) as u32;
        let max = base
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF.0.max(base));
        SimDuration(1 + dist::below(&mut self.rng, max))
    }

    /// Sends one stream op (`bytes` long, ending at offset `end`) over `link` at `now`. The
    /// link's queue and a latency draw give its arrival; the destination's syncer process
    /// (`syncer_busy`, at `params.per_op` per op) applies ops one after another, so a
    /// centralized syncer serving many source shards can bottleneck.
    ///
    /// With a batch window, the first op of a batch is sent when the window closes (one
    /// latency draw after its last byte leaves, plus the window), and every op shipped before
    /// then joins it: same draw, same arrival, applied together, unless its own bytes leave
    /// so late (a queued link) that it arrives after the batch, in which case it arrives on its
    /// own and the batch's later ops go with it. A joiner's syncer time delays what comes
    /// after the batch, not the batch itself.
    pub(crate) fn send(
        &mut self,
        link: &mut Link,
        now: SimTime,
        (bytes, end, op): (u64, u64, StreamOp),
        params: &SendParams,
        syncer_busy: &mut SimTime,
    ) -> Sent {
        debug_assert!(link.is_up(), "a streaming session's link is up");
        if link.is_held() {
            self.outbox.push_back((bytes, end, op));
            return Sent::Held;
        }
        let wire = (bytes as f64 * params.compression).ceil() as u64;
        let done = link.serialise(now, wire);
        let arrives = match self.batch {
            Some(b) if now <= b.closes => {
                let own = done + b.delay;
                if own <= b.arrives {
                    if let Some(per_op) = params.per_op {
                        *syncer_busy = (*syncer_busy).max(b.arrives) + per_op;
                    }
                    b.arrives
                } else {
                    let arrives = self.arrival(own, params, syncer_busy);
                    self.batch = Some(Batch { arrives, ..b });
                    arrives
                }
            }
            _ => {
                let delay = link.delay(done);
                let arrives = self.arrival(done + params.batch_window + delay, params, syncer_busy);
                if !params.batch_window.is_zero() {
                    self.batch = Some(Batch {
                        closes: now + params.batch_window,
                        delay,
                        arrives,
                    });
                }
                arrives
            }
        };
        self.on_wire(wire, end, op, arrives)
    }

    /// When an op that reaches the destination at `reaches` is applied: in stream order,
    /// after the syncer's previous op.
    fn arrival(&self, reaches: SimTime, params: &SendParams, syncer_busy: &mut SimTime) -> SimTime {
        let mut arrives = reaches.max(self.last_arrival);
        if let Some(per_op) = params.per_op {
            arrives = arrives.max(*syncer_busy) + per_op;
            *syncer_busy = arrives;
        }
        arrives
    }

    /// Puts an op on the wire, arriving at `arrives`; a delivery is scheduled unless one is.
    fn on_wire(&mut self, wire: u64, end: u64, op: StreamOp, arrives: SimTime) -> Sent {
        self.last_arrival = arrives;
        self.inflight.push_back(InFlight { arrives, end, op });
        let deliver_at = (!self.delivery_scheduled).then(|| {
            self.delivery_scheduled = true;
            arrives
        });
        Sent::OnWire { wire, deliver_at }
    }

    /// An op was applied (or filtered as a duplicate) at the destination.
    pub(crate) fn consumed_op(&mut self, end: u64, written_at: SimTime) {
        // `>=`: an op can take no stream bytes (an effect Redis does not replicate).
        assert!(end >= self.consumed, "offsets never move back");
        self.consumed_writes += u64::from(end > self.consumed);
        self.consumed = end;
        self.last_applied_written_at = written_at;
    }
}

#[cfg(test)]
mod tests;
