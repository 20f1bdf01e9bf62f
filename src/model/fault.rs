//! Faults scheduled by a scenario (or a script step): partitions that drop or stall syncer
//! connections, and link degradation.

use crate::engine::{SimDuration, SimTime};

/// How a partition treats the syncer connections over the links it cuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionMode {
    /// Both sides see the connections close at once (as in the `shared/validation/` trials):
    /// ops in flight are lost and resent after the heal, from the backlog if it still holds
    /// them.
    Drop,
    /// The links go silent but the connections stay open: nothing is lost, what is sent waits
    /// (Redis keeps what an attached peer has not been sent). If the silence outlasts the
    /// replication timeout, the connections drop then, and it continues as `Drop`.
    Stall,
}

impl PartitionMode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            PartitionMode::Drop => "drop",
            PartitionMode::Stall => "stall",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    Partition(PartitionMode),
    /// The links' one-way latency grows by `extra_latency`; their bandwidth drops to
    /// `bandwidth_bps` when given (never above the link's own).
    Degrade {
        extra_latency: SimDuration,
        bandwidth_bps: Option<u64>,
    },
    /// The primary of `shard` in `cluster` crashes at `begin` and its process restarts at
    /// `end`. With a replica the cluster fails over to it; without one the shard is down
    /// until the restart and recovers what its persistence kept.
    Crash {
        cluster: usize,
        shard: usize,
    },
}

/// A fault on some cluster pairs during `[begin, end)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// A label for reports: `fault[0]` or the scenario's `name`.
    pub name: String,
    pub begin: SimTime,
    pub end: SimTime,
    /// Unordered cluster pairs `(a, b)` with `a < b`; both directions are affected.
    pub pairs: Vec<(usize, usize)>,
    pub kind: FaultKind,
}

impl Fault {
    pub(crate) fn is_partition(&self) -> bool {
        matches!(self.kind, FaultKind::Partition(_))
    }
}

/// What starting a fault does to the world.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Onset {
    /// Cut the fault's links: their connections drop.
    Cut,
    /// Hold the fault's links (a stall); if `timeout_at` comes first, the connections drop
    /// then.
    Hold {
        timeout_at: Option<SimTime>,
    },
    Degrade {
        extra_latency: SimDuration,
        bandwidth_bps: Option<u64>,
    },
    Crash {
        cluster: usize,
        shard: usize,
    },
}

/// What ending a fault does to the world.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recovery {
    /// A stall that never dropped its connections: release the held links.
    Release,
    /// A partition whose connections dropped: the links come back, syncers reconnect.
    Heal,
    /// A degradation: the links get their own parameters back.
    Restore,
    /// A crash: the process restarts.
    Restart { cluster: usize, shard: usize },
}

#[derive(Debug)]
struct FaultState {
    spec: Fault,
    active: bool,
    /// A stall that outlasted the replication timeout and dropped its connections.
    dropped: bool,
    /// Healed by the end-of-run heal: later events of this fault are ignored.
    retired: bool,
}

/// The fault controller: each fault's lifecycle `pending → active → ended`, with a stall's
/// timeout and the end-of-run heal that retires every fault.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    list: Vec<FaultState>,
}

impl Faults {
    pub fn new(specs: &[Fault]) -> Self {
        let mut f = Faults::default();
        for s in specs {
            f.push(s.clone());
        }
        f
    }

