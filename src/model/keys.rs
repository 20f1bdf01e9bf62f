//! The world's key directory: every key any instance has held gets a dense integer id the
//! first time the world sees it (at the instance that writes it, or in a merged snapshot),
//! and per id, key-major, the key's vector clock at every instance. A generated workload's
//! keys have their key numbers as ids (reserved up front); other keys get the next id in the
//! order of the run's own events. Either way ids are as deterministic as the run; they never
//! reach output (names do).
//!
//! The clocks are a mirror of each instance's entry (`Entry::ctx`), written by the world
//! after every change to a key: one contiguous row of `n × n` counters per key, so that
//! comparing a key across instances (the divergence check) reads one or two cache lines
//! instead of looking the key up in every instance's keyspace. When keys may be held
//! compact (at most three instances), each instance's `Cell` of the key holds its clock
//! instead, and a key's cells are its row.

// HashMap only as the name → id index: looked up, never iterated. Ids are key numbers or
// handed out in the order the run first sees keys (`names.len()`), not by the map, so its
// order cannot reach events, output or digests.
use std::collections::HashMap;

use crate::crdt::VClock;
use crate::crdt::keyspace::Key;
use crate::crdt::keyspace::compact::{Clock3, Compact};
use crate::engine::fxhash::FxBuild;

/// A key's id in its world (dense, from 0, in order of first sight).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub u32);

impl KeyId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A key's id, with its name read only when asked for (the names are not on the hot
/// path's cache lines).
#[derive(Clone, Copy)]
pub struct KeyRef<'a> {
    pub id: KeyId,
    dir: &'a KeyDir,
}

impl<'a> KeyRef<'a> {
    pub(crate) fn new(id: KeyId, dir: &'a KeyDir) -> Self {
        KeyRef { id, dir }
    }

    pub fn name(&self) -> &'a Key {
        self.dir.name(self.id)
    }
}

#[derive(Debug)]
pub(crate) struct KeyDir {
    /// Instances (the width of a clock row and the number of rows per key).
    n: usize,
    index: HashMap<Key, KeyId, FxBuild>, // looked up by name only, never iterated
    names: Vec<Key>,
    /// `clocks[(id × n + instance) × n + origin]`: what `instance` has applied of `origin`'s
    /// ops on the key (0 everywhere when the instance holds no entry for it); empty when
    /// keys may be held compact (the cells hold the clocks).
    clocks: Vec<u64>,
    /// Generated keys numbered below this (see `Workload::last_key`) have their number as
    /// their id: the ids `0..reserved` are theirs from the start, so that a generated write
    /// finds its key's row without hashing its name or reading an id table.
    reserved: u64,
    /// The workload's keys per kind (to recognise a generated key by its name).
    keys_per_kind: u64,
    /// Which reserved ids have been seen (one bit each: a generated key's first sight).
    seen: Vec<u64>,
    /// Whether keys may be held compact (see `Cell`); `cells` is empty otherwise.
    compact: bool,
    /// `cells[id × n + instance]`: how `instance` holds the key, key-major (every instance's
    /// state of a key side by side).
    cells: Vec<Cell>,
    /// Per id, the key's hash slot.
    slots: Vec<u16>,
}

/// How an instance holds a key: in its shard's keyspace (`General`, which is also where a
/// key the instance holds nothing of is looked for), or compact, here (and then not in the
/// keyspace: the world turns it general before anything but a direct apply touches it).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    /// In the keyspace; `unfit` counts the direct writes and applies that found the key in
    /// a shape with no compact form (see [`Cell::STAYS_GENERAL`]); `ctx` mirrors the
    /// entry's clock (zero: no entry).
    General {
        unfit: u8,
        ctx: Clock3,
    },
    Compact(Compact),
}

impl Cell {
    /// A key whose writes this many times found no compact form (a hot key written
    /// concurrently at several instances keeps several registers) is not tried again: it
    /// would go back and forth between the two forms. Only speed depends on it.
    pub(crate) const STAYS_GENERAL: u8 = 2;

