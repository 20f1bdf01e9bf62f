//! The simulated world: clusters, nodes, shards, proxies, WAN links, physical clocks,
//! replication backlogs, syncers, workloads and faults.
//!
//! Each component is a state machine in its own file that owns its state and answers what
//! must happen next: [`shard::Shard`] (write path into the stream, crash, restart),
//! [`instance::Instance`] (admission, memory and eviction, an instance's counters),
//! `syncer::Session` (the resync decision, full syncs, backoff, sending over a link),
//! `net::Link`, `fault::Faults` (each fault's lifecycle), `membership::Members`,
//! `gc::Gc` and `catchup::CatchUps`. [`world::World`] routes events to them and carries
//! out their answers; [`driver::Driver`] runs a world through a scenario's phases. The model
//! tells [`observe::Observer`]s what happens; the checkers that judge it live in `check/`.

mod access;
pub mod backlog;
pub mod catchup;
pub mod clock;
pub mod config;
pub mod driver;
pub mod fault;
pub mod gc;
pub mod instance;
pub mod keys;
pub mod keysample;
pub mod membership;
pub mod memory;
pub mod metrics;
pub mod net;
pub mod observe;
pub mod persistence;
mod sampling;
pub mod script;
pub mod shard;
pub mod stats;
pub mod stream_op;
pub mod syncer;
pub mod topology;
pub mod trace;
pub mod workload;
pub mod world;

pub use config::{ClusterConfig, Fidelity, ReplicationConfig, WorldConfig};
pub use driver::Driver;
pub use membership::Membership;
pub use observe::Observer;
pub use stats::{ClusterStats, HealStats, Outcome, PeerStats};
pub use world::{Event, World};
