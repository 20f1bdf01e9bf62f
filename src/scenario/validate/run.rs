//! `[run]`: seed, duration, convergence deadline, event bound, sample interval.

use super::*;

pub(super) struct RunTable {
    pub seed: u64,
    pub duration: Option<SimDuration>,
    pub converge_deadline: Option<SimDuration>,
    pub max_events: u64,
    pub sample_interval: Option<SimDuration>,
    pub fidelity: Fidelity,
}

/// The largest `N` of `run.sample = "1/N"`.
pub(crate) const MAX_SAMPLE_EVERY: u64 = 1 << 20;

pub(super) fn run_table(
    raw: &RawScenario,
    seed_override: Option<u64>,
    f: &mut Findings,
) -> RunTable {
    let run = raw.run.as_ref();
    let seed = seed_override
        .or_else(|| run.and_then(|r| r.seed))
        .unwrap_or(DEFAULT_SEED);
    // A scripted scenario may leave the duration out: it then ends after its last step.
    let scripted = !raw.step.is_empty();
    let duration = duration_field(
        f,
        "run.duration",
        run.and_then(|r| r.duration.as_ref()),
        scripted.then_some(SimDuration::ZERO),
    );
    if duration == Some(SimDuration::ZERO) && run.and_then(|r| r.duration.as_ref()).is_some() {
        f.err(
            "run.duration",
            quoted("0"),
            "a run must last longer than zero",
        );
    }
    let converge_deadline = duration_field(
        f,
        "run.converge_deadline",
        run.and_then(|r| r.converge_deadline.as_ref()),
        Some(SimDuration::from_secs(600)),
    );
    let max_events = run.and_then(|r| r.max_events).unwrap_or(2_000_000_000);
    let sample_interval = duration_field(
        f,
        "run.sample_interval",
        run.and_then(|r| r.sample_interval.as_ref()),
        Some(SimDuration::from_secs(1)),
    );
    if max_events == 0 {
        f.err("run.max_events", Some("0".into()), "expected at least 1");
    }
    let fidelity = fidelity_fields(run, f);
    RunTable {
        fidelity,
        seed,
        duration,
        converge_deadline,
        max_events,
        sample_interval,
    }
}

/// `run.fidelity` and `run.sample`.
fn fidelity_fields(run: Option<&RawRun>, f: &mut Findings) -> Fidelity {
    let sample = run.and_then(|r| r.sample.as_deref());
    match run.and_then(|r| r.fidelity.as_deref()) {
        None | Some("exact") => {
            if let Some(s) = sample {
                f.err(
                    "run.sample",
                    quoted(s),
                    "only meaningful with run.fidelity = \"sampled\"",
                );
            }
            Fidelity::Exact
        }
        Some("sampled") => {
            let Some(s) = sample else {
                return Fidelity::Sampled { every: 64 };
            };
            let every = s
                .strip_prefix("1/")
                .and_then(|n| n.trim().parse::<u64>().ok())
                .filter(|n| (1..=MAX_SAMPLE_EVERY).contains(n));
            match every {
                Some(every) => Fidelity::Sampled { every },
                None => {
                    f.err(
                        "run.sample",
                        quoted(s),
                        format!(
                            "expected \"1/N\" with N from 1 to {MAX_SAMPLE_EVERY}, e.g. \"1/64\""
                        ),
                    );
                    Fidelity::Exact
                }
            }
        }
        Some(other) => {
            f.err(
                "run.fidelity",
                quoted(other),
                "expected \"exact\" or \"sampled\"",
            );
            Fidelity::Exact
        }
    }
}