    pub(crate) const NEW: Cell = Cell::General {
        unfit: 0,
        ctx: [0; 3],
    };

    /// Reads every byte of the cell (every line it spans), copying nothing off the heap.
    fn touch(&self) {
        use std::hint::black_box;
        match self {
            Cell::General { unfit, ctx } => {
                black_box((*unfit, *ctx));
            }
            Cell::Compact(Compact::Str {
                ctx,
                over,
                stamp,
                reg,
            }) => {
                black_box((*ctx, *over, *stamp, *reg));
            }
            Cell::Compact(Compact::Strs(s)) => {
                black_box(s.ctx);
            }
            Cell::Compact(Compact::Counter { ctx, stamp, totals }) => {
                black_box((*ctx, *stamp, *totals));
            }
        }
    }

    /// The key's clock at this instance.
    pub(crate) fn ctx(&self) -> &Clock3 {
        match self {
            Cell::General { ctx, .. } => ctx,
            Cell::Compact(state) => state.ctx(),
        }
    }
}

/// Generated keys numbered at or above this are interned by name (their reserved rows would
/// cost memory up front for keys a run may never write).
const GENERATED_MAX: u64 = 1 << 24;

impl KeyDir {
    pub(crate) fn new(instances: usize) -> Self {
        KeyDir {
            n: instances,
            index: HashMap::default(), // never iterated
            names: Vec::new(),
            clocks: Vec::new(),
            reserved: 0,
            keys_per_kind: 0,
            seen: Vec::new(),
            compact: false,
            cells: Vec::new(),
            slots: Vec::new(),
        }
    }

    /// Lets keys be held compact (before any key is interned).
    pub(crate) fn with_compact(mut self, on: bool) -> Self {
        assert!(self.names.is_empty() && self.n <= 3 || !on);
        self.compact = on;
        self
    }

    /// Whether keys may be held compact.
    pub(crate) fn compact(&self) -> bool {
        self.compact
    }

    /// Reserves the ids of a workload's generated keys (`keys_per_kind` of each kind: key
    /// numbers below twice that), before any key is interned and after
    /// [`KeyDir::with_compact`].
    /// At most `limit` ids are reserved (a sampled run reserves only its certain keys').
    pub(crate) fn with_generated(mut self, keys_per_kind: u64, limit: u64) -> Self {
        assert!(self.names.is_empty(), "reserved before any key is seen");
        let reserved = keys_per_kind
            .saturating_mul(2)
            .min(GENERATED_MAX)
            .min(limit);
        self.reserved = reserved;
        self.keys_per_kind = keys_per_kind;
        let g = reserved as usize;
        self.seen = vec![0; g.div_ceil(64)];
        self.names = vec![Key::from(&b""[..]); g];
        self.slots = vec![0; g];
        if self.compact {
            self.cells = vec![Cell::NEW; g * self.n];
        } else {
            self.clocks = vec![0; g * self.n * self.n];
        }
        self
    }

    /// Whether the key with id `id` has been seen (a reserved id may not have been yet).
    pub(crate) fn is_seen(&self, id: KeyId) -> bool {
        let i = id.index();
        i as u64 >= self.reserved || self.seen[i / 64] & (1 << (i % 64)) != 0
    }

    /// Marks the generated key numbered `number` (below `reserved`) seen under `name`.
    fn see_generated(&mut self, number: u64, name: &[u8]) -> KeyId {
        let i = number as usize;
        let id = KeyId(number as u32);
        if self.seen[i / 64] & (1 << (i % 64)) == 0 {
            self.seen[i / 64] |= 1 << (i % 64);
            let key = Key::from(name);
            self.slots[i] = crate::redis::slot::key_slot(&key);
            self.index.insert(key.clone(), id);
            self.names[i] = key;
        }
        id
    }

    /// The id of the generated key numbered `number`, whose name is `name`: the same id as
    /// [`KeyDir::intern`] gives the name.
    pub(crate) fn intern_generated(&mut self, number: u64, name: &[u8]) -> KeyId {
        if number >= self.reserved {
            return self.intern(name);
        }
        let id = self.see_generated(number, name);
        debug_assert_eq!(
            &self.names[id.index()][..],
            name,
            "a generated key's number names it"
        );
        id
    }

