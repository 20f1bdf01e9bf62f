//! Membership rules across tables [MANAGE; CLI-ADD; CLI-REMOVE]: enough founding members and
//! enough members left at the end, no join during a partition, no unforced removal of a
//! partitioned cluster.

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
    // A run's verdict compares the members left at the end: with fewer than two there is
    // nothing to compare, and "converged" would be a pass that judged nothing.
    let leaving = clusters.iter().filter(|c| c.leave_at.is_some()).count();
    if clusters.len() >= MIN_CLUSTERS && clusters.len() - leaving < MIN_CLUSTERS {
        f.err(
            "cluster",
            None,
            format!(
                "at least {MIN_CLUSTERS} clusters must still be members at the end (without \
                 leave_at): with fewer, convergence compares nothing"
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
