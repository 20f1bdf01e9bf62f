//! Which keys of a keyspace hold removal history (tombstones), kept up to date as entries
//! change, so that garbage collection does not scan the whole keyspace (and every member of
//! every collection) once a second. A key's answer can only change when its entry changes;
//! the keyspace reports each change that could involve history, and a refresh re-examines
//! only those keys.

use super::Key;
use super::entry::Entry;
use crate::engine::fxhash::FxBuild;
// A HashSet only for the keys changed since the last refresh: drained into the ordered
// set, so its order reaches nothing.
use std::collections::{BTreeSet, HashSet};

/// Whether an entry can hold removal history at all: only a key with a key-level remove
/// behind it or with a collection part can (a plain string key's history is its registers).
pub(super) fn may_hold(e: &Entry) -> bool {
    e.coll.is_some() || !e.tomb().entries().is_empty()
}

/// Whether an entry holds removal history now: dead fields, members, elements or entries,
/// or a key-level remove.
pub(super) fn holds(e: &Entry) -> bool {
    may_hold(e) && (e.tombstones().0 > 0 || !e.tomb().entries().is_empty())
}

/// A cache, not state: two keyspaces with the same entries are equal whatever it holds.
#[derive(Clone, Debug, Default)]
pub(super) struct HistoryIndex {
    /// Keys holding history at the last refresh, in key order.
    known: BTreeSet<Key>,
    /// Keys whose entries changed since (and may hold history, or did).
    changed: HashSet<Key, FxBuild>,
}

impl PartialEq for HistoryIndex {
    fn eq(&self, _: &HistoryIndex) -> bool {
        true
    }
}

impl HistoryIndex {
    /// An index that examines every key of `keys` at its first refresh.
    pub(super) fn all<'a>(keys: impl Iterator<Item = &'a Key>) -> HistoryIndex {
        HistoryIndex {
            known: BTreeSet::new(),
            changed: keys.cloned().collect(),
        }
    }

    /// `key`'s entry changed; `relevant`: it may hold history before or after the change
    /// (a change that involves none cannot move the key in or out of the set).
    #[inline]
    pub(super) fn changed(&mut self, key: &Key, relevant: bool) {
        if relevant && !self.changed.contains(key) {
            self.changed.insert(key.clone());
        }
    }

    /// Re-examines the changed keys with `holds` (false for a key with no entry) and
    /// returns every key holding history, in key order.
    pub(super) fn refresh(&mut self, holds: impl Fn(&Key) -> bool) -> Vec<Key> {
        for k in self.changed.drain() {
            if holds(&k) {
                self.known.insert(k);
            } else {
                self.known.remove(&k);
            }
        }
        self.known.iter().cloned().collect()
    }
}
