//! Stream ops: one write in a shard's replication stream, packed for the backlog and the
//! wire.

use std::borrow::Cow;

use super::keys::{KeyDir, KeyId};
use crate::crdt::keyspace::compact::{CompactKind, CompactOp};
use crate::crdt::{Dot, InstanceId, Op, OpKind, VClock, Value};
use crate::engine::SimTime;

/// One write in a shard's replication stream, as the backlog and the wire hold it (each its
/// own copy, inline: no allocation per op). Every op of a generated workload (a `SET` of a
/// generated value over a plain string, an integer `INCR`, annotated with the true time of
/// the write) is packed without its key's name (its id stands for it), its annotation (the
/// write's time stands for it) or heap parts: 56 bytes instead of 192 (an `Rc` of the whole
/// op), and the backlogs' ops are most of a run's memory when they are large. Any other op
/// is kept whole.
#[derive(Clone, Debug)]
pub struct StreamOp {
    op: Packed,
    /// True time at which the origin applied it (for lag).
    pub written_at: SimTime,
    /// The key's hash slot, computed once at the origin: every instance routes the op by it.
    pub slot: u16,
    /// The key's id in the world's key directory, given at the origin.
    pub key: KeyId,
}

/// An op's causal head, packed: its origin, its vector clock (at most three instances, each
/// entry below 2^32; the op's own sequence number is its origin's entry) and its writer's
/// timestamp.
#[derive(Clone, Debug)]
struct Head {
    origin: InstanceId,
    vc: [u32; 3],
    ts: u64,
}

impl Head {
    /// `op`'s head, if it packs.
    fn of(op: &Op) -> Option<Head> {
        let e = op.vc.entries();
        let mut vc = [0u32; 3];
        if e.len() > vc.len() || op.vc.get(op.dot.origin) != op.dot.seq {
            return None;
        }
        for (to, from) in vc.iter_mut().zip(e) {
            *to = u32::try_from(*from).ok()?;
        }
        Some(Head {
            origin: op.dot.origin,
            vc,
            ts: op.ts,
        })
    }
}

#[derive(Clone, Debug)]
enum Packed {
    /// `OpKind::Set` of `Value::Synthetic { len, tag }` with no counter totals observed.
    Set {
        head: Head,
        len: u32,
        tag: u64,
    },
    /// `OpKind::Incr` by an integer (a float part of exactly +0.0).
    Incr {
        head: Head,
        int: i64,
    },
    Whole(Box<Op>),
    /// A write on a key outside a sampled run's sample: only its bytes and timing matter,
    /// and its `key` field holds the key's number (see `model::keysample`). `held`: which of
    /// instances 0 to 15 held the key when it was written (bit `i` for instance `i`).
    Shadow {
        held: u16,
    },
}

impl StreamOp {
    /// `op` on the key with id `key` (whose name is `op.key`).
    pub(crate) fn new(op: Op, written_at: SimTime, slot: u16, key: KeyId) -> StreamOp {
        let head = if op.annotation == written_at.0 {
            Head::of(&op)
        } else {
            None
        };
        let op = match (head, op.kind) {
            (
                Some(head),
                OpKind::Set {
                    value: Value::Synthetic { len, tag },
                    observed,
                },
            ) if observed.is_empty() => Packed::Set { head, len, tag },
            (Some(head), OpKind::Incr { int, float }) if float.to_bits() == 0 => {
                Packed::Incr { head, int }
            }
            (_, kind) => Packed::Whole(Box::new(Op { kind, ..op })),
        };
        StreamOp {
            op,
            written_at,
            slot,
            key,
        }
    }

    /// A direct write's op (see `World::write_compact`): packed as [`StreamOp::new`] packs
    /// the same op made general.
    pub(crate) fn compact(op: CompactOp, written_at: SimTime, slot: u16, key: KeyId) -> StreamOp {
        debug_assert_eq!(op.annotation, written_at.0, "a generated op's annotation");
        let head = Head {
            origin: InstanceId(op.origin),
            vc: op.vc,
            ts: op.ts,
        };
        let op = match op.kind {
            CompactKind::Set { len, tag } => Packed::Set { head, len, tag },
            CompactKind::Incr { int } => Packed::Incr { head, int },
        };
        StreamOp {
            op,
            written_at,
            slot,
            key,
        }
    }

    /// A sampled run's write on the key numbered `number`, outside the sample, which
    /// instances 0 to 15 held as `held` says when it was written.
    pub(crate) fn shadow(written_at: SimTime, slot: u16, number: u64, held: u16) -> StreamOp {
        StreamOp {
            op: Packed::Shadow { held },
            written_at,
            slot,
            key: KeyId(u32::try_from(number).expect("validation bounds a sampled keyspace")),
        }
    }

