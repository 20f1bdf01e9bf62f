//! Reports: a run's summary as human text and as JSON with a stable key order.

pub mod summary;

pub use summary::{Judged, Summary, run_and_judge, run_scenario};
