//! Routing for faults, crashes and membership: the fault controller (`fault::Faults`) says
//! what a fault's begin and end do; links are cut, held, degraded or healed here, shards crash
//! and restart (`shard::Shard`), and membership (`membership::Members`) moves instances in and
//! out. Also the script's partition, heal and sync steps.

use super::{Event, World};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::model::fault::{Fault, FaultKind, Onset, PartitionMode, Recovery};
use crate::model::membership::Membership;

/// How often a removal without force checks whether the leaving cluster's stream has drained.
pub(in crate::model) const LEAVE_CHECK: SimDuration = SimDuration::from_millis(10);

/// How long a scripted `sync` waits with nothing applied before it names a stopped
/// replication as the reason it cannot complete.
pub(in crate::model) const SYNC_STALL: SimDuration = SimDuration::from_secs(30);

impl World {
    /// Every directed link of fault `f`.
    pub(in crate::model) fn fault_links(&self, f: usize) -> Vec<usize> {
        let mut v = Vec::new();
        for &(a, b) in &self.faults.spec(f).pairs {
            v.push(self.link_of[a][b]);
            v.push(self.link_of[b][a]);
        }
        v
    }

    pub(in crate::model) fn on_fault_begin(&mut self, f: usize, q: &mut Scheduler<Event>) {
        let timeout = self.cfg.replication.timeout;
        let Some(onset) = self.faults.begin(f, q.now(), timeout) else {
            return;
        };
        self.trace_fault(f, true, q.now());
        match onset {
            Onset::Cut => self.cut_links(f, q),
            Onset::Hold { timeout_at } => {
                for l in self.fault_links(f) {
                    self.links[l].hold(true);
                }
                if let Some(at) = timeout_at {
                    q.schedule(at, Event::StallTimeout { fault: f as u32 });
                }
            }
            Onset::Degrade {
                extra_latency,
                bandwidth_bps,
            } => {
                for l in self.fault_links(f) {
                    self.links[l].degrade(f, extra_latency, bandwidth_bps);
                }
            }
            Onset::Crash { cluster, shard } => self.crash(f, cluster, shard, q),
        }
    }

