//! The Redis front end: command lines parsed the way `redis-cli` takes them, commands executed
//! against a keyspace into Redis-shaped replies and replicated CRDT ops, hash slots, and the
//! byte size each op takes in the replication stream (RESP encoding, calibrated against real
//! Redis in `shared/validation/`).

pub mod bench;
pub mod command;
pub mod exec;
pub mod families;
pub mod resp;
pub mod slot;

pub use command::{Cmd, Command, ExecError, Reply, parse_line, tokenize};
pub use exec::{Effect, ExecContext, Outcome, execute, expire_owned};
pub use resp::{command_bytes, select_bytes, set_bytes};
