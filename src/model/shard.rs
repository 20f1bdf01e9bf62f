//! A shard's primary: its keyspace, its CRDT replication backlog, its durable copy, and its
//! lifecycle (`up → down` on a crash, `down → up` on a failover, `down → stale → up` on a
//! restart from persistence).

use super::backlog::{Backlog, BacklogModel};
use super::keys::KeyId;
use super::persistence::{Durable, Persistence};
use super::syncer::StreamOp;
use crate::crdt::keyspace::Key;
use crate::crdt::{Entry, Keyspace, Op};
use crate::engine::{SimDuration, SimTime};
use crate::redis::select_bytes;

/// An op as the backlog holds it (`None` only for filler in tests of the backlog).
pub(crate) type BacklogItem = Option<StreamOp>;

#[derive(Debug)]
pub struct Shard {
    pub keyspace: Keyspace,
    pub backlog: Backlog<BacklogItem>,
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
    /// The shard's keys held compact in the world's key directory (not in `keyspace`): how
    /// many a client sees, and their `entry_bytes`.
    pub(crate) compact_live: u64,
    pub(crate) compact_bytes: u64,
    /// With sampled fidelity: the keys outside the sample that this shard holds, and their
    /// modelled bytes (see `model::keysample`).
    pub(crate) shadow_keys: u64,
    pub(crate) shadow_bytes: u64,
    /// The stream's writes by write time, from the oldest one a peer has not seen.
    pub(crate) write_times: super::metrics::WriteTimes,
    /// Writes appended to the stream (ops that take stream bytes), ever: a session's
    /// `consumed_writes` counts the same ones as they reach its destination.
    pub(crate) stream_writes: u64,
    /// Copies of the shard the memory limit covers: 2 with a replica, which holds what the
    /// primary holds (its data, the CRDT backlog, the replication backlog), else 1.
    copies: u64,
    /// The database replication backlog (primary to replica): its size (0 without a
    /// replica) and the bytes it holds, filled by the primary's stream to the replica (its
    /// own writes and the peers' ops applied here) up to the size.
    repl_backlog: u64,
    repl_held: u64,
}

/// A stream op just appended: what the syncers of this shard ship.
#[derive(Clone, Debug)]
pub(crate) struct Appended {
    /// Stream bytes of the op (with a `SELECT` before it when one was due).
    pub bytes: u64,
    /// Stream offset after the op.
    pub end: u64,
    pub item: StreamOp,
}

impl Shard {
    pub fn new(
        instances: usize,
        causal_consistency: bool,
        model: BacklogModel,
        backlog_bytes: u64,
    ) -> Self {
        Shard {
            keyspace: Keyspace::new(instances).with_causal_consistency(causal_consistency),
            backlog: Backlog::new(model, backlog_bytes),
            needs_select: true,
            down: false,
            stale: false,
            epoch: 0,
            durable: None,
            compact_live: 0,
            compact_bytes: 0,
            shadow_keys: 0,
            shadow_bytes: 0,
            write_times: Default::default(),
            stream_writes: 0,
            copies: 1,
            repl_backlog: 0,
            repl_held: 0,
        }
    }

    /// The shard has a replica in its cluster, with a replication backlog of `repl_backlog`
    /// bytes: both count against the memory limit.
    pub(crate) fn with_replica(mut self, repl_backlog: u64) -> Self {
        self.copies = 2;
        self.repl_backlog = repl_backlog;
        self
    }

    /// Copies of the shard's memory the limit counts: 2 with a replica, else 1.
    pub(crate) fn copies(&self) -> u64 {
        self.copies
    }

    /// The primary sent its replica `bytes` of replication stream.
    pub(crate) fn replicate(&mut self, bytes: u64) {
        self.repl_held = self.repl_held.saturating_add(bytes).min(self.repl_backlog);
    }

    /// Keeps a durable copy of the shard (a crash will take it down without a replica).
    pub(crate) fn track_durability(&mut self, mode: Persistence, instances: usize, causal: bool) {
        if self.durable.is_none() {
            self.durable = Some(Durable::new(mode, instances, causal));
        }
    }

    pub(crate) fn persistence_period(&self) -> Option<SimDuration> {
        self.durable.as_ref().and_then(|d| d.mode().period())
    }

    pub(crate) fn is_down(&self) -> bool {
        self.down
    }

    pub(crate) fn is_stale(&self) -> bool {
        self.stale
    }

    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Whether keys of this shard may be held compact: not when it keeps a durable copy
    /// (persistence records every op and snapshots the keyspace).
    pub(crate) fn allows_compact(&self) -> bool {
        self.durable.is_none()
    }

