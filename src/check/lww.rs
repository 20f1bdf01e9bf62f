//! The last-write-wins observer: counts concurrent string-write conflicts and those settled
//! for the write that was earlier in true time (its writer's clock was ahead), with a few
//! examples. It reads the destination's state before each apply and changes nothing.

use crate::crdt::keyspace::compact::{Compact, CompactKind, CompactOp};
use crate::crdt::{Entry, Op, OpKind, Value};
use crate::model::Observer;
use crate::model::keys::KeyRef;

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
    /// Conflicts settled for the write that was earlier in true time because its writer's
    /// clock read later: a clock error decided them.
    pub clock_inverted: u64,
    /// Conflicts whose two writes carried the same clock reading (ms): the rule settled them
    /// by instance id, whichever was earlier in true time (not a clock error).
    pub ties: u64,
    /// The first few inverted wins.
    pub examples: Vec<InvertedWin>,
}

/// How many inverted wins a run keeps as examples.
pub(crate) const INVERTED_EXAMPLES: usize = 10;

/// Counts LWW conflicts as replicated `SET`s arrive (see [`LwwStats`]).
#[derive(Debug, Default)]
pub struct LwwObserver {
    pub stats: LwwStats,
    /// Per key, (conflicts, clock-inverted wins, ties), kept only when asked for.
    pub per_key: Option<std::collections::BTreeMap<Vec<u8>, (u64, u64, u64)>>,
}

/// One side of a conflict as the observer compares it: (instance, value, clock reading,
/// true time, dot).
type Side<'a> = (usize, &'a Value, u64, u64);

impl LwwObserver {
    /// A concurrent pair: the register `a` held at its writer's instance, and the incoming
    /// write `b` from an instance with a larger id; `b_wins` says which the rule keeps.
    fn conflict(&mut self, key: impl Fn() -> Vec<u8>, a: Side<'_>, b: Side<'_>, b_wins: bool) {
        self.stats.conflicts += 1;
        let (winner, loser) = if b_wins { (b, a) } else { (a, b) };
        let tie = winner.2 == loser.2;
        let inverted = !tie && winner.3 < loser.3;
        self.stats.ties += tie as u64;
        if let Some(per_key) = self.per_key.as_mut() {
            let e = per_key.entry(key()).or_default();
            e.0 += 1;
            e.1 += inverted as u64;
            e.2 += tie as u64;
        }
        if inverted {
            self.stats.clock_inverted += 1;
            if self.stats.examples.len() < INVERTED_EXAMPLES {
                // The values are rendered as text only for the few examples kept.
                let write = |(instance, value, clock_ms, true_ns): Side<'_>| LwwWrite {
                    instance,
                    value: value.to_string(),
                    clock_ms,
                    true_ns,
                };
                self.stats.examples.push(InvertedWin {
                    key: String::from_utf8_lossy(&key()).into_owned(),
                    winner: write(winner),
                    loser: write(loser),
                });
            }
        }
    }
}

impl Observer for LwwObserver {
    /// Counts a concurrent string-write conflict when a remote `SET` reaches the instance
    /// that wrote the other side; each pair is counted once, at the smaller instance id.
    fn before_apply(&mut self, dst: usize, before: Option<&Entry>, op: &Op) {
        let OpKind::Set { value, .. } = &op.kind else {
            return;
        };
        if op.dot.origin.index() <= dst {
            return;
        }
        let Some(e) = before else {
            return;
        };
        let incoming_rank = (op.ts, std::cmp::Reverse(op.dot.origin));
        for a in e.string.regs() {
            if a.dot.origin.index() != dst || op.vc.covers(a.dot) || a.vc.covers(op.dot) {
                continue;
            }
            self.conflict(
                || op.key.to_vec(),
                (dst, &a.value, a.ts, a.annotation),
                (op.dot.origin.index(), value, op.ts, op.annotation),
                incoming_rank > a.rank(),
            );
        }
    }

    /// The same count for a direct apply: a compact string holds one register at most.
    fn before_apply_compact(
        &mut self,
        dst: usize,
        key: KeyRef<'_>,
        before: Option<&Compact>,
        op: &CompactOp,
    ) {
        let CompactKind::Set { len, tag } = op.kind else {
            return;
        };
        if op.origin as usize <= dst {
            return;
        }
        let Some(before) = before else {
            return;
        };
        let seen = |vc: &[u32; 3], origin: u8, seq: u32| vc[origin as usize] >= seq;
        let rank = |ts: u64, origin: u8| (ts, std::cmp::Reverse(origin));
        let incoming = Value::Synthetic { len, tag };
        for a in before.regs() {
            if a.origin as usize != dst
                || seen(&op.vc, a.origin, a.seq)
                || seen(&a.vc, op.origin, op.seq())
            {
                continue;
            }
            let held = Value::Synthetic {
                len: a.len,
                tag: a.tag,
            };
            self.conflict(
                || key.name().to_vec(),
                (dst, &held, a.ts, a.annotation),
                (op.origin as usize, &incoming, op.ts, op.annotation),
                rank(op.ts, op.origin) > rank(a.ts, a.origin),
            );
        }
    }
}
