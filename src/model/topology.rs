//! The shape of the simulated world: participating clusters with their nodes, shards and
//! proxies, the key → slot → shard mapping, and the WAN between clusters as a `petgraph`
//! graph (the only user of petgraph). Active-Active replicates in a full mesh: every instance
//! syncs from every other.

use petgraph::graph::{NodeIndex, UnGraph};

pub use crate::redis::slot::{SLOTS, crc16, key_slot};

/// The database proxy policy: which nodes run a proxy endpoint for the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyPolicy {
    /// One proxy, on the first node.
    Single,
    /// A proxy on every node that hosts a primary shard.
    AllMasterShards,
    /// A proxy on every node.
    AllNodes,
}

impl ProxyPolicy {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ProxyPolicy::Single => "single",
            ProxyPolicy::AllMasterShards => "all-master-shards",
            ProxyPolicy::AllNodes => "all-nodes",
        }
    }
}

/// Where a cluster runs its syncer processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncerMode {
    /// One syncer for the database, behind the single proxy endpoint.
    Centralized,
    /// A syncer on each node that has a proxy.
    Distributed,
}

impl SyncerMode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SyncerMode::Centralized => "centralized",
            SyncerMode::Distributed => "distributed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeTopo {
    pub proxy: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardTopo {
    pub primary_node: usize,
    pub replica_node: Option<usize>,
    /// The first slot this shard owns; it owns up to the next shard's first slot.
    pub first_slot: u16,
}

/// One participating cluster as the topology sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterTopo {
    pub name: String,
    pub nodes: Vec<NodeTopo>,
    pub shards: Vec<ShardTopo>,
}

impl ClusterTopo {
    /// Lays out `shards` primaries round-robin over `nodes` nodes, each replica (when
    /// `replication`) on the next node, slots split evenly in contiguous ranges, and proxies
    /// by `policy`.
    pub fn new(
        name: &str,
        nodes: usize,
        shards: usize,
        replication: bool,
        policy: ProxyPolicy,
    ) -> Self {
        let nodes = nodes.max(1);
        let shard_topos: Vec<ShardTopo> = (0..shards)
            .map(|s| ShardTopo {
                primary_node: s % nodes,
                replica_node: replication.then_some((s + 1) % nodes),
                first_slot: (s as u64 * SLOTS as u64 / shards as u64) as u16,
            })
            .collect();
        let node_topos = (0..nodes)
            .map(|n| NodeTopo {
                proxy: match policy {
                    ProxyPolicy::Single => n == 0,
                    ProxyPolicy::AllNodes => true,
                    ProxyPolicy::AllMasterShards => shard_topos.iter().any(|s| s.primary_node == n),
                },
            })
            .collect();
        ClusterTopo {
            name: name.to_string(),
            nodes: node_topos,
            shards: shard_topos,
        }
    }

    /// The shard owning `slot`: slots are split evenly, so shard `s` owns
    /// `[s·16384/n, (s+1)·16384/n)`.
    pub(crate) fn shard_of_slot(&self, slot: u16) -> usize {
        let n = self.shards.len() as u64;
        // The inverse of first_slot = floor(s * SLOTS / n): the largest s with first_slot <= slot.
        let guess = ((slot as u64 + 1) * n).div_ceil(SLOTS as u64) as usize;
        let mut s = guess.min(self.shards.len() - 1);
        while s > 0 && self.shards[s].first_slot > slot {
            s -= 1;
        }
        while s + 1 < self.shards.len() && self.shards[s + 1].first_slot <= slot {
            s += 1;
        }
        s
    }

    pub(crate) fn shard_of_key(&self, key: &[u8]) -> usize {
        self.shard_of_slot(key_slot(key))
    }

    pub(crate) fn proxies(&self) -> usize {
        self.nodes.iter().filter(|n| n.proxy).count()
    }
}

/// The WAN: clusters as graph nodes, links as edges.
#[derive(Clone, Debug)]
pub struct Topology {
    pub clusters: Vec<ClusterTopo>,
    wan: UnGraph<usize, ()>,
    nodes: Vec<NodeIndex>,
}

impl Topology {
    /// A full mesh over `clusters`, as Active-Active replicates.
    pub(crate) fn full_mesh(clusters: Vec<ClusterTopo>) -> Self {
        let mut wan = UnGraph::new_undirected();
        let nodes: Vec<NodeIndex> = (0..clusters.len()).map(|i| wan.add_node(i)).collect();
        for a in 0..nodes.len() {
            for b in a + 1..nodes.len() {
                wan.add_edge(nodes[a], nodes[b], ());
            }
        }
        Topology {
            clusters,
            wan,
            nodes,
        }
    }

    /// The clusters cluster `i` replicates with, in ascending order.
    pub(crate) fn peers(&self, i: usize) -> Vec<usize> {
        let mut p: Vec<usize> = self
            .wan
            .neighbors(self.nodes[i])
            .map(|n| self.wan[n])
            .collect();
        p.sort_unstable();
        p
    }

    /// Every directed WAN link `(from, to)`, sorted.
    pub(crate) fn directed_links(&self) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        for e in self.wan.edge_indices() {
            let (a, b) = self.wan.edge_endpoints(e).expect("edge exists");
            v.push((self.wan[a], self.wan[b]));
            v.push((self.wan[b], self.wan[a]));
        }
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_split_evenly_and_every_slot_has_one_shard() {
        for shards in [1usize, 2, 3, 5, 7, 16, 100] {
            let c = ClusterTopo::new("c", 3, shards, true, ProxyPolicy::AllNodes);
            let mut counts = vec![0u32; shards];
            for slot in 0..SLOTS {
                let s = c.shard_of_slot(slot);
                assert!(c.shards[s].first_slot <= slot);
                counts[s] += 1;
            }
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            assert!(max - min <= 1, "{shards}: {counts:?}");
        }
    }

    #[test]
    fn proxies_follow_the_policy() {
        let single = ClusterTopo::new("c", 3, 2, false, ProxyPolicy::Single);
        assert_eq!(single.proxies(), 1);
        let masters = ClusterTopo::new("c", 3, 2, false, ProxyPolicy::AllMasterShards);
        assert_eq!(masters.proxies(), 2);
        let all = ClusterTopo::new("c", 3, 2, false, ProxyPolicy::AllNodes);
        assert_eq!(all.proxies(), 3);
    }

    #[test]
    fn the_wan_is_a_full_mesh() {
        let cs = (0..4)
            .map(|i| ClusterTopo::new(&format!("c{i}"), 1, 1, false, ProxyPolicy::Single))
            .collect();
        let t = Topology::full_mesh(cs);
        assert_eq!(t.peers(2), vec![0, 1, 3]);
        assert_eq!(t.directed_links().len(), 12);
    }
}
