//! JSON documents (the RedisJSON module type Active-Active supports), as a CRDT after
//! Kleppmann and Beresford's JSON datatype, with the rules the Redis documentation gives
//! \[JSON\]:
//!
//! - Every value has an identity: the op that wrote it and its place in the written value
//!   (`NodeId`). A write inside a value names that value by identity, so a write into a value
//!   that a concurrent op replaced or deleted lands nowhere: "create wins over update",
//!   "delete wins over update", an object assignment wins over a concurrent member add.
//! - A place (the root, an object member, an array element) holds the values written there
//!   that no later write there had seen; of concurrent ones the smaller instance id wins (not
//!   the later clock).
//! - A member removal and `JSON.CLEAR` remove what their writer had seen, so concurrent adds
//!   survive (they merge). Array elements are an RGA whose removals are final.
//! - Number increments (`JSON.NUMINCRBY`) add up as a counter on the number they target.
//!
//! The state is a set of writes and removals joined by union, and everything a client sees
//! is computed from it, so applying ops in any order, or merging states, gives one result.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use super::clock::{Dot, InstanceId, VClock};
use crate::engine::Digest;

mod lit;
#[cfg(test)]
mod tests;

pub use lit::{Lit, float_json, string_json};

/// A value's identity: the op that wrote it and its index, in preorder, within the value
/// that op wrote (0 for the written value itself). An array element is known by the
/// identity of the value first inserted there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId {
    pub dot: Dot,
    pub k: u32,
}

/// Where a value sits: the document root, a member of an object, an element of an array.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    Root,
    Member(NodeId, String),
    Elem(NodeId),
}

/// Where an object member is listed: (the writer's count of ops on the key, its instance,
/// the node index). A new member goes after those its writer had seen; a member written
/// again keeps its place (the writer passes the place it had).
pub type Pos = (u64, u8, u32);

/// One change a JSON op makes.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Writes `value` at `at`, replacing what the writer had seen there; its nodes are
    /// `(op dot, k..)`.
    Assign {
        at: Place,
        pos: Pos,
        k: u32,
        value: Lit,
    },
    /// Inserts `value` into `array` right after element `anchor` (`None`: at the head).
    Insert {
        array: NodeId,
        anchor: Option<NodeId>,
        lamport: u64,
        k: u32,
        value: Lit,
    },
    /// Removes a member (what the writer had seen there) or an array element (for good).
    Remove(Place),
    /// Empties an object or array of what the writer had seen in it (`JSON.CLEAR`).
    Clear(NodeId),
    /// Adds to a number: an integer, or a float (which makes the number a float).
    Incr {
        node: NodeId,
        int: i64,
        float: Option<f64>,
    },
}

