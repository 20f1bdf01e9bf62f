//! The observation stream: what the model tells observers as it runs. Observers (the
//! checkers in `check/`, a library user's own) read what they are shown and never change the
//! run: a run with any set of observers has the same history and digest as one with none.

use std::any::Any;

use super::keys::{KeyId, KeyRef};
use super::metrics::Sample;
use super::world::World;
use crate::crdt::keyspace::compact::{Compact, CompactOp};
use crate::crdt::{Entry, Op};

/// Receives the model's observations. Every method has a default that ignores it, so an
/// observer implements only what it needs. `Any` lets the owner of a finished run take its
/// observers back by type.
pub trait Observer: Any {
    /// A replicated op reached instance `dst` and is about to be applied; `before` is its
    /// key's entry there (`None`: the key has none yet).
    fn before_apply(&mut self, dst: usize, before: Option<&Entry>, op: &Op) {
        let _ = (dst, before, op);
    }

    /// [`Observer::before_apply`] of an op applied directly to a key held compact (a
    /// generated workload's `SET` or `INCR`; see `crdt::keyspace::compact`): `key` is the
    /// key (its name on demand), `before` its state at `dst` (`None`: none yet). The default
    /// shows the general forms to `before_apply`; an observer on the hot path reads the
    /// compact ones.
    fn before_apply_compact(
        &mut self,
        dst: usize,
        key: KeyRef<'_>,
        before: Option<&Compact>,
        op: &CompactOp,
    ) {
        // A compact state's clocks have at most three entries: any instance count of at
        // most three gives the same entry.
        let name = key.name();
        let entry = before.map(|b| b.to_entry(name, 3));
        self.before_apply(dst, entry.as_ref(), &op.to_op(name));
    }

    /// A client's write was acknowledged at instance `origin` (applied there and about to be
    /// replicated): `op` is one of its effects. Evictions, expiry and other writes the
    /// database makes on its own are not client writes and are not shown here.
    fn acknowledged(&mut self, origin: usize, op: &Op) {
        let _ = (origin, op);
    }

    /// [`Observer::acknowledged`] of a write made directly on a key held compact; the
    /// default shows the general form to `acknowledged`.
    fn acknowledged_compact(&mut self, origin: usize, key: KeyRef<'_>, op: &CompactOp) {
        self.acknowledged(origin, &op.to_op(key.name()));
    }

    /// An effect the database made on its own at instance `origin` (an eviction's or an
    /// expiry's `DEL`), about to be replicated.
    fn database_effect(&mut self, origin: usize, op: &Op) {
        let _ = (origin, op);
    }

    /// The state of the key with id `key` may have changed at some instance (a write, an
    /// apply, a merged snapshot, a restart that lost it); [`World::key_name`] names it.
    fn touched(&mut self, key: KeyId) {
        let _ = key;
    }

    /// [`Observer::touched`], with whether the key's member instances now disagree on it
    /// (have not all applied the same writes to it), read from the key's row right after the
    /// change wrote it. The world calls this one; the default forwards to `touched`.
    fn touched_with(&mut self, key: KeyId, divergent: bool) {
        let _ = divergent;
        self.touched(key);
    }

    /// Membership changed: every key may need a fresh look.
    fn membership_changed(&mut self) {}

    /// A metrics sample is taken: `world` is the state now; an observer may add its own
    /// figures to `sample`.
    fn sample(&mut self, world: &World, sample: &mut Sample) {
        let _ = (world, sample);
    }

    /// The run has ended; `world` is its final state.
    fn finish(&mut self, world: &World) {
        let _ = world;
    }
}

/// Observes nothing.
impl Observer for () {}
