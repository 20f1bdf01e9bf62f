//! Routing for syncer sessions: shipping stream ops, applying deliveries at the destination,
//! reconnects (the session decides partial or full), full syncs and their snapshots. Every
//! decision is the session's ([`crate::model::syncer::Session`]); this file carries it out.

use super::{Event, World, compression_ratio, pair_index};
use crate::crdt::Applied;
use crate::engine::{Scheduler, SimDuration};
use crate::model::gc::GC_INTERVAL;
use crate::model::membership::Admission;
use crate::model::shard::{Appended, Shard};
use crate::model::syncer::{FullSyncEnd, Reconnect, ResyncReason, Sent, SourceView, StreamOp};
use crate::model::trace::TraceKind;

impl World {
    /// What causal consistency adds to each op's stream bytes: each instance relays the
    /// ordering metadata of what it receives to the other N−2 instances [CAUSAL], modelled
    /// as the op's vector clock and key per extra peer.
    pub(in crate::model) fn causal_extra_bytes(&self, key_len: usize) -> u64 {
        let n = self.instances.len();
        if self.cfg.causal_consistency && n > 2 {
            (n as u64 - 2) * (8 * n as u64 + key_len as u64)
        } else {
            0
        }
    }

    /// Ships an op just appended to `shard_idx`'s stream at cluster `c` on every streaming
    /// session from it.
    pub(super) fn ship_to_peers(
        &mut self,
        c: usize,
        shard_idx: usize,
        Appended { bytes, end, item }: Appended,
        q: &mut Scheduler<Event>,
    ) {
        for i in 0..self.sessions_of_source[c][shard_idx].len() {
            let sid = self.sessions_of_source[c][shard_idx][i] as usize;
            if self.sessions[sid].is_streaming() {
                self.ship(sid, (bytes, end, item.clone()), q);
            }
        }
    }

    /// Puts one stream op on the wire of session `sid`.
    pub(in crate::model) fn ship(
        &mut self,
        sid: usize,
        op: (u64, u64, StreamOp),
        q: &mut Scheduler<Event>,
    ) {
        let bytes = op.0;
        let s = &mut self.sessions[sid];
        let sent = s.send(
            &mut self.links[s.link],
            q.now(),
            op,
            &self.send_params,
            &mut self.syncer_busy[s.syncer],
        );
        if let Sent::OnWire { wire, deliver_at } = sent {
            let p = &mut self.peers[pair_index(self.instances.len(), s.src, s.dst)];
            p.wire_bytes += wire;
            p.stream_bytes += bytes;
            if let Some(at) = deliver_at {
                let (session, generation) = (sid as u32, s.generation);
                q.schedule(
                    at,
                    Event::Deliver {
                        session,
                        generation,
                    },
                );
            }
        }
    }

