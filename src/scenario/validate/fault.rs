//! `[[fault]]`: partitions (drop or stall), link degradation, clock steps and crashes, each
//! checked against the clusters it names.

use super::*;

/// A clock step to add to a cluster: (cluster, time, step in ns).
pub(super) type ClockStep = (usize, SimTime, i64);

/// The faults, and the clock steps to add to the clusters.
pub(super) fn fault_tables(
    raw: &RawScenario,
    f: &mut Findings,
    names: &[String],
    clusters: &[ClusterConfig],
    duration: Option<SimDuration>,
) -> (Vec<Fault>, Vec<ClockStep>) {
    let mut faults = Vec::new();
    let mut clock_steps: Vec<ClockStep> = Vec::new();
    for (i, fl) in raw.fault.iter().enumerate() {
        match fl.kind.as_deref() {
            Some("clock_step") => clock_steps.extend(clock_step(f, fl, i, names)),
            Some("crash") => faults.extend(crash(f, fl, i, names, clusters, duration)),
            _ => faults.extend(link_fault(f, fl, i, names, duration)),
        }
    }
    (faults, clock_steps)
}

const FAULT_KINDS: &str = "\"partition\", \"degrade\", \"clock_step\" or \"crash\"";

/// `kind = "clock_step"`: (cluster, time, step in ns).
fn clock_step(f: &mut Findings, fl: &RawFault, i: usize, names: &[String]) -> Option<ClockStep> {
    let index_of = |name: &str| names.iter().position(|n| n == name);
    let p = |field: &str| format!("fault[{i}].{field}");
    let at = duration_field(f, &p("begin"), fl.begin.as_ref(), None);
    let cluster = fault_cluster(f, fl, i, &index_of, "the cluster whose clock steps");
    let step = match &fl.step {
        None => {
            f.err(
                p("step"),
                None,
                "missing: how far the clock jumps, e.g. \"500ms\" or \"-2s\"",
            );
            None
        }
        Some(s) => {
            let (neg, body) = s
                .strip_prefix('-')
                .map_or((false, s.as_str()), |b| (true, b));
            match parse_duration(body) {
                Some(d) if d.0 <= i64::MAX as u64 => {
                    Some(if neg { -(d.0 as i64) } else { d.0 as i64 })
                }
                _ => {
                    f.err(
                        p("step"),
                        quoted(s),
                        format!("expected {DURATION_HELP}, optionally negative"),
                    );
                    None
                }
            }
        }
    };
    not_valid_here(
        f,
        p,
        &[
            ("end", fl.end.is_some()),
            ("duration", fl.duration.is_some()),
            ("isolate", fl.isolate.is_some()),
            ("links", fl.links.is_some()),
            ("mode", fl.mode.is_some()),
            ("latency_add", fl.latency_add.is_some()),
            ("bandwidth", fl.bandwidth.is_some()),
        ],
        "not valid for kind = \"clock_step\" (it takes cluster, begin and step)",
    );
    Some((cluster?, SimTime::ZERO + at?, step?))
}

