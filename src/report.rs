//! Reports: a run's summary as human text, JSON (stable key order) and Markdown, and its
//! sampled metrics as `timeline.csv`.

pub mod diff;
pub mod explain;
pub(crate) mod html;
pub mod markdown;
pub mod plot;
pub mod spacetime;
pub mod summary;
pub(crate) mod tables;
pub mod timeline;

pub use summary::{Judged, Summary, run_and_judge, run_and_judge_with, write_report};
