//! Streams, and their consumer groups (`groups`).
//!
//! Redis keeps one radix tree per region; a region appends only to its own, and reads merge
//! them by ID \[STREAM\]. Here an entry is identified by its op's dot, ordered by (ID, origin
//! instance), so entries with the same ID from two regions both stay, in one order
//! everywhere. `XDEL` and `DEL` are observed removes: they delete only entries their instance
//! had seen (docs say so for `DEL`; for `XDEL` it is inferred).

use super::clock::{Dot, InstanceId, VClock};
use crate::engine::Digest;

pub mod groups;
pub use groups::{GroupOp, GroupOpKind, Groups, LocalGroup, Nack};

/// A stream entry ID `ms-seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl StreamId {
    /// The ID right after this one (`None` after the largest).
    pub fn next(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (u64::MAX, u64::MAX) => None,
            (ms, u64::MAX) => Some(StreamId { ms: ms + 1, seq: 0 }),
            (ms, seq) => Some(StreamId { ms, seq: seq + 1 }),
        }
    }

    /// The ID right before this one (`None` before `0-0`).
    pub fn prev(self) -> Option<StreamId> {
        match (self.ms, self.seq) {
            (0, 0) => None,
            (ms, 0) => Some(StreamId {
                ms: ms - 1,
                seq: u64::MAX,
            }),
            (ms, seq) => Some(StreamId { ms, seq: seq - 1 }),
        }
    }

    /// Parses `ms-seq` or `ms` (then `seq` is `None`).
    pub fn parse(s: &[u8]) -> Option<(u64, Option<u64>)> {
        let s = std::str::from_utf8(s).ok()?;
        match s.split_once('-') {
            Some((ms, seq)) => Some((ms.parse().ok()?, Some(seq.parse().ok()?))),
            None => Some((s.parse().ok()?, None)),
        }
    }
}

/// How `XADD` IDs are made unique across regions (`crdt_xadd_id_uniqueness_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XaddIdMode {
    /// Only `*` or millisecond IDs; the sequence number is the region's number, so IDs from
    /// different regions never collide; full `ms-seq` IDs are rejected (the default).
    Strict,
    /// Like strict, but full IDs are accepted (duplicates become possible).
    SemiStrict,
    /// Any ascending ID; a millisecond ID gets sequence 0.
    Liberal,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEntry {
    pub id: StreamId,
    pub dot: Dot,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
    pub dead: bool,
}

#[derive(Clone, Debug, Default)]
pub struct StreamCrdt {
    entries: Vec<StreamEntry>,
    removed_early: Vec<Dot>,
    /// The largest ID ever added (Redis keeps `last_id` after deletions).
    top: StreamId,
    /// The consumer groups: replicated existence and ack effects, and this instance's own
    /// consumers, pending entries and read positions.
    pub groups: Groups,
    /// Entries this instance has applied, deleted ones included (Redis's `entries_added`,
    /// as this instance counts it).
    added: u64,
    /// The largest ID an `XDEL` removed here (Redis's `max_deleted_entry_id`).
    max_deleted: StreamId,
}

impl PartialEq for StreamCrdt {
    /// Equal replicated states: the entries, the top ID and the groups' replicated part
    /// (`added` and `max_deleted` are this instance's bookkeeping, as the local group state).
    fn eq(&self, other: &StreamCrdt) -> bool {
        self.entries == other.entries
            && self.removed_early == other.removed_early
            && self.top == other.top
            && self.groups == other.groups
    }
}

impl StreamCrdt {
    pub fn top(&self) -> StreamId {
        self.top
    }

    /// `XSETID`: the last ID becomes at least `id` (a maximum, so that every instance agrees
    /// whatever the order), and the counters take the values given.
    pub fn set_last_id(
        &mut self,
        id: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    ) {
        self.top = self.top.max(id);
        if let Some(n) = entries_added {
            self.added = n;
        }
        if let Some(m) = max_deleted.filter(|m| *m != StreamId::default()) {
            self.max_deleted = m;
        }
    }

    /// Entries this instance has applied, deleted ones included (`entries-added`).
    pub fn added(&self) -> u64 {
        self.added
    }

