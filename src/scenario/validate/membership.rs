//! Membership rules across tables [MANAGE; CLI-ADD; CLI-REMOVE]: enough founding members, no
//! join during a partition, no unforced removal of a partitioned cluster.

use super::*;

pub(super) fn membership_rules(f: &mut Findings, clusters: &[ClusterConfig], faults: &[Fault]) {
    let joining: Vec<usize> = (0..clusters.len())
        .filter(|c| clusters[*c].join_at.is_some())
        .collect();
    if clusters.len() >= MIN_CLUSTERS && clusters.len() - joining.len() < MIN_CLUSTERS {
        f.err(
            "cluster",
            None,
            format!(
                "at least {MIN_CLUSTERS} clusters must be members from the start (without join_at)"
            ),
        );
    }
    for (c, cl) in clusters.iter().enumerate() {
        let partitioned_at = |t: SimTime| {
            faults.iter().any(|ft| {
                ft.is_partition()
                    && ft.begin <= t
                    && t < ft.end
                    && ft.pairs.iter().any(|(a, b)| *a == c || *b == c)
            })
        };
        if let Some(j) = cl.join_at
            && faults
                .iter()
                .any(|ft| ft.is_partition() && ft.begin <= j && j < ft.end)
        {
            f.err(
                format!("cluster[{c}].join_at"),
                None,
                "adding a cluster requires every existing cluster online and syncing: no partition may be active then",
            );
        }
        if let Some((l, force)) = cl.leave_at
            && !force
            && partitioned_at(l)
        {
            f.err(
                format!("cluster[{c}].leave_at"),
                None,
                "removing a cluster requires it online and syncing; while it is partitioned only a forced removal works (leave_force = true)",
            );
        }
    }
}
