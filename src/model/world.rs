//! The simulated world: clusters, shards, backlogs, syncer sessions, links, workload and
//! faults, wired into the engine as one [`Model`].

use std::collections::VecDeque;
use std::rc::Rc;

use super::backlog::{Backlog, BacklogModel};
use super::clock::{ClockParams, NodeClock};
use super::fault::{Fault, FaultKind, PartitionMode};
use super::memory::{EvictionPolicy, OOM_ERROR, should_evict};
use super::metrics::{
    Histogram, Peaks, Sample, SampleLayout, SampleSink, SessionSample, SessionState,
};
use super::net::{Link, LinkParams};
use super::persistence::{Durable, Persistence};
use super::script::{Step, StepAction, StepRecord};
use super::syncer::{InFlight, Resync, Session, StreamOp, SyncState, decide_resync};
use super::topology::{ClusterTopo, ProxyPolicy, SyncerMode, Topology};
use super::trace::{FinalState, ResyncReason, TraceEvent, TraceKind, Tracer};
use super::workload::{Workload, WorkloadParams};
use crate::crdt::keyspace::Key;
use crate::crdt::stream::XaddIdMode;
use crate::crdt::{Applied, InstanceId, Keyspace};
use crate::engine::dist;
use crate::engine::fxhash::FxBuild;
use crate::engine::{
    Digest, EventQueue, Model, RunLimits, Scheduler, SimDuration, SimTime, StopReason, run_until,
    stream_for,
};
use crate::redis::{self, select_bytes};
// HashSet only for `Divergence`'s key sets: looked up and drained, and only their sizes reach
// output, so their hash order cannot.
use std::collections::HashSet;

#[derive(Clone, Debug, PartialEq)]
pub struct ClusterConfig {
    pub name: String,
    pub nodes: usize,
    pub shards: usize,
    /// Whether shards have a replica inside the cluster.
    pub replication: bool,
    pub proxy_policy: ProxyPolicy,
    pub syncer_mode: SyncerMode,
    /// CRDT replication backlog per shard, in bytes.
    pub backlog_bytes: u64,
    /// The instance's memory limit (split evenly over its shards).
    pub memory_limit: u64,
    pub eviction: EvictionPolicy,
    pub persistence: Persistence,
    /// How long a crashed primary's shard is unavailable before its replica takes over.
    pub failover_delay: SimDuration,
    /// The instance is added to the database at this time (absent before).
    pub join_at: Option<SimTime>,
    /// The instance is removed at this time; `true` for a forced removal (while offline).
    pub leave_at: Option<(SimTime, bool)>,
    pub clock: ClockParams,
}

/// Where an instance stands in the database's membership [MANAGE; CLI-ADD; CLI-REMOVE].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// Not added yet.
    Absent,
    /// Added: serves reads, refuses writes until its first full sync from every peer.
    Joining,
    Active,
    /// Removed; peers no longer sync with it and refuse its reconnects.
    Removed,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReplicationConfig {
    /// Ops per second one syncer process applies (0: unlimited).
    pub syncer_ops_per_sec: f64,
    /// How long a silent syncer connection lasts before both sides drop it.
    pub timeout: SimDuration,
    /// Inter-cluster compression level 0–6 (see [`compression_ratio`]).
    pub compression: u8,
    pub backlog_model: BacklogModel,
    /// A syncer whose connection dropped retries after a delay drawn uniformly from
    /// `(0, reconnect_delay]` (Redis's once-per-second replication cron).
    pub reconnect_delay: SimDuration,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorldConfig {
    pub seed: u64,
    /// Writes are generated during `[0, duration)`; then every fault heals.
    pub duration: SimDuration,
    /// How long after `duration` the instances have to converge.
    pub converge_deadline: SimDuration,
    pub clusters: Vec<ClusterConfig>,
    /// Parameters of every directed link `(from, to)` of the full mesh.
    pub links: Vec<((usize, usize), LinkParams)>,
    pub replication: ReplicationConfig,
    pub workload: Option<WorkloadParams>,
    pub faults: Vec<Fault>,
    /// Scripted steps (empty: none). With steps, links hold their traffic except at syncs.
    pub script: Vec<Step>,
    /// How far the clock moves between steps that give no time.
    pub step_advance: SimDuration,
    /// Causal consistency (off by default, as in Redis).
    pub causal_consistency: bool,
    /// How `XADD` makes stream IDs unique across instances.
    pub xadd_mode: XaddIdMode,
    /// A bound on processed events for the whole run.
    pub max_events: u64,
    /// How often metrics are sampled (0: never).
    pub sample_interval: SimDuration,
}

/// Events of the world. Small and `Copy`: the engine stores them in a slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A client write arrives at a cluster.
    Arrival {
        cluster: u32,
    },
    /// Ops of a session reach the destination.
    Deliver {
        session: u32,
        generation: u32,
    },
    /// A disconnected syncer tries again.
    Reconnect {
        session: u32,
        generation: u32,
    },
    /// A full-sync snapshot has been received.
    SnapshotArrived {
        session: u32,
        generation: u32,
    },
    FaultBegin {
        fault: u32,
    },
    FaultEnd {
        fault: u32,
    },
    /// A stall partition reached the replication timeout: its connections drop.
    StallTimeout {
        fault: u32,
    },
    /// Garbage collection of removal history (scheduled only while some is pending).
    Gc,
    /// Take a metrics sample (scheduled while anything else is pending).
    Sample,
    /// A cluster is added to the database.
    Join {
        cluster: u32,
    },
    /// A cluster is removed from the database.
    Leave {
        cluster: u32,
    },
    /// A crashed primary's replica takes over (fault index).
    Failover {
        fault: u32,
    },
    /// A persistence point (fsync or snapshot) of a cluster's crash-tracked shards.
    Persist {
        cluster: u32,
    },
}

/// How often tombstone garbage collection runs while removal history is pending (Redis's GC
/// period is not documented; chosen here).
pub const GC_INTERVAL: SimDuration = SimDuration::from_secs(1);

/// The share of bytes left after inter-cluster compression at `level` (0–6, Redis's default
/// 3). Redis documents the levels but no ratios; these are assumptions for a typical mix of
/// short keys and text-like values (documented in `docs/semantics.md`).
pub fn compression_ratio(level: u8) -> f64 {
    match level {
        0 => 1.0,
        1 => 0.60,
        2 => 0.55,
        3 => 0.50,
        4 => 0.48,
        5 => 0.46,
        _ => 0.45,
    }
}

/// The longest a syncer waits between attempts after repeated failed full syncs (chosen here).
pub const MAX_BACKOFF: SimDuration = SimDuration::from_secs(30);

#[derive(Debug)]
struct Shard {
    keyspace: Keyspace,
    backlog: Backlog<Option<Rc<StreamOp>>>,
    /// The next write in the stream is preceded by `SELECT` (at creation and after each full
    /// sync this shard serves, as Redis resets its stream's selected db then).
    needs_select: bool,
    /// Crashed and not yet failed over or restarted.
    down: bool,
    /// Restarted from persistence and not yet resynced from every peer ("stale mode"):
    /// writes are refused meanwhile (see `docs/semantics.md`).
    stale: bool,
    /// The shard's replication history generation: a restart without a replica starts a new
    /// one (a new replication ID), so peers cannot continue from their offsets.
    epoch: u32,
    /// The durable copy kept for a crash (only for shards a scenario crashes).
    durable: Option<Durable>,
}

#[derive(Debug)]
struct Cluster {
    topo: ClusterTopo,
    shards: Vec<Shard>,
    clock: NodeClock,
    writes: u64,
    rejected: u64,
    /// Writes refused because a shard was full.
    oom_rejections: u64,
    /// Writes refused because their shard was down.
    unavailable_rejections: u64,
    /// Acknowledged writes a crash lost: neither persisted nor replicated.
    writes_lost: u64,
    /// Acknowledged writes a crash lost locally that a peer had received (they come back).
    writes_recovered_from_peers: u64,
    replication: bool,
    evictions: u64,
    /// Memory limit per shard.
    shard_limit: u64,
    eviction: EvictionPolicy,
    evict_rng: crate::engine::RngStream,
}

/// Per directed peer pair `src → dst`.
#[derive(Clone, Debug, Default)]
pub struct PeerStats {
    pub src: usize,
    pub dst: usize,
    pub ops_applied: u64,
    pub duplicates: u64,
    /// Apply time at `dst` minus write time at `src`, in nanoseconds, of streamed ops.
    pub lag: Histogram,
    /// Replication-stream bytes sent (before compression), resends included.
    pub stream_bytes: u64,
    /// Snapshot bytes sent (before compression).
    pub snapshot_bytes: u64,
    /// What crossed the WAN after compression: stream and snapshots.
    pub wire_bytes: u64,
    pub partial_syncs: u64,
    pub full_syncs: u64,
    pub full_sync_failures: u64,
    pub max_consecutive_full_sync_failures: u64,
    /// Times replication into `dst` stopped because the destination shard was full.
    pub oom_stops: u64,
}

/// One side of a last-write-wins conflict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LwwWrite {
    pub instance: usize,
    pub value: String,
    /// The writer's clock reading (the LWW timestamp), in ms.
    pub clock_ms: u64,
    /// True time of the write, in ns.
    pub true_ns: u64,
}

/// A concurrent `SET` conflict whose winner was not the later write in true time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvertedWin {
    pub key: String,
    pub winner: LwwWrite,
    pub loser: LwwWrite,
}

/// Last-write-wins conflicts between concurrent string writes, each pair counted once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LwwStats {
    pub conflicts: u64,
    /// Conflicts settled for the write that was earlier in true time (its clock was ahead).
    pub clock_inverted: u64,
    /// The first few inverted wins.
    pub examples: Vec<InvertedWin>,
}

/// How many inverted wins a run keeps as examples.
pub const INVERTED_EXAMPLES: usize = 10;

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
    pub evictions: u64,
    /// Used memory at the end (keyspace estimate plus backlogs), all shards.
    pub memory_bytes: u64,
    pub memory_limit: u64,
}

#[derive(Debug)]
struct CatchUp {
    stats: HealStats,
    pending: usize,
}

