//! Scripted scenarios: exact steps instead of (or besides) a generated workload. Commands
//! run on named instances; between sync steps every instance is cut off from the others
//! (their syncer links hold what they would send), so concurrency is exactly what the script
//! says; a sync step lets the named instances exchange everything.

use crate::engine::{SimDuration, SimTime};
use crate::redis::{Command, Reply};

#[derive(Clone, Debug, PartialEq)]
pub enum StepAction {
    /// Run `cmd` (written as `line`) on `cluster`.
    Command {
        cluster: usize,
        line: String,
        cmd: Command,
    },
    /// A command line refused before it runs (a command Active-Active does not support, or a
    /// wrong number of arguments): on `cluster`, the reply is `error`. Only a step that
    /// expects an error may hold one.
    Refused {
        cluster: usize,
        line: String,
        error: String,
    },
    /// Let these instances exchange everything pending between them, until every syncer
    /// among them has nothing left to send.
    Sync { clusters: Vec<usize> },
    /// Close the syncer connections between these cluster pairs (a drop-mode partition).
    Partition { pairs: Vec<(usize, usize)> },
    /// End every partition started by a step.
    Heal,
    /// Nothing but the passing of time (`at` or the default step advance).
    Wait,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// When the step runs (never before the previous one ended).
    pub at: Option<SimTime>,
    /// Otherwise, how long after the previous step; `None`: the default step advance.
    pub after: Option<SimDuration>,
    pub action: StepAction,
}

/// What a step did, for expectations and reports.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    pub index: usize,
    pub time: SimTime,
    pub cluster: Option<usize>,
    /// The command line, or a description of the step.
    pub line: String,
    pub reply: Option<Reply>,
}
