//! Reports: a run's summary as human text and as JSON with a stable key order.

pub mod summary;

pub use summary::{Summary, run_scenario};