/// `kind = "crash"`: one crash per primary it takes down (a node crash takes several).
fn crash(
    f: &mut Findings,
    fl: &RawFault,
    i: usize,
    names: &[String],
    clusters: &[ClusterConfig],
    duration: Option<SimDuration>,
) -> Vec<Fault> {
    let index_of = |name: &str| names.iter().position(|n| n == name);
    let p = |field: &str| format!("fault[{i}].{field}");
    let mut faults = Vec::new();
    let begin = duration_field(f, &p("begin"), fl.begin.as_ref(), None);
    let end = fault_end(f, fl, i, begin);
    let cluster = fault_cluster(f, fl, i, &index_of, "the cluster whose shard crashes");
    let shard = fl.shard.unwrap_or(0);
    if let Some(c) = cluster
        && shard >= clusters[c].shards as u64
    {
        f.err(
            p("shard"),
            Some(shard.to_string()),
            format!(
                "expected a shard index from 0 to {}",
                clusters[c].shards - 1
            ),
        );
    }
    not_valid_here(
        f,
        p,
        &[
            ("isolate", fl.isolate.is_some()),
            ("links", fl.links.is_some()),
            ("mode", fl.mode.is_some()),
            ("step", fl.step.is_some()),
            ("latency_add", fl.latency_add.is_some()),
            ("bandwidth", fl.bandwidth.is_some()),
        ],
        "not valid for kind = \"crash\" (it takes cluster, shard or node, begin and end or duration)",
    );
    if let (Some(b), Some(e), Some(c)) = (begin, end, cluster) {
        if e <= b {
            f.err(p("end"), None, "the restart must come after the crash");
        }
        if let Some(d) = duration
            && b >= d
        {
            f.err(
                p("begin"),
                fl.begin.as_deref().and_then(quoted),
                format!("must be before the end of run.duration ({d})"),
            );
        }
        // A node crash takes down every primary placed on that node.
        let shards: Vec<usize> = match fl.node {
            None => vec![shard as usize],
            Some(node) => {
                let cl = &clusters[c];
                if fl.shard.is_some() {
                    f.err(p("node"), None, "give shard or node, not both");
                }
                if node >= cl.nodes as u64 {
                    f.err(
                        p("node"),
                        Some(node.to_string()),
                        format!("expected a node index from 0 to {}", cl.nodes - 1),
                    );
                }
                crate::model::topology::ClusterTopo::new(
                    &cl.name,
                    cl.nodes,
                    cl.shards,
                    cl.replication,
                    cl.proxy_policy,
                )
                .shards
                .iter()
                .enumerate()
                .filter(|(_, t)| t.primary_node as u64 == node)
                .map(|(s, _)| s)
                .collect()
            }
        };
        let name = fl.name.clone().unwrap_or_else(|| format!("fault[{i}]"));
        for sh in shards {
            faults.push(Fault {
                name: name.clone(),
                begin: SimTime::ZERO + b,
                end: SimTime::ZERO + e,
                pairs: Vec::new(),
                kind: FaultKind::Crash {
                    cluster: c,
                    shard: sh,
                },
            });
        }
    }
    faults
}

/// `kind = "partition"` or `"degrade"`: a fault on the links between cluster pairs.
fn link_fault(
    f: &mut Findings,
    fl: &RawFault,
    i: usize,
    names: &[String],
    duration: Option<SimDuration>,
) -> Option<Fault> {
    let p = |field: &str| format!("fault[{i}].{field}");
    not_valid_here(
        f,
        p,
        &[
            ("cluster", fl.cluster.is_some()),
            ("step", fl.step.is_some()),
            ("shard", fl.shard.is_some()),
            ("node", fl.node.is_some()),
        ],
        "only valid with kind = \"clock_step\" or \"crash\"",
    );
    let kind = link_fault_kind(f, fl, &format!("fault[{i}]"))?;
    let begin = duration_field(f, &p("begin"), fl.begin.as_ref(), None);
    if begin == Some(SimDuration::ZERO) && matches!(kind, FaultKind::Partition(_)) {
        f.err(
            p("begin"),
            fl.begin.as_deref().and_then(quoted),
            "a database cannot be created while its members cannot reach each other (the network must exist before creation): begin the partition after 0s",
        );
    }
    let end = fault_end(f, fl, i, begin);
    if let (Some(b), Some(e)) = (begin, end)
        && e <= b
    {
        f.err(
            p(if fl.end.is_some() { "end" } else { "duration" }),
            None,
            format!(
                "the fault must end after it begins ({})",
                crate::engine::time::format_duration(b)
            ),
        );
    }
    if let (Some(b), Some(d)) = (begin, duration)
        && b >= d
    {
        f.err(
            p("begin"),
            fl.begin.as_deref().and_then(quoted),
            format!("must be before the end of run.duration ({d})"),
        );
    }
    let pairs = fault_pairs(f, fl, &format!("fault[{i}]"), names);
    let (begin, end) = (begin?, end?);
    Some(Fault {
        name: fl.name.clone().unwrap_or_else(|| format!("fault[{i}]")),
        begin: SimTime::ZERO + begin,
        end: SimTime::ZERO + end,
        pairs,
        kind,
    })
}

