//! The engine layer: virtual time, the event queue, seeded random streams, the run loop and
//! the trace digest. It knows nothing of Redis, CRDTs or networks; a model plugs in through
//! the [`Model`] trait.

pub mod digest;
pub mod dist;
pub mod fxhash;
pub mod hold;
pub mod queue;
pub mod rng;
pub mod run;
pub mod time;

pub use digest::Digest;
pub use queue::EventQueue;
pub use rng::{RngStream, stream_for};
pub use run::{Model, RunLimits, RunStats, Scheduler, StopReason, run_until};
pub use time::{SimDuration, SimTime};