    /// The id of `key`, given on first sight.
    pub(crate) fn intern(&mut self, key: &[u8]) -> KeyId {
        if let Some(&id) = self.index.get(key) {
            return id;
        }
        // A generated key seen first by its name (a script's write, a snapshot) keeps the
        // id its number reserves.
        if let Some(number) = crate::model::workload::generated_number(key, self.keys_per_kind)
            && number < self.reserved
        {
            return self.see_generated(number, key);
        }
        let id = KeyId(u32::try_from(self.names.len()).expect("fewer than 2^32 keys"));
        let key = Key::from(key);
        self.index.insert(key.clone(), id);
        self.slots.push(crate::redis::slot::key_slot(&key));
        self.names.push(key);
        if self.compact {
            self.cells.resize(self.cells.len() + self.n, Cell::NEW);
        } else {
            self.clocks.resize(self.clocks.len() + self.n * self.n, 0);
        }
        id
    }

    /// The id of `key`, if it has one.
    pub(crate) fn id_of(&self, key: &[u8]) -> Option<KeyId> {
        self.index.get(key).copied()
    }

    /// The key's hash slot.
    pub(crate) fn slot(&self, id: KeyId) -> u16 {
        self.slots[id.index()]
    }

    /// How `instance` holds the key (always general when keys are not held compact).
    pub(crate) fn cell(&self, id: KeyId, instance: usize) -> &Cell {
        static GENERAL: Cell = Cell::NEW;
        self.cells
            .get(id.index() * self.n + instance)
            .unwrap_or(&GENERAL)
    }

    /// Reads every instance's cell of the key, so that the lines are in the cache when the
    /// peers apply the key's op one WAN latency later: at the origin the loads overlap one
    /// another; at each peer they would be a miss of their own.
    pub(crate) fn warm_row(&self, id: KeyId) {
        let n = self.n;
        if let Some(row) = self.cells.get(id.index() * n..(id.index() + 1) * n) {
            for cell in row {
                cell.touch();
            }
        }
    }

    pub(crate) fn cell_mut(&mut self, id: KeyId, instance: usize) -> &mut Cell {
        &mut self.cells[id.index() * self.n + instance]
    }

    /// The key's name and how `instance` holds it (mutably), borrowed together.
    pub(crate) fn name_and_cell(&mut self, id: KeyId, instance: usize) -> (&Key, &mut Cell) {
        (
            &self.names[id.index()],
            &mut self.cells[id.index() * self.n + instance],
        )
    }

    /// The number of ids: every key seen so far has an id below it (reserved ids of
    /// generated keys not seen yet too: [`KeyDir::is_seen`]).
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    pub(crate) fn name(&self, id: KeyId) -> &Key {
        &self.names[id.index()]
    }

    /// Records `instance`'s clock for the key after a general change (`None`: it holds no
    /// entry).
    pub(crate) fn set_clock(&mut self, id: KeyId, instance: usize, ctx: Option<&VClock>) {
        let e = ctx.map_or(&[][..], VClock::entries);
        let n = self.n;
        assert!(
            e.len() <= n,
            "a key clock has an entry per instance at most"
        );
        if self.compact {
            let Cell::General { ctx, .. } = self.cell_mut(id, instance) else {
                panic!("a key held compact changes only directly");
            };
            *ctx = [0; 3];
            for (to, from) in ctx.iter_mut().zip(e) {
                *to = u32::try_from(*from).expect("fewer than 2^32 ops on one key");
            }
            return;
        }
        let row = &mut self.clocks[(id.index() * n + instance) * n..][..n];
        row.fill(0);
        row[..e.len()].copy_from_slice(e);
    }

    /// The key's clock at `instance` (all zero when it holds no entry for it), one entry
    /// per instance.
    pub(crate) fn clock(&self, id: KeyId, instance: usize) -> Vec<u64> {
        let n = self.n;
        if self.compact {
            return self.cell(id, instance).ctx()[..n]
                .iter()
                .map(|x| u64::from(*x))
                .collect();
        }
        self.clocks[(id.index() * n + instance) * n..][..n].to_vec()
    }

