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
    /// Bumped on every disconnect, so that events of an older connection are ignored.
    pub generation: u32,
    pub inflight: VecDeque<InFlight>,
    /// Ops waiting for a held link to carry them: (bytes, stream offset after, op).
    pub outbox: VecDeque<(u64, u64, StreamOp)>,
    pub delivery_scheduled: bool,
    /// Arrival time of the newest op on the wire: the stream is ordered.
    pub last_arrival: SimTime,
    rng: RngStream,
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
            generation: 0,
            inflight: VecDeque::new(),
            outbox: VecDeque::new(),
            delivery_scheduled: false,
            last_arrival: SimTime::ZERO,
            rng,
            catchup_until: None,
            oom_blocked: false,
            epoch: 0,
            force_full: false,
            last_applied_written_at: SimTime::ZERO,
            partial_syncs: 0,
            full_syncs: 0,
            full_sync_started: SimTime::ZERO,
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
        if same_history && source.backlog.can_continue_from(self.consumed) {
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
        self.consumed
    }

    /// A full sync begins at `now` with the source's snapshot (of history `epoch`, covering
    /// the stream up to `offset`).
    pub(crate) fn begin_full_sync(
        &mut self,
        now: SimTime,
        snapshot: Box<Keyspace>,
        epoch: u32,
        offset: u64,
    ) {
        self.epoch = epoch;
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
    /// (`syncer_busy`, at `ops_per_sec`, 0 for unlimited) applies ops one after another, so
    /// a centralized syncer serving many source shards can bottleneck.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send(
        &mut self,
        link: &mut Link,
        now: SimTime,
        (bytes, end, op): (u64, u64, StreamOp),
        compression: f64,
        syncer_busy: &mut SimTime,
        ops_per_sec: f64,
    ) -> Sent {
        debug_assert!(link.is_up(), "a streaming session's link is up");
        if link.is_held() {
            self.outbox.push_back((bytes, end, op));
            return Sent::Held;
        }
        let wire = (bytes as f64 * compression).ceil() as u64;
        let mut arrives = link.transmit(now, wire).max(self.last_arrival);
        if ops_per_sec > 0.0 {
            arrives = arrives.max(*syncer_busy) + SimDuration::from_secs_f64(1.0 / ops_per_sec);
            *syncer_busy = arrives;
        }
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
        self.consumed = end;
        self.last_applied_written_at = written_at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream_for;
    use crate::model::backlog::BacklogModel;
    use crate::model::net::{LatencyDist, LinkParams};

    fn session() -> Session {
        Session::new((0, 0, 1), 0, 0, stream_for(1, "s"))
    }

    fn backlog(first_kept: u64, end: u64) -> Backlog<BacklogItem> {
        let mut b = Backlog::starting_at(BacklogModel::Ring, end - first_kept, 0);
        b.advance(end);
        b
    }

    fn view(b: &Backlog<BacklogItem>, epoch: u32) -> SourceView<'_> {
        SourceView {
            backlog: b,
            epoch,
            down: false,
            stale: false,
        }
    }

    #[test]
    fn partial_while_the_backlog_holds_the_next_byte() {
        let b = backlog(1000, 5000);
        let mut s = session();
        s.consumed = 1000;
        assert_eq!(
            s.decide(&view(&b, 0), false),
            Reconnect::Partial { until: 5000 }
        );
        s.consumed = 999;
        assert_eq!(
            s.decide(&view(&b, 0), false),
            Reconnect::Full(ResyncReason::BacklogOverflow {
                needed: 999,
                first: 1000
            })
        );
    }

    #[test]
    fn a_new_history_or_a_forced_resync_is_always_full() {
        let b = backlog(0, 5000);
        let mut s = session();
        s.consumed = 4000;
        assert_eq!(
            s.decide(&view(&b, 1), false),
            Reconnect::Full(ResyncReason::NewHistory),
            "the source restarted: its offsets are another history's"
        );
        s.force_full = true;
        assert_eq!(
            s.decide(&view(&b, 0), false),
            Reconnect::Full(ResyncReason::NewHistory)
        );
    }

    #[test]
    fn a_down_or_stale_source_serves_nothing_but_two_stale_instances_sync() {
        let b = backlog(0, 10);
        let s = session();
        let mut v = view(&b, 0);
        v.down = true;
        assert_eq!(s.decide(&v, false), Reconnect::Wait);
        v.down = false;
        v.stale = true;
        assert_eq!(s.decide(&v, false), Reconnect::Wait);
        assert_eq!(s.decide(&v, true), Reconnect::Partial { until: 10 });
    }

    #[test]
    fn a_snapshot_that_arrives_after_the_backlog_moved_on_fails_and_backs_off() {
        let mut s = session();
        s.disconnect();
        let g = s.generation;
        s.begin_full_sync(SimTime(5), Box::new(Keyspace::new(2)), 0, 700);
        assert!(
            s.take_snapshot(g + 1).is_none(),
            "an older connection's snapshot"
        );
        let (_, offset) = s.take_snapshot(g).expect("the snapshot");
        assert!(s.is_disconnected());
        assert!(s.take_snapshot(g).is_none(), "taken once");
        // Meanwhile the backlog dropped everything before 2000.
        let b = backlog(2000, 9000);
        let end = s.finish_full_sync(offset, b.can_continue_from(offset));
        assert_eq!(end, FullSyncEnd::Failed);
        assert_eq!((s.consumed, s.full_sync_failures), (700, 1));
        let end = s.finish_full_sync(offset, false);
        assert_eq!(end, FullSyncEnd::Failed);
        assert_eq!(s.max_consecutive_failures, 2, "a full-sync loop");
        // Two failures double the reconnect delay bound twice.
        let base = SimDuration::from_secs(1);
        for _ in 0..200 {
            assert!(s.reconnect_delay(base) <= SimDuration::from_secs(4));
        }
        assert_eq!(s.finish_full_sync(offset, true), FullSyncEnd::Resumed);
        assert_eq!(s.consecutive_failures, 0);
        for _ in 0..200 {
            let d = s.reconnect_delay(base);
            assert!(d > SimDuration::ZERO && d <= base);
        }
    }

    #[test]
    fn backoff_is_capped() {
        let mut s = session();
        s.consecutive_failures = 40;
        for _ in 0..200 {
            assert!(s.reconnect_delay(SimDuration::from_secs(1)) <= MAX_BACKOFF);
        }
    }

    #[test]
    fn events_of_an_old_connection_are_ignored() {
        let mut s = session();
        let g = s.generation;
        assert!(
            !s.accepts_reconnect(g, true),
            "a streaming session needs no reconnect"
        );
        s.disconnect();
        assert!(
            !s.accepts_reconnect(g, true),
            "the old connection's attempt"
        );
        assert!(s.accepts_reconnect(g + 1, true));
        assert!(!s.accepts_reconnect(g + 1, false), "not over a cut link");
    }

    #[test]
    fn a_held_link_queues_and_an_open_one_schedules_one_delivery() {
        let mut link = Link::new(
            LinkParams {
                latency: LatencyDist::Constant(SimDuration::from_millis(40)),
                jitter: SimDuration::ZERO,
                bandwidth_bps: 8_000,
                loss: 0.0,
            },
            stream_for(1, "l"),
        );
        let mut s = session();
        let op = || {
            StreamOp::new(
                Keyspace::new(2).prepare(
                    b"k",
                    crate::crdt::InstanceId(0),
                    1,
                    crate::crdt::OpKind::Incr { int: 1, float: 0.0 },
                ),
                SimTime::ZERO,
                0,
                super::super::keys::KeyId(0),
            )
        };
        let mut busy = SimTime::ZERO;
        link.hold(true);
        assert_eq!(
            s.send(
                &mut link,
                SimTime::ZERO,
                (100, 100, op()),
                1.0,
                &mut busy,
                0.0
            ),
            Sent::Held
        );
        link.hold(false);
        let first = s.send(
            &mut link,
            SimTime::ZERO,
            (500, 600, op()),
            0.5,
            &mut busy,
            0.0,
        );
        // 250 wire bytes at 1000 B/s, then 40 ms.
        let at = SimTime::ZERO + SimDuration::from_millis(290);
        assert_eq!(
            first,
            Sent::OnWire {
                wire: 250,
                deliver_at: Some(at)
            }
        );
        let second = s.send(
            &mut link,
            SimTime::ZERO,
            (2, 602, op()),
            0.5,
            &mut busy,
            0.0,
        );
        assert_eq!(
            second,
            Sent::OnWire {
                wire: 1,
                deliver_at: None
            },
            "one delivery event drains the session in order"
        );
        assert_eq!(s.outbox.len(), 1);
        assert_eq!(s.inflight.len(), 2);
    }
}