    /// Used memory, as the memory limit counts it: the keyspace estimate (compact and shadow
    /// keys included), the CRDT backlog and the replication backlog held, once per copy.
    pub(crate) fn used(&self) -> u64 {
        self.copies
            * (self.keyspace.bytes()
                + self.compact_bytes
                + self.shadow_bytes
                + self.backlog.histlen()
                + self.repl_held)
    }

    /// Records an op applied to the keyspace (a local write or a peer's) in the durable copy.
    pub(crate) fn record_op(&mut self, op: &Op) {
        if let Some(d) = self.durable.as_mut() {
            d.record_op(op);
        }
    }

    /// Records garbage collection of `key`'s removal history in the durable copy.
    pub(crate) fn record_gc(&mut self, key: &[u8]) {
        if let Some(d) = self.durable.as_mut() {
            d.record_gc(key);
        }
    }

    /// Appends a locally applied op to the replication stream. `stream_bytes` is its RESP
    /// size, `extra_bytes` what causal consistency adds per op; `slot` its key's hash slot
    /// and `key` its id.
    pub(crate) fn append(
        &mut self,
        op: Op,
        (stream_bytes, large): (u64, &[(u64, u64)]),
        extra_bytes: u64,
        (slot, key): (u16, KeyId),
        now: SimTime,
    ) -> Appended {
        self.record_op(&op);
        debug_assert_eq!(slot, crate::redis::slot::key_slot(&op.key));
        let item = StreamOp::new(op, now, slot, key);
        self.append_item(item, (stream_bytes, large), extra_bytes)
    }

    /// Appends an op already packed (and recorded) to the replication stream: its RESP size
    /// `stream_bytes` (with `large`, its arguments longer than a buffer block, as offsets
    /// within it), after a `SELECT` if one is due, plus `extra_bytes` (see
    /// [`Shard::append`]).
    pub(crate) fn append_item(
        &mut self,
        item: StreamOp,
        (stream_bytes, large): (u64, &[(u64, u64)]),
        extra_bytes: u64,
    ) -> Appended {
        let mut bytes = stream_bytes;
        let mut select = 0;
        if self.needs_select && bytes > 0 {
            select = select_bytes(0);
            bytes += select;
            self.needs_select = false;
        }
        bytes += extra_bytes;
        if bytes > 0 {
            self.write_times.record(item.written_at.0);
            self.stream_writes += 1;
        }
        self.replicate(bytes);
        let before = self.backlog.end();
        let (_, end) = if large.is_empty() {
            self.backlog.append(bytes, Some(item.clone()))
        } else {
            let shifted: Vec<(u64, u64)> = large.iter().map(|&(o, l)| (o + select, l)).collect();
            self.backlog
                .append_laid_out(bytes, &shifted, Some(item.clone()))
        };
        assert_eq!(
            end,
            before + bytes,
            "a stream offset moves by the op's bytes"
        );
        Appended { bytes, end, item }
    }

    /// A snapshot of the shard for a full sync: (state, replication epoch, stream offset it
    /// covers). The stream restarts with a `SELECT` after it, as Redis's does.
    pub(crate) fn snapshot(&mut self) -> (Box<Keyspace>, u32, u64) {
        self.needs_select = true;
        (
            Box::new(self.keyspace.clone()),
            self.epoch,
            self.backlog.end(),
        )
    }

    /// Merges the part of a peer's snapshot that this shard owns (`owns(key)`).
    pub(crate) fn merge_snapshot(&mut self, snapshot: &Keyspace, owns: impl Fn(&[u8]) -> bool) {
        self.keyspace.merge_filtered(snapshot, &owns);
        if let Some(d) = self.durable.as_mut() {
            d.record_merge(&snapshot.filtered(&owns));
        }
    }

    /// The primary crashes; `false` if it was already down.
    pub(crate) fn crash(&mut self) -> bool {
        !std::mem::replace(&mut self.down, true)
    }

    /// A replica takes over; `false` if the shard was not down.
    pub(crate) fn fail_over(&mut self) -> bool {
        std::mem::replace(&mut self.down, false)
    }

    /// The writes a crash at `now` loses: those after what persistence kept. `replicated(end)`
    /// says whether some peer had applied the op ending at stream offset `end` (it comes
    /// back from there). Returns (lost for good, recovered from peers).
    pub(crate) fn crash_losses(
        &self,
        now: SimTime,
        replicated: impl Fn(u64) -> bool,
    ) -> (u64, u64) {
        let until = match &self.durable {
            Some(d) => d.durable_until(now),
            None => now,
        };
        let (mut lost, mut recovered) = (0, 0);
        for it in self.backlog.items_from(0) {
            let Some(op) = &it.payload else { continue };
            if op.written_at <= until {
                continue;
            }
            if replicated(it.end) {
                recovered += 1;
            } else {
                lost += 1;
            }
        }
        (lost, recovered)
    }

