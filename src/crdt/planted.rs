//! Known merge bugs, planted only to prove that `geosim hunt` finds and shrinks them (its
//! tests run the binary with the switch set). Off unless the environment variable
//! `GEOSIM_PLANTED_BUG` names one of them when the process first applies an op; never set it
//! for real work. Each makes the outcome depend on delivery order, which is what a
//! convergence check catches.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// `lww-arrival`: a register write replaces concurrent ones: the last to arrive wins.
    LwwArrival,
    /// `remove-wins`: `SREM` removes a member's adds it had not observed too.
    RemoveWins,
    /// `drop-concurrent-incr`: a peer's first increment is dropped where another instance
    /// has already incremented.
    DropConcurrentIncr,
}

impl PlantedBug {
    pub const ALL: [(&'static str, PlantedBug); 3] = [
        ("lww-arrival", PlantedBug::LwwArrival),
        ("remove-wins", PlantedBug::RemoveWins),
        ("drop-concurrent-incr", PlantedBug::DropConcurrentIncr),
    ];
}

/// Whether `bug` is planted in this process.
pub fn planted(bug: PlantedBug) -> bool {
    static SWITCH: OnceLock<Option<PlantedBug>> = OnceLock::new();
    *SWITCH.get_or_init(|| {
        let name = std::env::var("GEOSIM_PLANTED_BUG").ok()?;
        PlantedBug::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    }) == Some(bug)
}
