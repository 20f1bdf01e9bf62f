//! The Redis front end: command lines parsed the way `redis-cli` takes them, commands executed
//! against a keyspace into replies and replicated CRDT ops, and the byte size each op takes in
//! the replication stream (RESP encoding, calibrated against real Redis in
//! `shared/validation/`).

pub mod command;
pub mod resp;

pub use command::{Command, Effect, ExecError, Reply, execute, parse_line, tokenize};
pub use resp::{command_bytes, select_bytes, set_bytes};
