//! Stream consumer groups in an Active-Active database \[STREAM\].
//!
//! **Replicated**: a group's existence (`XGROUP CREATE`, `XGROUP DESTROY`, and a key-level
//! `DEL`, which destroys every group of the key) and acknowledged prefixes (an `XACK` effect,
//! sent only when the acknowledged entries form a contiguous prefix of what was read). Delete
//! wins: a create or an ack effect counts only if its writer had seen every destroy of its
//! group and every `DEL` of the key, and what they had seen (its clock dominates theirs), so a
//! destroy removes concurrently created groups too.
//!
//! **Local** to each instance (never replicated, not part of a replicated state's equality,
//! digest or merge): the consumers, the pending entries list (PEL) and the read position. A
//! group reads each source region's entries in that region's order (one position per region,
//! as the docs' one radix tree per region), so `XREADGROUP` never skips an entry that reaches
//! this instance late; a position moves on with local reads, `XGROUP SETID`, and the ack
//! effects replicated from anywhere.

use std::collections::BTreeMap;

use super::StreamId;
use crate::crdt::clock::{Dot, VClock};
use crate::engine::Digest;

type Bytes = Vec<u8>;

/// What a replicated group op carries.
#[derive(Clone, Debug, PartialEq)]
pub enum GroupOpKind {
    /// `XGROUP CREATE`: the group starts at this ID for every source region.
    Create(StreamId),
    /// An ack effect: per source region (instance index), the highest ID of the acknowledged
    /// prefix of that region's entries, in ascending region order.
    Ack(Vec<(u8, StreamId)>),
}

/// A replicated group op with its causal metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupOp {
    pub dot: Dot,
    pub vc: VClock,
    pub kind: GroupOpKind,
}

impl GroupOp {
    /// The read position this op gives region `r`.
    fn pos(&self, r: u8) -> StreamId {
        match &self.kind {
            GroupOpKind::Create(id) => *id,
            GroupOpKind::Ack(v) => v
                .iter()
                .find(|(x, _)| *x == r)
                .map(|(_, id)| *id)
                .unwrap_or_default(),
        }
    }

    fn is_create(&self) -> bool {
        matches!(self.kind, GroupOpKind::Create(_))
    }

    /// Whether `self` says nothing `later` does not: an earlier ack effect of the same origin
    /// with no position above `later`'s. Whatever kills `later` kills `self` too (its clock
    /// is below `later`'s), so dropping `self` changes no reading of the group.
    fn dominated_by(&self, later: &GroupOp) -> bool {
        let GroupOpKind::Ack(mine) = &self.kind else {
            return false;
        };
        self.dot.origin == later.dot.origin
            && self.dot.seq < later.dot.seq
            && mine.iter().all(|(r, id)| *id <= later.pos(*r))
    }
}

/// One group's replicated state.
#[derive(Clone, Debug, Default, PartialEq)]
struct Group {
    /// Creates and ack effects, by dot.
    ops: Vec<GroupOp>,
    /// The join of the clocks of every `XGROUP DESTROY` of the group.
    destroyed: VClock,
}

impl Group {
    fn live<'a>(&'a self, tomb: &'a VClock) -> impl Iterator<Item = &'a GroupOp> {
        self.ops
            .iter()
            .filter(move |o| o.vc.dominates(&self.destroyed) && o.vc.dominates(tomb))
    }

    /// The greatest live create, if the group exists.
    fn live_create(&self, tomb: &VClock) -> Option<Dot> {
        self.live(tomb)
            .filter(|o| o.is_create())
            .map(|o| o.dot)
            .max()
    }

    fn add(&mut self, op: GroupOp) {
        if self
            .ops
            .iter()
            .any(|o| o.dot == op.dot || op.dominated_by(o))
        {
            return;
        }
        self.ops.retain(|o| !o.dominated_by(&op));
        let at = self.ops.partition_point(|o| o.dot < op.dot);
        self.ops.insert(at, op);
    }
}

/// A pending entry: delivered to a consumer and not yet acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    pub consumer: Bytes,
    /// The instance's clock (ms) at the last delivery.
    pub delivered_ms: u64,
    pub count: u64,
}