    /// Ops of session `sid` that have arrived are applied at the destination, in stream
    /// order, unless the destination shard is down or full.
    pub(in crate::model) fn on_deliver(
        &mut self,
        sid: usize,
        generation: u32,
        q: &mut Scheduler<Event>,
    ) {
        let now = q.now();
        if self.sessions[sid].generation != generation {
            return;
        }
        let (src, dst) = (self.sessions[sid].src, self.sessions[sid].dst);
        let pair = pair_index(self.instances.len(), src, dst);
        let mut blocked = false;
        while let Some(front) = self.sessions[sid].inflight.front() {
            if front.arrives > now {
                break;
            }
            let shard = self.instances[dst].topo.shard_of_slot(front.op.slot);
            if self.instances[dst].shards[shard].is_down() {
                blocked = true;
                break;
            }
            if !self.make_room(dst, shard, q) {
                // Replication OOM protection: the shard is full, so replication from this
                // peer stops until memory is freed; the syncer retries (as with
                // `crdt_syncer_auto_oom_unlatch`). With no eviction and no expiry nothing
                // frees memory, and the instances stay apart.
                if !self.sessions[sid].oom_blocked {
                    self.sessions[sid].oom_blocked = true;
                    self.peers[pair].oom_stops += 1;
                }
                blocked = true;
                break;
            }
            self.sessions[sid].oom_blocked = false;
            let f = self.sessions[sid]
                .inflight
                .pop_front()
                .expect("front exists");
            if std::mem::take(&mut self.sessions[sid].skip_next_as_duplicate) {
                self.peers[pair].duplicates += 1;
                self.sessions[sid].consumed_op(f.end, f.op.written_at);
                continue;
            }
            // The op's stream bytes, as the destination's primary streams it to its replica.
            let bytes = f.end.saturating_sub(self.sessions[sid].consumed);
            self.instances[dst].shards[shard].replicate(bytes);
            if let Some(shadow) = f.op.shadow_number() {
                self.deliver_shadow(dst, shard, shadow);
                self.peers[pair].ops_applied += 1;
                self.streamed(sid, pair, f.op.written_at, now);
                self.sessions[sid].consumed_op(f.end, f.op.written_at);
                self.last_apply = now;
                continue;
            }
            let direct = match f.op.compact_op() {
                Some(op)
                    if self.keys.compact()
                        && self.instances[dst].shards[shard].allows_compact() =>
                {
                    self.apply_compact(dst, shard, f.op.key, &op)
                }
                _ => None,
            };
            let applied = match direct {
                Some(applied) => {
                    if self.tracer.is_some() {
                        let op = f.op.op(&self.keys);
                        crate::model::trace::delivery(
                            &mut self.tracer,
                            (src, dst),
                            &op,
                            &f.op,
                            applied,
                            now,
                        );
                    }
                    applied
                }
                None => {
                    self.spill(f.op.key, dst);
                    self.apply_general(dst, shard, (src, dst), &f.op, now, q)
                }
            };
            match applied {
                Applied::Applied => self.peers[pair].ops_applied += 1,
                Applied::Buffered => {
                    self.peers[pair].ops_applied += 1;
                    self.peers[pair].ops_buffered += 1;
                }
                Applied::Duplicate => self.peers[pair].duplicates += 1,
            }
            self.streamed(sid, pair, f.op.written_at, now);
            self.sessions[sid].consumed_op(f.end, f.op.written_at);
            let s = &self.sessions[sid];
            assert!(
                s.consumed <= self.instances[src].shards[s.src_shard].backlog.end(),
                "a session never consumes past the end of its source's stream"
            );
            self.last_apply = now;
        }
        let consumed = self.sessions[sid].consumed;
        self.catchups.progress(sid, consumed, now);
        let retry = now
            + self
                .cfg
                .replication
                .reconnect_delay
                .max(SimDuration::from_millis(100));
        let s = &mut self.sessions[sid];
        match s.inflight.front() {
            Some(next) => q.schedule(
                if blocked { retry } else { next.arrives },
                Event::Deliver {
                    session: sid as u32,
                    generation,
                },
            ),
            None => s.delivery_scheduled = false,
        }
    }

    /// A streamed op written at `written_at` reached session `sid`'s destination at `now`:
    /// its lag is also the time until it was visible there.
    fn streamed(
        &mut self,
        sid: usize,
        pair: usize,
        written_at: crate::engine::SimTime,
        now: crate::engine::SimTime,
    ) {
        let lag = now.since(written_at).0;
        let p = &mut self.peers[pair];
        p.lag.record(lag);
        p.visible.record(lag);
        let s = &mut self.sessions[sid];
        s.visible_until = s.visible_until.max(written_at);
    }

