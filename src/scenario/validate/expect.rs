//! `[expect]`: the outcomes a run must show (convergence, sync counts, lag, lost writes,
//! the pinned trace digest).

use super::*;

pub(super) fn expect_table(raw: &RawScenario, f: &mut Findings) -> Outcomes {
    let run = raw.run.as_ref();
    let mut outcomes = Outcomes::default();
    if let Some(e) = &raw.expect {
        outcomes.converges = e.converges;
        outcomes.converge_within = e
            .converge_within
            .as_ref()
            .and_then(|s| duration_field(f, "expect.converge_within", Some(s), None));
        for (name, v, slot) in [
            ("full_syncs", &e.full_syncs, &mut outcomes.full_syncs),
            (
                "partial_syncs",
                &e.partial_syncs,
                &mut outcomes.partial_syncs,
            ),
        ] {
            if let Some(v) = v {
                match CountRange::from_toml(v) {
                    Ok(r) => *slot = Some(r),
                    Err(msg) => f.err(format!("expect.{name}"), Some(v.to_string()), msg),
                }
            }
        }
        outcomes.full_sync_loop = e.full_sync_loop;
        outcomes.clock_inverted_wins_min = e.clock_inverted_wins_min;
        for (name, v) in [
            ("lag_ms_p99_max", e.lag_ms_p99_max),
            ("lag_ms_p99_min", e.lag_ms_p99_min),
        ] {
            if let Some(x) = v
                && !(x.is_finite() && x >= 0.0)
            {
                f.err(
                    format!("expect.{name}"),
                    Some(x.to_string()),
                    "expected milliseconds, zero or more",
                );
            }
        }
        outcomes.lost_writes = count_or_max(f, "lost_writes", &e.lost_writes, e.lost_writes_max);
        outcomes.lost_to_removal = count_or_max(
            f,
            "lost_to_removal",
            &e.lost_to_removal,
            e.lost_to_removal_max,
        );
        outcomes.lag_ms_p99_max = e.lag_ms_p99_max;
        outcomes.lag_ms_p99_min = e.lag_ms_p99_min;
        if let Some(d) = &e.digest {
            if d.len() == 16
                && d.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                let file_seed = run.and_then(|r| r.seed).unwrap_or(DEFAULT_SEED);
                outcomes.digest = Some((d.clone(), file_seed));
            } else {
                f.err(
                    "expect.digest",
                    quoted(d),
                    "expected the trace digest as 16 lowercase hex digits, as `geosim run` prints it (or let `geosim check --bless` write it)",
                );
            }
        }
    }
    outcomes
}

/// `expect.NAME` (a count or { min, max }) or `expect.NAME_max`, not both.
fn count_or_max(
    f: &mut Findings,
    name: &str,
    range: &Option<toml::Value>,
    max: Option<u64>,
) -> Option<CountRange> {
    let mut out = None;
    if let Some(v) = range {
        match CountRange::from_toml(v) {
            Ok(r) => out = Some(r),
            Err(msg) => f.err(format!("expect.{name}"), Some(v.to_string()), msg),
        }
    }
    if let Some(max) = max {
        if range.is_some() {
            f.err(
                format!("expect.{name}_max"),
                None,
                format!("give {name} or {name}_max, not both"),
            );
        }
        out = Some(CountRange {
            min: None,
            max: Some(max),
        });
    }
    out
}