/// The entries-read counter of a group that has none (Redis's `SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// One instance's own state of a live group.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalGroup {
    /// The create this state was made under: when it dies, so does this state.
    born: Dot,
    /// The read position of every region without one in `per`.
    base: StreamId,
    per: BTreeMap<u8, StreamId>,
    /// The live replicated ops already taken into the positions.
    taken: Vec<Dot>,
    /// Redis's logical read counter (`INVALID_ENTRIES_READ` when not known).
    pub entries_read: i64,
    /// Consumers and the clock reading (ms) they were last seen at.
    pub consumers: BTreeMap<Bytes, u64>,
    /// Pending entries by (ID, source region).
    pub pel: BTreeMap<(StreamId, u8), Nack>,
}

impl LocalGroup {
    fn new(born: Dot) -> LocalGroup {
        LocalGroup {
            born,
            base: StreamId::default(),
            per: BTreeMap::new(),
            taken: Vec::new(),
            entries_read: INVALID_ENTRIES_READ,
            consumers: BTreeMap::new(),
            pel: BTreeMap::new(),
        }
    }

    /// Region `r`'s read position: its entries at or below it are not read by `>`.
    pub fn pos(&self, r: u8) -> StreamId {
        self.per.get(&r).copied().unwrap_or(self.base)
    }

    /// Moves region `r`'s position up to `id` (never down).
    pub fn raise(&mut self, r: u8, id: StreamId) {
        if id > self.pos(r) {
            self.per.insert(r, id);
        }
    }

    /// Moves every region's position up to `id` (never down).
    pub fn raise_all(&mut self, id: StreamId) {
        self.base = self.base.max(id);
        for p in self.per.values_mut() {
            *p = (*p).max(id);
        }
        let base = self.base;
        self.per.retain(|_, p| *p != base);
    }

    /// `XGROUP SETID`: every region's position becomes `id` (up or down).
    pub fn set_all(&mut self, id: StreamId) {
        self.base = id;
        self.per.clear();
    }

    /// The group's last delivered ID as Redis reports it: the highest position.
    pub fn last_id(&self) -> StreamId {
        self.per.values().copied().fold(self.base, StreamId::max)
    }

    /// Takes the live replicated ops not yet taken into the positions.
    fn catch_up(&mut self, g: &Group, tomb: &VClock) {
        let mut taken = Vec::new();
        for o in g.live(tomb) {
            if !self.taken.contains(&o.dot) {
                match &o.kind {
                    GroupOpKind::Create(id) => self.raise_all(*id),
                    GroupOpKind::Ack(v) => {
                        for (r, id) in v {
                            self.raise(*r, *id);
                        }
                    }
                }
            }
            taken.push(o.dot);
        }
        self.taken = taken;
    }

    fn bytes(&self) -> u64 {
        let consumers: u64 = self.consumers.keys().map(|c| 32 + c.len() as u64).sum();
        64 + consumers + 48 * self.pel.len() as u64 + 24 * self.per.len() as u64
    }
}

/// The consumer groups of one stream key: the replicated part and this instance's own.
#[derive(Clone, Debug, Default)]
pub struct Groups {
    groups: BTreeMap<Bytes, Group>,
    local: BTreeMap<Bytes, LocalGroup>,
}

impl PartialEq for Groups {
    /// Equal replicated states; the local part differs between instances by design.
    fn eq(&self, other: &Groups) -> bool {
        self.groups == other.groups
    }
}