    /// Adds a fault (a script step's partition); returns its index.
    pub(crate) fn push(&mut self, spec: Fault) -> usize {
        self.list.push(FaultState {
            spec,
            active: false,
            dropped: false,
            retired: false,
        });
        self.list.len() - 1
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn spec(&self, f: usize) -> &Fault {
        &self.list[f].spec
    }

    pub(crate) fn specs(&self) -> impl Iterator<Item = &Fault> {
        self.list.iter().map(|s| &s.spec)
    }

    pub(crate) fn is_active(&self, f: usize) -> bool {
        self.list[f].active
    }

    /// Fault `f` begins at `now`; `None` if it already has or was retired. A stall drops its
    /// connections after `timeout` of silence, if it lasts that long.
    pub(crate) fn begin(&mut self, f: usize, now: SimTime, timeout: SimDuration) -> Option<Onset> {
        let s = &mut self.list[f];
        if s.retired || s.active {
            return None;
        }
        s.active = true;
        Some(match s.spec.kind {
            FaultKind::Partition(PartitionMode::Drop) => Onset::Cut,
            FaultKind::Partition(PartitionMode::Stall) => {
                let at = now + timeout;
                Onset::Hold {
                    timeout_at: (at < s.spec.end).then_some(at),
                }
            }
            FaultKind::Degrade {
                extra_latency,
                bandwidth_bps,
            } => Onset::Degrade {
                extra_latency,
                bandwidth_bps,
            },
            FaultKind::Crash { cluster, shard } => Onset::Crash { cluster, shard },
        })
    }

    /// A stall reached the replication timeout: `true` if its connections drop now.
    pub(crate) fn stall_timeout(&mut self, f: usize) -> bool {
        let s = &mut self.list[f];
        if !s.active || s.dropped {
            return false;
        }
        s.dropped = true;
        true
    }

    /// The scheduled end of fault `f`; `None` if it is not active or was retired.
    pub(crate) fn end(&mut self, f: usize) -> Option<Recovery> {
        let s = &self.list[f];
        if s.retired || !s.active {
            return None;
        }
        Some(self.end_now(f))
    }

    /// Ends fault `f` now, whatever its schedule (a heal step, the end-of-run heal).
    pub(crate) fn end_now(&mut self, f: usize) -> Recovery {
        let s = &mut self.list[f];
        s.active = false;
        match s.spec.kind {
            FaultKind::Partition(PartitionMode::Stall) if !s.dropped => Recovery::Release,
            FaultKind::Partition(_) => Recovery::Heal,
            FaultKind::Degrade { .. } => Recovery::Restore,
            FaultKind::Crash { cluster, shard } => Recovery::Restart { cluster, shard },
        }
    }

    /// Marks fault `f` as ended by the end-of-run heal: its later events are ignored.
    pub(crate) fn retire(&mut self, f: usize) {
        self.list[f].retired = true;
    }

    /// The latest begin of a crash of a shard of `cluster` (persistence runs until then).
    pub(crate) fn last_crash_of(&self, cluster: usize) -> Option<SimTime> {
        self.list
            .iter()
            .filter_map(|f| match f.spec.kind {
                FaultKind::Crash { cluster: c, .. } if c == cluster => Some(f.spec.begin),
                _ => None,
            })
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(kind: FaultKind, begin: u64, end: u64) -> Fault {
        Fault {
            name: "f".into(),
            begin: SimTime::ZERO + SimDuration::from_secs(begin),
            end: SimTime::ZERO + SimDuration::from_secs(end),
            pairs: vec![(0, 1)],
            kind,
        }
    }

    const TIMEOUT: SimDuration = SimDuration::from_secs(60);

    #[test]
    fn a_short_stall_never_drops_its_connections() {
        let mut f = Faults::new(&[fault(FaultKind::Partition(PartitionMode::Stall), 10, 40)]);
        let at = SimTime::ZERO + SimDuration::from_secs(10);
        assert_eq!(
            f.begin(0, at, TIMEOUT),
            Some(Onset::Hold { timeout_at: None })
        );
        assert_eq!(
            f.begin(0, at, TIMEOUT),
            None,
            "an active fault does not begin twice"
        );
        assert_eq!(f.end(0), Some(Recovery::Release));
        assert_eq!(f.end(0), None, "an ended fault does not end twice");
    }

    #[test]
    fn a_long_stall_drops_at_the_timeout_and_then_heals_like_a_drop() {
        let mut f = Faults::new(&[fault(FaultKind::Partition(PartitionMode::Stall), 10, 100)]);
        let at = SimTime::ZERO + SimDuration::from_secs(10);
        let timeout_at = SimTime::ZERO + SimDuration::from_secs(70);
        assert_eq!(
            f.begin(0, at, TIMEOUT),
            Some(Onset::Hold {
                timeout_at: Some(timeout_at)
            })
        );
        assert!(f.stall_timeout(0));
        assert!(!f.stall_timeout(0), "the connections drop once");
        assert_eq!(f.end(0), Some(Recovery::Heal));
        assert!(!f.stall_timeout(0), "an ended stall cannot drop");
    }

    #[test]
    fn a_retired_fault_ignores_its_later_events() {
        let mut f = Faults::new(&[
            fault(FaultKind::Partition(PartitionMode::Drop), 10, 20),
            fault(
                FaultKind::Crash {
                    cluster: 1,
                    shard: 0,
                },
                30,
                40,
            ),
        ]);
        assert_eq!(f.begin(0, SimTime::ZERO, TIMEOUT), Some(Onset::Cut));
        // The end-of-run heal: the active one ends now, both are retired.
        assert_eq!(f.end_now(0), Recovery::Heal);
        f.retire(0);
        f.retire(1);
        assert_eq!(f.begin(1, SimTime::ZERO, TIMEOUT), None);
        assert_eq!(f.end(0), None);
        assert_eq!(
            f.last_crash_of(1),
            Some(SimTime::ZERO + SimDuration::from_secs(30))
        );
        assert_eq!(f.last_crash_of(0), None);
    }
}