    /// The largest ID an `XDEL` removed here (`max-deleted-entry-id`).
    pub fn max_deleted(&self) -> StreamId {
        self.max_deleted
    }

    pub fn add(&mut self, entry: StreamEntry, tomb: &VClock) {
        if self.entries.iter().any(|e| e.dot == entry.dot) {
            return;
        }
        self.added += 1;
        let mut entry = entry;
        let early = self.removed_early.iter().position(|d| *d == entry.dot);
        if let Some(k) = early {
            self.removed_early.remove(k);
            self.max_deleted = self.max_deleted.max(entry.id);
        }
        let killed = tomb.covers(entry.dot);
        entry.dead |= killed || early.is_some();
        // An entry a key-level `DEL` had removed never was part of the stream as it is now.
        if !killed {
            self.top = self.top.max(entry.id);
        }
        let key = (entry.id, entry.dot.origin);
        let p = self
            .entries
            .partition_point(|e| (e.id, e.dot.origin) <= key);
        self.entries.insert(p, entry);
    }

    /// Removes entries by the dots the remover (`XDEL`) had observed.
    pub fn remove(&mut self, dots: &[Dot]) {
        self.remove_counted(dots, true);
    }

    /// Removes entries as [`StreamCrdt::remove`], for a trim: Redis does not count trimmed
    /// entries as deleted (`max-deleted-entry-id`).
    pub fn trim(&mut self, dots: &[Dot]) {
        self.remove_counted(dots, false);
    }

    fn remove_counted(&mut self, dots: &[Dot], deleted: bool) {
        for d in dots {
            match self.entries.iter_mut().find(|e| e.dot == *d) {
                Some(e) => {
                    if !e.dead && deleted {
                        self.max_deleted = self.max_deleted.max(e.id);
                    }
                    e.dead = true;
                }
                None => {
                    if !self.removed_early.contains(d) {
                        self.removed_early.push(*d);
                    }
                }
            }
        }
    }

    /// After a key-level `DEL` (the key's tombstone is now `tomb`): Redis's counters and last
    /// ID start over as for a new stream, keeping the entries the `DEL` had not observed. (An
    /// entry garbage collection dropped was applied everywhere before any later `DEL` was
    /// written, so every later `DEL` had observed it: the entries held are enough.)
    pub fn restart_counters(&mut self, tomb: &VClock) {
        let kept = self.entries.iter().filter(|e| !tomb.covers(e.dot));
        self.added = kept.clone().count() as u64;
        self.top = kept.map(|e| e.id).max().unwrap_or_default();
        self.max_deleted = StreamId::default();
    }

    pub fn remove_observed(&mut self, vc: &VClock) {
        for e in &mut self.entries {
            if vc.covers(e.dot) {
                e.dead = true;
            }
        }
    }

    /// Every entry (dead ones included) and the groups, to change the groups' local state
    /// while reading the entries.
    pub fn split(&mut self) -> (&[StreamEntry], &mut Groups) {
        (&self.entries, &mut self.groups)
    }

    /// The first live entry's ID, `0-0` when there is none (Redis's `first_id`).
    pub fn first_id(&self) -> StreamId {
        self.live().next().map(|e| e.id).unwrap_or_default()
    }

    /// Every entry, dead ones included.
    pub fn all(&self) -> impl Iterator<Item = &StreamEntry> {
        self.entries.iter()
    }

    pub fn live(&self) -> impl Iterator<Item = &StreamEntry> {
        self.entries.iter().filter(|e| !e.dead)
    }

    pub fn len(&self) -> usize {
        self.live().count()
    }

    pub fn is_empty(&self) -> bool {
        self.live().next().is_none()
    }

    /// Drops deleted entries (the stream's top ID is kept). A stream emptied by `XDEL` still
    /// exists, so its newest entry stays as the marker of that. Groups drop the ops that no
    /// longer count.
    pub fn collect_garbage(&mut self, tomb: &VClock) {
        self.groups.collect_garbage(tomb);
        let exists = self.has_entries(tomb);
        let last = self
            .entries
            .iter()
            .rev()
            .find(|e| !tomb.covers(e.dot))
            .cloned();
        self.entries.retain(|e| !e.dead);
        if exists
            && self.entries.is_empty()
            && let Some(l) = last
        {
            self.entries.push(l);
        }
        self.removed_early.clear();
    }