#[derive(Debug)]
struct FaultState {
    spec: Fault,
    active: bool,
    /// A stall that outlasted the replication timeout and dropped its connections.
    dropped: bool,
    /// Healed by the end-of-run heal: later events of this fault are ignored.
    retired: bool,
}

/// The outcome of a whole run, for checks and reports.
#[derive(Clone, Debug)]
pub struct RunResult {
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
    /// Concurrent string-write conflicts and clock-inverted wins.
    pub lww: LwwStats,
    /// Peaks over the metric samples.
    pub peaks: Peaks,
    /// Per instance, tombstones held at the end: (count, estimated bytes).
    pub tombstones: Vec<(u64, u64)>,
    /// Keys whose member instances had not applied the same writes when the run stopped.
    pub divergent_keys_end: u64,
}

pub struct World {
    cfg: WorldConfig,
    /// An optional record of some keys' history (`geosim explain`); never read by the run.
    tracer: Option<Box<Tracer>>,
    topo: Topology,
    clusters: Vec<Cluster>,
    links: Vec<Link>,
    /// `link_of[from][to]`.
    link_of: Vec<Vec<usize>>,
    sessions: Vec<Session>,
    /// `sessions_of_source[cluster][shard]`.
    sessions_of_source: Vec<Vec<Vec<u32>>>,
    sessions_of_link: Vec<Vec<u32>>,
    /// Per syncer process, when it finishes applying what it has received so far.
    syncer_busy: Vec<SimTime>,
    workload: Option<Workload>,
    faults: Vec<FaultState>,
    peers: Vec<PeerStats>,
    catchups: Vec<CatchUp>,
    /// Per session: (catch-up index, target offset) while a heal waits for it.
    catchup_target: Vec<Option<(usize, u64)>>,
    last_apply: SimTime,
    writes_open: bool,
    gc_scheduled: bool,
    /// Tombstones collected so far (all instances).
    pub tombstones_collected: u64,
    pub lww: LwwStats,
    /// Keys that had a removal and have not been garbage-collected: where tombstones live.
    removal_keys: std::collections::BTreeSet<Key>,
    sink: Option<SampleSink>,
    layout: SampleLayout,
    divergence: Divergence,
    /// The effect list each command fills, kept between commands (empty between them).
    effects_buffer: Vec<redis::Effect>,
    /// The last generated command, whose buffers the next one reuses.
    command_buffer: Option<redis::Command>,
    /// Per cluster, its membership.
    pub members: Vec<Membership>,
    /// When each joining cluster finished its initial syncs.
    pub joined_at: Vec<Option<SimTime>>,
    /// Reconnects refused because one side had been removed.
    pub refused_reconnects: u64,
    pub peaks: Peaks,
}

/// Keys whose member instances have not all applied the same writes, kept exactly at each
/// sample without scanning the keyspace: a key's state changes only when a write is applied
/// to it somewhere, so only the keys touched since the last sample are compared again (plus
/// every key when membership changes). Only the count reaches output, so the sets' hash order
/// cannot.
#[derive(Default)]
struct Divergence {
    // Drained in hash order, but each key's outcome is independent of the others'.
    touched: HashSet<Key, FxBuild>,
    // Only its length is read.
    divergent: HashSet<Key, FxBuild>,
    recheck_all: bool,
}

impl Divergence {
    fn touch(&mut self, key: &[u8]) {
        if !self.touched.contains(key) {
            self.touched.insert(key.into());
        }
    }
}

fn pair_index(n: usize, src: usize, dst: usize) -> usize {
    src * n + dst
}

