//! The world: the components of the simulated system, wired into the engine as one
//! [`Model`]. `World` owns no behaviour of its own beyond routing: each event goes to the
//! component it concerns (an instance and its shards, a syncer session, a link, the fault
//! controller, membership, garbage collection), and what a component answers (ship this op,
//! schedule that event, merge this snapshot) is carried out here, in the order the
//! component gave it. See `ARCHITECTURE.md` for the path of a write, a delivery and a heal.

use super::catchup::CatchUps;
use super::fault::{FaultKind, Faults};
use super::gc::{GC_INTERVAL, Gc};
use super::instance::Instance;
use super::keys::{KeyDir, KeyId};
use super::membership::Members;
use super::memory::OOM_ERROR;
use super::metrics::{Peaks, SampleLayout, SampleSink};
use super::net::Link;
use super::observe::Observer;
use super::shard::Shard;
use super::stats::PeerStats;
use super::syncer::{SendParams, Session};
use super::topology::{ClusterTopo, SyncerMode, Topology};
use super::trace::Tracer;
use super::workload::Workload;
use crate::engine::{Digest, Model, Scheduler, SimDuration, SimTime, stream_for};
use crate::redis;

pub use super::config::{ClusterConfig, ReplicationConfig, WorldConfig, compression_ratio};

mod compact;
mod digest;
mod faults;
mod housekeeping;
mod replication;
mod shadow;

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

pub(super) fn pair_index(n: usize, src: usize, dst: usize) -> usize {
    src * n + dst
}

pub struct World {
    pub(super) cfg: WorldConfig,
    /// An optional record of some keys' history (`geosim explain`); never read by the run.
    pub(super) tracer: Option<Box<Tracer>>,
    topo: Topology,
    pub(super) instances: Vec<Instance>,
    pub(super) links: Vec<Link>,
    /// `link_of[from][to]`.
    link_of: Vec<Vec<usize>>,
    pub(super) sessions: Vec<Session>,
    /// `sessions_of_source[cluster][shard]`.
    sessions_of_source: Vec<Vec<Vec<u32>>>,
    sessions_of_link: Vec<Vec<u32>>,
    /// Per syncer process, when it finishes applying what it has received so far.
    syncer_busy: Vec<SimTime>,
    /// How sessions put ops on the wire (from the replication settings).
    send_params: SendParams,
    workload: Option<Workload>,
    pub(super) faults: Faults,
    pub(super) peers: Vec<PeerStats>,
    pub(super) catchups: CatchUps,
    pub(super) last_apply: SimTime,
    writes_open: bool,
    pub(super) gc: Gc,
    pub(super) sink: Option<SampleSink>,
    pub(super) layout: SampleLayout,
    /// Who is told what happens (checkers); never changes the run.
    pub(super) observer: Box<dyn Observer>,
    /// The effect list each command fills, kept between commands (empty between them).
    effects_buffer: Vec<redis::Effect>,
    /// The last generated command, whose buffers the next one reuses.
    command_buffer: Option<redis::Command>,
    pub(super) members: Members,
    pub(super) peaks: Peaks,
    /// Every key's id, and its clock at every instance, key-major.
    pub(super) keys: KeyDir,
    /// With sampled fidelity: which keys are sampled, and what is kept of the others.
    pub(super) sampled: Option<shadow::Sampled>,
    /// Every session state change, in time order, and each session's last recorded state.
    pub(super) state_log: Vec<crate::model::metrics::StateChange>,
    pub(super) last_states: Vec<crate::model::metrics::SessionState>,
    /// A `Sample` event is scheduled.
    pub(super) sample_pending: bool,
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
        let mut instances: Vec<Instance> = cfg
            .clusters
            .iter()
            .zip(&topo.clusters)
            .map(|(c, t)| {
                Instance::new(c, t.clone(), cfg.seed, || {
                    let shard = Shard::new(
                        n,
                        cfg.causal_consistency,
                        cfg.replication.backlog_model,
                        c.backlog_bytes,
                    );
                    if c.replication {
                        shard.with_replica(c.repl_backlog_bytes)
                    } else {
                        shard
                    }
                })
            })
            .collect();

