//! The merge core: causality (dots and per-key vector clocks); the scalar CRDT (a multi-value
//! register read last-write-wins, with PN-counter increments and observed remove) used by
//! strings, hash fields, set members and sorted-set members; lists (RGA); streams;
//! HyperLogLog; and the keyspace with key-level delete, expiry and type rules.
//!
//! Pure: no engine, no time source, no I/O. Building an op (`Keyspace::prepare_*`) is separate
//! from applying it (`Keyspace::apply`), and applying cannot fail. Usable on its own as a
//! library.

pub mod clock;
pub mod hll;
pub mod json;
pub mod key;
pub mod keyspace;
pub mod list;
pub mod memory;
pub mod planted;
pub mod scalar;
pub mod stream;
pub mod value;

pub use clock::{Dot, InstanceId, VClock};
pub use keyspace::{Applied, Entry, Expiry, KeyType, Keyspace, Op, OpKind, Part};
pub use scalar::{Scalar, Total};
pub use value::Value;