    /// Removal history: dead entries, and group ops that no longer count.
    pub fn dead_count(&self, tomb: &VClock) -> usize {
        self.entries.iter().filter(|e| e.dead).count() + self.groups.dead_count(tomb)
    }

    /// Whether nothing at all is held (no entry, dead or alive, and no group state).
    pub fn is_empty_all(&self) -> bool {
        self.entries.is_empty() && self.groups.is_empty()
    }

    /// The next ID of `XADD *` or `XADD <ms>` in region `region` (1-based) under `mode`.
    pub fn next_id(
        &self,
        now_ms: u64,
        explicit_ms: Option<u64>,
        region: u64,
        mode: XaddIdMode,
    ) -> StreamId {
        let top = self.top;
        match mode {
            XaddIdMode::Strict | XaddIdMode::SemiStrict => match explicit_ms {
                // The sequence is the region number; an explicit millisecond is taken as given
                // (the caller rejects it if it is not above the top).
                Some(ms) => StreamId { ms, seq: region },
                // `*`: bump the millisecond when needed to stay ascending.
                None => {
                    let ms = if (StreamId {
                        ms: now_ms,
                        seq: region,
                    }) > top
                    {
                        now_ms
                    } else {
                        top.ms + 1
                    };
                    StreamId { ms, seq: region }
                }
            },
            XaddIdMode::Liberal => match explicit_ms {
                Some(ms) => StreamId { ms, seq: 0 },
                None => {
                    if now_ms > top.ms {
                        StreamId { ms: now_ms, seq: 0 }
                    } else {
                        StreamId {
                            ms: top.ms,
                            seq: top.seq + 1,
                        }
                    }
                }
            },
        }
    }

    /// Merges `other` (whose key tombstone is `theirs`; this side's was `mine`, and the merged
    /// one is `tomb`).
    pub fn merge(&mut self, other: &StreamCrdt, mine: &VClock, theirs: &VClock, tomb: &VClock) {
        for e in &other.entries {
            match self.entries.iter_mut().find(|m| m.dot == e.dot) {
                Some(m) => m.dead |= e.dead,
                None => self.add(e.clone(), tomb),
            }
        }
        for d in &other.removed_early {
            self.remove(&[*d]);
        }
        self.removed_early.sort();
        // A side's last ID counts when that side had seen every key-level `DEL`; the entries
        // no `DEL` removed count in any case.
        let mut top = self
            .entries
            .iter()
            .filter(|e| !tomb.covers(e.dot))
            .map(|e| e.id)
            .max()
            .unwrap_or_default();
        if mine.dominates(tomb) {
            top = top.max(self.top);
        }
        if theirs.dominates(tomb) {
            top = top.max(other.top);
        }
        self.top = top;
        self.added = self.added.max(other.added);
        self.max_deleted = self.max_deleted.max(other.max_deleted);
        self.groups.merge(&other.groups);
        self.groups.settle(tomb);
    }

    pub fn digest_state(&self, d: &mut Digest) {
        d.word(self.entries.len() as u64);
        for e in &self.entries {
            d.word(e.id.ms)
                .word(e.id.seq)
                .word(e.dot.origin.0 as u64)
                .word(e.dot.seq)
                .word(e.dead as u64);
            for (k, v) in &e.fields {
                d.bytes(k).bytes(v);
            }
        }
        d.word(self.removed_early.len() as u64)
            .word(self.top.ms)
            .word(self.top.seq);
        if !self.groups.is_empty() {
            self.groups.digest_state(d);
        }
    }

    pub fn bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| {
                40 + e
                    .fields
                    .iter()
                    .map(|(k, v)| (k.len() + v.len()) as u64)
                    .sum::<u64>()
            })
            .sum::<u64>()
            + self.groups.bytes()
    }
}

/// The instance's region number as the docs number them (1-based).
pub fn region_number(i: InstanceId) -> u64 {
    i.0 as u64 + 1
}