        let (links, link_of) = build_links(&cfg, &topo);
        let SessionTables {
            sessions,
            of_source: sessions_of_source,
            of_link: sessions_of_link,
            syncer_busy,
        } = build_sessions(&cfg, &topo, &link_of, links.len());
        let names: Vec<String> = cfg.clusters.iter().map(|c| c.name.clone()).collect();
        let workload = cfg
            .workload
            .clone()
            .map(|w| Workload::new(w, cfg.seed, &names));
        // Keep a durable copy for every shard a crash will take down without a replica.
        for f in &cfg.faults {
            if let FaultKind::Crash { cluster, shard } = f.kind
                && !cfg.clusters[cluster].replication
                && let Some(sh) = instances[cluster].shards.get_mut(shard)
            {
                sh.track_durability(cfg.clusters[cluster].persistence, n, cfg.causal_consistency);
            }
        }
        let mut peers = vec![PeerStats::default(); n * n];
        for (i, p) in peers.iter_mut().enumerate() {
            p.src = i / n;
            p.dst = i % n;
        }
        let layout = SampleLayout {
            clusters: names,
            sessions: sessions
                .iter()
                .map(|s| (s.src, s.src_shard, s.dst))
                .collect(),
            backlogs: instances
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
        let compact = World::compact_eligible(&cfg);
        let send_params = SendParams {
            compression: compression_ratio(cfg.replication.compression),
            per_op: (cfg.replication.syncer_ops_per_sec > 0.0)
                .then(|| SimDuration::from_secs_f64(1.0 / cfg.replication.syncer_ops_per_sec)),
            batch_window: cfg.replication.batch_window,
        };
        let generated_keys = cfg.workload.as_ref().map_or(0, |w| w.keys);
        let sampled = shadow::Sampled::for_config(&cfg, sessions.len());
        let reserve = sampled
            .as_ref()
            .map_or(u64::MAX, |s| s.sample.certain_below.saturating_mul(2));
        World {
            faults: Faults::new(&cfg.faults),
            members: Members::new(cfg.clusters.iter().map(|c| c.join_at.is_some())),
            catchups: CatchUps::new(sessions.len()),
            cfg,
            topo,
            instances,
            links,
            link_of,
            sessions,
            sessions_of_source,
            sessions_of_link,
            syncer_busy,
            send_params,
            workload,
            peers,
            last_apply: SimTime::ZERO,
            writes_open: true,
            gc: Gc::default(),
            sink: None,
            layout,
            observer: Box::new(()),
            effects_buffer: Vec::new(),
            command_buffer: None,
            tracer: None,
            peaks: Peaks::default(),
            keys: KeyDir::new(n)
                .with_compact(compact)
                .with_generated(generated_keys, reserve),
            sampled,
            state_log: Vec::new(),
            last_states: Vec::new(),
            sample_pending: false,
        }
    }

    /// Key ids are below this: every key the world has seen has one (a generated workload's
    /// keys have ids reserved by their numbers, seen or not yet: [`World::key_seen`]).
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Whether the key with id `key` has been seen (a reserved id may not have been yet).
    /// The generated workload's keys per kind (0 without a workload).
    pub fn generated_keys_per_kind(&self) -> u64 {
        self.cfg.workload.as_ref().map_or(0, |w| w.keys)
    }

    pub fn key_seen(&self, key: KeyId) -> bool {
        self.keys.is_seen(key)
    }

    /// The name of the key with id `key`.
    pub fn key_name(&self, key: KeyId) -> &[u8] {
        self.keys.name(key)
    }

    /// What `instance` has applied of each origin's ops on `key` (its vector clock for the
    /// key, one counter per instance; all zero when it holds no entry).
    pub fn key_clock(&self, key: KeyId, instance: usize) -> Vec<u64> {
        self.keys.clock(key, instance)
    }

    /// Whether instances `a` and `b` have applied the same ops to `key`.
    pub fn same_key_clock(&self, key: KeyId, a: usize, b: usize) -> bool {
        self.keys.same_clock(key, a, b)
    }

    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// The instances, by index (read-only: for observers and reports).
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// Whether instance `c` holds a copy of the data that must converge.
    pub fn is_member(&self, c: usize) -> bool {
        self.members.holds_data(c)
    }

    /// Instance `c`'s membership now.
    pub fn membership(&self, c: usize) -> super::Membership {
        self.members.get(c)
    }

    /// Installs the observer (see [`super::observe`]); the run itself is unchanged.
    pub fn set_observer(&mut self, observer: Box<dyn Observer>) {
        self.observer = observer;
    }

