//! `[network]` and its `[[network.link]]` overrides: the parameters of every directed link.

use super::*;

pub(super) fn network_table(
    raw: &RawScenario,
    f: &mut Findings,
    names: &[String],
) -> Vec<((usize, usize), LinkParams)> {
    let net = raw.network.as_ref();
    let default_latency = match net.and_then(|n| n.latency.as_ref()) {
        Some(v) => latency_field(f, "network.latency", v),
        None => Some(LatencyDist::Constant(SimDuration::from_millis(50))),
    };
    let default_jitter = duration_field(
        f,
        "network.jitter",
        net.and_then(|n| n.jitter.as_ref()),
        Some(SimDuration::ZERO),
    );
    let default_bw = match net.and_then(|n| n.bandwidth.as_ref()) {
        Some(s) => bandwidth_field(f, "network.bandwidth", s),
        None => Some(1_000_000_000),
    };
    let default_loss = match net.and_then(|n| n.loss) {
        Some(x) => loss_field(f, "network.loss", x),
        None => Some(0.0),
    };
    let interval = duration_field(
        f,
        "network.latency_interval",
        net.and_then(|n| n.latency_interval.as_ref()),
        Some(DEFAULT_LATENCY_INTERVAL),
    );
    let defaults = LinkParams {
        latency: default_latency.unwrap_or(LatencyDist::Constant(SimDuration::ZERO)),
        jitter: default_jitter.unwrap_or_default(),
        bandwidth_bps: default_bw.unwrap_or(1),
        loss: default_loss.unwrap_or(0.0),
        latency_interval: interval.unwrap_or_default(),
    };
    let mut links: Vec<((usize, usize), LinkParams)> = Vec::new();
    for a in 0..names.len() {
        for b in 0..names.len() {
            if a != b {
                links.push(((a, b), defaults.clone()));
            }
        }
    }
    for (i, l) in net
        .map(|n| n.link.as_slice())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let p = |field: &str| format!("network.link[{i}].{field}");
        let dirs = link_directions(f, l, i, names);
        let latency = l
            .latency
            .as_ref()
            .and_then(|v| latency_field(f, &p("latency"), v));
        let jitter = l
            .jitter
            .as_ref()
            .and_then(|s| duration_field(f, &p("jitter"), Some(s), None));
        let bw = l
            .bandwidth
            .as_ref()
            .and_then(|s| bandwidth_field(f, &p("bandwidth"), s));
        let loss = l.loss.and_then(|x| loss_field(f, &p("loss"), x));
        for d in dirs {
            let entry = links
                .iter_mut()
                .find(|(k, _)| *k == d)
                .expect("every directed pair exists");
            if let Some(v) = &latency {
                entry.1.latency = v.clone();
            }
            if let Some(v) = jitter {
                entry.1.jitter = v;
            }
            if let Some(v) = bw {
                entry.1.bandwidth_bps = v;
            }
            if let Some(v) = loss {
                entry.1.loss = v;
            }
        }
    }
    links
}

/// The directed pairs a `[[network.link]]` names: both ways for `between`, one for
/// `from`/`to`.
fn link_directions(
    f: &mut Findings,
    l: &RawLink,
    i: usize,
    names: &[String],
) -> Vec<(usize, usize)> {
    let p = |field: &str| format!("network.link[{i}].{field}");
    let mut dirs: Vec<(usize, usize)> = Vec::new();
    let endpoint = |f: &mut Findings, path: String, name: &str| -> Option<usize> {
        cluster_named(f, path, name, names)
    };
    match (&l.between, &l.from, &l.to) {
        (Some(pair), None, None) => {
            if pair.len() != 2 {
                f.err(p("between"), Some(format!("{pair:?}")), "expected two cluster names, e.g. [\"us-east\", \"eu-west\"]");
            } else if let (Some(a), Some(b)) = (
                endpoint(f, format!("{}[0]", p("between")), &pair[0]),
                endpoint(f, format!("{}[1]", p("between")), &pair[1]),
            ) {
                if a == b {
                    f.err(p("between"), Some(format!("{pair:?}")), "a link joins two different clusters");
                } else {
                    dirs.push((a, b));
                    dirs.push((b, a));
                }
            }
        }
        (None, Some(from), Some(to)) => {
            if let (Some(a), Some(b)) = (endpoint(f, p("from"), from), endpoint(f, p("to"), to)) {
                if a == b {
                    f.err(p("to"), quoted(to), "a link joins two different clusters");
                } else {
                    dirs.push((a, b));
                }
            }
        }
        _ => f.err(
            format!("network.link[{i}]"),
            None,
            "name the link with either between = [\"a\", \"b\"] (both directions) or from = \"a\" and to = \"b\" (one direction)",
        ),
    }
    dirs
}
