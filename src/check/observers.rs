//! The checkers every run has (LWW conflicts, divergent keys) and any a caller adds, as one
//! observer that tells each of them, in order.

use super::divergence::Divergence;
use super::lww::LwwObserver;
use crate::crdt::keyspace::compact::{Compact, CompactOp};
use crate::crdt::{Entry, Op};
use crate::model::keys::{KeyId, KeyRef};
use crate::model::metrics::Sample;
use crate::model::{Observer, World};

#[derive(Default)]
pub struct Checks {
    pub lww: LwwObserver,
    pub divergence: Divergence,
    /// A caller's own observers, told after the built-in ones.
    pub extra: Vec<Box<dyn Observer>>,
}

impl Observer for Checks {
    fn before_apply(&mut self, dst: usize, before: Option<&Entry>, op: &Op) {
        self.lww.before_apply(dst, before, op);
        for o in &mut self.extra {
            o.before_apply(dst, before, op);
        }
    }

    fn before_apply_compact(
        &mut self,
        dst: usize,
        key: KeyRef<'_>,
        before: Option<&Compact>,
        op: &CompactOp,
    ) {
        self.lww.before_apply_compact(dst, key, before, op);
        for o in &mut self.extra {
            o.before_apply_compact(dst, key, before, op);
        }
    }

    fn acknowledged(&mut self, origin: usize, op: &Op) {
        for o in &mut self.extra {
            o.acknowledged(origin, op);
        }
    }

    fn acknowledged_compact(&mut self, origin: usize, key: KeyRef<'_>, op: &CompactOp) {
        for o in &mut self.extra {
            o.acknowledged_compact(origin, key, op);
        }
    }

    fn database_effect(&mut self, origin: usize, op: &Op) {
        for o in &mut self.extra {
            o.database_effect(origin, op);
        }
    }

    fn touched(&mut self, key: KeyId) {
        self.divergence.touched(key);
        for o in &mut self.extra {
            o.touched(key);
        }
    }

    fn touched_with(&mut self, key: KeyId, divergent: bool) {
        self.divergence.touched_with(key, divergent);
        for o in &mut self.extra {
            o.touched_with(key, divergent);
        }
    }

    fn membership_changed(&mut self) {
        self.divergence.membership_changed();
        for o in &mut self.extra {
            o.membership_changed();
        }
    }

    fn sample(&mut self, world: &World, sample: &mut Sample) {
        self.divergence.sample(world, sample);
        for o in &mut self.extra {
            o.sample(world, sample);
        }
    }

    fn finish(&mut self, world: &World) {
        self.divergence.finish(world);
        for o in &mut self.extra {
            o.finish(world);
        }
    }
}
