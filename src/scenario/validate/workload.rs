//! `[workload]`: the generated client writes.

use super::*;
use crate::engine::dist::SizeDist;
use crate::model::workload::{DEFAULT_MEMBERS, OpKind};

mod shape;
mod sizes;

pub(super) fn workload_table(
    raw: &RawScenario,
    f: &mut Findings,
    names: &[String],
    base: &std::path::Path,
) -> Option<WorkloadParams> {
    raw.workload.as_ref().map(|w| {
        let rate = match &w.rate {
            None => {
                f.err(
                    "workload.rate",
                    None,
                    format!("missing; expected {RATE_HELP}"),
                );
                1.0
            }
            Some(s) => match parse_rate(s) {
                Some(r) if r > 0.0 && r <= MAX_RATE => r,
                Some(_) => {
                    f.err(
                        "workload.rate",
                        quoted(s),
                        format!("expected a rate above 0 and at most {MAX_RATE}/s"),
                    );
                    1.0
                }
                None => {
                    f.err("workload.rate", quoted(s), format!("expected {RATE_HELP}"));
                    1.0
                }
            },
        };
        let keys = w.keys.unwrap_or(10_000);
        if !(1..=MAX_KEYS).contains(&keys) {
            f.err(
                "workload.keys",
                Some(keys.to_string()),
                format!("expected 1 to {MAX_KEYS} keys"),
            );
        }
        let is_zipf = choice(
            f,
            "workload.key_distribution",
            w.key_distribution.as_ref(),
            false,
            spelling::KEY_DISTRIBUTIONS,
        );
        let key_dist = if is_zipf {
            let s = w.zipf_exponent.unwrap_or(0.99);
            if !(s > 0.0 && s <= 10.0) {
                f.err(
                    "workload.zipf_exponent",
                    Some(s.to_string()),
                    "expected an exponent in (0, 10]",
                );
            }
            KeyDist::Zipf { exponent: s }
        } else {
            if let Some(s) = w.zipf_exponent {
                f.err(
                    "workload.zipf_exponent",
                    Some(s.to_string()),
                    "only valid with key_distribution = \"zipf\"",
                );
            }
            KeyDist::Uniform
        };
        let value_size = match &w.value_size {
            None => SizeDist::Fixed(256),
            Some(v) => {
                sizes::size_dist(f, "workload.value_size", v, base).unwrap_or(SizeDist::Fixed(0))
            }
        };
        let members = w.members.unwrap_or(DEFAULT_MEMBERS);
        if !(1..=1_000_000_000).contains(&members) {
            f.err(
                "workload.members",
                Some(members.to_string()),
                "expected 1 to 1000000000 fields or members per collection key",
            );
        }
        let ttl = match &w.ttl {
            None => LatencyDist::Constant(SimDuration::from_secs(60)),
            Some(v) => dist_field(f, "workload.ttl", v, false)
                .unwrap_or(LatencyDist::Constant(SimDuration::from_secs(60))),
        };
        let arrival = choice(
            f,
            "workload.arrival",
            w.arrival.as_ref(),
            Arrival::Poisson,
            spelling::ARRIVALS,
        );
        let writers = writers(f, w, names);
        let mix = op_mix(f, w);
        if mix.weight(OpKind::SetEx) == 0.0 && w.ttl.is_some() {
            f.warn("workload.ttl", None, "ignored: workload.mix.set_ex is 0");
        }
        let shares = shape::shares(f, w, names, &writers);
        let shape = shape::rate_shape(f, w, names, &writers);
        WorkloadParams {
            rate_per_sec: rate,
            keys: keys.clamp(1, MAX_KEYS),
            key_dist,
            value_size,
            mix,
            arrival,
            clusters: writers,
            shares,
            shape,
            members: members.clamp(1, 1_000_000_000),
            ttl,
        }
    })
}

/// The writing clusters (`workload.clusters`, all by default), sorted.
fn writers(f: &mut Findings, w: &RawWorkload, names: &[String]) -> Vec<usize> {
    let index_of = |name: &str| names.iter().position(|n| n == name);
    match &w.clusters {
        None => (0..names.len()).collect(),
        Some(list) => {
            if list.is_empty() {
                f.err(
                    "workload.clusters",
                    Some("[]".into()),
                    "expected at least one cluster name (or omit the field for all)",
                );
            }
            let mut v = Vec::new();
            for (i, name) in list.iter().enumerate() {
                match index_of(name) {
                    Some(c) if !v.contains(&c) => v.push(c),
                    Some(_) => f.err(
                        format!("workload.clusters[{i}]"),
                        quoted(name),
                        "listed twice",
                    ),
                    None => f.err(
                        format!("workload.clusters[{i}]"),
                        quoted(name),
                        "no such cluster",
                    ),
                }
            }
            v.sort_unstable();
            v
        }
    }
}

/// The weights of the generated commands (`workload.mix`; `SET` alone when not given).
fn op_mix(f: &mut Findings, w: &RawWorkload) -> OpMix {
    let Some(m) = &w.mix else {
        return OpMix::set_incr(1.0, 0.0);
    };
    let given = [
        m.set, m.incr, m.set_ex, m.hset, m.sadd, m.zincrby, m.rpush, m.lpop, m.xadd, m.pfadd, m.del,
    ];
    let mut weights = [0.0; OpKind::ALL.len()];
    for (i, kind) in OpKind::ALL.into_iter().enumerate() {
        let x = given[i].unwrap_or(0.0);
        if !(x.is_finite() && x >= 0.0) {
            f.err(
                format!("workload.mix.{}", kind.name()),
                Some(x.to_string()),
                "expected a weight of zero or more",
            );
        }
        weights[i] = if x.is_finite() { x.max(0.0) } else { 0.0 };
    }
    let mix = OpMix { weights };
    let del = mix.weight(OpKind::Del);
    let others: f64 = weights.iter().sum::<f64>() - del;
    if others <= 0.0 {
        f.err(
            "workload.mix",
            None,
            "the weights must not all be zero (a DEL needs some other kind to delete)",
        );
    }
    if mix.weight(OpKind::LPop) > 0.0 && mix.weight(OpKind::RPush) == 0.0 {
        f.warn(
            "workload.mix.lpop",
            None,
            "no rpush fills the lists that lpop pops: every LPOP finds an empty list",
        );
    }
    mix
}
