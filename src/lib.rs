//! # geosim
//!
//! A deterministic, discrete-event simulator of Active-Active (multi-primary, CRDT-based)
//! geo-replicated databases, modelled on Redis Active-Active databases. One seed plus one
//! scenario file gives one exact history.
//!
//! ## Map of the code (layers; each may import only the layers above it)
//!
//! | layer | module | owns |
//! |---|---|---|
//! | engine | [`engine`] | virtual time, the event queue, seeded random streams, the run loop, digests |
//! | crdt | [`crdt`] | the merge core: dots, vector clocks, the string CRDT, the keyspace |
//! | redis | [`redis`] | command parsing, replies, replication-stream byte sizes |
//! | model | [`model`] | clusters, shards, backlogs, syncers, links, clocks, workload, faults |
//! | scenario | [`scenario`] | the TOML format, units, validation, building a model |
//! | check | [`check`] | observers of a run (LWW conflicts, divergent keys) and the judgements of it (convergence, expectations) |
//! | sim | [`sim`] | running a scenario: `Simulation`, its builder, `RunResult`, judging a run |
//! | report | [`report`] | run summaries as text, JSON and Markdown, timelines, charts |
//! | sweep | [`sweep`] | parameter grids over a scenario, run in parallel |
//! | cli | [`cli`] | the `geosim` commands |
//!
//! `tests/` holds an architecture test that fails when an import points down this table.
//!
//! ## Glossary
//! * **participating cluster**: a Redis cluster holding one **instance** of the database.
//! * **shard**: a **primary** with an optional **replica** inside its cluster ("replica"
//!   never means a geo copy).
//! * **syncer**: the process in a destination cluster that pulls a source shard's replication
//!   stream over the WAN and applies it locally.
//! * **backlog**: the most recent bytes of a shard's replication stream, from which a
//!   reconnecting syncer can continue (**partial sync**); otherwise it needs a **full sync**.
//! * **dot**, **vector clock**, **LWW register**, **PN-counter**: as in the CRDT literature.

#![forbid(unsafe_code)]
// Without the `cli` feature, the parts of the library that only the command line calls (the
// writers of sweep, hunt and cross-check files, their pages) are unused, not wrong; the
// default build still reports every unused item.
#![cfg_attr(not(feature = "cli"), allow(dead_code, unused_imports))]

pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod crdt;
pub mod engine;
pub mod model;
pub mod redis;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod sweep;