impl Edit {
    /// Nodes this edit writes (an op's edits number their nodes one after another).
    pub fn nodes(&self) -> u32 {
        match self {
            Edit::Assign { value, .. } | Edit::Insert { value, .. } => value.nodes(),
            _ => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Object,
    Array,
}

#[derive(Clone, Debug, PartialEq)]
struct Reg {
    id: NodeId,
    vc: VClock,
    pos: Pos,
    kind: Kind,
}

/// The values written at one place that no other write there had seen (sorted by id), and
/// the join of the clocks of what removed the others.
#[derive(Clone, Debug, Default, PartialEq)]
struct Slot {
    regs: Vec<Reg>,
    removed: VClock,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Item {
    anchor: Option<NodeId>,
    lamport: u64,
}

/// One instance's increments of one number: their sums and the last op counted.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Inc {
    seq: u64,
    int: i64,
    float: f64,
    has_float: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonCrdt {
    slots: BTreeMap<Place, Slot>,
    /// Per array node, its elements (live and removed) with their RGA anchors.
    items: BTreeMap<NodeId, BTreeMap<NodeId, Item>>,
    /// Removed array elements.
    dead: BTreeSet<NodeId>,
    /// Per container, the join of the clocks of the `JSON.CLEAR`s applied to it.
    clears: BTreeMap<NodeId, VClock>,
    incs: BTreeMap<NodeId, BTreeMap<InstanceId, Inc>>,
}

/// A value as a client sees it, with the identities an op needs to address it.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: NodeId,
    pub pos: Pos,
    pub val: Val,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Object(Vec<(String, Node)>),
    /// Elements with their element ids.
    Array(Vec<(NodeId, Node)>),
}

impl Node {
    pub fn to_lit(&self) -> Lit {
        match &self.val {
            Val::Null => Lit::Null,
            Val::Bool(b) => Lit::Bool(*b),
            Val::Int(n) => Lit::Int(*n),
            Val::Float(x) => Lit::Float(*x),
            Val::Str(s) => Lit::Str(s.clone()),
            Val::Object(m) => Lit::Object(m.iter().map(|(k, n)| (k.clone(), n.to_lit())).collect()),
            Val::Array(items) => Lit::Array(items.iter().map(|(_, n)| n.to_lit()).collect()),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match &self.val {
            Val::Null => "null",
            Val::Bool(_) => "boolean",
            Val::Int(_) => "integer",
            Val::Float(_) => "number",
            Val::Str(_) => "string",
            Val::Object(_) => "object",
            Val::Array(_) => "array",
        }
    }
}

fn vc_sum(vc: &VClock) -> u64 {
    vc.entries().iter().sum()
}

impl JsonCrdt {
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty() && self.items.is_empty() && self.incs.is_empty()
    }

    /// Whether the document exists (its root holds a value).
    pub fn exists(&self) -> bool {
        self.slots
            .get(&Place::Root)
            .is_some_and(|s| !s.regs.is_empty())
    }

    /// Applies the edits of the op `dot` whose clock is `vc`.
    pub fn apply(&mut self, dot: Dot, vc: &VClock, edits: &[Edit]) {
        for e in edits {
            match e {
                Edit::Assign { at, pos, k, value } => {
                    self.plant(at, NodeId { dot, k: *k }, vc, *pos, value);
                }
                Edit::Insert {
                    array,
                    anchor,
                    lamport,
                    k,
                    value,
                } => {
                    let id = NodeId { dot, k: *k };
                    self.items.entry(*array).or_default().insert(
                        id,
                        Item {
                            anchor: *anchor,
                            lamport: *lamport,
                        },
                    );
                    self.plant(&Place::Elem(id), id, vc, (0, 0, 0), value);
                }
                Edit::Remove(Place::Elem(e)) => {
                    self.dead.insert(*e);
                }
                Edit::Remove(place) => {
                    self.slots
                        .entry(place.clone())
                        .or_default()
                        .removed
                        .join(vc);
                    self.prune(place);
                }
                Edit::Clear(n) => {
                    self.clears.entry(*n).or_default().join(vc);
                    self.prune_members(*n);
                }
                Edit::Incr { node, int, float } => {
                    let inc = self
                        .incs
                        .entry(*node)
                        .or_default()
                        .entry(dot.origin)
                        .or_default();
                    if dot.seq > inc.seq {
                        inc.seq = dot.seq;
                        inc.int = inc.int.saturating_add(*int);
                        if let Some(x) = float {
                            inc.float += x;
                            inc.has_float = true;
                        }
                    }
                }
            }
        }
    }

    /// Writes `value` (node `id` and its children) at `at`.
    fn plant(&mut self, at: &Place, id: NodeId, vc: &VClock, pos: Pos, value: &Lit) {
        let kind = match value {
            Lit::Null => Kind::Null,
            Lit::Bool(b) => Kind::Bool(*b),
            Lit::Int(n) => Kind::Int(*n),
            Lit::Float(x) => Kind::Float(*x),
            Lit::Str(s) => Kind::Str(s.clone()),
            Lit::Object(_) => Kind::Object,
            Lit::Array(_) => Kind::Array,
        };
        let slot = self.slots.entry(at.clone()).or_default();
        if let Err(i) = slot.regs.binary_search_by(|r| r.id.cmp(&id)) {
            slot.regs.insert(
                i,
                Reg {
                    id,
                    vc: vc.clone(),
                    pos,
                    kind,
                },
            );
        }
        let base = vc_sum(vc);
        let mut k = id.k + 1;
        match value {
            Lit::Object(members) => {
                for (name, v) in members {
                    let child = NodeId { dot: id.dot, k };
                    let place = Place::Member(id, name.clone());
                    self.plant(&place, child, vc, (base, id.dot.origin.0, k), v);
                    k += v.nodes();
                }
            }
            Lit::Array(values) => {
                let mut prev = None;
                for (i, v) in values.iter().enumerate() {
                    let child = NodeId { dot: id.dot, k };
                    self.items.entry(id).or_default().insert(
                        child,
                        Item {
                            anchor: prev,
                            lamport: i as u64 + 1,
                        },
                    );
                    self.plant(&Place::Elem(child), child, vc, (0, 0, 0), v);
                    prev = Some(child);
                    k += v.nodes();
                }
            }
            _ => {}
        }
        self.prune(at);
    }

    /// Drops the values at `place` that something had seen and replaced or removed, keeping
    /// their clocks in the slot's removal clock.
    fn prune(&mut self, place: &Place) {
        self.prune_with(place, None);
    }

    /// [`JsonCrdt::prune`], also dropping what `extra` covers.
    fn prune_with(&mut self, place: &Place, extra: Option<&VClock>) {
        let clear = match place {
            Place::Member(parent, _) => self.clears.get(parent),
            _ => None,
        };
        let Some(slot) = self.slots.get_mut(place) else {
            return;
        };
        let dead: Vec<bool> = slot
            .regs
            .iter()
            .map(|r| {
                slot.removed.covers(r.id.dot)
                    || clear.is_some_and(|c| c.covers(r.id.dot))
                    || extra.is_some_and(|c| c.covers(r.id.dot))
                    || slot
                        .regs
                        .iter()
                        .any(|s| s.id.dot != r.id.dot && s.vc.covers(r.id.dot))
            })
            .collect();
        if dead.iter().any(|d| *d) {
            let mut i = 0;
            let mut removed = slot.removed.clone();
            slot.regs.retain(|r| {
                let keep = !dead[i];
                i += 1;
                if !keep {
                    removed.join(&r.vc);
                }
                keep
            });
            slot.removed = removed;
        }
    }

    fn prune_members(&mut self, parent: NodeId) {
        let places: Vec<Place> = self
            .slots
            .range(Place::Member(parent, String::new())..)
            .take_while(|(p, _)| matches!(p, Place::Member(q, _) if *q == parent))
            .map(|(p, _)| p.clone())
            .collect();
        for p in places {
            self.prune(&p);
        }
    }

    /// A key-level remove: the root loses every value `tomb` covers.
    ///
    /// The tomb itself is not kept in the slot (the key keeps it): a value that arrives
    /// after the remove is checked against it by the key, so keeping it here too would make
    /// the state depend on whether the root had a value when the remove came.
    pub fn remove_root(&mut self, tomb: &VClock) {
        self.prune_with(&Place::Root, Some(tomb));
    }

    /// State merge (a full sync): the union of both sides' writes and removals.
    pub fn merge(&mut self, other: &JsonCrdt) {
        for (place, os) in &other.slots {
            let s = self.slots.entry(place.clone()).or_default();
            s.removed.join(&os.removed);
            for r in &os.regs {
                if let Err(i) = s.regs.binary_search_by(|x| x.id.cmp(&r.id)) {
                    s.regs.insert(i, r.clone());
                }
            }
        }
        for (array, items) in &other.items {
            let mine = self.items.entry(*array).or_default();
            for (id, item) in items {
                mine.entry(*id).or_insert(*item);
            }
        }
        self.dead.extend(other.dead.iter().copied());
        for (n, c) in &other.clears {
            self.clears.entry(*n).or_default().join(c);
        }
        for (n, incs) in &other.incs {
            let mine = self.incs.entry(*n).or_default();
            for (origin, inc) in incs {
                let m = mine.entry(*origin).or_default();
                if inc.seq > m.seq {
                    *m = *inc;
                }
            }
        }
        let places: Vec<Place> = self.slots.keys().cloned().collect();
        for p in places {
            self.prune(&p);
        }
    }

    /// The document a client sees.
    pub fn doc(&self) -> Option<Node> {
        self.node_at(&Place::Root)
    }

    fn node_at(&self, place: &Place) -> Option<Node> {
        // Concurrent values at one place: the smaller instance id wins [JSON].
        let r = self
            .slots
            .get(place)?
            .regs
            .iter()
            .min_by_key(|r| (r.id.dot.origin, r.id))?;
        let val = match &r.kind {
            Kind::Null => Val::Null,
            Kind::Bool(b) => Val::Bool(*b),
            Kind::Str(s) => Val::Str(s.clone()),
            Kind::Int(_) | Kind::Float(_) => self.number(r),
            Kind::Object => Val::Object(self.members(r.id)),
            Kind::Array => Val::Array(self.elements(r.id)),
        };
        Some(Node {
            id: r.id,
            pos: r.pos,
            val,
        })
    }

    fn number(&self, r: &Reg) -> Val {
        let (mut int, mut float, mut has_float) = (0i64, 0.0, false);
        if let Some(incs) = self.incs.get(&r.id) {
            for inc in incs.values() {
                int = int.saturating_add(inc.int);
                float += inc.float;
                has_float |= inc.has_float;
            }
        }
        match r.kind {
            Kind::Int(base) if !has_float => match base.checked_add(int) {
                Some(n) => Val::Int(n),
                None => Val::Float(base as f64 + int as f64),
            },
            Kind::Int(base) => Val::Float(base as f64 + int as f64 + float),
            Kind::Float(base) => Val::Float(base + int as f64 + float),
            _ => unreachable!("a number"),
        }
    }

    fn members(&self, parent: NodeId) -> Vec<(String, Node)> {
        let mut v: Vec<(String, Node)> = self
            .slots
            .range(Place::Member(parent, String::new())..)
            .take_while(|(p, _)| matches!(p, Place::Member(q, _) if *q == parent))
            .filter_map(|(p, _)| {
                let Place::Member(_, name) = p else {
                    unreachable!()
                };
                self.node_at(p).map(|n| (name.clone(), n))
            })
            .collect();
        v.sort_by(|a, b| a.1.pos.cmp(&b.1.pos).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Every element of `array` (removed ones too), in RGA order.
    fn order(&self, array: NodeId) -> Vec<NodeId> {
        let Some(items) = self.items.get(&array) else {
            return Vec::new();
        };
        let mut children: BTreeMap<Option<NodeId>, Vec<(NodeId, u64)>> = BTreeMap::new();
        for (id, it) in items {
            children
                .entry(it.anchor)
                .or_default()
                .push((*id, it.lamport));
        }
        // Siblings: the higher Lamport number first (a later insert at the same place goes
        // in front of what its writer had seen there), then the smaller instance id.
        for c in children.values_mut() {
            c.sort_by_key(|(id, lamport)| (Reverse(*lamport), id.dot.origin, Reverse(*id)));
        }
        let mut out = Vec::with_capacity(items.len());
        let mut stack: Vec<NodeId> = children
            .get(&None)
            .map(|c| c.iter().rev().map(|(id, _)| *id).collect())
            .unwrap_or_default();
        while let Some(id) = stack.pop() {
            out.push(id);
            if let Some(c) = children.get(&Some(id)) {
                stack.extend(c.iter().rev().map(|(id, _)| *id));
            }
        }
        out
    }

    fn elements(&self, array: NodeId) -> Vec<(NodeId, Node)> {
        let clear = self.clears.get(&array);
        self.order(array)
            .into_iter()
            .filter(|id| !self.dead.contains(id) && !clear.is_some_and(|c| c.covers(id.dot)))
            .filter_map(|id| self.node_at(&Place::Elem(id)).map(|n| (id, n)))
            .collect()
    }

    /// The Lamport number of an element inserted into `array` right after `anchor`: above
    /// the anchor's and every element already inserted there, so it goes first among them.
    pub fn insert_lamport(&self, array: NodeId, anchor: Option<NodeId>) -> u64 {
        let Some(items) = self.items.get(&array) else {
            return 1;
        };
        let own = anchor.and_then(|a| items.get(&a)).map_or(0, |i| i.lamport);
        items
            .values()
            .filter(|i| i.anchor == anchor)
            .map(|i| i.lamport)
            .fold(own, u64::max)
            + 1
    }

    /// Removed array elements kept as history.
    pub fn dead_count(&self) -> usize {
        self.dead.len()
    }

    /// Estimated bytes of the state.
    pub fn bytes(&self) -> u64 {
        let mut b = 0u64;
        for (p, s) in &self.slots {
            b += 16 + 8 * s.removed.entries().len() as u64;
            if let Place::Member(_, name) = p {
                b += name.len() as u64;
            }
            for r in &s.regs {
                b += 32
                    + 8 * r.vc.entries().len() as u64
                    + match &r.kind {
                        Kind::Str(s) => s.len() as u64,
                        _ => 8,
                    };
            }
        }
        let items: usize = self.items.values().map(BTreeMap::len).sum();
        b += 32 * items as u64 + 16 * self.dead.len() as u64;
        b += self
            .clears
            .values()
            .map(|c| 16 + 8 * c.entries().len() as u64)
            .sum::<u64>();
        b += self
            .incs
            .values()
            .map(|m| 16 + 32 * m.len() as u64)
            .sum::<u64>();
        b
    }

    /// Drops everything the document no longer reaches. Only sound when no op that could
    /// refer to it can still arrive (see `Keyspace::collect_garbage`).
    pub fn collect_garbage(&mut self) {
        let mut containers = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        let mut elems = BTreeSet::new();
        fn walk(
            n: &Node,
            containers: &mut BTreeSet<NodeId>,
            numbers: &mut BTreeSet<NodeId>,
            elems: &mut BTreeSet<NodeId>,
        ) {
            match &n.val {
                Val::Object(m) => {
                    containers.insert(n.id);
                    for (_, c) in m {
                        walk(c, containers, numbers, elems);
                    }
                }
                Val::Array(items) => {
                    containers.insert(n.id);
                    for (e, c) in items {
                        elems.insert(*e);
                        walk(c, containers, numbers, elems);
                    }
                }
                Val::Int(_) | Val::Float(_) => {
                    numbers.insert(n.id);
                }
                _ => {}
            }
        }
        if let Some(d) = self.doc() {
            walk(&d, &mut containers, &mut numbers, &mut elems);
        }
        self.slots.retain(|p, s| {
            let keep = match p {
                Place::Root => !s.regs.is_empty(),
                Place::Member(parent, _) => containers.contains(parent) && !s.regs.is_empty(),
                Place::Elem(e) => elems.contains(e),
            };
            s.removed = VClock::EMPTY;
            keep
        });
        self.items.retain(|a, _| containers.contains(a));
        let items = &self.items;
        self.dead
            .retain(|e| items.values().any(|m| m.contains_key(e)));
        self.clears.retain(|n, _| containers.contains(n));
        self.incs.retain(|n, _| numbers.contains(n));
    }

    pub fn digest_state(&self, d: &mut Digest) {
        for (p, s) in &self.slots {
            match p {
                Place::Root => d.word(0),
                Place::Member(n, name) => digest_id(d.word(1), n).str(name),
                Place::Elem(e) => digest_id(d.word(2), e),
            };
            for c in s.removed.entries() {
                d.word(*c);
            }
            for r in &s.regs {
                digest_id(d, &r.id);
                for c in r.vc.entries() {
                    d.word(*c);
                }
                d.word(r.pos.0).word(r.pos.1 as u64).word(r.pos.2 as u64);
                match &r.kind {
                    Kind::Null => d.word(10),
                    Kind::Bool(b) => d.word(11 + *b as u64),
                    Kind::Int(n) => d.word(13).word(*n as u64),
                    Kind::Float(x) => d.word(14).word(x.to_bits()),
                    Kind::Str(s) => d.word(15).str(s),
                    Kind::Object => d.word(16),
                    Kind::Array => d.word(17),
                };
            }
        }
        for (a, items) in &self.items {
            digest_id(d, a);
            for (id, it) in items {
                digest_id(d, id).word(it.lamport);
                match &it.anchor {
                    Some(x) => digest_id(d, x),
                    None => d.word(u64::MAX),
                };
            }
        }
        for e in &self.dead {
            digest_id(d, e);
        }
        for (n, c) in &self.clears {
            digest_id(d, n);
            for x in c.entries() {
                d.word(*x);
            }
        }
        for (n, incs) in &self.incs {
            digest_id(d, n);
            for (o, inc) in incs {
                d.word(o.0 as u64)
                    .word(inc.seq)
                    .word(inc.int as u64)
                    .word(inc.float.to_bits())
                    .word(inc.has_float as u64);
            }
        }
    }
}

fn digest_id<'d>(d: &'d mut Digest, id: &NodeId) -> &'d mut Digest {
    d.word(id.dot.origin.0 as u64)
        .word(id.dot.seq)
        .word(id.k as u64)
}