    /// Whether instances `a` and `b` have applied the same ops to the key.
    pub(crate) fn same_clock(&self, id: KeyId, a: usize, b: usize) -> bool {
        let n = self.n;
        if self.compact {
            return self.cell(id, a).ctx() == self.cell(id, b).ctx();
        }
        let row = |i: usize| &self.clocks[(id.index() * n + i) * n..][..n];
        // An element loop: a row is a handful of counters, too few for a call to memcmp.
        row(a).iter().zip(row(b)).all(|(x, y)| x == y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crdt::InstanceId;

    #[test]
    fn ids_are_dense_in_order_of_first_sight_and_clocks_are_rows() {
        // The same with the clocks in rows of their own and in compact keys' cells.
        for compact in [false, true] {
            ids_and_clocks(compact);
        }
    }

    #[test]
    fn generated_keys_have_their_numbers_as_ids_however_they_are_first_seen() {
        for compact in [false, true] {
            let mut d = KeyDir::new(3)
                .with_compact(compact)
                .with_generated(5, u64::MAX);
            assert_eq!(d.len(), 10, "ids 0..10 reserved for key numbers 0..10");
            assert!(!d.is_seen(KeyId(3)));
            // key:…1 is number 3 (index 1, a SET key); ctr:…2 is number 4.
            assert_eq!(d.intern_generated(3, b"key:000000000001"), KeyId(3));
            assert!(d.is_seen(KeyId(3)) && !d.is_seen(KeyId(4)));
            assert_eq!(d.intern(b"key:000000000001"), KeyId(3));
            assert_eq!(d.intern(b"ctr:000000000002"), KeyId(4));
            assert_eq!(d.intern_generated(4, b"ctr:000000000002"), KeyId(4));
            assert_eq!(&d.name(KeyId(4))[..], b"ctr:000000000002");
            // Other names, and generated-looking ones beyond the workload, are interned
            // after the reserved range.
            assert_eq!(d.intern(b"other"), KeyId(10));
            assert_eq!(d.intern(b"key:000000000009"), KeyId(11));
            assert_eq!(
                d.intern(b"key:00000000001"),
                KeyId(12),
                "11 digits: not generated"
            );
            assert_eq!(d.len(), 13);
            assert_eq!(
                d.slot(KeyId(3)),
                crate::redis::slot::key_slot(b"key:000000000001")
            );
            assert_eq!(d.clock(KeyId(7), 1), [0, 0, 0]);
        }
    }

    fn ids_and_clocks(compact: bool) {
        let mut d = KeyDir::new(3).with_compact(compact);
        let a = d.intern(b"a");
        let b = d.intern(b"b");
        assert_eq!((a, b, d.intern(b"a"), d.len()), (KeyId(0), KeyId(1), a, 2));
        assert_eq!(&d.name(b)[..], b"b");
        assert_eq!(d.clock(a, 2), [0, 0, 0]);
        let mut vc = VClock::new(3);
        vc.set(InstanceId(1), 4);
        d.set_clock(b, 2, Some(&vc));
        assert_eq!(
            (d.clock(b, 2), d.clock(b, 1), d.clock(a, 2)),
            (vec![0, 4, 0], vec![0; 3], vec![0; 3])
        );
        assert!(d.same_clock(b, 0, 1) && !d.same_clock(b, 1, 2));
        d.set_clock(b, 2, None);
        assert_eq!(d.clock(b, 2), [0, 0, 0]);
        // A generated key gets the id its name has, whichever is seen first.
        assert_eq!(d.intern_generated(7, b"b"), b);
        let c = d.intern_generated(9, b"c");
        assert_eq!(
            (c, d.intern(b"c"), d.intern_generated(9, b"c")),
            (KeyId(2), c, c)
        );
        assert_eq!(d.intern_generated(GENERATED_MAX, b"d"), d.intern(b"d"));
    }
}
