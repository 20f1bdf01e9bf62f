//! Faults scheduled by a scenario.

use crate::engine::SimTime;

/// A network partition: the listed cluster pairs cannot talk during `[begin, end)`. The
/// syncer connections over a cut link are dropped at `begin` (both sides see the connection
/// close); they reconnect after `end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// A label for reports: `fault[0]` or the scenario's `name`.
    pub name: String,
    pub begin: SimTime,
    pub end: SimTime,
    /// Unordered cluster pairs `(a, b)` with `a < b`; both directions are cut.
    pub pairs: Vec<(usize, usize)>,
}
