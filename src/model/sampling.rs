//! Metric samples: the world's state at a sample time, the peaks over all samples, and the
//! sink that streams them (timeline.csv, charts).

use super::metrics::{Sample, SampleSink, SessionSample, SessionState, StateChange};
use super::trace::{FinalState, TraceKind, Tracer};
use super::world::{Event, World};
use crate::engine::{Scheduler, SimTime};

/// What session `s` is doing now.
pub(super) fn session_state(s: &super::syncer::Session) -> SessionState {
    if s.is_disconnected() {
        SessionState::Disconnected
    } else if s.in_full_sync() {
        SessionState::Full
    } else if s.catchup_until.is_some_and(|u| s.consumed < u) {
        SessionState::Partial
    } else {
        SessionState::Streaming
    }
}

impl World {
    /// Records session `sid`'s state at `now` if it changed since it was last recorded.
    pub(super) fn note_state(&mut self, sid: usize, now: SimTime) {
        let state = session_state(&self.sessions[sid]);
        if self.last_states.get(sid) != Some(&state) {
            if sid >= self.last_states.len() {
                self.last_states.resize(sid + 1, SessionState::Streaming);
            }
            self.last_states[sid] = state;
            self.state_log.push(StateChange {
                time: now,
                session: sid as u32,
                state,
            });
        }
    }

    /// [`World::note_state`] for every session.
    pub(crate) fn note_states(&mut self, now: SimTime) {
        for sid in 0..self.sessions.len() {
            self.note_state(sid, now);
        }
    }

    /// Fills each peer pair's `behind` and `in_full_sync` (see `PeerStats`) from the state
    /// changes, counting the last state of each session until `end`.
    pub(super) fn time_behind(&self, end: SimTime, peers: &mut [super::stats::PeerStats]) {
        let n = self.instances.len();
        let mut behind = vec![crate::engine::SimDuration::ZERO; self.sessions.len()];
        let mut full = behind.clone();
        let mut open: Vec<Option<(SimTime, SessionState)>> = vec![None; self.sessions.len()];
        // A session counts while both its ends are members: from the later join, until the
        // earlier leave (or the end of the run).
        let window: Vec<(SimTime, SimTime)> = self
            .sessions
            .iter()
            .map(|s| {
                let joined = |c: usize| self.cfg.clusters[c].join_at.unwrap_or(SimTime::ZERO);
                let left = |c: usize| self.cfg.clusters[c].leave_at.map_or(end, |(t, _)| t);
                (
                    joined(s.src).max(joined(s.dst)),
                    left(s.src).min(left(s.dst)).min(end),
                )
            })
            .collect();
        let close = |sid: usize,
                     upto: SimTime,
                     from: (SimTime, SessionState),
                     behind: &mut Vec<crate::engine::SimDuration>,
                     full: &mut Vec<crate::engine::SimDuration>| {
            let (lo, hi) = window[sid];
            let d = upto.min(hi).since(from.0.max(lo).min(upto.min(hi)));
            if from.1 != SessionState::Streaming {
                behind[sid] = behind[sid] + d;
            }
            if from.1 == SessionState::Full {
                full[sid] = full[sid] + d;
            }
        };
        for c in &self.state_log {
            let sid = c.session as usize;
            if let Some(prev) = open[sid] {
                close(sid, c.time, prev, &mut behind, &mut full);
            }
            open[sid] = Some((c.time, c.state));
        }
        for (sid, prev) in open.iter().enumerate() {
            if let Some(prev) = *prev {
                close(sid, end.max(prev.0), prev, &mut behind, &mut full);
            }
        }
        for (sid, s) in self.sessions.iter().enumerate() {
            let p = &mut peers[super::world::pair_index(n, s.src, s.dst)];
            p.behind = p.behind.max(behind[sid]);
            p.in_full_sync = p.in_full_sync.max(full[sid]);
        }
    }

    /// Every session state change so far, in time order.
    pub fn state_changes(&self) -> &[StateChange] {
        &self.state_log
    }

    /// Takes a sample now, outside the sampling schedule (after a scripted step): it counts
    /// towards the peaks and goes to the sink like any other.
    pub(crate) fn sample_now(&mut self, now: SimTime) {
        let mut sample = self.sample(now);
        let mut observer = self.take_observer();
        observer.sample(self, &mut sample);
        self.observer = observer;
        self.peaks.record(&sample, &self.layout);
        if let Some(sink) = self.sink.as_mut() {
            sink(&self.layout, &sample);
        }
    }

    /// Takes a sample, lets the observer add its figures, updates the peaks, hands it to the
    /// sink, and schedules the next one while anything else is pending (so sampling never
    /// keeps a finished run alive).
    pub(super) fn on_sample(&mut self, q: &mut Scheduler<Event>) {
        self.sample_now(q.now());
        self.forget_seen_write_times();
        self.sample_pending = !q.is_empty();
        if self.sample_pending {
            q.schedule_in(self.cfg.sample_interval, Event::Sample);
        }
    }