    /// Removes the observer.
    pub fn take_observer(&mut self) -> Box<dyn Observer> {
        std::mem::replace(&mut self.observer, Box::new(()))
    }

    /// Schedules the first arrivals and the faults.
    pub(super) fn start(&mut self, q: &mut Scheduler<Event>) {
        if let Some(w) = self.workload.as_mut() {
            for c in 0..self.instances.len() {
                if w.writes_at(c) {
                    let gap = w.next_gap(c, SimTime::ZERO);
                    q.schedule(SimTime::ZERO + gap, Event::Arrival { cluster: c as u32 });
                }
            }
        }
        if !self.cfg.sample_interval.is_zero() {
            self.sample_pending = true;
            q.schedule(SimTime::ZERO, Event::Sample);
        }
        for c in 0..self.instances.len() {
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
        for (c, inst) in self.instances.iter().enumerate() {
            if let Some(p) = inst.shards.iter().find_map(Shard::persistence_period) {
                q.schedule(SimTime::ZERO + p, Event::Persist { cluster: c as u32 });
            }
        }
        for (i, f) in self.faults.specs().enumerate() {
            q.schedule(f.begin, Event::FaultBegin { fault: i as u32 });
            q.schedule(f.end, Event::FaultEnd { fault: i as u32 });
        }
        self.note_states(SimTime::ZERO);
    }

    pub(super) fn end_of_writes(&self) -> SimTime {
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
        let drawn = w.draw_write(c);
        let number = w.last_key();
        let sampled = self.sampled.as_ref().is_none_or(|s| s.sample.keeps(number));
        // A shadow key's write needs no command: its stream bytes are known from the draws.
        // Either form is made before the gap is drawn (the random stream's order).
        let shadow = if sampled {
            None
        } else {
            w.shadow_write(c, drawn)
        };
        let cmd = shadow
            .is_none()
            .then(|| w.build_command(c, drawn, self.command_buffer.take()));
        let w = self
            .workload
            .as_mut()
            .expect("arrivals come from a workload");
        let gap = w.next_gap(c, now);
        if now + gap < self.end_of_writes() {
            q.schedule(now + gap, Event::Arrival { cluster: c as u32 });
        }
        if let Some(write) = shadow {
            self.write_shadow(c, &write, number, q);
        }
        if let Some(cmd) = cmd {
            if sampled {
                let key = self.keys.intern_generated(number, &cmd.key());
                self.execute_as(c, &cmd, Some(key), q);
            } else {
                self.write_shadow_command(c, &cmd, number, q);
            }
            self.command_buffer = Some(cmd);
        }
    }

    /// Executes a client command at cluster `c` and replicates its effects.
    pub fn execute(
        &mut self,
        c: usize,
        cmd: &redis::Command,
        q: &mut Scheduler<Event>,
    ) -> redis::Reply {
        self.execute_as(c, cmd, None, q)
    }

    /// [`World::execute`] of a single-key command whose key's id is `key`, if known.
    fn execute_as(
        &mut self,
        c: usize,
        cmd: &redis::Command,
        key: Option<KeyId>,
        q: &mut Scheduler<Event>,
    ) -> redis::Reply {
        let Some(at) = super::trace::begin_command(&mut self.tracer, c, cmd, q.now()) else {
            return self.execute_untraced(c, cmd, key, q);
        };
        let reply = self.execute_untraced(c, cmd, key, q);
        super::trace::end_command(&mut self.tracer, at, &reply);
        reply
    }

    /// The client write path: membership, the shard's state and its memory decide whether
    /// the command runs; its effects are appended to the shard's stream and shipped.
    fn execute_untraced(
        &mut self,
        c: usize,
        cmd: &redis::Command,
        known: Option<KeyId>,
        q: &mut Scheduler<Event>,
    ) -> redis::Reply {
        let now = q.now();
        let key = cmd.key();
        // Every key of a command shares this slot (`CROSSSLOT` refuses the others), so its
        // effects replicate with it: one CRC16 per command.
        let slot = redis::slot::key_slot(&key);
        let shard_idx = self.instances[c].topo.shard_of_slot(slot);
        let is_write = cmd.cmd.is_write();
        if is_write && let Some(msg) = self.members.write_refusal(c) {
            self.instances[c].counters.rejected += 1;
            return redis::Reply::err(msg);
        }
        if let Some(msg) = self.instances[c].refusal(shard_idx, is_write) {
            return redis::Reply::err(msg);
        }
        if is_write && !self.make_room(c, shard_idx, q) {
            let counters = &mut self.instances[c].counters;
            counters.rejected += 1;
            counters.oom_rejections += 1;
            return redis::Reply::err(OOM_ERROR);
        }
        if self.keys.compact() {
            if let Some(id) = known
                && self.instances[c].shards[shard_idx].allows_compact()
                && let Some(reply) = self.write_compact(c, shard_idx, (id, slot), cmd, q)
            {
                return reply;
            }
            // The general path: the command's keys are general here first.
            for k in cmd.key_args() {
                self.spill_named(&k.bytes(), c);
            }
        }
        let inst = &mut self.instances[c];
        let cx = inst.context(c, now, self.cfg.xadd_mode);
        let buffer = std::mem::take(&mut self.effects_buffer);
        let redis::exec::Outcome { reply, mut effects } =
            redis::exec::execute_with(&mut inst.shards[shard_idx].keyspace, cmd, &cx, buffer);
        if reply.is_error() {
            inst.counters.rejected += 1;
        } else if !effects.is_empty() {
            inst.counters.writes += 1;
        }
        if inst.tracks_access() {
            let keys: Vec<_> = cmd.key_args().map(|k| k.bytes()).collect();
            inst.touch(shard_idx, keys.iter().map(|k| &k[..]), now);
        }
        for e in &effects {
            self.observer.acknowledged(c, &e.op);
        }
        self.replicate_all(c, shard_idx, effects.drain(..), (Some(slot), known), q);
        self.effects_buffer = effects;
        reply
    }

    /// Replicates a command's effects, in the order they were applied, from `shard` of
    /// cluster `c`. `slot` is their keys' hash slot and `known` their key's id when the
    /// caller knows them (a single-key command); otherwise each is computed.
    fn replicate_all(
        &mut self,
        c: usize,
        shard: usize,
        effects: impl Iterator<Item = redis::Effect>,
        (slot, known): (Option<u16>, Option<KeyId>),
        q: &mut Scheduler<Event>,
    ) {
        let mut keys = Vec::new();
        for effect in effects {
            let slot = slot.unwrap_or_else(|| redis::slot::key_slot(&effect.op.key));
            let key = self.replicate(c, shard, slot, effect, known, q);
            if cfg!(debug_assertions) {
                keys.push(key);
            }
        }
        self.debug_check_clocks(c, &keys);
    }

    /// Tells the observers that key `key` may have changed, with whether its member
    /// instances now disagree on it (from its row, which the change just wrote).
    pub(super) fn notify_touched(&mut self, key: KeyId) {
        let mut first = None;
        let mut divergent = false;
        for c in 0..self.instances.len() {
            if !self.is_member(c) {
                continue;
            }
            match first {
                None => first = Some(c),
                Some(f) => {
                    if !self.keys.same_clock(key, f, c) {
                        divergent = true;
                        break;
                    }
                }
            }
        }
        self.observer.touched_with(key, divergent);
    }

    /// In debug builds (the tests), checks that the key directory's clock of each of `keys`
    /// at cluster `c` is the clock of its entry there.
    fn debug_check_clocks(&self, c: usize, keys: &[KeyId]) {
        if cfg!(debug_assertions) {
            for &key in keys {
                let entry = self.entry(c, self.keys.name(key));
                let mut want = vec![0; self.instances.len()];
                if let Some(e) = entry {
                    want[..e.ctx.entries().len()].copy_from_slice(e.ctx.entries());
                }
                assert_eq!(self.keys.clock(key, c), want, "key directory clock");
            }
        }
    }

    /// Appends an applied local effect to its shard's stream and ships it to the peers;
    /// `slot` is the hash slot of its key, `known` its id if the caller knows it. Returns the
    /// key's id.
    fn replicate(
        &mut self,
        c: usize,
        shard_idx: usize,
        slot: u16,
        effect: redis::Effect,
        known: Option<KeyId>,
        q: &mut Scheduler<Event>,
    ) -> KeyId {
        let now = q.now();
        let key = match known {
            Some(key) => {
                debug_assert_eq!(self.keys.name(key), &effect.op.key, "the known key id");
                key
            }
            None => self.keys.intern(&effect.op.key),
        };
        // A local op's clock is the key's clock at its origin right after that op was
        // applied; a command's effects are replicated in the order they were applied, so
        // the last one on a key leaves the key's clock (checked in debug builds).
        self.keys.set_clock(key, c, Some(&effect.op.vc));
        self.notify_touched(key);
        super::trace::local_op(&mut self.tracer, c, &effect.op, now);
        if effect.op.kind.removes() && self.gc.removal(&effect.op.key) {
            q.schedule_in(GC_INTERVAL, Event::Gc);
        }
        let extra = self.causal_extra_bytes(effect.op.key.len());
        let shard = &mut self.instances[c].shards[shard_idx];
        let appended = shard.append(
            effect.op,
            (effect.stream_bytes, &effect.large),
            extra,
            (slot, key),
            now,
        );
        self.ship_to_peers(c, shard_idx, appended, q);
        key
    }

    fn on_gc(&mut self, q: &mut Scheduler<Event>) {
        self.gc.due();
        if self.gc_pass() > 0 && self.gc.want() {
            q.schedule_in(GC_INTERVAL, Event::Gc);
        }
    }

    /// Client-visible keys at instance `c`.
    pub fn instance_keys(&self, c: usize) -> u64 {
        self.instances[c].live_keys()
    }

    /// Reads the string value of `key` at instance `c` (tests and reports).
    pub fn read(&self, c: usize, key: &[u8]) -> Option<crate::crdt::Value> {
        self.entry(c, key).and_then(|e| match e.key_type() {
            Some(crate::crdt::KeyType::String) => e.string_value(),
            _ => None,
        })
    }
}

/// A link per direction of the full mesh, with its own random stream, and `link_of[from][to]`.
fn build_links(cfg: &WorldConfig, topo: &Topology) -> (Vec<Link>, Vec<Vec<usize>>) {
    let n = cfg.clusters.len();
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
    (links, link_of)
}

/// The session tables: every syncer session, the sessions of each source shard and of each
/// link, and when each syncer process is next free.
struct SessionTables {
    sessions: Vec<Session>,
    /// `of_source[cluster][shard]`.
    of_source: Vec<Vec<Vec<u32>>>,
    of_link: Vec<Vec<u32>>,
    syncer_busy: Vec<SimTime>,
}

// The session tables are filled by index from several per-cluster tables at once.
#[allow(clippy::needless_range_loop)]
fn build_sessions(
    cfg: &WorldConfig,
    topo: &Topology,
    link_of: &[Vec<usize>],
    links: usize,
) -> SessionTables {
    let n = cfg.clusters.len();
    let mut sessions = Vec::new();
    let mut sessions_of_source: Vec<Vec<Vec<u32>>> = cfg
        .clusters
        .iter()
        .map(|c| vec![Vec::new(); c.shards])
        .collect();
    let mut sessions_of_link = vec![Vec::new(); links];
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
                sessions.push(Session::new(
                    (src, shard, dst),
                    link,
                    first_syncer + shard % per_pair,
                    stream_for(cfg.seed, &name),
                ));
                sessions_of_source[src][shard].push(id);
                sessions_of_link[link].push(id);
            }
        }
    }
    SessionTables {
        sessions,
        of_source: sessions_of_source,
        of_link: sessions_of_link,
        syncer_busy,
    }
}

impl Model for World {
    type Event = Event;

    fn handle(&mut self, event: Event, q: &mut Scheduler<Event>) {
        self.dispatch(event, q);
        // Session states change only at these events: a delivery (a partial sync catching
        // up) on its own session, anything else but an arrival on any session.
        match event {
            Event::Arrival { .. } => {}
            Event::Deliver { session, .. } => self.note_state(session as usize, q.now()),
            _ => self.note_states(q.now()),
        }
    }

    fn digest_event(&self, e: &Event, d: &mut Digest) {
        self.digest_one(e, d);
    }
}

impl World {
    fn dispatch(&mut self, event: Event, q: &mut Scheduler<Event>) {
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
            Event::Leave { cluster } => self.on_leave_due(cluster as usize, q),
            Event::Failover { fault } => self.on_failover(fault as usize, q),
            Event::Persist { cluster } => self.on_persist(cluster as usize, q),
        }
    }

    fn digest_one(&self, e: &Event, d: &mut Digest) {
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
