//! The merge core: causality (dots and per-key vector clocks), the string CRDT (an LWW
//! register with PN-counter increments), and the keyspace that routes replicated ops to keys.
//!
//! Pure: no engine, no time source, no I/O. Building an op (`Keyspace::prepare_*`) is separate
//! from applying it (`Keyspace::apply`), and applying cannot fail. Usable on its own as a
//! library.

pub mod clock;
pub mod keyspace;
pub mod string;
pub mod value;

pub use clock::{Dot, InstanceId, VClock};
pub use keyspace::{Applied, Keyspace, Op, OpKind};
pub use string::StringCrdt;
pub use value::Value;
