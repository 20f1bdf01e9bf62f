//! The driver of one run: a world with its event queue and trace digest, the script's steps,
//! the fault phase, the end-of-run heal and the healed phase until quiescence or the
//! convergence deadline. Library users call [`crate::sim::Simulation`], which adds the
//! checkers; this is the part that knows only the model.

use super::config::WorldConfig;
use super::script::{StepAction, StepRecord};
use super::stats::Outcome;
use super::trace::Tracer;
use super::world::{Event, World};
use crate::engine::{Digest, EventQueue, RunLimits, SimDuration, SimTime, StopReason, run_until};
use crate::redis;

/// Set by a command that runs one simulation and then exits (`geosim run`): the finished
/// world is not freed piece by piece (see [`leak_worlds_at_exit`]).
static LEAK_AT_EXIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells this process's simulations not to free their world when they finish, because the
/// process exits right after (freeing a large keyspace takes seconds). Never set this in a
/// process that runs many simulations (a sweep): each would keep its memory. It changes no
/// output.
pub(crate) fn leak_worlds_at_exit() {
    LEAK_AT_EXIT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether [`leak_worlds_at_exit`] was called.
pub(crate) fn leaking_at_exit() -> bool {
    LEAK_AT_EXIT.load(std::sync::atomic::Ordering::Relaxed)
}

/// What a progress reporter is told between slices of a run: simulated time now, the time
/// the run heads for (the end of writes, then the convergence deadline), events so far.
pub type ProgressFn = fn(SimTime, SimTime, u64);

/// Set by a command that shows one run's progress (`geosim run` on a terminal).
static PROGRESS: std::sync::OnceLock<ProgressFn> = std::sync::OnceLock::new();

/// Tells this process's runs to call `report` between slices of simulated time (a
/// hundredth of each phase). Slicing changes nothing in a run: its events, digests and
/// outputs are the same (tested); the reporter must not touch the run either.
pub fn report_progress(report: ProgressFn) {
    let _ = PROGRESS.set(report);
}

/// A world with its event queue and trace digest: what one run is.
pub struct Driver {
    pub world: World,
    queue: EventQueue<Event>,
    digest: Digest,
    events: u64,
    event_limit_hit: bool,
    healed: bool,
    records: Vec<StepRecord>,
}

impl Driver {
    pub fn new(cfg: WorldConfig) -> Self {
        let mut world = World::new(cfg);
        let mut queue = EventQueue::new();
        world.start(&mut queue);
        if !world.cfg.script.is_empty() {
            let all: Vec<usize> = (0..world.instances.len()).collect();
            world.set_held(&all, true, &mut queue);
        }
        Driver {
            world,
            queue,
            digest: Digest::new(),
            events: 0,
            event_limit_hit: false,
            healed: false,
            records: Vec::new(),
        }
    }

    /// Processes one event; `false` if none is pending or the event bound is reached.
    fn step_one(&mut self) -> bool {
        if self.queue.is_empty() || self.events >= self.world.cfg.max_events {
            if self.events >= self.world.cfg.max_events {
                self.event_limit_hit = true;
            }
            return false;
        }
        let stats = run_until(
            &mut self.world,
            &mut self.queue,
            RunLimits {
                end: SimTime::MAX,
                max_events: 1,
            },
            &mut self.digest,
        );
        self.events += stats.events;
        stats.events == 1
    }

    /// Runs the script's steps in order (see [`crate::model::script`]).
    fn run_script(&mut self) {
        let steps = self.world.cfg.script.clone();
        let advance = self.world.cfg.step_advance;
        let n = self.world.instances.len();
        for (index, step) in steps.into_iter().enumerate() {
            let t = match (step.at, step.after) {
                (Some(at), _) => at.max(self.now()),
                (None, Some(d)) => self.now() + d,
                (None, None) => self.now() + advance,
            };
            self.run_until(t);
            for c in 0..n {
                self.world.expire_pass(c, &mut self.queue);
            }
            let time = self.now();
            let mut record = StepRecord {
                index,
                time,
                cluster: None,
                line: String::new(),
                reply: None,
            };
            match step.action {
                StepAction::Command { cluster, line, cmd } => {
                    let reply = self.world.execute(cluster, &cmd, &mut self.queue);
                    record.cluster = Some(cluster);
                    record.line = line;
                    record.reply = Some(reply);
                }
                StepAction::Refused {
                    cluster,
                    line,
                    error,
                } => {
                    record.cluster = Some(cluster);
                    record.line = line;
                    record.reply = Some(crate::redis::Reply::Error(error));
                }
                StepAction::Sync { clusters } => {
                    self.world.trace_sync_step(&clusters, time);
                    self.world.set_held(&clusters, false, &mut self.queue);
                    // Bounded: a sync that cannot complete gives up when replication into a
                    // member is stopped by OOM with nothing freed for a while (naming it),
                    // and in any case after the run's convergence deadline, instead of
                    // running to the event limit.
                    let patience = self.world.cfg.converge_deadline;
                    let give_up = time + patience;
                    let mut stuck = None;
                    while !self.world.group_idle(&clusters)
                        && self.now() <= give_up
                        && self.step_one()
                    {
                        stuck = self.world.group_stuck(&clusters, self.now());
                        if stuck.is_some() {
                            break;
                        }
                    }
                    let synced = self.world.group_idle(&clusters);
                    self.world.set_held(&clusters, true, &mut self.queue);
                    let names: Vec<&str> = clusters
                        .iter()
                        .map(|c| self.world.cfg.clusters[*c].name.as_str())
                        .collect();
                    record.line = format!("sync {}", names.join(" "));
                    match stuck {
                        Some(why) if !synced => {
                            record.line.push_str(&format!(" (gave up: {why})"));
                        }
                        _ if !synced => record.line.push_str(&format!(
                            " (gave up after {patience}, run.converge_deadline: still not in sync)"
                        )),
                        _ => {}
                    }
                }
                StepAction::Partition { pairs } => {
                    record.line = format!("partition ({} link pair(s))", pairs.len());
                    let name = format!("step[{index}]");
                    self.world.partition_now(pairs, name, &mut self.queue);
                }
                StepAction::Heal => {
                    record.line = "heal".into();
                    self.world.heal_now(&mut self.queue);
                }
                StepAction::Wait => record.line = "wait".into(),
            }
            self.records.push(record);
            // A step may change sessions (a partition, a sync) outside any event; and a
            // scripted run's queue empties between steps, which stops sampling: each step
            // is followed by a sample (so peaks and charts see what the steps did).
            let now = self.now();
            self.world.note_states(now);
            self.world.resume_sampling(&mut self.queue);
        }
    }

    pub(crate) fn now(&self) -> SimTime {
        self.queue.now()
    }

    /// [`Driver::run_until`] in slices, telling the progress reporter (if any) after each.
    fn run_phase(&mut self, t: SimTime) {
        let Some(report) = PROGRESS.get().copied() else {
            return self.run_until(t);
        };
        let start = self.now();
        let step = SimDuration((t.since(start).0 / 100).max(1));
        let mut at = start;
        while at < t && !self.event_limit_hit {
            at = (at + step).min(t);
            self.run_until(at);
            report(self.now().max(at), t, self.events);
            if self.queue.is_empty() {
                break;
            }
        }
        self.run_until(t);
        // The phase is over (quiescent early, or at `t`): the reporter may clear its line.
        report(t, t, self.events);
    }

    /// Runs the events up to and including time `t` (bounded by the run's event limit).
    pub fn run_until(&mut self, t: SimTime) {
        let left = self.world.cfg.max_events.saturating_sub(self.events);
        let stats = run_until(
            &mut self.world,
            &mut self.queue,
            RunLimits {
                end: t,
                max_events: left,
            },
            &mut self.digest,
        );
        self.events += stats.events;
        if stats.stop == StopReason::EventLimit {
            self.event_limit_hit = true;
        }
    }

    /// Executes a command at cluster `c` at the current time.
    pub fn execute(&mut self, c: usize, cmd: &redis::Command) -> redis::Reply {
        self.world.execute(c, cmd, &mut self.queue)
    }

    /// Runs the whole scenario with an optional tracer installed: the script, writes until
    /// the end of the duration, then heal everything and run until quiescent or the
    /// convergence deadline. Returns the outcome and the tracer with the traced keys' final
    /// states; the world stays for the caller (its observer, a final look).
    pub fn run(&mut self, tracer: Option<Tracer>) -> (Outcome, Option<Tracer>) {
        if let Some(t) = tracer {
            self.world.set_tracer(t);
        }
        if !self.world.cfg.script.is_empty() {
            self.run_script();
            let all: Vec<usize> = (0..self.world.instances.len()).collect();
            self.world.set_held(&all, false, &mut self.queue);
            let now = self.now();
            self.world.note_states(now);
            self.world.resume_sampling(&mut self.queue);
        }
        let end = self.world.end_of_writes().max(self.now());
        self.run_phase(end);
        if !self.event_limit_hit && !self.healed {
            self.healed = true;
            self.world.heal_everything(&mut self.queue);
            let now = self.now();
            self.world.note_states(now);
            self.world.resume_sampling(&mut self.queue);
        }
        let deadline = end + self.world.cfg.converge_deadline;
        self.run_phase(deadline);
        let now = self.now();
        let tracer = self.world.take_tracer(now);
        (self.finish(end), tracer)
    }

    fn finish(&mut self, end: SimTime) -> Outcome {
        let w = &self.world;
        let n = w.instances.len();
        let quiescent = self.queue.is_empty();
        let stopped_at = if quiescent {
            w.last_apply.max(end)
        } else {
            self.queue.now()
        };
        let mut peers = w.peers.clone();
        w.time_behind(stopped_at, &mut peers);
        let peers = peers.into_iter().filter(|p| p.src != p.dst).collect();
        Outcome {
            events: self.events,
            trace_digest: self.digest.value(),
            stopped_at,
            end_of_writes: end,
            quiescent,
            event_limit_hit: self.event_limit_hit,
            settle_after_end: w.last_apply.since(end),
            instance_digests: w.instance_digests(),
            members: w.members.all().to_vec(),
            joined_at: w.members.joined_at().to_vec(),
            refused_reconnects: w.members.refused_reconnects(),
            clusters: w.instances.iter().map(|c| c.stats()).collect(),
            peers,
            heals: w.catchups.stats(),
            steps: self.records.clone(),
            tombstones: (0..n).map(|c| w.tombstones(c)).collect(),
            tombstones_collected: w.gc.collected(),
            peaks: w.peaks.clone(),
            state_changes: w.state_changes().to_vec(),
        }
    }
}