    /// Cuts fault `f`'s links: their syncer connections drop and their queues are discarded.
    pub(in crate::model) fn cut_links(&mut self, f: usize, q: &mut Scheduler<Event>) {
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

    pub(in crate::model) fn on_stall_timeout(&mut self, f: usize, q: &mut Scheduler<Event>) {
        // The peers saw nothing for the replication timeout: they drop the connections.
        if self.faults.stall_timeout(f) {
            for l in self.fault_links(f) {
                self.links[l].hold(false);
            }
            self.cut_links(f, q);
        }
    }

    pub(in crate::model) fn on_fault_end(&mut self, f: usize, q: &mut Scheduler<Event>) {
        if let Some(recovery) = self.faults.end(f) {
            self.recover(f, recovery, q);
        }
    }

    /// Ends fault `f` now, whatever its schedule.
    pub(in crate::model) fn end_fault(&mut self, f: usize, q: &mut Scheduler<Event>) {
        let recovery = self.faults.end_now(f);
        self.recover(f, recovery, q);
    }

    pub(in crate::model) fn recover(
        &mut self,
        f: usize,
        recovery: Recovery,
        q: &mut Scheduler<Event>,
    ) {
        self.trace_fault(f, false, q.now());
        match recovery {
            Recovery::Release => {
                let spec = self.faults.spec(f);
                let ci = self.catchups.open(&spec.name, spec.begin, q.now());
                for l in self.fault_links(f) {
                    if !self.links[l].hold(false) {
                        self.release_link(l, Some(ci), q);
                    }
                }
                self.catchups.close_if_done(ci);
            }
            Recovery::Heal => self.heal_links(f, q),
            Recovery::Restore => {
                for l in self.fault_links(f) {
                    self.links[l].restore(f);
                }
            }
            Recovery::Restart { cluster, shard } => self.restart(cluster, shard, q),
        }
    }

    /// A primary crashes: its stream stops, peers pulling from it lose their connections, its
    /// keys are unavailable until a replica takes over or the process restarts.
    pub(in crate::model) fn crash(
        &mut self,
        f: usize,
        c: usize,
        shard: usize,
        q: &mut Scheduler<Event>,
    ) {
        if !self.instances[c].shards[shard].crash() {
            return;
        }
        for &sid in &self.sessions_of_source[c][shard] {
            self.sessions[sid as usize].disconnect();
        }
        if self.instances[c].replication {
            // The replica holds the data and a copy of the CRDT backlog [SYNCER]: nothing is
            // lost, and peers can continue with partial syncs once it is promoted.
            let delay = self.cfg.clusters[c].failover_delay;
            q.schedule_in(delay, Event::Failover { fault: f as u32 });
            return;
        }
        // No replica: what the persistence did not keep is lost here. A write some peer had
        // already applied comes back from that peer; the others are lost for good.
        let readers = &self.sessions_of_source[c][shard];
        let sessions = &self.sessions;
        let (lost, recovered) = self.instances[c].shards[shard].crash_losses(q.now(), |end| {
            readers
                .iter()
                .any(|sid| sessions[*sid as usize].consumed >= end)
        });
        let counters = &mut self.instances[c].counters;
        counters.writes_lost += lost;
        counters.writes_recovered_from_peers += recovered;
    }

    pub(in crate::model) fn on_failover(&mut self, f: usize, q: &mut Scheduler<Event>) {
        let FaultKind::Crash { cluster, shard } = self.faults.spec(f).kind else {
            return;
        };
        if self.instances[cluster].shards[shard].fail_over() {
            use crate::crdt::planted::{PlantedBug, planted};
            if planted(PlantedBug::OffsetReuseAfterFailover) {
                for &sid in &self.sessions_of_source[cluster][shard] {
                    let s = &mut self.sessions[sid as usize];
                    s.skip_next_as_duplicate = s.consumed > 0;
                }
            }
            self.reconnect_sources(cluster, shard, q);
        }
    }

    /// Schedules a reconnect for every disconnected session pulling from this shard.
    pub(in crate::model) fn reconnect_sources(
        &mut self,
        c: usize,
        shard: usize,
        q: &mut Scheduler<Event>,
    ) {
        for i in 0..self.sessions_of_source[c][shard].len() {
            let sid = self.sessions_of_source[c][shard][i] as usize;
            if self.sessions[sid].is_disconnected() && self.links[self.sessions[sid].link].is_up() {
                self.schedule_reconnect(sid, q);
            }
        }
    }

    /// The crashed process restarts. After a failover it rejoins as the replica (nothing
    /// changes); otherwise the shard recovers its durable state with a new replication
    /// history, and resyncs with every peer in full.
    pub(in crate::model) fn restart(&mut self, c: usize, shard: usize, q: &mut Scheduler<Event>) {
        // Recovery replaces the whole keyspace: every key of the shard is general first.
        self.spill_shard(c, Some(shard));
        let keys = &mut self.keys;
        let mut touched = Vec::new();
        let restarted = self.instances[c].shards[shard].restart(q.now(), |k, entry| {
            let key = keys.intern(k);
            keys.set_clock(key, c, entry.map(|e| &e.ctx));
            touched.push(key);
        });
        for key in touched {
            self.notify_touched(key);
        }
        self.instances[c].reloaded(shard, q.now());
        if !restarted {
            return;
        }
        // Peers pulling from this shard: their offsets belong to the old history.
        self.reconnect_sources(c, shard, q);
        // This instance lost ops it had received: every syncer feeding it resyncs in full.
        for sid in 0..self.sessions.len() {
            let s = &mut self.sessions[sid];
            if s.dst != c {
                continue;
            }
            s.force_full = true;
            if !s.in_full_sync() {
                s.disconnect();
                if self.links[s.link].is_up() {
                    self.schedule_reconnect(sid, q);
                }
            }
        }
        self.release_stale(c, q);
    }

    /// Whether an active peer still owes instance `c` a full sync (from `src` only, if given).
    pub(in crate::model) fn full_sync_owed(&self, c: usize, src: Option<usize>) -> bool {
        self.sessions.iter().any(|s| {
            s.dst == c
                && src.is_none_or(|x| x == s.src)
                && self.members.serves(s.src)
                && s.force_full
        })
    }

    /// Ends stale mode on cluster `c`'s restarted shards once no syncer from an active peer
    /// still owes it a full sync.
    pub(in crate::model) fn release_stale(&mut self, c: usize, q: &mut Scheduler<Event>) {
        if self.full_sync_owed(c, None) {
            return;
        }
        for shard in 0..self.instances[c].shards.len() {
            if self.instances[c].shards[shard].release_stale() {
                self.reconnect_sources(c, shard, q);
            }
        }
    }

    /// Cluster `c` is added: it pulls a full sync from every peer shard (writes refused until
    /// they complete), and its peers start pulling its (empty) stream.
    pub(in crate::model) fn on_join(&mut self, c: usize, q: &mut Scheduler<Event>) {
        if !self.members.join(c) {
            return;
        }
        self.observer.membership_changed();
        for sid in 0..self.sessions.len() {
            let s = &self.sessions[sid];
            if s.dst == c || s.src == c {
                // Full syncs from the members it joins; a peer added later is new to it too,
                // and its stream (from offset 0) covers everything it wrote.
                if s.dst == c && self.members.serves(s.src) {
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
    pub(in crate::model) fn check_joined(&mut self, c: usize, now: SimTime) {
        let sessions = &self.sessions;
        self.members.finish_join_if_synced(c, now, |src| {
            sessions
                .iter()
                .any(|s| s.dst == c && s.src == src && s.force_full)
        });
    }

    /// Cluster `c`'s removal is due (`leave_at`) or rechecked. Forced: it is removed at once.
    /// Otherwise it refuses writes from now on and is removed once every remaining member has
    /// consumed its whole stream ("all of the operations that the instance received from
    /// clients must be propagated to the other instances" [CRDB-MODIFY]); until then this is
    /// rechecked every [`LEAVE_CHECK`].
    pub(in crate::model) fn on_leave_due(&mut self, c: usize, q: &mut Scheduler<Event>) {
        let forced = self.cfg.clusters[c].leave_at.is_some_and(|(_, f)| f);
        if forced || self.members.get(c) == Membership::Absent {
            return self.on_leave(c);
        }
        if self.members.get(c) != Membership::Leaving {
            self.members.begin_leave(c);
            self.observer.membership_changed();
        }
        if self.stream_drained(c) {
            self.on_leave(c);
        } else {
            q.schedule_in(LEAVE_CHECK, Event::Leave { cluster: c as u32 });
        }
    }

    /// Whether every remaining member has consumed all of cluster `c`'s streams.
    fn stream_drained(&self, c: usize) -> bool {
        self.sessions_of_source[c]
            .iter()
            .enumerate()
            .all(|(shard, sids)| {
                let end = self.instances[c].shards[shard].backlog.end();
                sids.iter()
                    .map(|&sid| &self.sessions[sid as usize])
                    .all(|s| s.consumed >= end || !self.members.holds_data(s.dst) || s.dst == c)
            })
    }

    /// Cluster `c` is removed: its peers stop syncing with it and refuse its reconnects.
    pub(in crate::model) fn on_leave(&mut self, c: usize) {
        let forced = self.cfg.clusters[c].leave_at.is_some_and(|(_, f)| f);
        self.members.leave(c, !forced);
        self.instances[c].counters.writes_lost_to_removal += self.writes_lost_to_removal(c);
        self.observer.membership_changed();
        for s in &mut self.sessions {
            if s.src == c || s.dst == c {
                s.disconnect();
            }
        }
    }

    /// When cluster `c` is removed: its writes that some member left will never receive, per
    /// shard its stream's writes so far less the least any remaining member's session has
    /// consumed from it (in-flight ops are dropped with the connections; nothing relays a
    /// removed instance's ops, so a write that reached one member and not another stays
    /// there alone). Writes the removed instance acknowledges afterwards are not a member's
    /// and are not counted.
    fn writes_lost_to_removal(&self, c: usize) -> u64 {
        let left = |d: usize| d != c && self.members.holds_data(d);
        let mut lost = 0;
        for (shard, sids) in self.sessions_of_source[c].iter().enumerate() {
            let reached = sids
                .iter()
                .map(|&sid| &self.sessions[sid as usize])
                .filter(|s| left(s.dst))
                .map(|s| s.consumed_writes)
                .min()
                .unwrap_or(0);
            lost += self.instances[c].shards[shard]
                .stream_writes
                .saturating_sub(reached);
        }
        lost
    }

    /// A persistence point for cluster `c`'s tracked shards; reschedules until the last crash.
    pub(in crate::model) fn on_persist(&mut self, c: usize, q: &mut Scheduler<Event>) {
        let now = q.now();
        let mut period = None;
        for sh in &mut self.instances[c].shards {
            if let Some(p) = sh.persist(now) {
                period = Some(p);
            }
        }
        if let (Some(p), Some(last)) = (period, self.faults.last_crash_of(c))
            && now + p <= last
        {
            q.schedule_in(p, Event::Persist { cluster: c as u32 });
        }
    }

    /// Ends a partition that dropped connections: links come back, syncers reconnect.
    pub(in crate::model) fn heal_links(&mut self, f: usize, q: &mut Scheduler<Event>) {
        let spec = self.faults.spec(f);
        let ci = self.catchups.open(&spec.name, spec.begin, q.now());
        for l in self.fault_links(f) {
            if !self.links[l].heal() {
                continue;
            }
            for i in 0..self.sessions_of_link[l].len() {
                let sid = self.sessions_of_link[l][i] as usize;
                self.track_catchup(sid, ci);
                if self.sessions[sid].is_disconnected() {
                    self.schedule_reconnect(sid, q);
                }
            }
            if !self.links[l].is_held() {
                self.release_link(l, None, q);
            }
        }
        self.catchups.close_if_done(ci);
    }

    /// Holds (or releases) every link between clusters in `group`; released links send what
    /// they held, in order.
    pub(in crate::model) fn set_held(
        &mut self,
        group: &[usize],
        held: bool,
        q: &mut Scheduler<Event>,
    ) {
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
    pub(in crate::model) fn group_idle(&self, group: &[usize]) -> bool {
        self.sessions.iter().all(|s| {
            !group.contains(&s.src)
                || !group.contains(&s.dst)
                || !self.links[s.link].is_up()
                || (s.idle() && s.is_streaming())
        })
    }

    /// Why a sync of `group` cannot complete, when it cannot: replication into a member is
    /// stopped by OOM (its shard full, nothing evictable) and nothing has been applied
    /// anywhere for [`SYNC_STALL`]. (Memory could still be freed later by a key's expiry;
    /// a script that needs that waits for it before its `sync`.)
    pub(in crate::model) fn group_stuck(&self, group: &[usize], now: SimTime) -> Option<String> {
        if now.since(self.last_apply) < SYNC_STALL {
            return None;
        }
        let s = self.sessions.iter().find(|s| {
            group.contains(&s.src)
                && group.contains(&s.dst)
                && self.links[s.link].is_up()
                && s.oom_blocked
        })?;
        let name = |c: usize| self.cfg.clusters[c].name.as_str();
        Some(format!(
            "replication from {} into {} stopped by OOM: {}'s memory_limit is reached and nothing \
             was freed for {SYNC_STALL}",
            name(s.src),
            name(s.dst),
            name(s.dst)
        ))
    }

    /// Starts a partition now (a script step).
    pub(in crate::model) fn partition_now(
        &mut self,
        pairs: Vec<(usize, usize)>,
        name: String,
        q: &mut Scheduler<Event>,
    ) {
        let f = self.faults.push(Fault {
            name,
            begin: q.now(),
            end: SimTime::MAX,
            pairs,
            kind: FaultKind::Partition(PartitionMode::Drop),
        });
        self.on_fault_begin(f, q);
    }

    /// Heals every active partition now (a script step).
    pub(in crate::model) fn heal_now(&mut self, q: &mut Scheduler<Event>) {
        for f in 0..self.faults.len() {
            if self.faults.is_active(f) && self.faults.spec(f).is_partition() {
                self.end_fault(f, q);
            }
        }
    }

    /// Ends every active fault now and stops writes (the healed phase of a run).
    pub(in crate::model) fn heal_everything(&mut self, q: &mut Scheduler<Event>) {
        self.writes_open = false;
        for f in 0..self.faults.len() {
            if self.faults.is_active(f) {
                self.end_fault(f, q);
            }
            self.faults.retire(f);
        }
    }
}