/// The partition's mode or the degradation's parameters; `None` for an unknown kind. Field
/// paths start with `at` (`fault[2]`).
pub(super) fn link_fault_kind(f: &mut Findings, fl: &RawFault, at: &str) -> Option<FaultKind> {
    let p = |field: &str| format!("{at}.{field}");
    let kind = match fl.kind.as_deref() {
        Some("partition") => {
            let mode = choice(
                f,
                &p("mode"),
                fl.mode.as_ref(),
                PartitionMode::Drop,
                spelling::PARTITION_MODES,
            );
            for (field, given) in [
                ("latency_add", fl.latency_add.is_some()),
                ("bandwidth", fl.bandwidth.is_some()),
            ] {
                if given {
                    f.err(p(field), None, "only valid with kind = \"degrade\"");
                }
            }
            FaultKind::Partition(mode)
        }
        Some("degrade") => {
            if fl.mode.is_some() {
                f.err(p("mode"), None, "only valid with kind = \"partition\"");
            }
            let extra_latency = fl
                .latency_add
                .as_ref()
                .and_then(|s| duration_field(f, &p("latency_add"), Some(s), None))
                .unwrap_or_default();
            let bandwidth_bps = fl
                .bandwidth
                .as_ref()
                .and_then(|s| bandwidth_field(f, &p("bandwidth"), s));
            if fl.latency_add.is_none() && fl.bandwidth.is_none() {
                f.err(at, None, "a degradation needs latency_add (e.g. \"200ms\") and/or bandwidth (e.g. \"1Mbit/s\")");
            }
            FaultKind::Degrade {
                extra_latency,
                bandwidth_bps,
            }
        }
        Some(other) => {
            f.err(p("kind"), quoted(other), format!("expected {FAULT_KINDS}"));
            return None;
        }
        None => {
            f.err(p("kind"), None, format!("missing; expected {FAULT_KINDS}"));
            return None;
        }
    };
    Some(kind)
}

/// The unordered cluster pairs whose links the fault affects (`isolate` or `links`), sorted.
/// Field paths start with `at`.
pub(super) fn fault_pairs(
    f: &mut Findings,
    fl: &RawFault,
    at: &str,
    names: &[String],
) -> Vec<(usize, usize)> {
    let index_of = |name: &str| names.iter().position(|n| n == name);
    let p = |field: &str| format!("{at}.{field}");
    let mut pairs = Vec::new();
    match (&fl.isolate, &fl.links) {
        (Some(iso), None) => {
            let mut side = Vec::new();
            for (j, name) in iso.iter().enumerate() {
                match index_of(name) {
                    Some(c) => side.push(c),
                    None => f.err(format!("{}[{j}]", p("isolate")), quoted(name), "no such cluster"),
                }
            }
            for a in 0..names.len() {
                for b in a + 1..names.len() {
                    if side.contains(&a) != side.contains(&b) {
                        pairs.push((a, b));
                    }
                }
            }
            if pairs.is_empty() && !iso.is_empty() && side.len() == iso.len() {
                f.err(p("isolate"), Some(format!("{iso:?}")), "isolating every cluster (or none) cuts no link; list the clusters on one side");
            }
        }
        (None, Some(ls)) => {
            for (j, pair) in ls.iter().enumerate() {
                let lp = format!("{}[{j}]", p("links"));
                if pair.len() != 2 {
                    f.err(lp, Some(format!("{pair:?}")), "expected a pair of cluster names");
                    continue;
                }
                match (index_of(&pair[0]), index_of(&pair[1])) {
                    (Some(a), Some(b)) if a != b => {
                        let k = (a.min(b), a.max(b));
                        if !pairs.contains(&k) {
                            pairs.push(k);
                        }
                    }
                    (Some(_), Some(_)) => f.err(lp, Some(format!("{pair:?}")), "a link joins two different clusters"),
                    _ => f.err(lp, Some(format!("{pair:?}")), "no such cluster"),
                }
            }
        }
        _ => f.err(
            at,
            None,
            "say which links the fault affects: isolate = [\"us-east\"] (these clusters from the rest) or links = [[\"us-east\", \"eu-west\"]]",
        ),
    }
    pairs.sort_unstable();
    pairs
}