    /// Session `sid`'s snapshot, taken at `taken`, was merged at `now`: the source shard's
    /// writes after what the destination had seen and up to the snapshot are visible there
    /// now, each after waiting since its write (for an added instance, since it started
    /// joining).
    fn visible_by_snapshot(
        &mut self,
        sid: usize,
        taken: crate::engine::SimTime,
        now: crate::engine::SimTime,
    ) {
        let s = &self.sessions[sid];
        let (src, src_shard, dst) = (s.src, s.src_shard, s.dst);
        let after = s.visible_until;
        let since = self.cfg.clusters[dst]
            .join_at
            .unwrap_or(crate::engine::SimTime::ZERO);
        let pair = pair_index(self.instances.len(), src, dst);
        let times = &self.instances[src].shards[src_shard].write_times;
        let p = &mut self.peers[pair];
        for (mid, n) in times.between(after.0, taken.0) {
            p.visible
                .record_n(now.0.saturating_sub(mid.max(since.0)), n);
            p.writes_by_snapshot += n;
        }
        let s = &mut self.sessions[sid];
        s.visible_until = s.visible_until.max(taken);
    }

    /// Forgets, per shard, the write times every member peer has seen.
    pub(in crate::model) fn forget_seen_write_times(&mut self) {
        for c in 0..self.instances.len() {
            for sh in 0..self.instances[c].shards.len() {
                let seen = self.sessions_of_source[c][sh]
                    .iter()
                    .map(|&sid| &self.sessions[sid as usize])
                    .filter(|s| self.members.get(s.dst) != crate::model::Membership::Removed)
                    .map(|s| s.visible_until.0)
                    .min();
                if let Some(t) = seen {
                    self.instances[c].shards[sh].write_times.forget_until(t);
                }
            }
        }
    }

    /// Applies a replicated op at `dst` (shard `shard`) the general way, through its
    /// keyspace.
    fn apply_general(
        &mut self,
        dst: usize,
        shard: usize,
        (src, _): (usize, usize),
        sent: &StreamOp,
        now: crate::engine::SimTime,
        q: &mut Scheduler<Event>,
    ) -> Applied {
        let op = sent.op(&self.keys);
        let op = &*op;
        let sh = &mut self.instances[dst].shards[shard];
        let (observer, tracer, keys) = (&mut self.observer, &mut self.tracer, &mut self.keys);
        let applied = sh.keyspace.apply_seen(
            op,
            |before| {
                observer.before_apply(dst, before, op);
                crate::model::trace::contention(tracer, before, op);
            },
            |after| keys.set_clock(sent.key, dst, after.map(|e| &e.ctx)),
        );
        sh.record_op(op);
        self.instances[dst].touch(shard, std::iter::once(&op.key[..]), now);
        self.notify_touched(sent.key);
        crate::model::trace::delivery(&mut self.tracer, (src, dst), op, sent, applied, now);
        if op.kind.removes() && self.gc.removal(&op.key) {
            q.schedule_in(GC_INTERVAL, Event::Gc);
        }
        applied
    }

    /// Tracks, for catch-up `ci`, that session `sid` must apply everything written so far.
    pub(in crate::model) fn track_catchup(&mut self, sid: usize, ci: usize) {
        let s = &self.sessions[sid];
        let target = self.instances[s.src].shards[s.src_shard].backlog.end();
        self.catchups.track(ci, sid, s.consumed, target);
    }

    /// A link is no longer held: what its sessions queued goes on the wire, in order.
    pub(in crate::model) fn release_link(
        &mut self,
        l: usize,
        catchup: Option<usize>,
        q: &mut Scheduler<Event>,
    ) {
        if !self.links[l].is_up() {
            return;
        }
        for i in 0..self.sessions_of_link[l].len() {
            let sid = self.sessions_of_link[l][i] as usize;
            if let Some(ci) = catchup {
                self.track_catchup(sid, ci);
            }
            let pending: Vec<_> = self.sessions[sid].outbox.drain(..).collect();
            for op in pending {
                self.ship(sid, op, q);
            }
        }
    }

