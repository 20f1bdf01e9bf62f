//! The simulated world: clusters, nodes, shards, proxies, WAN links, physical clocks,
//! replication backlogs, syncers, workloads and faults.
//!
//! Components are state machines that the [`world::World`] wires into the engine; each can
//! be tested on its own (backlog, link, clock, workload).

pub mod backlog;
pub mod clock;
pub mod fault;
pub mod memory;
pub mod metrics;
pub mod net;
pub mod persistence;
pub mod script;
pub mod syncer;
pub mod topology;
pub mod trace;
pub mod workload;
pub mod world;

pub use world::{
    ClusterConfig, ClusterStats, Event, HealStats, InvertedWin, LwwStats, LwwWrite, Membership,
    PeerStats, ReplicationConfig, RunResult, Simulation, World, WorldConfig,
};
