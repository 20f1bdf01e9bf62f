//! Shard persistence: what a shard recovers after a crash when no replica takes over.
//!
//! Redis Software Active-Active supports AOF persistence (every second recommended) [MANAGE;
//! PERSIST]; the snapshot mode is offered as the seed's what-if. The state machine keeps a
//! "durable" copy of the shard's keyspace as the persistence mode allows:
//!
//! * `AofAlways`: every write is durable when applied, so the crash state is recovered.
//! * `AofEverySec`: ops applied since the last fsync (on each whole second) are lost.
//! * `Snapshot(interval)`: the state at the last snapshot (every `interval`) is recovered.
//! * `None`: nothing survives.
//!
//! It is only maintained for shards that a scenario crashes, and only until the last crash.

use crate::crdt::{Keyspace, Op};
use crate::engine::{SimDuration, SimTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    None,
    AofAlways,
    AofEverySec,
    Snapshot(SimDuration),
}

impl Persistence {
    /// How often the durable copy advances (`None`: never or continuously).
    pub(crate) fn period(self) -> Option<SimDuration> {
        match self {
            Persistence::AofEverySec => Some(SimDuration::from_secs(1)),
            Persistence::Snapshot(d) => Some(d),
            Persistence::None | Persistence::AofAlways => None,
        }
    }
}

#[derive(Clone, Debug)]
enum Pending {
    Op(Op),
    Merge(Box<Keyspace>),
    /// Garbage collection of a key, in its place among the ops (the AOF replays the state
    /// the live shard had, collected history included).
    Gc(Box<[u8]>),
}

/// The durable copy of one shard.
#[derive(Clone, Debug)]
pub(crate) struct Durable {
    mode: Persistence,
    persisted: Keyspace,
    /// Applied but not yet fsynced (AOF every second).
    pending: Vec<Pending>,
    /// True time up to which the state is durable.
    persisted_at: SimTime,
}

impl Durable {
    pub fn new(mode: Persistence, instances: usize, causal: bool) -> Self {
        Durable {
            mode,
            persisted: Keyspace::new(instances).with_causal_consistency(causal),
            pending: Vec::new(),
            persisted_at: SimTime::ZERO,
        }
    }

    pub(crate) fn mode(&self) -> Persistence {
        self.mode
    }

    /// An op was applied to the live shard.
    pub(crate) fn record_op(&mut self, op: &Op) {
        if self.mode == Persistence::AofEverySec {
            self.pending.push(Pending::Op(op.clone()));
        }
    }

    /// A full-sync snapshot was merged into the live shard.
    pub(crate) fn record_merge(&mut self, snapshot: &Keyspace) {
        if self.mode == Persistence::AofEverySec {
            self.pending
                .push(Pending::Merge(Box::new(snapshot.clone())));
        }
    }

    /// The shard restarted with `recovered`: what was not persisted is gone, so the durable
    /// copy starts again from the recovered state (it must not replay the lost ops later).
    pub(crate) fn restarted(&mut self, now: SimTime, recovered: &Keyspace) {
        self.pending.clear();
        if self.mode != Persistence::None {
            self.persisted = recovered.clone();
        }
        self.persisted_at = now;
    }

    /// Garbage collection collected `key` on the live shard.
    pub(crate) fn record_gc(&mut self, key: &[u8]) {
        if self.mode == Persistence::AofEverySec {
            self.pending.push(Pending::Gc(key.into()));
        }
    }

    /// The periodic persistence point (fsync or snapshot) at `now`.
    pub(crate) fn tick(&mut self, now: SimTime, live: &Keyspace) {
        match self.mode {
            Persistence::AofEverySec => {
                for p in self.pending.drain(..) {
                    match p {
                        Pending::Op(op) => {
                            self.persisted.apply(&op);
                        }
                        Pending::Merge(k) => self.persisted.merge(&k),
                        Pending::Gc(key) => self.persisted.collect_garbage(&key),
                    }
                }
                self.persisted_at = now;
            }
            Persistence::Snapshot(_) => {
                self.persisted = live.clone();
                self.persisted_at = now;
            }
            Persistence::None | Persistence::AofAlways => {}
        }
    }

    /// True time up to which writes survive a crash at `crash`.
    pub(crate) fn durable_until(&self, crash: SimTime) -> SimTime {
        match self.mode {
            Persistence::AofAlways => crash,
            Persistence::None => SimTime::ZERO,
            _ => self.persisted_at,
        }
    }

    /// What the shard recovers after crashing while `live` was its state.
    pub(crate) fn recover(&self, live: &Keyspace) -> Keyspace {
        match self.mode {
            Persistence::AofAlways => live.clone(),
            Persistence::None => Keyspace::new(live.instances()),
            _ => self.persisted.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crdt::{InstanceId, OpKind, Value};

    fn set(ks: &Keyspace, key: &str) -> Op {
        ks.prepare(
            key.as_bytes(),
            InstanceId(0),
            1,
            OpKind::Set {
                value: Value::from_str_bytes("v"),
                observed: vec![],
            },
        )
    }

    fn run(mode: Persistence) -> (Keyspace, SimTime) {
        // Two writes, a persistence point, two more writes, then the crash.
        let mut live = Keyspace::new(2);
        let mut d = Durable::new(mode, 2, false);
        for k in ["a", "b"] {
            let op = set(&live, k);
            live.apply(&op);
            d.record_op(&op);
        }
        d.tick(SimTime(1_000), &live);
        for k in ["c", "d"] {
            let op = set(&live, k);
            live.apply(&op);
            d.record_op(&op);
        }
        (d.recover(&live), d.durable_until(SimTime(1_500)))
    }

    #[test]
    fn each_mode_recovers_what_it_persisted() {
        let (ks, until) = run(Persistence::AofAlways);
        assert_eq!((ks.len(), until), (4, SimTime(1_500)));
        let (ks, until) = run(Persistence::AofEverySec);
        assert_eq!((ks.len(), until), (2, SimTime(1_000)));
        let (ks, until) = run(Persistence::Snapshot(SimDuration::from_secs(60)));
        assert_eq!((ks.len(), until), (2, SimTime(1_000)));
        let (ks, until) = run(Persistence::None);
        assert_eq!((ks.len(), until), (0, SimTime::ZERO));
    }
}
