//! The resource guard: refuse, before anything runs, a run that would need absurd memory
//! or time, with the estimate and what to change.

use super::*;

pub(super) fn resource_guard(
    raw: &RawScenario,
    f: &mut Findings,
    workload: &Option<WorkloadParams>,
    run: &run::RunTable,
    clusters: usize,
) {
    let (duration, max_events) = (run.duration, run.max_events);
    let whatif = raw.whatif.as_ref();
    let clusters_len = clusters;
    let run = raw.run.as_ref();
    if let (Some(w), Some(d)) = (&workload, duration) {
        let allow_huge = whatif.and_then(|w| w.allow_huge_runs).unwrap_or(false);
        let writes = w.rate_per_sec * d.as_secs_f64();
        let kinds = u64::from(w.mix.set > 0.0) + u64::from(w.mix.incr > 0.0);
        let distinct = (w.keys.saturating_mul(kinds) as f64).min(writes);
        let n = clusters_len.max(1) as f64;
        let bytes = distinct * n * ESTIMATED_BYTES_PER_KEY_COPY;
        // A write is an arrival and an apply at each peer (and a delivery per batch).
        let events = writes * (1.0 + 2.0 * (n - 1.0));
        if !allow_huge && bytes > MAX_ESTIMATED_MEMORY {
            f.err(
                "workload.keys",
                Some(w.keys.to_string()),
                format!(
                    "the run would hold about {:.0} GiB ({:.3e} distinct keys × {} instances × ~{} bytes each), over the {} GiB guard; use fewer keys, a lower rate or a shorter run (or whatif.allow_huge_runs = true)",
                    bytes / GIB,
                    distinct,
                    clusters_len,
                    ESTIMATED_BYTES_PER_KEY_COPY,
                    MAX_ESTIMATED_MEMORY / GIB
                ),
            );
        }
        if !allow_huge && events > MAX_ESTIMATED_EVENTS {
            f.err(
                "run.duration",
                run.and_then(|r| r.duration.as_deref()).and_then(quoted),
                format!(
                    "the run would process about {events:.3e} events ({writes:.3e} writes), over the {MAX_ESTIMATED_EVENTS:.0e} guard (days of wall time); lower workload.rate or run.duration (or whatif.allow_huge_runs = true)"
                ),
            );
        } else if events > max_events as f64 {
            f.warn(
                "run.max_events",
                Some(max_events.to_string()),
                format!(
                    "the run needs about {events:.3e} events, more than this bound: it will stop early and not converge"
                ),
            );
        }
    }
}
