//! `[workload]`: the generated client writes.

use super::*;

pub(super) fn workload_table(
    raw: &RawScenario,
    f: &mut Findings,
    names: &[String],
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
        let value_bytes = match &w.value_size {
            None => 256,
            Some(s) => match size_field(f, "workload.value_size", s) {
                Some(v) if v <= MAX_VALUE => v as u32,
                Some(_) => {
                    f.err(
                        "workload.value_size",
                        quoted(s),
                        "expected at most 512MB (the Redis string limit)",
                    );
                    0
                }
                None => 0,
            },
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
        WorkloadParams {
            rate_per_sec: rate,
            keys: keys.clamp(1, MAX_KEYS),
            key_dist,
            value_bytes,
            mix,
            arrival,
            clusters: writers,
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

/// The weights of `SET` and `INCR` (`workload.mix`).
fn op_mix(f: &mut Findings, w: &RawWorkload) -> OpMix {
    match &w.mix {
        None => OpMix {
            set: 1.0,
            incr: 0.0,
        },
        Some(m) => {
            let set = m.set.unwrap_or(0.0);
            let incr = m.incr.unwrap_or(0.0);
            for (name, x) in [("set", set), ("incr", incr)] {
                if !(x.is_finite() && x >= 0.0) {
                    f.err(
                        format!("workload.mix.{name}"),
                        Some(x.to_string()),
                        "expected a weight of zero or more",
                    );
                }
            }
            if set + incr <= 0.0 {
                f.err("workload.mix", None, "the weights must not all be zero");
            }
            OpMix { set, incr }
        }
    }
}
