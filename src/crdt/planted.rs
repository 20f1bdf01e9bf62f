//! Known merge bugs, planted only to prove that `geosim hunt` finds and shrinks them. They
//! exist only in a build with the cargo feature `planted-bugs` (the test command enables it
//! for the hunt's self-test); there, the environment variable `GEOSIM_PLANTED_BUG` names one
//! when the process first applies an op. A normal build never reads the environment here:
//! [`planted`] is a constant `false`, and a run's history depends only on its file and seed.
//! Each of the first three makes the outcome depend on delivery order, which is what a
//! convergence check catches; the next three are symmetric, and only the reference oracle
//! sees them. The last three are on the replication path (the model, not the merge code): each loses
//! ops on the way to a peer.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// `lww-arrival`: a register write replaces concurrent ones: the last to arrive wins.
    LwwArrival,
    /// `remove-wins`: `SREM` removes a member's adds it had not observed too.
    RemoveWins,
    /// `drop-concurrent-incr`: a peer's first increment is dropped where another instance
    /// has already incremented.
    DropConcurrentIncr,
    /// `incr-off-by-one`: every integer increment adds one more than asked, at its origin and
    /// everywhere it is applied, so the instances agree: only a reference of what the
    /// acknowledged writes make (`check::reference`) sees it.
    IncrOffByOne,
    /// `zincrby-twice`: every `ZINCRBY` adds its increment twice, everywhere: the instances
    /// agree, only the reference oracle sees it.
    ZincrbyTwice,
    /// `list-tie-order`: list elements inserted after the same element with equal Lamport
    /// numbers order by descending instance id instead of ascending, everywhere: a
    /// consistent order, but not the documented one; only the reference oracle sees it.
    ListTieOrder,
    /// `partial-after-overflow`: a reconnect whose next byte has left the source's backlog
    /// takes a partial sync from the backlog's first byte instead of a full sync, skipping
    /// the ops that overflowed.
    PartialAfterOverflow,
    /// `snapshot-without-tail`: a merged full-sync snapshot resumes the stream at the
    /// source's end when it arrives, not at the snapshot's offset: the ops written while the
    /// snapshot travelled are never applied.
    SnapshotWithoutTail,
    /// `offset-reuse-after-failover`: the promoted replica numbers its first new op with the
    /// offset of the old primary's last one, so each peer that had consumed it takes the new
    /// op for a duplicate and skips it.
    OffsetReuseAfterFailover,
}

impl PlantedBug {
    pub const ALL: [(&'static str, PlantedBug); 9] = [
        ("lww-arrival", PlantedBug::LwwArrival),
        ("remove-wins", PlantedBug::RemoveWins),
        ("drop-concurrent-incr", PlantedBug::DropConcurrentIncr),
        ("incr-off-by-one", PlantedBug::IncrOffByOne),
        ("zincrby-twice", PlantedBug::ZincrbyTwice),
        ("list-tie-order", PlantedBug::ListTieOrder),
        ("partial-after-overflow", PlantedBug::PartialAfterOverflow),
        ("snapshot-without-tail", PlantedBug::SnapshotWithoutTail),
        (
            "offset-reuse-after-failover",
            PlantedBug::OffsetReuseAfterFailover,
        ),
    ];
}

/// Whether `bug` is planted in this process (never, without the `planted-bugs` feature).
#[cfg(not(feature = "planted-bugs"))]
#[inline(always)]
pub fn planted(bug: PlantedBug) -> bool {
    let _ = bug;
    false
}

/// Whether `bug` is planted in this process.
#[cfg(feature = "planted-bugs")]
pub fn planted(bug: PlantedBug) -> bool {
    static SWITCH: std::sync::OnceLock<Option<PlantedBug>> = std::sync::OnceLock::new();
    *SWITCH.get_or_init(|| {
        let name = std::env::var("GEOSIM_PLANTED_BUG").ok()?;
        PlantedBug::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    }) == Some(bug)
}
