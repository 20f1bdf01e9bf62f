//! `workload.shares` and `workload.shape`: how the rate is split over the writing clusters
//! and how it moves over time.

use super::super::{Findings, duration_field, quoted};
use crate::engine::SimDuration;
use crate::model::workload::RateShape;
use crate::scenario::raw::RawWorkload;

/// Each writing cluster's share (in `writers` order), `None` for equal shares.
pub(crate) fn shares(
    f: &mut Findings,
    w: &RawWorkload,
    names: &[String],
    writers: &[usize],
) -> Option<Vec<f64>> {
    let given = w.shares.as_ref()?;
    for (name, &x) in given {
        let p = format!("workload.shares.{name}");
        match names.iter().position(|n| n == name) {
            Some(c) if writers.contains(&c) => {}
            Some(_) => f.err(
                p,
                None,
                "this cluster receives no writes (workload.clusters)",
            ),
            None => f.err(p, None, "no such cluster"),
        }
        if !(x.is_finite() && x > 0.0) {
            f.err(
                format!("workload.shares.{name}"),
                Some(x.to_string()),
                "expected a share above zero",
            );
        }
    }
    let mut out = Vec::new();
    for &c in writers {
        match given.get(&names[c]) {
            Some(&x) => out.push(if x.is_finite() && x > 0.0 { x } else { 1.0 }),
            None => {
                f.err(
                    "workload.shares",
                    None,
                    format!(
                        "no share for {:?}: give every writing cluster a share (relative weights)",
                        names[c]
                    ),
                );
                out.push(1.0);
            }
        }
    }
    Some(out)
}

/// The rate's shape (flat when not given).
pub(crate) fn rate_shape(
    f: &mut Findings,
    w: &RawWorkload,
    names: &[String],
    writers: &[usize],
) -> RateShape {
    let Some(s) = &w.shape else {
        return RateShape::Flat;
    };
    let kind = s.kind.as_deref().unwrap_or("flat");
    let only = |f: &mut Findings, present: &[(&str, bool)], kind: &str| {
        for (field, given) in present {
            if *given {
                f.err(
                    format!("workload.shape.{field}"),
                    None,
                    format!("not a field of kind = \"{kind}\""),
                );
            }
        }
    };
    match kind {
        "flat" => {
            only(
                f,
                &[
                    ("period", s.period.is_some()),
                    ("trough", s.trough.is_some()),
                    ("peak", s.peak.is_some()),
                    ("peaks", s.peaks.is_some()),
                    ("at", s.at.is_some()),
                    ("factor", s.factor.is_some()),
                ],
                kind,
            );
            RateShape::Flat
        }
        "diurnal" => {
            only(
                f,
                &[("at", s.at.is_some()), ("factor", s.factor.is_some())],
                kind,
            );
            let period = duration_field(
                f,
                "workload.shape.period",
                s.period.as_ref(),
                Some(SimDuration::from_secs(86_400)),
            )
            .unwrap_or(SimDuration::from_secs(86_400));
            if period.is_zero() {
                f.err(
                    "workload.shape.period",
                    Some("0".into()),
                    "expected above 0s",
                );
            }
            let trough = s.trough.unwrap_or(0.5);
            if !(trough > 0.0 && trough <= 1.0) {
                f.err(
                    "workload.shape.trough",
                    Some(trough.to_string()),
                    "expected a multiplier in (0, 1] (the peak is 1)",
                );
            }
            let peak = duration_field(
                f,
                "workload.shape.peak",
                s.peak.as_ref(),
                Some(SimDuration::ZERO),
            )
            .unwrap_or(SimDuration::ZERO);
            let mut peaks = vec![peak; names.len()];
            for (name, at) in s.peaks.iter().flatten() {
                let p = format!("workload.shape.peaks.{name}");
                match names.iter().position(|n| n == name) {
                    Some(c) if writers.contains(&c) => {
                        if let Some(d) = duration_field(f, &p, Some(at), None) {
                            peaks[c] = d;
                        }
                    }
                    Some(_) => f.err(p, quoted(at), "this cluster receives no writes"),
                    None => f.err(p, quoted(at), "no such cluster"),
                }
            }
            RateShape::Diurnal {
                period: period.max(SimDuration(1)),
                trough: if trough > 0.0 && trough <= 1.0 {
                    trough
                } else {
                    1.0
                },
                peaks,
            }
        }
        "step" => {
            only(
                f,
                &[
                    ("period", s.period.is_some()),
                    ("trough", s.trough.is_some()),
                    ("peak", s.peak.is_some()),
                    ("peaks", s.peaks.is_some()),
                ],
                kind,
            );
            let at = duration_field(f, "workload.shape.at", s.at.as_ref(), None)
                .unwrap_or(SimDuration::ZERO);
            let factor = match s.factor {
                Some(x) if x.is_finite() && x > 0.0 && x <= 1000.0 => x,
                Some(x) => {
                    f.err(
                        "workload.shape.factor",
                        Some(x.to_string()),
                        "expected a multiplier above 0 and at most 1000",
                    );
                    1.0
                }
                None => {
                    f.err(
                        "workload.shape.factor",
                        None,
                        "missing; expected the rate's multiplier from `at` on",
                    );
                    1.0
                }
            };
            RateShape::Step { at, factor }
        }
        other => {
            f.err(
                "workload.shape.kind",
                quoted(other),
                "expected one of \"flat\", \"diurnal\", \"step\"",
            );
            RateShape::Flat
        }
    }
}
