//! Checkers: they observe a run's outcome and judge it; they never drive the simulation.

pub mod convergence;
pub mod expect;

pub use convergence::{Convergence, Verdict, check_convergence};
pub use expect::{ExpectationResult, check_expectations, check_outcomes};