impl World {
    pub fn new(cfg: WorldConfig) -> Self {
        let n = cfg.clusters.len();
        let topo = Topology::full_mesh(
            cfg.clusters
                .iter()
                .map(|c| {
                    ClusterTopo::new(&c.name, c.nodes, c.shards, c.replication, c.proxy_policy)
                })
                .collect(),
        );
        let mut clusters: Vec<Cluster> = cfg
            .clusters
            .iter()
            .zip(&topo.clusters)
            .map(|(c, t)| Cluster {
                topo: t.clone(),
                shards: (0..c.shards)
                    .map(|_| Shard {
                        keyspace: Keyspace::new(n).with_causal_consistency(cfg.causal_consistency),
                        backlog: Backlog::new(cfg.replication.backlog_model, c.backlog_bytes),
                        needs_select: true,
                        down: false,
                        stale: false,
                        epoch: 0,
                        durable: None,
                    })
                    .collect(),
                clock: NodeClock::new(c.clock.clone(), cfg.seed, &format!("clock/{}", c.name)),
                writes: 0,
                rejected: 0,
                oom_rejections: 0,
                unavailable_rejections: 0,
                writes_lost: 0,
                writes_recovered_from_peers: 0,
                replication: c.replication,
                evictions: 0,
                shard_limit: (c.memory_limit / c.shards.max(1) as u64).max(1),
                eviction: c.eviction,
                evict_rng: stream_for(cfg.seed, &format!("evict/{}", c.name)),
            })
            .collect();

        let mut links = Vec::new();
        let mut link_of = vec![vec![usize::MAX; n]; n];
        for (from, to) in topo.directed_links() {
            let params = cfg
                .links
                .iter()
                .find(|((f, t), _)| *f == from && *t == to)
                .map(|(_, p)| p.clone())
                .expect("the scenario layer supplies every directed link");
            let name = format!(
                "link/{}->{}",
                cfg.clusters[from].name, cfg.clusters[to].name
            );
            link_of[from][to] = links.len();
            links.push(Link::new(params, stream_for(cfg.seed, &name)));
        }

        let mut sessions = Vec::new();
        let mut sessions_of_source: Vec<Vec<Vec<u32>>> = cfg
            .clusters
            .iter()
            .map(|c| vec![Vec::new(); c.shards])
            .collect();
        let mut sessions_of_link = vec![Vec::new(); links.len()];
        // Syncer processes: one per (destination, source) pair in centralized mode; in
        // distributed mode one per destination node with a proxy, each taking the source
        // shards round-robin [DSYNC; BDB `syncer_mode`].
        let mut syncer_busy = Vec::new();
        for dst in 0..n {
            for src in topo.peers(dst) {
                let per_pair = match cfg.clusters[dst].syncer_mode {
                    SyncerMode::Centralized => 1,
                    SyncerMode::Distributed => topo.clusters[dst]
                        .proxies()
                        .clamp(1, cfg.clusters[src].shards),
                };
                let first_syncer = syncer_busy.len();
                syncer_busy.extend(std::iter::repeat_n(SimTime::ZERO, per_pair));
                for shard in 0..cfg.clusters[src].shards {
                    let id = sessions.len() as u32;
                    let link = link_of[src][dst];
                    let name = format!(
                        "syncer/{}<-{}/{}",
                        cfg.clusters[dst].name, cfg.clusters[src].name, shard
                    );
                    sessions.push(Session {
                        src,
                        src_shard: shard,
                        dst,
                        link,
                        syncer: first_syncer + shard % per_pair,
                        state: SyncState::Streaming,
                        consumed: 0,
                        generation: 0,
                        inflight: VecDeque::new(),
                        outbox: VecDeque::new(),
                        delivery_scheduled: false,
                        last_arrival: SimTime::ZERO,
                        rng: stream_for(cfg.seed, &name),
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
                    });
                    sessions_of_source[src][shard].push(id);
                    sessions_of_link[link].push(id);
                }
            }
        }
        let names: Vec<String> = cfg.clusters.iter().map(|c| c.name.clone()).collect();
        let workload = cfg
            .workload
            .clone()
            .map(|w| Workload::new(w, cfg.seed, &names));
        let faults = cfg
            .faults
            .iter()
            .map(|p| FaultState {
                spec: p.clone(),
                active: false,
                dropped: false,
                retired: false,
            })
            .collect();
        // Keep a durable copy for every shard a crash will take down without a replica.
        for f in &cfg.faults {
            if let FaultKind::Crash { cluster, shard } = f.kind
                && !cfg.clusters[cluster].replication
                && let Some(sh) = clusters[cluster].shards.get_mut(shard)
                && sh.durable.is_none()
            {
                sh.durable = Some(Durable::new(
                    cfg.clusters[cluster].persistence,
                    n,
                    cfg.causal_consistency,
                ));
            }
        }
        let mut peers = vec![PeerStats::default(); n * n];
        for (i, p) in peers.iter_mut().enumerate() {
            p.src = i / n;
            p.dst = i % n;
        }
        let catchup_target = vec![None; sessions.len()];
        let members = cfg
            .clusters
            .iter()
            .map(|c| {
                if c.join_at.is_some() {
                    Membership::Absent
                } else {
                    Membership::Active
                }
            })
            .collect();
        let layout = SampleLayout {
            clusters: cfg.clusters.iter().map(|c| c.name.clone()).collect(),
            sessions: sessions
                .iter()
                .map(|s| (s.src, s.src_shard, s.dst))
                .collect(),
            backlogs: clusters
                .iter()
                .enumerate()
                .flat_map(|(c, cl)| {
                    cl.shards
                        .iter()
                        .enumerate()
                        .map(move |(i, sh)| (c, i, sh.backlog.size()))
                })
                .collect(),
            links: topo.directed_links(),
        };
        World {
            cfg,
            topo,
            clusters,
            links,
            link_of,
            sessions,
            sessions_of_source,
            sessions_of_link,
            syncer_busy,
            workload,
            faults,
            peers,
            catchups: Vec::new(),
            catchup_target,
            last_apply: SimTime::ZERO,
            writes_open: true,
            gc_scheduled: false,
            tombstones_collected: 0,
            lww: LwwStats::default(),
            removal_keys: std::collections::BTreeSet::new(),
            sink: None,
            layout,
            divergence: Divergence::default(),
            effects_buffer: Vec::new(),
            command_buffer: None,
            tracer: None,
            members,
            joined_at: vec![None; n],
            refused_reconnects: 0,
            peaks: Peaks::default(),
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// Schedules the first arrivals and the faults.
    fn start(&mut self, q: &mut Scheduler<Event>) {
        if let Some(w) = self.workload.as_mut() {
            for c in 0..self.clusters.len() {
                if w.writes_at(c) {
                    let gap = w.next_gap(c);
                    q.schedule(SimTime::ZERO + gap, Event::Arrival { cluster: c as u32 });
                }
            }
        }
        if !self.cfg.sample_interval.is_zero() {
            q.schedule(SimTime::ZERO, Event::Sample);
        }
        for c in 0..self.clusters.len() {
            if let Some(at) = self.cfg.clusters[c].join_at {
                for s in &mut self.sessions {
                    if s.src == c || s.dst == c {
                        s.disconnect();
                    }
                }
                q.schedule(at, Event::Join { cluster: c as u32 });
            }
            if let Some((at, _)) = self.cfg.clusters[c].leave_at {
                q.schedule(at, Event::Leave { cluster: c as u32 });
            }
        }
        for c in 0..self.clusters.len() {
            let period = self.clusters[c]
                .shards
                .iter()
                .filter_map(|s| s.durable.as_ref().and_then(|d| d.mode().period()))
                .next();
            if let Some(p) = period {
                q.schedule(SimTime::ZERO + p, Event::Persist { cluster: c as u32 });
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            q.schedule(f.spec.begin, Event::FaultBegin { fault: i as u32 });
            q.schedule(f.spec.end, Event::FaultEnd { fault: i as u32 });
        }
    }

    fn end_of_writes(&self) -> SimTime {
        SimTime::ZERO + self.cfg.duration
    }

    fn on_arrival(&mut self, c: usize, q: &mut Scheduler<Event>) {
        if !self.writes_open {
            return;
        }
        let now = q.now();
        let w = self
            .workload
            .as_mut()
            .expect("arrivals come from a workload");
        let cmd = w.next_command_reusing(c, self.command_buffer.take());
        let gap = w.next_gap(c);
        if now + gap < self.end_of_writes() {
            q.schedule(now + gap, Event::Arrival { cluster: c as u32 });
        }
        self.execute(c, &cmd, q);
        self.command_buffer = Some(cmd);
    }

    /// Executes a client command at cluster `c` and replicates its effects.
    pub fn execute(
        &mut self,
        c: usize,
        cmd: &redis::Command,
        q: &mut Scheduler<Event>,
    ) -> redis::Reply {
        let Some(t) = self.tracer.as_mut().filter(|t| t.wants(&cmd.key())) else {
            return self.execute_untraced(c, cmd, q);
        };
        // The command goes before the ops it becomes; its reply is filled in after.
        let at = t.events.len();
        t.push(
            q.now(),
            TraceKind::Command {
                cluster: c,
                line: command_line(cmd),
                reply: String::new(),
            },
        );
        let reply = self.execute_untraced(c, cmd, q);
        if let Some(TraceEvent {
            kind: TraceKind::Command { reply: r, .. },
            ..
        }) = self.tracer.as_mut().and_then(|t| t.events.get_mut(at))
        {
            *r = reply.to_string();
        }
        reply
    }

    fn execute_untraced(
        &mut self,
        c: usize,
        cmd: &redis::Command,
        q: &mut Scheduler<Event>,
    ) -> redis::Reply {
        let now = q.now();
        let key = cmd.key();
        // Every key of a command shares this slot (`CROSSSLOT` refuses the others), so its
        // effects replicate with it: one CRC16 per command.
        let slot = crate::redis::slot::key_slot(&key);
        let shard_idx = self.clusters[c].topo.shard_of_slot(slot);
        if redis::exec::is_write(cmd.cmd) {
            let refusal = match self.members[c] {
                Membership::Absent => Some("ERR this instance is not part of the database yet"),
                Membership::Joining => Some(
                    "ERR this instance is joining the database: it accepts writes once it has synced with every peer",
                ),
                _ => None,
            };
            if let Some(msg) = refusal {
                self.clusters[c].rejected += 1;
                return redis::Reply::err(msg);
            }
        }
        if self.clusters[c].shards[shard_idx].stale && redis::exec::is_write(cmd.cmd) {
            let cluster = &mut self.clusters[c];
            cluster.rejected += 1;
            cluster.unavailable_rejections += 1;
            return redis::Reply::err(
                "ERR shard restarted from persistence and is resyncing (stale mode): it accepts writes once every peer's full sync has arrived",
            );
        }
        if self.clusters[c].shards[shard_idx].down {
            let cluster = &mut self.clusters[c];
            cluster.rejected += 1;
            cluster.unavailable_rejections += 1;
            return redis::Reply::err(
                "ERR shard unavailable: its primary crashed and has not recovered yet",
            );
        }
        if redis::exec::is_write(cmd.cmd) && !self.make_room(c, shard_idx, q) {
            let cluster = &mut self.clusters[c];
            cluster.rejected += 1;
            cluster.oom_rejections += 1;
            return redis::Reply::err(OOM_ERROR);
        }
        let cluster = &mut self.clusters[c];
        let cx = redis::ExecContext {
            origin: InstanceId(c as u8),
            now_ms: cluster.clock.read_ms(now),
            xadd_mode: self.cfg.xadd_mode,
            annotation: now.0,
        };
        let buffer = std::mem::take(&mut self.effects_buffer);
        let redis::exec::Outcome { reply, mut effects } =
            redis::exec::execute_with(&mut cluster.shards[shard_idx].keyspace, cmd, &cx, buffer);
        if reply.is_error() {
            cluster.rejected += 1;
        } else if !effects.is_empty() {
            cluster.writes += 1;
        }
        for effect in effects.drain(..) {
            self.replicate(c, shard_idx, slot, effect, q);
        }
        self.effects_buffer = effects;
        reply
    }

    /// Installs a tracer (see [`crate::model::trace`]); the run itself is unchanged.
    pub fn set_tracer(&mut self, tracer: Tracer) {
        self.tracer = Some(Box::new(tracer));
    }

    /// Removes the tracer, with the final state of every traced key at every instance.
    pub fn take_tracer(&mut self, now: SimTime) -> Option<Tracer> {
        let mut t = *self.tracer.take()?;
        t.names = self.clusters.iter().map(|c| c.topo.name.clone()).collect();
        for key in t.keys() {
            let per_instance = self
                .clusters
                .iter()
                .map(|c| {
                    let shard = c.topo.shard_of_key(&key);
                    let entry = c.shards[shard].keyspace.entry(&key).cloned();
                    (entry, c.clock.read_ms(now))
                })
                .collect();
            t.finals.push(FinalState { key, per_instance });
        }
        Some(t)
    }

    /// Counts an arriving op that `dst` had not seen everything of: it is concurrent with a
    /// write `dst` already applied (some origin's count there is past the op's clock).
    fn trace_contention(&mut self, dst: usize, shard: usize, op: &crate::crdt::Op) {
        let Some(t) = self.tracer.as_mut() else {
            return;
        };
        if !matches!(t.filter, super::trace::TraceFilter::Contention) {
            return;
        }
        let Some(e) = self.clusters[dst].shards[shard].keyspace.entry(&op.key) else {
            return;
        };
        let concurrent =
            e.ctx.entries().iter().enumerate().any(|(i, have)| {
                i != op.dot.origin.index() && *have > op.vc.get(InstanceId(i as u8))
            });
        if concurrent {
            *t.contention.entry(op.key.clone()).or_default() += 1;
        }
    }

    fn trace_fault(&mut self, f: usize, begin: bool, now: SimTime) {
        let Some(t) = self.tracer.as_mut().filter(|t| t.records()) else {
            return;
        };
        let spec = &self.faults[f].spec;
        let kind = match &spec.kind {
            FaultKind::Partition(m) => format!("{} partition", m.name()),
            FaultKind::Degrade { .. } => "degraded link".to_string(),
            FaultKind::Crash { cluster, shard } => format!(
                "crash of {} shard {shard}",
                self.clusters[*cluster].topo.name
            ),
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
    fn trace_sync_step(&mut self, clusters: &[usize], now: SimTime) {
        if let Some(t) = self.tracer.as_mut().filter(|t| t.records()) {
            let clusters = clusters.to_vec();
            t.push(now, TraceKind::SyncStep { clusters });
        }
    }

    /// Used memory of a shard: its keyspace estimate plus its backlog.
    pub fn shard_used(&self, c: usize, shard: usize) -> u64 {
        let s = &self.clusters[c].shards[shard];
        s.keyspace.bytes() + s.backlog.histlen()
    }

    /// Evicts per the cluster's policy if the shard is past the threshold; returns whether
    /// the shard is below its limit (a write or a replicated op may go ahead).
    fn make_room(&mut self, c: usize, shard: usize, q: &mut Scheduler<Event>) -> bool {
        let limit = self.clusters[c].shard_limit;
        let policy = self.clusters[c].eviction;
        // Bounded: each round deletes a key or stops.
        for _ in 0..10_000 {
            if !should_evict(policy, self.shard_used(c, shard), limit) {
                break;
            }
            let Some(victim) = self.pick_victim(c, shard, q.now()) else {
                break;
            };
            let del = redis::Command::new(redis::Cmd::Del, vec![crate::crdt::Value::Bytes(victim)]);
            let now = q.now();
            let cluster = &mut self.clusters[c];
            let cx = redis::ExecContext {
                origin: InstanceId(c as u8),
                now_ms: cluster.clock.read_ms(now),
                xadd_mode: self.cfg.xadd_mode,
                annotation: now.0,
            };
            let out = redis::execute(&mut cluster.shards[shard].keyspace, &del, &cx);
            cluster.evictions += 1;
            for effect in out.effects {
                let slot = crate::redis::slot::key_slot(&effect.op.key);
                self.replicate(c, shard, slot, effect, q);
            }
        }
        self.shard_used(c, shard) < limit
    }

    /// A key to evict under the cluster's policy, if any. Like Redis, it samples a few keys
    /// at random (`maxmemory-samples` 5) rather than scanning: the random policies take the
    /// first eligible sample, `volatile-ttl` the one that expires soonest.
    fn pick_victim(&mut self, c: usize, shard: usize, now: SimTime) -> Option<Box<[u8]>> {
        const SAMPLES: usize = 5;
        const TRIES: usize = 64;
        let cluster = &mut self.clusters[c];
        let now_ms = cluster.clock.read_ms(now);
        let ks = &cluster.shards[shard].keyspace;
        let n = ks.key_count() as u64;
        if n == 0 {
            return None;
        }
        let mut best: Option<(u64, Box<[u8]>)> = None;
        let mut found = 0;
        for _ in 0..TRIES {
            let i = dist::below(&mut cluster.evict_rng, n) as usize;
            let Some((k, e)) = ks.key_at(i) else { continue };
            if e.key_type().is_none() || e.expired(now_ms) {
                continue;
            }
            let expiry = match e.expiry() {
                Some((crate::crdt::Expiry::At(t), _)) => Some(t),
                _ => None,
            };
            let rank = match (cluster.eviction, expiry) {
                (EvictionPolicy::AllKeysRandom, _) => 0,
                (EvictionPolicy::VolatileTtl, Some(t)) => t,
                (EvictionPolicy::VolatileRandom, Some(_)) => 0,
                _ => continue,
            };
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, k.clone().into()));
            }
            found += 1;
            if cluster.eviction != EvictionPolicy::VolatileTtl || found == SAMPLES {
                break;
            }
        }
        best.map(|(_, k)| k)
    }

    /// The owner's active expiry at cluster `c`: deletes the keys whose `EXPIRE` it owns and
    /// that have passed, and replicates the deletes.
    pub fn expire_pass(&mut self, c: usize, q: &mut Scheduler<Event>) {
        let now = q.now();
        let cx = redis::ExecContext {
            origin: InstanceId(c as u8),
            now_ms: self.clusters[c].clock.read_ms(now),
            xadd_mode: self.cfg.xadd_mode,
            annotation: now.0,
        };
        for shard_idx in 0..self.clusters[c].shards.len() {
            let effects =
                redis::expire_owned(&mut self.clusters[c].shards[shard_idx].keyspace, &cx);
            for effect in effects {
                let slot = crate::redis::slot::key_slot(&effect.op.key);
                self.replicate(c, shard_idx, slot, effect, q);
            }
        }
    }

    /// Appends an applied local effect to its shard's stream and ships it to the peers;
    /// `slot` is the hash slot of its key.
    fn replicate(
        &mut self,
        c: usize,
        shard_idx: usize,
        slot: u16,
        effect: redis::Effect,
        q: &mut Scheduler<Event>,
    ) {
        let now = q.now();
        let n = self.clusters.len();
        self.divergence.touch(&effect.op.key);
        if let Some(t) = self.tracer.as_mut() {
            if t.wants(&effect.op.key) {
                let op = effect.op.clone();
                t.push(now, TraceKind::Op { cluster: c, op });
            } else if t.first_key.is_none() {
                t.first_key = Some(effect.op.key.clone());
            }
        }
        if effect.op.kind.removes() {
            self.removal_keys.insert(effect.op.key.clone());
            self.want_gc(q);
        }
        if let Some(d) = self.clusters[c].shards[shard_idx].durable.as_mut() {
            d.record_op(&effect.op);
        }
        let shard = &mut self.clusters[c].shards[shard_idx];
        let mut bytes = effect.stream_bytes;
        if shard.needs_select && bytes > 0 {
            bytes += select_bytes(0);
            shard.needs_select = false;
        }
        if self.cfg.causal_consistency && n > 2 {
            // Each instance relays the ordering metadata of what it receives to the other
            // N−2 instances [CAUSAL]: modelled as the op's vector clock and key per extra peer.
            let meta = 8 * n as u64 + effect.op.key.len() as u64;
            bytes += (n as u64 - 2) * meta;
        }
        debug_assert_eq!(slot, crate::redis::slot::key_slot(&effect.op.key));
        let item = Rc::new(StreamOp {
            op: effect.op,
            written_at: now,
            slot,
        });
        let (_, end) = shard.backlog.append(bytes, Some(item.clone()));
        for i in 0..self.sessions_of_source[c][shard_idx].len() {
            let sid = self.sessions_of_source[c][shard_idx][i] as usize;
            if matches!(self.sessions[sid].state, SyncState::Streaming) {
                self.ship(sid, bytes, end, item.clone(), q);
            }
        }
    }

    /// Puts one stream op on the wire of session `sid`.
    fn ship(
        &mut self,
        sid: usize,
        bytes: u64,
        end: u64,
        op: Rc<StreamOp>,
        q: &mut Scheduler<Event>,
    ) {
        let now = q.now();
        let s = &mut self.sessions[sid];
        let link = &mut self.links[s.link];
        debug_assert!(link.is_up(), "a streaming session's link is up");
        if link.is_held() {
            s.outbox.push_back((bytes, end, op));
            return;
        }
        let wire =
            (bytes as f64 * compression_ratio(self.cfg.replication.compression)).ceil() as u64;
        let mut arrives = link.transmit(now, wire).max(s.last_arrival);
        // The destination's syncer applies ops one after another at its throughput; a
        // centralized syncer serves every source shard of the peer, so it can bottleneck.
        let rate = self.cfg.replication.syncer_ops_per_sec;
        if rate > 0.0 {
            let busy = &mut self.syncer_busy[s.syncer];
            arrives = arrives.max(*busy) + SimDuration::from_secs_f64(1.0 / rate);
            *busy = arrives;
        }
        self.peers[pair_index(self.clusters.len(), s.src, s.dst)].wire_bytes += wire;
        s.last_arrival = arrives;
        s.inflight.push_back(InFlight { arrives, end, op });
        self.peers[pair_index(self.clusters.len(), s.src, s.dst)].stream_bytes += bytes;
        if !s.delivery_scheduled {
            s.delivery_scheduled = true;
            q.schedule(
                arrives,
                Event::Deliver {
                    session: sid as u32,
                    generation: s.generation,
                },
            );
        }
    }

    fn on_deliver(&mut self, sid: usize, generation: u32, q: &mut Scheduler<Event>) {
        let now = q.now();
        if self.sessions[sid].generation != generation {
            return;
        }
        let n = self.clusters.len();
        let (src, dst) = (self.sessions[sid].src, self.sessions[sid].dst);
        let pair = pair_index(n, src, dst);
        let mut blocked = false;
        while let Some(front) = self.sessions[sid].inflight.front() {
            if front.arrives > now {
                break;
            }
            let shard = self.clusters[dst].topo.shard_of_slot(front.op.slot);
            if self.clusters[dst].shards[shard].down {
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
            self.observe_lww(dst, shard, &f.op.op);
            self.divergence.touch(&f.op.op.key);
            if self.tracer.is_some() {
                self.trace_contention(dst, shard, &f.op.op);
            }
            let cluster = &mut self.clusters[dst];
            let applied = cluster.shards[shard].keyspace.apply(&f.op.op);
            match applied {
                Applied::Applied | Applied::Buffered => self.peers[pair].ops_applied += 1,
                Applied::Duplicate => self.peers[pair].duplicates += 1,
            }
            if let Some(t) = self.tracer.as_mut()
                && t.wants(&f.op.op.key)
            {
                let kind = TraceKind::Deliver {
                    src,
                    dst,
                    op: f.op.op.clone(),
                    sent: f.op.written_at,
                    applied,
                };
                t.push(now, kind);
            }
            if let Some(d) = cluster.shards[shard].durable.as_mut() {
                d.record_op(&f.op.op);
            }
            if f.op.op.kind.removes() {
                self.removal_keys.insert(f.op.op.key.clone());
                if !self.gc_scheduled {
                    self.gc_scheduled = true;
                    q.schedule_in(GC_INTERVAL, Event::Gc);
                }
            }
            self.peers[pair].lag.record(now.since(f.op.written_at).0);
            self.sessions[sid].consumed = f.end;
            self.sessions[sid].last_applied_written_at = f.op.written_at;
            self.last_apply = now;
        }
        self.check_catchup(sid, now);
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

    /// Takes a sample, hands it to the sink, updates the peaks, and schedules the next one
    /// while anything else is pending (so sampling never keeps a finished run alive).
    fn on_sample(&mut self, q: &mut Scheduler<Event>) {
        self.refresh_divergence();
        let sample = self.sample(q.now());
        let p = &mut self.peaks;
        p.samples += 1;
        p.backlog_bytes_max = p
            .backlog_bytes_max
            .max(sample.backlog_bytes.iter().copied().max().unwrap_or(0));
        for (b, (_, _, cap)) in sample.backlog_bytes.iter().zip(&self.layout.backlogs) {
            p.backlog_fill_max = p.backlog_fill_max.max(*b as f64 / (*cap).max(1) as f64);
        }
        p.link_queue_bytes_max = p
            .link_queue_bytes_max
            .max(sample.link_queue_bytes.iter().copied().max().unwrap_or(0));
        p.lag_ns_max = p
            .lag_ns_max
            .max(sample.sessions.iter().map(|s| s.lag_ns).max().unwrap_or(0));
        p.tombstones_max = p.tombstones_max.max(sample.tombstones.iter().sum());
        p.divergent_keys_max = p.divergent_keys_max.max(sample.divergent_keys);
        p.clock_offset_ns_max = p.clock_offset_ns_max.max(
            sample
                .clock_offset_ns
                .iter()
                .map(|x| x.unsigned_abs())
                .max()
                .unwrap_or(0),
        );
        if let Some(sink) = self.sink.as_mut() {
            sink(&self.layout, &sample);
        }
        if !q.is_empty() {
            q.schedule_in(self.cfg.sample_interval, Event::Sample);
        }
    }

    /// Whether the member instances of `key` have not all applied the same writes to it
    /// (equal per-key vector clocks; an absent key has the zero clock).
    fn is_divergent(&self, key: &[u8]) -> bool {
        let mut first: Option<Option<&crate::crdt::VClock>> = None;
        // One CRC16 per key, not per instance: every cluster maps the slot to its own shard.
        let slot = crate::redis::slot::key_slot(key);
        for (c, cl) in self.clusters.iter().enumerate() {
            if matches!(self.members[c], Membership::Absent | Membership::Removed) {
                continue;
            }
            let ctx = cl.shards[cl.topo.shard_of_slot(slot)]
                .keyspace
                .entry(key)
                .map(|e| &e.ctx)
                .filter(|v| v.entries().iter().any(|&x| x > 0));
            match first {
                None => first = Some(ctx),
                Some(f) if f != ctx => return true,
                Some(_) => {}
            }
        }
        false
    }

    /// Brings the divergent-key set up to date (see [`Divergence`]).
    fn refresh_divergence(&mut self) {
        let mut touched = std::mem::take(&mut self.divergence.touched);
        if std::mem::take(&mut self.divergence.recheck_all) {
            self.divergence.divergent.clear();
            for cl in &self.clusters {
                for sh in &cl.shards {
                    touched.extend(sh.keyspace.iter().map(|(k, _)| k.clone()));
                }
            }
        }
        for k in touched.drain() {
            if self.is_divergent(&k) {
                self.divergence.divergent.insert(k);
            } else {
                self.divergence.divergent.remove(&k);
            }
        }
        // Keep the allocation: the next interval touches about as many keys.
        self.divergence.touched = touched;
    }

    /// The world's state now.
    pub fn sample(&self, now: SimTime) -> Sample {
        let sessions = self
            .sessions
            .iter()
            .map(|s| {
                let backlog = &self.clusters[s.src].shards[s.src_shard].backlog;
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
                let state = match &s.state {
                    SyncState::Disconnected => SessionState::Disconnected,
                    SyncState::FullSync { .. } => SessionState::Full,
                    SyncState::Streaming if s.catchup_until.is_some_and(|u| s.consumed < u) => {
                        SessionState::Partial
                    }
                    SyncState::Streaming => SessionState::Streaming,
                };
                SessionSample {
                    state,
                    lag_ns: oldest.map(|w| now.since(w).0).unwrap_or(0),
                }
            })
            .collect();
        let tombstones = (0..self.clusters.len())
            .map(|c| {
                let cl = &self.clusters[c];
                self.removal_keys
                    .iter()
                    .filter_map(|k| {
                        cl.shards[cl.topo.shard_of_key(k)]
                            .keyspace
                            .entry(k)
                            .map(|e| e.tombstones().0)
                    })
                    .sum()
            })
            .collect();
        let peers = || self.peers.iter();
        Sample {
            time_ns: now.0,
            sessions,
            backlog_bytes: self
                .clusters
                .iter()
                .flat_map(|c| c.shards.iter().map(|s| s.backlog.histlen()))
                .collect(),
            link_queue_bytes: self.links.iter().map(|l| l.queued_bytes(now)).collect(),
            clock_offset_ns: self
                .clusters
                .iter()
                .map(|c| c.clock.error_ns(now))
                .collect(),
            tombstones,
            divergent_keys: self.divergence.divergent.len() as u64,
            memory_bytes: (0..self.clusters.len())
                .map(|c| {
                    (0..self.clusters[c].shards.len())
                        .map(|s| self.shard_used(c, s))
                        .sum()
                })
                .collect(),
            writes: self.clusters.iter().map(|c| c.writes).sum(),
            rejected_writes: self.clusters.iter().map(|c| c.rejected).sum(),
            oom_rejections: self.clusters.iter().map(|c| c.oom_rejections).sum(),
            writes_lost: self.clusters.iter().map(|c| c.writes_lost).sum(),
            partial_syncs: peers().map(|p| p.partial_syncs).sum(),
            full_syncs: peers().map(|p| p.full_syncs).sum(),
            stream_bytes: peers().map(|p| p.stream_bytes).sum(),
            snapshot_bytes: peers().map(|p| p.snapshot_bytes).sum(),
            wire_bytes: peers().map(|p| p.wire_bytes).sum(),
        }
    }

    /// Streams every sample to `sink` as it is taken.
    pub fn set_sink(&mut self, sink: SampleSink) {
        self.sink = Some(sink);
    }

    pub fn layout(&self) -> &SampleLayout {
        &self.layout
    }

    /// Counts a concurrent string-write conflict when a remote `SET` reaches the instance
    /// that wrote the other side; each pair is counted once, at the smaller instance id.
    /// Checkers only observe: this reads the state and changes nothing.
    fn observe_lww(&mut self, dst: usize, shard: usize, op: &crate::crdt::Op) {
        let crate::crdt::OpKind::Set { value, .. } = &op.kind else {
            return;
        };
        if op.dot.origin.index() <= dst {
            return;
        }
        let ks = &self.clusters[dst].shards[shard].keyspace;
        let Some(e) = ks.entry(&op.key) else {
            return;
        };
        let incoming_rank = (op.ts, std::cmp::Reverse(op.dot.origin));
        for a in e.string.regs() {
            if a.dot.origin.index() != dst || op.vc.covers(a.dot) || a.vc.covers(op.dot) {
                continue;
            }
            self.lww.conflicts += 1;
            // (instance, value, clock, true time) of each side; the values are rendered as
            // text only for the few examples kept.
            let side_a = (dst, &a.value, a.ts, a.annotation);
            let side_b = (op.dot.origin.index(), value, op.ts, op.annotation);
            let (winner, loser) = if incoming_rank > a.rank() {
                (side_b, side_a)
            } else {
                (side_a, side_b)
            };
            if winner.3 < loser.3 {
                self.lww.clock_inverted += 1;
                if self.lww.examples.len() < INVERTED_EXAMPLES {
                    let write = |(instance, value, clock_ms, true_ns): (
                        usize,
                        &crate::crdt::Value,
                        u64,
                        u64,
                    )| LwwWrite {
                        instance,
                        value: value.to_string(),
                        clock_ms,
                        true_ns,
                    };
                    self.lww.examples.push(InvertedWin {
                        key: String::from_utf8_lossy(&op.key).into_owned(),
                        winner: write(winner),
                        loser: write(loser),
                    });
                }
            }
        }
    }

    fn want_gc(&mut self, q: &mut Scheduler<Event>) {
        if !self.gc_scheduled {
            self.gc_scheduled = true;
            q.schedule_in(GC_INTERVAL, Event::Gc);
        }
    }

    /// Collects the removal history of every key that every instance has fully observed
    /// (equal key clocks), at all instances at once; reschedules while some remains.
    fn on_gc(&mut self, q: &mut Scheduler<Event>) {
        self.gc_scheduled = false;
        if self.gc_pass() > 0 {
            self.want_gc(q);
        }
    }

    /// One garbage-collection pass; returns how many keys still hold history.
    pub fn gc_pass(&mut self) -> usize {
        // A snapshot in flight holds old history; collecting now would only see it return.
        if self
            .sessions
            .iter()
            .any(|s| matches!(s.state, SyncState::FullSync { .. }))
        {
            return 1;
        }
        let mut keys = std::collections::BTreeSet::new();
        for c in &self.clusters {
            for s in &c.shards {
                keys.extend(s.keyspace.keys_with_tombstones());
            }
        }
        let mut left = 0;
        for key in keys {
            let ctx = |c: &Cluster| {
                c.shards[c.topo.shard_of_key(&key)]
                    .keyspace
                    .entry(&key)
                    .map(|e| e.ctx.clone())
                    .unwrap_or_default()
            };
            let first = ctx(&self.clusters[0]);
            if self.clusters.iter().all(|c| ctx(c) == first) {
                for c in &mut self.clusters {
                    let shard = c.topo.shard_of_key(&key);
                    let ks = &mut c.shards[shard].keyspace;
                    let before = ks.entry(&key).map(|e| e.tombstones().0).unwrap_or(0);
                    ks.collect_garbage(&key);
                    if let Some(d) = c.shards[shard].durable.as_mut() {
                        d.record_gc(&key);
                    }
                    let ks = &c.shards[shard].keyspace;
                    let after = ks.entry(&key).map(|e| e.tombstones().0).unwrap_or(0);
                    self.tombstones_collected += before.saturating_sub(after);
                }
                self.removal_keys.remove(&key);
            } else {
                left += 1;
            }
        }
        left
    }

    fn check_catchup(&mut self, sid: usize, now: SimTime) {
        if let Some((ci, target)) = self.catchup_target[sid]
            && self.sessions[sid].consumed >= target
        {
            self.catchup_target[sid] = None;
            let c = &mut self.catchups[ci];
            c.pending -= 1;
            if c.pending == 0 {
                c.stats.caught_up_after = Some(now.since(c.stats.healed_at));
            }
        }
    }

    /// Every directed link of fault `f`.
    fn fault_links(&self, f: usize) -> Vec<usize> {
        let mut v = Vec::new();
        for &(a, b) in &self.faults[f].spec.pairs {
            v.push(self.link_of[a][b]);
            v.push(self.link_of[b][a]);
        }
        v
    }

    fn on_fault_begin(&mut self, f: usize, q: &mut Scheduler<Event>) {
        if self.faults[f].retired || self.faults[f].active {
            return;
        }
        self.faults[f].active = true;
        self.trace_fault(f, true, q.now());
        match self.faults[f].spec.kind.clone() {
            FaultKind::Partition(PartitionMode::Drop) => self.cut_links(f, q),
            FaultKind::Partition(PartitionMode::Stall) => {
                for l in self.fault_links(f) {
                    self.links[l].hold(true);
                }
                let timeout_at = q.now() + self.cfg.replication.timeout;
                if timeout_at < self.faults[f].spec.end {
                    q.schedule(timeout_at, Event::StallTimeout { fault: f as u32 });
                }
            }
            FaultKind::Degrade {
                extra_latency,
                bandwidth_bps,
            } => {
                for l in self.fault_links(f) {
                    self.links[l].degrade(f, extra_latency, bandwidth_bps);
                }
            }
            FaultKind::Crash { cluster, shard } => self.crash(f, cluster, shard, q),
        }
    }

    /// Cuts fault `f`'s links: their syncer connections drop and their queues are discarded.
    fn cut_links(&mut self, f: usize, q: &mut Scheduler<Event>) {
        let now = q.now();
        for l in self.fault_links(f) {
            let was_up = self.links[l].is_up();
            self.links[l].cut();
            if was_up {
                self.links[l].flush(now);
                for &sid in &self.sessions_of_link[l] {
                    self.sessions[sid as usize].disconnect();
                }
            }
        }
    }

    fn on_stall_timeout(&mut self, f: usize, q: &mut Scheduler<Event>) {
        if !self.faults[f].active || self.faults[f].dropped {
            return;
        }
        // The peers saw nothing for the replication timeout: they drop the connections.
        self.faults[f].dropped = true;
        for l in self.fault_links(f) {
            self.links[l].hold(false);
        }
        self.cut_links(f, q);
    }

    fn on_fault_end(&mut self, f: usize, q: &mut Scheduler<Event>) {
        if self.faults[f].retired || !self.faults[f].active {
            return;
        }
        self.end_fault(f, q);
    }

    fn end_fault(&mut self, f: usize, q: &mut Scheduler<Event>) {
        self.trace_fault(f, false, q.now());
        match self.faults[f].spec.kind.clone() {
            FaultKind::Partition(PartitionMode::Stall) if !self.faults[f].dropped => {
                self.faults[f].active = false;
                let ci = self.open_catchup(f, q.now());
                for l in self.fault_links(f) {
                    if !self.links[l].hold(false) {
                        self.release_link(l, Some(ci), q);
                    }
                }
                self.close_catchup_if_done(ci);
            }
            FaultKind::Partition(_) => self.heal_fault(f, q),
            FaultKind::Degrade { .. } => {
                self.faults[f].active = false;
                for l in self.fault_links(f) {
                    self.links[l].restore(f);
                }
            }
            FaultKind::Crash { cluster, shard } => {
                self.faults[f].active = false;
                self.restart(cluster, shard, q);
            }
        }
    }

    /// A primary crashes: its stream stops, peers pulling from it lose their connections, its
    /// keys are unavailable until a replica takes over or the process restarts.
    fn crash(&mut self, f: usize, c: usize, shard: usize, q: &mut Scheduler<Event>) {
        let now = q.now();
        let sh = &mut self.clusters[c].shards[shard];
        if sh.down {
            return;
        }
        sh.down = true;
        for i in 0..self.sessions_of_source[c][shard].len() {
            let sid = self.sessions_of_source[c][shard][i] as usize;
            self.sessions[sid].disconnect();
        }
        if self.clusters[c].replication {
            // The replica holds the data and a copy of the CRDT backlog [SYNCER]: nothing is
            // lost, and peers can continue with partial syncs once it is promoted.
            let delay = self.cfg.clusters[c].failover_delay;
            q.schedule_in(delay, Event::Failover { fault: f as u32 });
            return;
        }
        // No replica: what the persistence did not keep is lost here. A write some peer had
        // already applied comes back from that peer; the others are lost for good.
        let until = match &self.clusters[c].shards[shard].durable {
            Some(d) => d.durable_until(now),
            None => now,
        };
        let mut lost = 0;
        let mut recovered = 0;
        let sessions = self.sessions_of_source[c][shard].clone();
        for it in self.clusters[c].shards[shard].backlog.items_from(0) {
            let Some(op) = &it.payload else { continue };
            if op.written_at <= until {
                continue;
            }
            let replicated = sessions
                .iter()
                .any(|sid| self.sessions[*sid as usize].consumed >= it.end);
            if replicated {
                recovered += 1;
            } else {
                lost += 1;
            }
        }
        let cl = &mut self.clusters[c];
        cl.writes_lost += lost;
        cl.writes_recovered_from_peers += recovered;
    }

    fn on_failover(&mut self, f: usize, q: &mut Scheduler<Event>) {
        let FaultKind::Crash { cluster, shard } = self.faults[f].spec.kind else {
            return;
        };
        let sh = &mut self.clusters[cluster].shards[shard];
        if !sh.down {
            return;
        }
        sh.down = false;
        self.reconnect_sources(cluster, shard, q);
    }

    /// Schedules a reconnect for every disconnected session pulling from this shard.
    fn reconnect_sources(&mut self, c: usize, shard: usize, q: &mut Scheduler<Event>) {
        for i in 0..self.sessions_of_source[c][shard].len() {
            let sid = self.sessions_of_source[c][shard][i] as usize;
            if matches!(self.sessions[sid].state, SyncState::Disconnected)
                && self.links[self.sessions[sid].link].is_up()
            {
                self.schedule_reconnect(sid, q);
            }
        }
    }

    /// The crashed process restarts. After a failover it rejoins as the replica (nothing
    /// changes); otherwise the shard recovers its durable state with a new replication
    /// history, and resyncs with every peer in full.
    fn restart(&mut self, c: usize, shard: usize, q: &mut Scheduler<Event>) {
        let sh = &mut self.clusters[c].shards[shard];
        if !sh.down {
            return;
        }
        let recovered = match &sh.durable {
            Some(d) => d.recover(&sh.keyspace),
            None => sh.keyspace.clone(),
        };
        for (k, _) in sh.keyspace.iter() {
            self.divergence.touch(k);
        }
        sh.keyspace = recovered;
        sh.down = false;
        sh.stale = true;
        sh.epoch += 1;
        sh.needs_select = true;
        let end = sh.backlog.end();
        sh.backlog = Backlog::starting_at(sh.backlog.model(), sh.backlog.size(), end);
        if let Some(d) = sh.durable.as_mut() {
            d.restarted(q.now(), &sh.keyspace);
        }
        // Peers pulling from this shard: their offsets belong to the old history.
        self.reconnect_sources(c, shard, q);
        // This instance lost ops it had received: every syncer feeding it resyncs in full.
        for sid in 0..self.sessions.len() {
            if self.sessions[sid].dst == c {
                self.sessions[sid].force_full = true;
                if !matches!(self.sessions[sid].state, SyncState::FullSync { .. }) {
                    self.sessions[sid].disconnect();
                    if self.links[self.sessions[sid].link].is_up() {
                        self.schedule_reconnect(sid, q);
                    }
                }
            }
        }
        self.release_stale(c, q);
    }

    /// Ends stale mode on cluster `c`'s restarted shards once no syncer from an active peer
    /// still owes it a full sync.
    fn release_stale(&mut self, c: usize, q: &mut Scheduler<Event>) {
        let pending = self
            .sessions
            .iter()
            .any(|s| s.dst == c && self.members[s.src] == Membership::Active && s.force_full);
        if pending {
            return;
        }
        for shard in 0..self.clusters[c].shards.len() {
            if std::mem::take(&mut self.clusters[c].shards[shard].stale) {
                self.reconnect_sources(c, shard, q);
            }
        }
    }

    /// Cluster `c` is added: it pulls a full sync from every peer shard (writes refused until
    /// they complete), and its peers start pulling its (empty) stream.
    fn on_join(&mut self, c: usize, q: &mut Scheduler<Event>) {
        if self.members[c] != Membership::Absent {
            return;
        }
        self.members[c] = Membership::Joining;
        self.divergence.recheck_all = true;
        for sid in 0..self.sessions.len() {
            let s = &self.sessions[sid];
            if s.dst == c || s.src == c {
                // Full syncs from the members it joins; a peer added later is new to it too,
                // and its stream (from offset 0) covers everything it wrote.
                if s.dst == c && self.members[s.src] == Membership::Active {
                    self.sessions[sid].force_full = true;
                }
                if self.links[self.sessions[sid].link].is_up() {
                    self.schedule_reconnect(sid, q);
                }
            }
        }
        self.check_joined(c, q.now());
    }

    /// A joining cluster becomes active once no syncer feeding it still owes a full sync.
    fn check_joined(&mut self, c: usize, now: SimTime) {
        if self.members[c] == Membership::Joining
            && self
                .sessions
                .iter()
                .filter(|s| s.dst == c && self.members[s.src] == Membership::Active)
                .all(|s| !s.force_full)
        {
            self.members[c] = Membership::Active;
            self.joined_at[c] = Some(now);
        }
    }

    /// Cluster `c` is removed: its peers stop syncing with it and refuse its reconnects.
    fn on_leave(&mut self, c: usize) {
        self.members[c] = Membership::Removed;
        self.divergence.recheck_all = true;
        for s in &mut self.sessions {
            if s.src == c || s.dst == c {
                s.disconnect();
            }
        }
    }

    /// A persistence point for cluster `c`'s tracked shards; reschedules until the last crash.
    fn on_persist(&mut self, c: usize, q: &mut Scheduler<Event>) {
        let now = q.now();
        let mut period = None;
        for sh in &mut self.clusters[c].shards {
            if sh.down {
                continue;
            }
            if let Some(d) = sh.durable.as_mut() {
                d.tick(now, &sh.keyspace);
                period = d.mode().period();
            }
        }
        let last_crash = self
            .faults
            .iter()
            .filter_map(|f| match f.spec.kind {
                FaultKind::Crash { cluster, .. } if cluster == c => Some(f.spec.begin),
                _ => None,
            })
            .max();
        if let (Some(p), Some(last)) = (period, last_crash)
            && now + p <= last
        {
            q.schedule_in(p, Event::Persist { cluster: c as u32 });
        }
    }

    fn open_catchup(&mut self, f: usize, now: SimTime) -> usize {
        let spec = &self.faults[f].spec;
        self.catchups.push(CatchUp {
            stats: HealStats {
                name: spec.name.clone(),
                begin: spec.begin,
                healed_at: now,
                caught_up_after: None,
            },
            pending: 0,
        });
        self.catchups.len() - 1
    }

    fn close_catchup_if_done(&mut self, ci: usize) {
        if self.catchups[ci].pending == 0 {
            self.catchups[ci].stats.caught_up_after = Some(SimDuration::ZERO);
        }
    }

    /// Tracks, for catch-up `ci`, that session `sid` must apply everything written so far.
    fn track_catchup(&mut self, sid: usize, ci: usize) {
        let s = &self.sessions[sid];
        let target = self.clusters[s.src].shards[s.src_shard].backlog.end();
        if s.consumed < target && self.catchup_target[sid].is_none() {
            self.catchup_target[sid] = Some((ci, target));
            self.catchups[ci].pending += 1;
        }
    }

    /// A link is no longer held: what its sessions queued goes on the wire, in order.
    fn release_link(&mut self, l: usize, catchup: Option<usize>, q: &mut Scheduler<Event>) {
        if !self.links[l].is_up() {
            return;
        }
        for i in 0..self.sessions_of_link[l].len() {
            let sid = self.sessions_of_link[l][i] as usize;
            if let Some(ci) = catchup {
                self.track_catchup(sid, ci);
            }
            let pending: Vec<_> = self.sessions[sid].outbox.drain(..).collect();
            for (bytes, end, op) in pending {
                self.ship(sid, bytes, end, op, q);
            }
        }
    }

    /// Ends a partition that dropped connections: links come back, syncers reconnect.
    fn heal_fault(&mut self, f: usize, q: &mut Scheduler<Event>) {
        self.faults[f].active = false;
        let ci = self.open_catchup(f, q.now());
        for l in self.fault_links(f) {
            if !self.links[l].heal() {
                continue;
            }
            for i in 0..self.sessions_of_link[l].len() {
                let sid = self.sessions_of_link[l][i] as usize;
                self.track_catchup(sid, ci);
                if matches!(self.sessions[sid].state, SyncState::Disconnected) {
                    self.schedule_reconnect(sid, q);
                }
            }
            if !self.links[l].is_held() {
                self.release_link(l, None, q);
            }
        }
        self.close_catchup_if_done(ci);
    }

    /// Schedules session `sid`'s next connection attempt after the reconnect delay.
    fn schedule_reconnect(&mut self, sid: usize, q: &mut Scheduler<Event>) {
        let delay = self.reconnect_delay(sid);
        let generation = self.sessions[sid].generation;
        q.schedule_in(
            delay,
            Event::Reconnect {
                session: sid as u32,
                generation,
            },
        );
    }

    /// The delay before a syncer's next attempt: uniform in `(0, d]`, where `d` is the
    /// reconnect delay doubled for each consecutive failed full sync, up to `MAX_BACKOFF`.
    fn reconnect_delay(&mut self, sid: usize) -> SimDuration {
        let base = self.cfg.replication.reconnect_delay.0;
        if base == 0 {
            return SimDuration::ZERO;
        }
        let doublings = self.sessions[sid].consecutive_failures.min(16) as u32;
        let max = base
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF.0.max(base));
        SimDuration(1 + dist::below(&mut self.sessions[sid].rng, max))
    }

    fn on_reconnect(&mut self, sid: usize, generation: u32, q: &mut Scheduler<Event>) {
        let s = &self.sessions[sid];
        if s.generation != generation
            || !matches!(s.state, SyncState::Disconnected)
            || !self.links[s.link].is_up()
        {
            return;
        }
        let (src_m, dst_m) = (self.members[s.src], self.members[s.dst]);
        if src_m == Membership::Removed || dst_m == Membership::Removed {
            self.refused_reconnects += 1;
            return;
        }
        if src_m == Membership::Absent || dst_m == Membership::Absent {
            return;
        }
        let source = &self.clusters[s.src].shards[s.src_shard];
        let dst_stale = self.clusters[s.dst].shards.iter().any(|sh| sh.stale);
        if source.down || (source.stale && !dst_stale) {
            // Nothing to connect to until a replica takes over or the process restarts (the
            // failover or restart schedules the reconnect); a restarted shard serves no sync
            // until it has itself resynced from its peers, so that the snapshot it ships holds
            // the writes it lost and they had (its release schedules the reconnect). Two
            // restarted instances do sync each other, or each would wait for the other.
            return;
        }
        let backlog = &source.backlog;
        let same_history = s.epoch == source.epoch && !s.force_full;
        let resync = decide_resync(same_history && backlog.can_continue_from(s.consumed));
        if let Some(t) = self.tracer.as_mut().filter(|t| t.records()) {
            let reason = match resync {
                Resync::Partial => ResyncReason::Partial,
                Resync::Full if same_history => ResyncReason::BacklogOverflow {
                    needed: s.consumed,
                    first: backlog.first(),
                },
                Resync::Full => ResyncReason::NewHistory,
            };
            let (src, dst) = (s.src, s.dst);
            t.push(q.now(), TraceKind::Reconnect { src, dst, reason });
        }
        match resync {
            Resync::Partial => {
                let end = backlog.end();
                let pair = pair_index(self.clusters.len(), s.src, s.dst);
                self.sessions[sid].catchup_until = Some(end);
                self.sessions[sid].partial_syncs += 1;
                self.peers[pair].partial_syncs += 1;
                self.resume_streaming(sid, q);
            }
            Resync::Full => self.start_full_sync(sid, q),
        }
    }

    /// Streams everything after the session's consumed offset, then keeps streaming.
    fn resume_streaming(&mut self, sid: usize, q: &mut Scheduler<Event>) {
        let (src, shard, from) = {
            let s = &mut self.sessions[sid];
            s.state = SyncState::Streaming;
            s.last_arrival = q.now();
            (s.src, s.src_shard, s.consumed)
        };
        let pending: Vec<(u64, u64, Rc<StreamOp>)> = self.clusters[src].shards[shard]
            .backlog
            .items_from(from)
            .filter_map(|it| {
                it.payload
                    .as_ref()
                    .map(|p| (it.end - it.start, it.end, p.clone()))
            })
            .collect();
        for (bytes, end, op) in pending {
            self.ship(sid, bytes, end, op, q);
        }
    }

    fn start_full_sync(&mut self, sid: usize, q: &mut Scheduler<Event>) {
        let now = q.now();
        let n = self.clusters.len();
        let (src, shard_idx, link) = {
            let s = &self.sessions[sid];
            (s.src, s.src_shard, s.link)
        };
        let shard = &mut self.clusters[src].shards[shard_idx];
        let snapshot = Box::new(shard.keyspace.clone());
        let epoch = shard.epoch;
        let offset = shard.backlog.end();
        shard.needs_select = true;
        let bytes = snapshot.snapshot_bytes();
        let wire =
            (bytes as f64 * compression_ratio(self.cfg.replication.compression)).ceil() as u64;
        let arrives = self.links[link].transmit(now, wire);
        let s = &mut self.sessions[sid];
        s.epoch = epoch;
        s.full_syncs += 1;
        s.full_sync_started = now;
        s.state = SyncState::FullSync { snapshot, offset };
        let pair = pair_index(n, s.src, s.dst);
        self.peers[pair].full_syncs += 1;
        self.peers[pair].snapshot_bytes += bytes;
        self.peers[pair].wire_bytes += wire;
        q.schedule(
            arrives,
            Event::SnapshotArrived {
                session: sid as u32,
                generation: s.generation,
            },
        );
    }

    fn on_snapshot_arrived(&mut self, sid: usize, generation: u32, q: &mut Scheduler<Event>) {
        let now = q.now();
        if self.sessions[sid].generation != generation {
            return;
        }
        let state = std::mem::replace(&mut self.sessions[sid].state, SyncState::Disconnected);
        let SyncState::FullSync { snapshot, offset } = state else {
            self.sessions[sid].state = state;
            return;
        };
        let dst = self.sessions[sid].dst;
        for (k, _) in snapshot.iter() {
            self.divergence.touch(k);
        }
        if let Some(t) = self.tracer.as_mut().filter(|t| t.records()) {
            let entries = snapshot.iter().filter(|(k, _)| t.wants(k)).count();
            let kind = TraceKind::FullSync {
                src: self.sessions[sid].src,
                dst,
                started: self.sessions[sid].full_sync_started,
                entries,
            };
            t.push(now, kind);
        }
        let cluster = &mut self.clusters[dst];
        for (i, shard) in cluster.shards.iter_mut().enumerate() {
            let topo = &cluster.topo;
            shard
                .keyspace
                .merge_filtered(&snapshot, |k| topo.shard_of_key(k) == i);
            if let Some(d) = shard.durable.as_mut() {
                d.record_merge(&snapshot.filtered(|k| topo.shard_of_key(k) == i));
            }
        }
        self.sessions[sid].force_full = false;
        self.check_joined(dst, now);
        self.release_stale(dst, q);
        self.last_apply = now;
        let s = &mut self.sessions[sid];
        s.consumed = offset;
        let pair = pair_index(self.clusters.len(), s.src, s.dst);
        let backlog = &self.clusters[s.src].shards[s.src_shard].backlog;
        if backlog.can_continue_from(offset) {
            s.consecutive_failures = 0;
            self.check_catchup(sid, now);
            self.resume_streaming(sid, q);
        } else {
            // The stream written while the snapshot travelled overflowed the backlog: the
            // full sync failed and must start over.
            s.full_sync_failures += 1;
            s.consecutive_failures += 1;
            s.max_consecutive_failures = s.max_consecutive_failures.max(s.consecutive_failures);
            let p = &mut self.peers[pair];
            p.full_sync_failures += 1;
            p.max_consecutive_full_sync_failures = p
                .max_consecutive_full_sync_failures
                .max(s.consecutive_failures);
            self.check_catchup(sid, now);
            self.sessions[sid].disconnect();
            self.schedule_reconnect(sid, q);
        }
    }

    /// Holds (or releases) every link between clusters in `group`; released links send what
    /// they held, in order.
    fn set_held(&mut self, group: &[usize], held: bool, q: &mut Scheduler<Event>) {
        for &a in group {
            for &b in group {
                if a == b {
                    continue;
                }
                let l = self.link_of[a][b];
                if !self.links[l].hold(held) {
                    self.release_link(l, None, q);
                }
            }
        }
    }

    /// Whether every syncer between clusters of `group` has nothing left to do (a cut link's
    /// syncers count as done: they cannot make progress until a heal).
    fn group_idle(&self, group: &[usize]) -> bool {
        self.sessions.iter().all(|s| {
            !group.contains(&s.src)
                || !group.contains(&s.dst)
                || !self.links[s.link].is_up()
                || (s.idle() && matches!(s.state, SyncState::Streaming))
        })
    }

    /// Starts a partition now (a script step).
    fn partition_now(
        &mut self,
        pairs: Vec<(usize, usize)>,
        name: String,
        q: &mut Scheduler<Event>,
    ) {
        let now = q.now();
        self.faults.push(FaultState {
            spec: Fault {
                name,
                begin: now,
                end: SimTime::MAX,
                pairs,
                kind: FaultKind::Partition(PartitionMode::Drop),
            },
            active: false,
            dropped: false,
            retired: false,
        });
        let f = self.faults.len() - 1;
        self.on_fault_begin(f, q);
    }

    /// Heals every active partition now (a script step).
    fn heal_now(&mut self, q: &mut Scheduler<Event>) {
        for f in 0..self.faults.len() {
            if self.faults[f].active && self.faults[f].spec.is_partition() {
                self.end_fault(f, q);
            }
        }
    }

    /// Ends every active fault now and stops writes (the healed phase of a run).
    fn heal_everything(&mut self, q: &mut Scheduler<Event>) {
        self.writes_open = false;
        for f in 0..self.faults.len() {
            if self.faults[f].active {
                self.end_fault(f, q);
            }
            self.faults[f].retired = true;
        }
    }

    /// The digest of what clients read at instance `c`.
    pub fn instance_digest(&self, c: usize) -> u64 {
        // Shards hold disjoint key ranges; merge their sorted keys so the digest does not
        // depend on the shard count.
        let mut all: Vec<(&[u8], &crate::crdt::Entry)> = self.clusters[c]
            .shards
            .iter()
            .flat_map(|s| s.keyspace.iter().map(|(k, e)| (&k[..], e)))
            .filter(|(_, e)| e.key_type().is_some())
            .collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        let mut d = Digest::new();
        for (k, e) in all {
            d.bytes(k);
            e.digest_visible(&mut d);
        }
        d.value()
    }

    /// Keys whose member instances have not all applied the same writes, now (brings the
    /// incremental count up to date).
    pub fn divergent_keys(&mut self) -> u64 {
        self.refresh_divergence();
        self.divergence.divergent.len() as u64
    }

    /// The same figure by comparing every key held anywhere: O(keys), the oracle the
    /// incremental count is tested against.
    pub fn divergent_keys_by_scan(&self) -> u64 {
        let keys: std::collections::BTreeSet<&[u8]> = self
            .clusters
            .iter()
            .flat_map(|c| c.shards.iter())
            .flat_map(|s| s.keyspace.iter().map(|(k, _)| &k[..]))
            .collect();
        keys.into_iter().filter(|k| self.is_divergent(k)).count() as u64
    }

    /// Client-visible keys at instance `c`.
    pub fn instance_keys(&self, c: usize) -> u64 {
        self.clusters[c]
            .shards
            .iter()
            .map(|s| s.keyspace.live_count() as u64)
            .sum()
    }

    /// Reads the string value of `key` at instance `c` (tests and reports).
    pub fn read(&self, c: usize, key: &[u8]) -> Option<crate::crdt::Value> {
        let cl = &self.clusters[c];
        cl.shards[cl.topo.shard_of_key(key)].keyspace.get(key)
    }

    /// Tombstones held by instance `c`: (count, estimated bytes).
    pub fn tombstones(&self, c: usize) -> (u64, u64) {
        self.clusters[c].shards.iter().fold((0, 0), |(n, b), s| {
            let (n2, b2) = s.keyspace.tombstones();
            (n + n2, b + b2)
        })
    }

    fn digest_event(&self, e: &Event, d: &mut Digest) {
        match *e {
            Event::Arrival { cluster } => d.word(1).word(cluster as u64),
            Event::Deliver {
                session,
                generation,
            } => d.word(2).word(session as u64).word(generation as u64),
            Event::Reconnect {
                session,
                generation,
            } => d.word(3).word(session as u64).word(generation as u64),
            Event::SnapshotArrived {
                session,
                generation,
            } => d.word(4).word(session as u64).word(generation as u64),
            Event::FaultBegin { fault } => d.word(5).word(fault as u64),
            Event::FaultEnd { fault } => d.word(6).word(fault as u64),
            Event::StallTimeout { fault } => d.word(8).word(fault as u64),
            Event::Gc => d.word(7),
            Event::Sample => d.word(9),
            Event::Join { cluster } => d.word(12).word(cluster as u64),
            Event::Leave { cluster } => d.word(13).word(cluster as u64),
            Event::Failover { fault } => d.word(10).word(fault as u64),
            Event::Persist { cluster } => d.word(11).word(cluster as u64),
        };
    }
}

impl Model for World {
    type Event = Event;

    fn handle(&mut self, event: Event, q: &mut Scheduler<Event>) {
        match event {
            Event::Arrival { cluster } => self.on_arrival(cluster as usize, q),
            Event::Deliver {
                session,
                generation,
            } => self.on_deliver(session as usize, generation, q),
            Event::Reconnect {
                session,
                generation,
            } => self.on_reconnect(session as usize, generation, q),
            Event::SnapshotArrived {
                session,
                generation,
            } => self.on_snapshot_arrived(session as usize, generation, q),
            Event::FaultBegin { fault } => self.on_fault_begin(fault as usize, q),
            Event::FaultEnd { fault } => self.on_fault_end(fault as usize, q),
            Event::StallTimeout { fault } => self.on_stall_timeout(fault as usize, q),
            Event::Gc => self.on_gc(q),
            Event::Sample => self.on_sample(q),
            Event::Join { cluster } => self.on_join(cluster as usize, q),
            Event::Leave { cluster } => self.on_leave(cluster as usize),
            Event::Failover { fault } => self.on_failover(fault as usize, q),
            Event::Persist { cluster } => self.on_persist(cluster as usize, q),
        }
    }

    fn digest_event(&self, event: &Event, digest: &mut Digest) {
        World::digest_event(self, event, digest);
    }
}

/// A command as a line of text (for traces of generated workloads, which have no script
/// line): the name and its arguments, quoted when they hold spaces or are empty.
pub fn command_line(cmd: &redis::Command) -> String {
    let mut line = cmd.name.to_string();
    for a in &cmd.args {
        let text = a.to_string();
        if text.is_empty() || text.contains(char::is_whitespace) || text.contains('"') {
            line.push_str(&format!(" {text:?}"));
        } else {
            line.push(' ');
            line.push_str(&text);
        }
    }
    line
}

/// Set by a command that runs one simulation and then exits (`geosim run`): the finished
/// world is not freed piece by piece (see [`leak_worlds_at_exit`]).
static LEAK_AT_EXIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells this process's simulations not to free their world when they finish, because the
/// process exits right after (freeing a large keyspace takes seconds). Never set this in a
/// process that runs many simulations (a sweep): each would keep its memory. It changes no
/// output.
pub fn leak_worlds_at_exit() {
    LEAK_AT_EXIT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// A world with its event queue and trace digest: what one run is.
pub struct Simulation {
    pub world: World,
    queue: EventQueue<Event>,
    digest: Digest,
    events: u64,
    event_limit_hit: bool,
    healed: bool,
    records: Vec<StepRecord>,
}

impl Simulation {
    pub fn new(cfg: WorldConfig) -> Self {
        let mut world = World::new(cfg);
        let mut queue = EventQueue::new();
        world.start(&mut queue);
        if !world.cfg.script.is_empty() {
            let all: Vec<usize> = (0..world.clusters.len()).collect();
            world.set_held(&all, true, &mut queue);
        }
        Simulation {
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
        let n = self.world.clusters.len();
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
                StepAction::Sync { clusters } => {
                    self.world.trace_sync_step(&clusters, time);
                    self.world.set_held(&clusters, false, &mut self.queue);
                    while !self.world.group_idle(&clusters) && self.step_one() {}
                    self.world.set_held(&clusters, true, &mut self.queue);
                    let names: Vec<&str> = clusters
                        .iter()
                        .map(|c| self.world.cfg.clusters[*c].name.as_str())
                        .collect();
                    record.line = format!("sync {}", names.join(" "));
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
        }
    }

    pub fn now(&self) -> SimTime {
        self.queue.now()
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

    /// Executes a command at cluster `c` at the current time (scripted steps).
    pub fn execute(&mut self, c: usize, cmd: &redis::Command) -> redis::Reply {
        self.world.execute(c, cmd, &mut self.queue)
    }

    /// Runs the whole scenario: writes until the end of the duration, then heal everything
    /// and run until quiescent or the convergence deadline.
    pub fn run_to_completion(self) -> RunResult {
        self.run_traced(None).0
    }

    /// Runs the whole scenario with an optional tracer installed, and returns the tracer
    /// with the traced keys' final states.
    pub fn run_traced(mut self, tracer: Option<Tracer>) -> (RunResult, Option<Tracer>) {
        if let Some(t) = tracer {
            self.world.set_tracer(t);
        }
        if !self.world.cfg.script.is_empty() {
            self.run_script();
            let all: Vec<usize> = (0..self.world.clusters.len()).collect();
            self.world.set_held(&all, false, &mut self.queue);
        }
        let end = self.world.end_of_writes().max(self.now());
        self.run_until(end);
        if !self.event_limit_hit && !self.healed {
            self.healed = true;
            self.world.heal_everything(&mut self.queue);
        }
        let deadline = end + self.world.cfg.converge_deadline;
        self.run_until(deadline);
        let now = self.now();
        let tracer = self.world.take_tracer(now);
        let result = self.finish(end);
        if LEAK_AT_EXIT.load(std::sync::atomic::Ordering::Relaxed) {
            // The process is about to exit and will return the memory at once; freeing
            // millions of entries one by one would only cost time.
            std::mem::forget(self);
        }
        (result, tracer)
    }

    fn finish(&mut self, end: SimTime) -> RunResult {
        self.world.refresh_divergence();
        let w = &self.world;
        let n = w.clusters.len();
        let quiescent = self.queue.is_empty();
        let peers = w.peers.iter().filter(|p| p.src != p.dst).cloned().collect();
        RunResult {
            events: self.events,
            trace_digest: self.digest.value(),
            stopped_at: if quiescent {
                w.last_apply.max(end)
            } else {
                self.queue.now()
            },
            end_of_writes: end,
            quiescent,
            event_limit_hit: self.event_limit_hit,
            settle_after_end: w.last_apply.since(end),
            instance_digests: (0..n).map(|c| w.instance_digest(c)).collect(),
            members: w.members.clone(),
            joined_at: w.joined_at.clone(),
            refused_reconnects: w.refused_reconnects,
            clusters: w
                .clusters
                .iter()
                .enumerate()
                .map(|(i, c)| ClusterStats {
                    name: c.topo.name.clone(),
                    writes: c.writes,
                    rejected: c.rejected,
                    keys: w.instance_keys(i),
                    oom_rejections: c.oom_rejections,
                    unavailable_rejections: c.unavailable_rejections,
                    writes_lost: c.writes_lost,
                    writes_recovered_from_peers: c.writes_recovered_from_peers,
                    evictions: c.evictions,
                    memory_bytes: (0..c.shards.len()).map(|s| w.shard_used(i, s)).sum(),
                    memory_limit: c.shard_limit * c.shards.len() as u64,
                })
                .collect(),
            peers,
            heals: w.catchups.iter().map(|c| c.stats.clone()).collect(),
            steps: self.records.clone(),
            tombstones: (0..n).map(|c| w.tombstones(c)).collect(),
            tombstones_collected: w.tombstones_collected,
            lww: w.lww.clone(),
            peaks: w.peaks.clone(),
            divergent_keys_end: w.divergence.divergent.len() as u64,
        }
    }
}
