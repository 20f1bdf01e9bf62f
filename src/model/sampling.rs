//! Metric samples: the world's state at a sample time, the peaks over all samples, and the
//! sink that streams them (timeline.csv, charts).

use super::metrics::{Sample, SampleSink, SessionSample, SessionState};
use super::trace::{FinalState, TraceKind, Tracer};
use super::world::{Event, World};
use crate::engine::{Scheduler, SimTime};

impl World {
    /// Takes a sample, lets the observer add its figures, updates the peaks, hands it to the
    /// sink, and schedules the next one while anything else is pending (so sampling never
    /// keeps a finished run alive).
    pub(super) fn on_sample(&mut self, q: &mut Scheduler<Event>) {
        let mut sample = self.sample(q.now());
        let mut observer = self.take_observer();
        observer.sample(self, &mut sample);
        self.observer = observer;
        self.peaks.record(&sample, &self.layout);
        if let Some(sink) = self.sink.as_mut() {
            sink(&self.layout, &sample);
        }
        if !q.is_empty() {
            q.schedule_in(self.cfg.sample_interval, Event::Sample);
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
                let state = if s.is_disconnected() {
                    SessionState::Disconnected
                } else if s.in_full_sync() {
                    SessionState::Full
                } else if s.catchup_until.is_some_and(|u| s.consumed < u) {
                    SessionState::Partial
                } else {
                    SessionState::Streaming
                };
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
