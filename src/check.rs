//! Checkers: they observe a run and judge it; they never drive the simulation. The
//! observers ([`lww`], [`divergence`], gathered in [`observers::Checks`]) are told what
//! happens as the model runs; [`convergence`] and [`expect`] judge the finished run.

pub mod convergence;
pub mod divergence;
pub mod estimate;
pub mod expect;
pub mod lww;
pub mod observers;
pub mod reference;
pub mod result;

pub use convergence::{Convergence, Verdict, check_convergence};
pub use estimate::Estimates;
pub use expect::{ExpectationResult, check_expectations, check_outcomes};
pub use lww::{InvertedWin, LwwStats, LwwWrite};
pub use observers::Checks;
pub use reference::Reference;
pub use result::RunResult;
