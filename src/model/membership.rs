//! Membership: which instances take part in the database, and when an added one has finished
//! joining [MANAGE; CLI-ADD; CLI-REMOVE]. A state machine per instance:
//! `Absent → Joining → Active → Removed` (an instance present from the start begins `Active`).

use crate::engine::SimTime;

/// Where an instance stands in the database's membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// Not added yet.
    Absent,
    /// Added: serves reads, refuses writes until its first full sync from every peer.
    Joining,
    Active,
    /// Being removed without force: refuses client writes; removed once every remaining
    /// member has received all its writes (Redis propagates them first).
    Leaving,
    /// Removed; peers no longer sync with it and refuse its reconnects.
    Removed,
}

/// What membership says of a syncer connection between two instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Both sides take part: the connection may go ahead.
    Allow,
    /// One side was removed: the attempt is refused (and counted).
    Refuse,
    /// One side is not added yet: nothing to connect to.
    Wait,
}

/// The membership of every instance.
#[derive(Clone, Debug)]
pub(crate) struct Members {
    state: Vec<Membership>,
    joined_at: Vec<Option<SimTime>>,
    refused_reconnects: u64,
    /// Removed without force: the instance and its data were deleted, so it serves nothing.
    deleted: Vec<bool>,
}

impl Members {
    /// `joins[c]`: whether instance `c` is added during the run (absent until then).
    pub fn new(joins: impl IntoIterator<Item = bool>) -> Self {
        let state: Vec<Membership> = joins
            .into_iter()
            .map(|j| {
                if j {
                    Membership::Absent
                } else {
                    Membership::Active
                }
            })
            .collect();
        let n = state.len();
        Members {
            state,
            joined_at: vec![None; n],
            refused_reconnects: 0,
            deleted: vec![false; n],
        }
    }

    pub(crate) fn get(&self, c: usize) -> Membership {
        self.state[c]
    }

    pub(crate) fn all(&self) -> &[Membership] {
        &self.state
    }

    /// Whether `c` holds a copy of the data that must converge (added and not removed).
    pub(crate) fn holds_data(&self, c: usize) -> bool {
        !matches!(self.state[c], Membership::Absent | Membership::Removed)
    }

    /// Why instance `c` refuses a client write, if it does.
    pub(crate) fn write_refusal(&self, c: usize) -> Option<&'static str> {
        match self.state[c] {
            Membership::Absent => Some("ERR this instance is not part of the database yet"),
            Membership::Joining => Some(
                "ERR this instance is joining the database: it accepts writes once it has synced with every peer",
            ),
            Membership::Removed if self.deleted[c] => Some(
                "ERR this instance was removed from the database (without force: its database was deleted)",
            ),
            Membership::Leaving => Some(
                "ERR this instance is being removed from the database: its writes are propagating to the other instances",
            ),
            _ => None,
        }
    }

    /// A syncer from `src` into `dst` tries to connect; a refusal is counted.
    pub(crate) fn admit(&mut self, src: usize, dst: usize) -> Admission {
        let (s, d) = (self.state[src], self.state[dst]);
        if s == Membership::Removed || d == Membership::Removed {
            self.refused_reconnects += 1;
            Admission::Refuse
        } else if s == Membership::Absent || d == Membership::Absent {
            Admission::Wait
        } else {
            Admission::Allow
        }
    }

    /// `c` is added; `false` if it was not absent (nothing happens then).
    pub(crate) fn join(&mut self, c: usize) -> bool {
        if self.state[c] != Membership::Absent {
            return false;
        }
        self.state[c] = Membership::Joining;
        true
    }

    /// A joining `c` becomes active once no active peer still owes it a full sync
    /// (`owed_by(src)` says whether the syncer from `src` does).
    pub(crate) fn finish_join_if_synced(
        &mut self,
        c: usize,
        now: SimTime,
        mut owed_by: impl FnMut(usize) -> bool,
    ) {
        if self.state[c] != Membership::Joining {
            return;
        }
        let owed = (0..self.state.len()).any(|src| src != c && self.serves(src) && owed_by(src));
        if !owed {
            self.state[c] = Membership::Active;
            self.joined_at[c] = Some(now);
        }
    }

    /// `c` is removed; `deleted` when without force (its database is deleted with it).
    pub(crate) fn leave(&mut self, c: usize, deleted: bool) {
        self.state[c] = Membership::Removed;
        self.deleted[c] = deleted;
    }

    /// A removal without force begins: `c` refuses writes until its stream has drained.
    pub(crate) fn begin_leave(&mut self, c: usize) {
        if matches!(self.state[c], Membership::Active | Membership::Joining) {
            self.state[c] = Membership::Leaving;
        }
    }

    /// Whether `c` is a full member peers sync from (active, or leaving while it drains).
    pub(crate) fn serves(&self, c: usize) -> bool {
        matches!(self.state[c], Membership::Active | Membership::Leaving)
    }

    pub(crate) fn joined_at(&self) -> &[Option<SimTime>] {
        &self.joined_at
    }

    pub(crate) fn refused_reconnects(&self) -> u64 {
        self.refused_reconnects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_joining_instance_refuses_writes_until_every_active_peer_has_synced_it() {
        let mut m = Members::new([false, false, true]);
        assert_eq!(m.get(2), Membership::Absent);
        assert!(m.write_refusal(2).is_some());
        assert_eq!(m.admit(0, 2), Admission::Wait);
        assert!(m.join(2));
        assert!(!m.join(2), "a second join does nothing");
        assert!(m.write_refusal(2).unwrap().contains("joining"));
        // Instance 1 still owes its full sync.
        m.finish_join_if_synced(2, SimTime(5), |src| src == 1);
        assert_eq!(m.get(2), Membership::Joining);
        m.finish_join_if_synced(2, SimTime(9), |_| false);
        assert_eq!(m.get(2), Membership::Active);
        assert_eq!(m.joined_at()[2], Some(SimTime(9)));
        assert_eq!(m.write_refusal(2), None);
    }

    #[test]
    fn a_removed_peer_is_refused_and_counted() {
        let mut m = Members::new([false, false]);
        assert_eq!(m.admit(0, 1), Admission::Allow);
        m.leave(1, false);
        assert!(!m.holds_data(1));
        assert_eq!(m.admit(0, 1), Admission::Refuse);
        assert_eq!(m.admit(1, 0), Admission::Refuse);
        assert_eq!(m.refused_reconnects(), 2);
    }

    #[test]
    fn an_absent_peer_does_not_hold_back_a_join() {
        // Only active peers owe a full sync: a peer not yet added is skipped.
        let mut m = Members::new([false, true, true]);
        m.join(2);
        m.finish_join_if_synced(2, SimTime(3), |src| src == 1);
        assert_eq!(m.get(2), Membership::Active);
    }
}