    /// The process restarts from its durable copy (`false` if it was not down): stale mode,
    /// a new replication history, a backlog that continues from the old offset. `changed` is
    /// told, in key order, every key the shard held before or holds now, with its entry now.
    pub(crate) fn restart(
        &mut self,
        now: SimTime,
        mut changed: impl FnMut(&[u8], Option<&Entry>),
    ) -> bool {
        if !self.down {
            return false;
        }
        let recovered = match &self.durable {
            Some(d) => d.recover(&self.keyspace),
            None => self.keyspace.clone(),
        };
        let before = std::mem::replace(&mut self.keyspace, recovered);
        let mut keys: Vec<&Key> = before
            .iter()
            .chain(self.keyspace.iter())
            .map(|(k, _)| k)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            changed(k, self.keyspace.entry(k));
        }
        self.down = false;
        self.stale = true;
        self.epoch += 1;
        self.needs_select = true;
        self.repl_held = 0;
        let end = self.backlog.end();
        self.backlog = Backlog::starting_at(self.backlog.model(), self.backlog.size(), end);
        if let Some(d) = self.durable.as_mut() {
            d.restarted(now, &self.keyspace);
        }
        true
    }

    /// Leaves stale mode; `false` if the shard was not stale.
    pub(crate) fn release_stale(&mut self) -> bool {
        std::mem::take(&mut self.stale)
    }

    /// A persistence point (fsync or snapshot); the period until the next, if any.
    pub(crate) fn persist(&mut self, now: SimTime) -> Option<SimDuration> {
        if self.down {
            return None;
        }
        let d = self.durable.as_mut()?;
        d.tick(now, &self.keyspace);
        d.mode().period()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crdt::InstanceId;
    use crate::redis::{self, ExecContext};

    fn set(shard: &mut Shard, key: &str, now: SimTime) -> Appended {
        let cmd = redis::parse_line(&format!("SET {key} v")).expect("valid");
        let cx = ExecContext {
            origin: InstanceId(0),
            now_ms: now.0 / 1_000_000,
            xadd_mode: crate::crdt::stream::XaddIdMode::Strict,
            annotation: now.0,
        };
        let mut out = redis::execute(&mut shard.keyspace, &cmd, &cx);
        let e = out.effects.pop().expect("a SET has an effect");
        let slot = redis::slot::key_slot(&e.op.key);
        shard.append(e.op, (e.stream_bytes, &e.large), 0, (slot, KeyId(0)), now)
    }

    #[test]
    fn the_first_op_and_the_first_after_a_snapshot_carry_a_select() {
        let mut s = Shard::new(2, false, BacklogModel::Ring, 1 << 20);
        let a = set(&mut s, "k", SimTime(1));
        let b = set(&mut s, "k", SimTime(2));
        assert_eq!(a.bytes, b.bytes + select_bytes(0));
        assert_eq!(b.end, a.end + b.bytes);
        let (_, epoch, offset) = s.snapshot();
        assert_eq!((epoch, offset), (0, b.end));
        let c = set(&mut s, "k", SimTime(3));
        assert_eq!(c.bytes, a.bytes);
    }

    #[test]
    fn a_restart_without_persistence_keeps_nothing_it_had_not_replicated() {
        let mut s = Shard::new(2, false, BacklogModel::Ring, 1 << 20);
        s.track_durability(Persistence::None, 2, false);
        let a = set(&mut s, "a", SimTime(1));
        set(&mut s, "b", SimTime(2));
        assert!(s.crash());
        assert!(!s.crash(), "a down shard cannot crash again");
        // A peer had applied the first write only.
        assert_eq!(
            s.crash_losses(SimTime(3), |end| end <= a.end),
            (1, 1),
            "one lost for good, one back from the peer"
        );
        let mut forgotten = Vec::new();
        assert!(s.restart(SimTime(4), |k, _| forgotten.push(k.to_vec())));
        assert_eq!(forgotten.len(), 2);
        assert!(s.is_stale() && !s.is_down());
        assert_eq!(s.epoch(), 1, "a restart starts a new replication history");
        assert_eq!(s.keyspace.key_count(), 0);
        assert!(
            !s.backlog.can_continue_from(0),
            "the new backlog continues from the old offset, not from zero"
        );
        assert!(s.release_stale());
        assert!(!s.release_stale());
    }

    #[test]
    fn a_failover_brings_the_shard_back_with_its_history() {
        let mut s = Shard::new(2, false, BacklogModel::Ring, 1 << 20);
        set(&mut s, "a", SimTime(1));
        assert!(!s.fail_over(), "an up shard has nothing to fail over");
        assert!(s.crash());
        assert!(s.fail_over());
        assert_eq!((s.epoch(), s.is_stale()), (0, false));
        assert!(s.backlog.can_continue_from(0));
    }
}