impl Groups {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.local.is_empty()
    }

    /// Applies a create or an ack effect of `group`.
    pub fn apply(&mut self, group: &[u8], op: GroupOp) {
        self.groups.entry(group.to_vec()).or_default().add(op);
    }

    /// Applies an `XGROUP DESTROY` of `group` whose writer's clock was `vc`.
    pub fn destroy(&mut self, group: &[u8], vc: &VClock) {
        self.groups
            .entry(group.to_vec())
            .or_default()
            .destroyed
            .join(vc);
    }

    /// Whether `group` exists under the key tombstone `tomb`.
    pub fn exists(&self, group: &[u8], tomb: &VClock) -> bool {
        self.groups
            .get(group)
            .is_some_and(|g| g.live_create(tomb).is_some())
    }

    /// Whether any group exists.
    pub fn any_live(&self, tomb: &VClock) -> bool {
        self.groups.values().any(|g| g.live_create(tomb).is_some())
    }

    /// The names of the groups that exist, in order.
    pub fn live_names<'a>(&'a self, tomb: &'a VClock) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.groups
            .iter()
            .filter(move |(_, g)| g.live_create(tomb).is_some())
            .map(|(n, _)| n.as_slice())
    }

    /// The replicated read position of region `r` in `group`: the highest a live create or ack
    /// effect gives it.
    pub fn floor(&self, group: &[u8], r: u8, tomb: &VClock) -> StreamId {
        self.groups
            .get(group)
            .and_then(|g| g.live(tomb).map(|o| o.pos(r)).max())
            .unwrap_or_default()
    }

    /// Brings the local part in line with the replicated one: a group that no longer exists
    /// (or exists only by another create than the one its local state was made under) loses
    /// its local state; a group that exists gets one; replicated positions are taken in.
    pub fn settle(&mut self, tomb: &VClock) {
        let groups = &self.groups;
        self.local.retain(|name, l| {
            groups
                .get(name)
                .is_some_and(|g| g.live(tomb).any(|o| o.dot == l.born))
        });
        for (name, g) in &self.groups {
            let Some(create) = g.live_create(tomb) else {
                continue;
            };
            let l = self
                .local
                .entry(name.clone())
                .or_insert_with(|| LocalGroup::new(create));
            l.catch_up(g, tomb);
        }
    }

    /// This instance's state of `group`, if it exists here.
    pub fn local(&self, group: &[u8]) -> Option<&LocalGroup> {
        self.local.get(group)
    }

    pub fn local_mut(&mut self, group: &[u8]) -> Option<&mut LocalGroup> {
        self.local.get_mut(group)
    }

    /// Merges another instance's replicated state (a full sync); the local parts stay.
    pub fn merge(&mut self, other: &Groups) {
        for (name, theirs) in &other.groups {
            let mine = self.groups.entry(name.clone()).or_default();
            mine.destroyed.join(&theirs.destroyed);
            for o in &theirs.ops {
                mine.add(o.clone());
            }
        }
    }

    /// Replicated ops that no longer count, and destroys: removal history.
    pub fn dead_count(&self, tomb: &VClock) -> usize {
        self.groups
            .values()
            .map(|g| {
                g.ops.len() - g.live(tomb).count() + usize::from(!g.destroyed.entries().is_empty())
            })
            .sum()
    }

    /// Drops the ops that no longer count and the destroys' clocks (see
    /// `Keyspace::collect_garbage`: every instance has applied every op of the key, so every
    /// later op has seen them).
    pub fn collect_garbage(&mut self, tomb: &VClock) {
        for g in self.groups.values_mut() {
            let live: Vec<GroupOp> = g.live(tomb).cloned().collect();
            g.ops = live;
            g.destroyed = VClock::default();
        }
        self.groups
            .retain(|_, g| g.ops.iter().any(GroupOp::is_create));
        self.settle(&VClock::EMPTY);
    }

    pub fn digest_state(&self, d: &mut Digest) {
        d.word(self.groups.len() as u64);
        for (name, g) in &self.groups {
            d.bytes(name);
            for c in g.destroyed.entries() {
                d.word(*c);
            }
            d.word(g.ops.len() as u64);
            for o in &g.ops {
                d.word(o.dot.origin.0 as u64).word(o.dot.seq);
                match &o.kind {
                    GroupOpKind::Create(id) => {
                        d.word(0).word(id.ms).word(id.seq);
                    }
                    GroupOpKind::Ack(v) => {
                        d.word(1);
                        for (r, id) in v {
                            d.word(*r as u64).word(id.ms).word(id.seq);
                        }
                    }
                }
            }
        }
    }

    /// Estimated bytes: per group its name and ops, and the local state.
    pub fn bytes(&self) -> u64 {
        let replicated: u64 = self
            .groups
            .iter()
            .map(|(n, g)| 32 + n.len() as u64 + 40 * g.ops.len() as u64)
            .sum();
        replicated + self.local.values().map(LocalGroup::bytes).sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crdt::InstanceId;

    fn op(origin: u8, seq: u64, vc: &[u64], kind: GroupOpKind) -> GroupOp {
        GroupOp {
            dot: Dot {
                origin: InstanceId(origin),
                seq,
            },
            vc: VClock::from_entries(vc),
            kind,
        }
    }

    fn id(ms: u64) -> StreamId {
        StreamId { ms, seq: 0 }
    }

    #[test]
    fn concurrent_creates_of_different_groups_both_exist() {
        let mut g = Groups::default();
        g.apply(b"g1", op(0, 1, &[1, 0], GroupOpKind::Create(id(0))));
        g.apply(b"g2", op(1, 1, &[0, 1], GroupOpKind::Create(id(0))));
        let none = VClock::EMPTY;
        let names: Vec<&[u8]> = g.live_names(&none).collect();
        assert_eq!(names, [b"g1".as_slice(), b"g2".as_slice()]);
    }

    #[test]
    fn a_destroy_wins_over_a_concurrent_create_but_not_over_a_later_one() {
        let mut g = Groups::default();
        let none = VClock::EMPTY;
        // Region 1 created the group; region 2 saw it and destroyed it (clock [1, 1]) while
        // region 3 created it again without having seen either.
        g.apply(b"g", op(0, 1, &[1], GroupOpKind::Create(id(0))));
        g.destroy(b"g", &VClock::from_entries(&[1, 1]));
        g.apply(b"g", op(2, 1, &[0, 0, 1], GroupOpKind::Create(id(0))));
        assert!(!g.exists(b"g", &none), "delete wins");
        // A create that had seen the destroy counts.
        g.apply(b"g", op(1, 2, &[1, 2], GroupOpKind::Create(id(5))));
        assert!(g.exists(b"g", &none));
        assert_eq!(g.floor(b"g", 0, &none), id(5));
    }

    #[test]
    fn a_key_delete_kills_groups_its_writer_had_not_seen() {
        let mut g = Groups::default();
        g.apply(b"g2", op(1, 1, &[0, 1], GroupOpKind::Create(id(0))));
        assert!(!g.exists(b"g2", &VClock::from_entries(&[3, 0])));
        assert!(g.exists(b"g2", &VClock::from_entries(&[0, 1])));
    }

    #[test]
    fn local_state_follows_the_replicated_positions_and_dies_with_the_group() {
        let mut g = Groups::default();
        let none = VClock::EMPTY;
        g.apply(b"g", op(0, 1, &[1], GroupOpKind::Create(id(0))));
        g.settle(&none);
        let l = g.local_mut(b"g").unwrap();
        l.raise(0, id(20));
        l.consumers.insert(b"alice".to_vec(), 7);
        // An ack effect from region 2 for region 1's entries up to 30, region 2's up to 4.
        g.apply(
            b"g",
            op(
                1,
                1,
                &[1, 1],
                GroupOpKind::Ack(vec![(0, id(30)), (1, id(4))]),
            ),
        );
        g.settle(&none);
        let l = g.local(b"g").unwrap();
        assert_eq!((l.pos(0), l.pos(1), l.pos(2)), (id(30), id(4), id(0)));
        assert_eq!(l.last_id(), id(30));
        assert_eq!(l.consumers.len(), 1, "consumers stay local");
        // SETID moves positions down; an effect already taken does not move them back up.
        g.local_mut(b"g").unwrap().set_all(id(1));
        g.settle(&none);
        assert_eq!(g.local(b"g").unwrap().pos(0), id(1));
        g.destroy(b"g", &VClock::from_entries(&[1, 1]));
        g.settle(&none);
        assert!(g.local(b"g").is_none());
    }

    #[test]
    fn an_ack_effect_superseded_by_a_later_one_of_the_same_origin_is_dropped() {
        let mut a = Groups::default();
        a.apply(b"g", op(0, 1, &[1], GroupOpKind::Create(id(0))));
        a.apply(b"g", op(0, 2, &[2], GroupOpKind::Ack(vec![(0, id(10))])));
        a.apply(b"g", op(0, 3, &[3], GroupOpKind::Ack(vec![(0, id(20))])));
        assert_eq!(a.groups[b"g".as_slice()].ops.len(), 2);
        // The same ops in another order (a full sync) give the same state.
        let mut b = Groups::default();
        b.apply(b"g", op(0, 3, &[3], GroupOpKind::Ack(vec![(0, id(20))])));
        b.apply(b"g", op(0, 1, &[1], GroupOpKind::Create(id(0))));
        b.apply(b"g", op(0, 2, &[2], GroupOpKind::Ack(vec![(0, id(10))])));
        assert_eq!(a, b);
    }
}