    /// The key number of a write outside a sampled run's sample, with which instances
    /// (0 to 15) held the key when it was written; `None` for any other op.
    #[inline]
    pub(crate) fn shadow_number(&self) -> Option<(u64, u16)> {
        match self.op {
            Packed::Shadow { held } => Some((self.key.0 as u64, held)),
            _ => None,
        }
    }

    /// The op in the form a compact key applies directly, if it is packed.
    pub(crate) fn compact_op(&self) -> Option<CompactOp> {
        let (head, kind) = match &self.op {
            Packed::Set { head, len, tag } => (
                head,
                CompactKind::Set {
                    len: *len,
                    tag: *tag,
                },
            ),
            Packed::Incr { head, int } => (head, CompactKind::Incr { int: *int }),
            Packed::Whole(_) | Packed::Shadow { .. } => return None,
        };
        Some(CompactOp {
            origin: head.origin.0,
            vc: head.vc,
            ts: head.ts,
            annotation: self.written_at.0,
            kind,
        })
    }

    /// The op, with its key's name from `names`.
    pub(crate) fn op(&self, names: &KeyDir) -> Cow<'_, Op> {
        let unpack = |h: &Head, kind| {
            let vc = h.vc.map(u64::from);
            Cow::Owned(Op {
                key: names.name(self.key).clone(),
                dot: Dot {
                    origin: h.origin,
                    seq: vc[h.origin.index()],
                },
                vc: VClock::from_entries(&vc),
                ts: h.ts,
                kind,
                annotation: self.written_at.0,
            })
        };
        match &self.op {
            Packed::Set { head, len, tag } => unpack(
                head,
                OpKind::Set {
                    value: Value::Synthetic {
                        len: *len,
                        tag: *tag,
                    },
                    observed: Vec::new(),
                },
            ),
            Packed::Incr { head, int } => unpack(
                head,
                OpKind::Incr {
                    int: *int,
                    float: 0.0,
                },
            ),
            Packed::Whole(op) => Cow::Borrowed(op),
            // The world routes shadow writes before anything asks for their op.
            Packed::Shadow { .. } => unreachable!("a shadow write has no op (sampled fidelity)"),
        }
    }
}

#[cfg(test)]
mod packing_tests {
    use super::*;
    use crate::crdt::Keyspace;

    #[test]
    fn a_packed_stream_op_is_56_bytes() {
        assert_eq!(std::mem::size_of::<StreamOp>(), 56);
    }

    /// Every op comes back from the stream as it went in, packed or whole.
    #[test]
    fn stream_ops_unpack_to_the_op_they_were_made_from() {
        for (instances, origin) in [(3, 1), (5, 1), (5, 4)] {
            // The third: a clock of five entries does not pack.
            round_trips(instances, InstanceId(origin), origin < 3);
        }
    }

    fn round_trips(instances: usize, origin: InstanceId, clock_packs: bool) {
        let mut names = KeyDir::new(instances);
        let key = names.intern(b"k");
        let mut ks = Keyspace::new(instances);
        let at = SimTime(7_000_000);
        let synthetic = Value::Synthetic { len: 100, tag: 9 };
        let kinds = [
            (
                OpKind::Set {
                    value: synthetic.clone(),
                    observed: vec![],
                },
                true,
            ),
            (
                OpKind::Incr {
                    int: -3,
                    float: 0.0,
                },
                true,
            ),
            // Not packed: a value with bytes, observed totals, a float or -0.0 increment,
            // another data type.
            (
                OpKind::Set {
                    value: Value::from_str_bytes("v"),
                    observed: vec![],
                },
                false,
            ),
            (
                OpKind::Set {
                    value: synthetic,
                    observed: vec![crate::crdt::scalar::Total {
                        seq: 1,
                        int: 2,
                        float: 0.0,
                    }],
                },
                false,
            ),
            (OpKind::Incr { int: 0, float: 1.5 }, false),
            (
                OpKind::Incr {
                    int: 1,
                    float: -0.0,
                },
                false,
            ),
            (OpKind::SAdd(vec![b"m".to_vec()]), false),
        ];
        for (kind, packs) in kinds {
            for annotation in [at.0, at.0 + 1] {
                let mut op = ks.prepare(b"k", origin, 42, kind.clone());
                op.annotation = annotation;
                ks.apply(&op);
                let s = StreamOp::new(op.clone(), at, 3, key);
                let packed = !matches!(s.op, Packed::Whole(_));
                let want = packs && clock_packs && annotation == at.0;
                assert_eq!(packed, want, "{kind:?} {annotation} {instances}");
                let back = s.op(&names);
                assert_eq!(*back, op, "{kind:?}");
                // The float part keeps its sign bit.
                if let (OpKind::Incr { float: a, .. }, OpKind::Incr { float: b, .. }) =
                    (&back.kind, &op.kind)
                {
                    assert_eq!(a.to_bits(), b.to_bits());
                }
            }
        }
    }
}