    /// Schedules session `sid`'s next connection attempt after the reconnect delay.
    pub(in crate::model) fn schedule_reconnect(&mut self, sid: usize, q: &mut Scheduler<Event>) {
        let s = &mut self.sessions[sid];
        let delay = s.reconnect_delay(self.cfg.replication.reconnect_delay);
        let (session, generation) = (sid as u32, s.generation);
        q.schedule_in(
            delay,
            Event::Reconnect {
                session,
                generation,
            },
        );
    }

    pub(in crate::model) fn on_reconnect(
        &mut self,
        sid: usize,
        generation: u32,
        q: &mut Scheduler<Event>,
    ) {
        let s = &self.sessions[sid];
        if !s.accepts_reconnect(generation, self.links[s.link].is_up()) {
            return;
        }
        if self.members.admit(s.src, s.dst) != Admission::Allow {
            return;
        }
        let source = &self.instances[s.src].shards[s.src_shard];
        let view = SourceView {
            backlog: &source.backlog,
            epoch: source.epoch(),
            down: source.is_down(),
            stale: source.is_stale(),
        };
        let dst_stale = self.instances[s.dst].shards.iter().any(Shard::is_stale);
        let decision = s.decide(&view, dst_stale);
        let reason = match &decision {
            Reconnect::Wait => return,
            Reconnect::Partial { .. } => ResyncReason::Partial,
            Reconnect::Full(reason) => reason.clone(),
        };
        if let Some(t) = self.tracer.as_mut().filter(|t| t.records()) {
            let (src, dst) = (s.src, s.dst);
            t.push(q.now(), TraceKind::Reconnect { src, dst, reason });
        }
        match decision {
            Reconnect::Partial { until } => {
                let s = &mut self.sessions[sid];
                s.begin_partial(until);
                self.peers[pair_index(self.instances.len(), s.src, s.dst)].partial_syncs += 1;
                self.resume_streaming(sid, q);
            }
            Reconnect::Full(reason) => {
                if matches!(reason, ResyncReason::BacklogOverflow { .. }) {
                    let s = &self.sessions[sid];
                    let pair = pair_index(self.instances.len(), s.src, s.dst);
                    self.peers[pair].full_syncs_after_overflow += 1;
                }
                self.start_full_sync(sid, q)
            }
            Reconnect::Wait => unreachable!("returned above"),
        }
    }

    /// Streams everything after the session's consumed offset, then keeps streaming.
    pub(in crate::model) fn resume_streaming(&mut self, sid: usize, q: &mut Scheduler<Event>) {
        let from = self.sessions[sid].resume(q.now());
        let s = &self.sessions[sid];
        let pending: Vec<_> = self.instances[s.src].shards[s.src_shard]
            .backlog
            .items_from(from)
            .filter_map(|it| {
                it.payload
                    .as_ref()
                    .map(|p| (it.end - it.start, it.end, p.clone()))
            })
            .collect();
        for op in pending {
            self.ship(sid, op, q);
        }
    }

    /// The source shard takes a snapshot and sends it over the link.
    pub(in crate::model) fn start_full_sync(&mut self, sid: usize, q: &mut Scheduler<Event>) {
        let now = q.now();
        let s = &mut self.sessions[sid];
        let (mut snapshot, epoch, offset) = self.instances[s.src].shards[s.src_shard].snapshot();
        // The keys the source holds compact are in the snapshot too.
        let (src, src_shard) = (s.src, s.src_shard);
        for (id, entry) in self.compact_entries(src, Some(src_shard)) {
            snapshot.insert_entry(self.keys.name(id), entry);
        }
        let shadow_bytes = self.snapshot_shadow(sid, &snapshot);
        let s = &mut self.sessions[sid];
        let bytes = snapshot.snapshot_bytes() + shadow_bytes;
        let wire =
            (bytes as f64 * compression_ratio(self.cfg.replication.compression)).ceil() as u64;
        let arrives = self.links[s.link].transmit(now, wire);
        let writes = self.instances[src].shards[src_shard].stream_writes;
        let s = &mut self.sessions[sid];
        s.begin_full_sync(now, snapshot, (epoch, offset, writes));
        s.full_sync_bytes = bytes;
        let p = &mut self.peers[pair_index(self.instances.len(), s.src, s.dst)];
        p.full_syncs += 1;
        p.snapshot_bytes += bytes;
        p.wire_bytes += wire;
        let (session, generation) = (sid as u32, s.generation);
        q.schedule(
            arrives,
            Event::SnapshotArrived {
                session,
                generation,
            },
        );
    }