    /// Starts sampling again at `now` if it stopped (a scripted run's queue empties between
    /// steps), when the run samples at all.
    pub(crate) fn resume_sampling(&mut self, q: &mut Scheduler<Event>) {
        if !self.sample_pending && !self.cfg.sample_interval.is_zero() {
            self.sample_pending = true;
            q.schedule(q.now(), Event::Sample);
        }
    }

    /// The world's state now (what observers add, such as divergent keys, is left at zero).
    pub(crate) fn sample(&self, now: SimTime) -> Sample {
        let sessions = self
            .sessions
            .iter()
            .map(|s| {
                let backlog = &self.instances[s.src].shards[s.src_shard].backlog;
                // The next op to apply; if the backlog no longer holds it, it was written just
                // after the last applied one, whose write time stands in for it.
                let oldest = if s.consumed >= backlog.end() {
                    None
                } else {
                    match backlog.items_from(s.consumed).next() {
                        Some(it) if it.start == s.consumed => {
                            it.payload.as_ref().map(|p| p.written_at)
                        }
                        _ => Some(s.last_applied_written_at),
                    }
                };
                let state = session_state(s);
                SessionSample {
                    state,
                    lag_ns: oldest.map(|w| now.since(w).0).unwrap_or(0),
                }
            })
            .collect();
        let tombstones = self
            .instances
            .iter()
            .enumerate()
            .map(|(c, _)| {
                self.gc
                    .removal_keys()
                    .filter_map(|k| self.entry(c, k).map(|e| e.tombstones().0))
                    .sum()
            })
            .collect();
        let peers = || self.peers.iter();
        let counters = || self.instances.iter().map(|c| &c.counters);
        Sample {
            time_ns: now.0,
            sessions,
            backlog_bytes: self
                .instances
                .iter()
                .flat_map(|c| c.shards.iter().map(|s| s.backlog.histlen()))
                .collect(),
            link_queue_bytes: self.links.iter().map(|l| l.queued_bytes(now)).collect(),
            clock_offset_ns: self
                .instances
                .iter()
                .map(|c| c.clock.error_ns(now))
                .collect(),
            tombstones,
            divergent_keys: 0,
            memory_bytes: self.instances.iter().map(|c| c.used()).collect(),
            writes: counters().map(|c| c.writes).sum(),
            rejected_writes: counters().map(|c| c.rejected).sum(),
            oom_rejections: counters().map(|c| c.oom_rejections).sum(),
            writes_lost: counters().map(|c| c.writes_lost).sum(),
            partial_syncs: peers().map(|p| p.partial_syncs).sum(),
            full_syncs: peers().map(|p| p.full_syncs).sum(),
            stream_bytes: peers().map(|p| p.stream_bytes).sum(),
            snapshot_bytes: peers().map(|p| p.snapshot_bytes).sum(),
            wire_bytes: peers().map(|p| p.wire_bytes).sum(),
        }
    }

    /// Streams every sample to `sink` as it is taken.
    pub(crate) fn set_sink(&mut self, sink: SampleSink) {
        self.sink = Some(sink);
    }

    /// Installs a tracer (see [`crate::model::trace`]); the run itself is unchanged.
    pub(crate) fn set_tracer(&mut self, tracer: Tracer) {
        self.tracer = Some(Box::new(tracer));
    }

    /// Removes the tracer, with the final state of every traced key at every instance.
    pub(crate) fn take_tracer(&mut self, now: SimTime) -> Option<Tracer> {
        let mut t = *self.tracer.take()?;
        t.names = self
            .instances
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        for key in t.keys() {
            let per_instance = (0..self.instances.len())
                .map(|c| {
                    let entry = self.entry(c, &key).map(|e| e.into_owned());
                    (entry, self.instances[c].clock.read_ms(now))
                })
                .collect();
            t.finals.push(FinalState { key, per_instance });
        }
        Some(t)
    }

    /// Records a fault's begin or end (no-op without a tracer).
    pub(super) fn trace_fault(&mut self, f: usize, begin: bool, now: SimTime) {
        let Some(t) = self.tracer.as_mut().filter(|t| t.records()) else {
            return;
        };
        let spec = self.faults.spec(f);
        let kind = match &spec.kind {
            super::fault::FaultKind::Partition(m) => format!("{} partition", m.name()),
            super::fault::FaultKind::Degrade { .. } => "degraded link".to_string(),
            super::fault::FaultKind::Crash { cluster, shard } => {
                format!("crash of {} shard {shard}", self.instances[*cluster].name())
            }
        };
        let ev = TraceKind::Fault {
            name: spec.name.clone(),
            kind,
            begin,
            pairs: spec.pairs.clone(),
        };
        t.push(now, ev);
    }

    /// Records a scripted sync step (no-op without a tracer).
    pub(super) fn trace_sync_step(&mut self, clusters: &[usize], now: SimTime) {
        if let Some(t) = self.tracer.as_mut().filter(|t| t.records()) {
            let clusters = clusters.to_vec();
            t.push(now, TraceKind::SyncStep { clusters });
        }
    }
}