    /// A snapshot arrived: the destination merges it; streaming resumes from its offset, or
    /// the full sync failed (the backlog moved on meanwhile) and starts over.
    pub(in crate::model) fn on_snapshot_arrived(
        &mut self,
        sid: usize,
        generation: u32,
        q: &mut Scheduler<Event>,
    ) {
        let now = q.now();
        let Some((snapshot, offset)) = self.sessions[sid].take_snapshot(generation) else {
            return;
        };
        let (src, src_shard, dst) = {
            let s = &self.sessions[sid];
            (s.src, s.src_shard, s.dst)
        };

        if let Some(t) = self.tracer.as_mut().filter(|t| t.records()) {
            let entries = snapshot.iter().filter(|(k, _)| t.wants(k)).count();
            let started = self.sessions[sid].full_sync_started;
            let kind = TraceKind::FullSync {
                src,
                dst,
                started,
                entries,
            };
            t.push(now, kind);
        }
        let load = self.instances[dst].used() + self.sessions[sid].full_sync_bytes;
        let p = &mut self.peers[pair_index(self.instances.len(), src, dst)];
        p.snapshot_load_memory_max = p.snapshot_load_memory_max.max(load);
        // Keys held compact here merge in place when the result is compact too; the rest
        // merge into the keyspace (turned general first).
        let merged = self.merge_compact(dst, &snapshot);
        self.instances[dst].merge_snapshot(&snapshot, now, |k| {
            self.keys.id_of(k).is_none_or(|id| !merged[id.index()])
        });
        for (k, _) in snapshot.iter() {
            let key = self.keys.intern(k);
            if !merged[key.index()] {
                let entry = self.instances[dst].general_entry(k);
                self.keys.set_clock(key, dst, entry.map(|e| &e.ctx));
            }
            self.notify_touched(key);
        }
        self.merge_shadow(sid);
        let taken = self.sessions[sid].full_sync_started;
        self.visible_by_snapshot(sid, taken, now);
        self.forget_seen_write_times();
        self.sessions[sid].force_full = false;
        self.check_joined(dst, now);
        self.release_stale(dst, q);
        self.last_apply = now;
        let holds = self.instances[src].shards[src_shard]
            .backlog
            .can_continue_from(offset);
        assert!(
            offset <= self.instances[src].shards[src_shard].backlog.end(),
            "a snapshot covers no more than its source's stream"
        );
        use crate::crdt::planted::{PlantedBug, planted};
        let offset = if planted(PlantedBug::SnapshotWithoutTail) {
            self.instances[src].shards[src_shard].backlog.end()
        } else {
            offset
        };
        let s = &mut self.sessions[sid];
        let end = s.finish_full_sync(offset, holds);
        let consecutive = s.consecutive_failures;
        self.catchups.progress(sid, offset, now);
        match end {
            FullSyncEnd::Resumed => self.resume_streaming(sid, q),
            FullSyncEnd::Failed => {
                let p = &mut self.peers[pair_index(self.instances.len(), src, dst)];
                p.full_sync_failures += 1;
                p.max_consecutive_full_sync_failures =
                    p.max_consecutive_full_sync_failures.max(consecutive);
                self.sessions[sid].disconnect();
                self.schedule_reconnect(sid, q);
            }
        }
    }
}
