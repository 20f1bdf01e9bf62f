//! The resource guard: refuse, before anything runs, a run that would need absurd memory
//! or time, with the estimate and what to change.

use super::*;

/// Checks the run's estimated memory and events against the guards; returns the memory
/// estimate in bytes (generated keys and scripted values).
pub(super) fn resource_guard(
    raw: &RawScenario,
    f: &mut Findings,
    (workload, script): (&Option<WorkloadParams>, &[Step]),
    run: &run::RunTable,
    clusters: usize,
) -> u64 {
    let (duration, max_events, run_fidelity) = (run.duration, run.max_events, run.fidelity);
    let whatif = raw.whatif.as_ref();
    let clusters_len = clusters;
    let run = raw.run.as_ref();
    let allow_huge = whatif.and_then(|w| w.allow_huge_runs).unwrap_or(false);
    let mut estimate = scripted_guard(f, script, clusters, allow_huge);
    if let (Some(w), Some(d)) = (&workload, duration) {
        let writes = w.rate_per_sec * d.as_secs_f64();
        let kinds = w.mix.families();
        let distinct = (w.keys.saturating_mul(kinds) as f64).min(writes);
        let n = clusters_len.max(1) as f64;
        let bytes = match run_fidelity {
            crate::model::Fidelity::Exact => distinct * n * ESTIMATED_BYTES_PER_KEY_COPY,
            // About one key in `every` keeps its CRDT state; every generated key number has a
            // 4-byte cell of the shadow table (`model::keysample::Shadow`), whether written
            // or not.
            crate::model::Fidelity::Sampled { every } => {
                distinct / every as f64 * n * ESTIMATED_BYTES_PER_KEY_COPY
                    + w.keys.saturating_mul(kinds) as f64 * 4.0
            }
        };
        estimate = estimate.saturating_add(bytes as u64);
        // A write is an arrival and an apply at each peer (and a delivery per batch).
        let events = writes * (1.0 + 2.0 * (n - 1.0));
        if !allow_huge && bytes > MAX_ESTIMATED_MEMORY {
            f.err(
                "workload.keys",
                Some(w.keys.to_string()),
                format!(
                    "the run would hold about {:.0} GiB ({:.3e} distinct keys{} × {} instances × ~{} bytes each), over the {} GiB guard; use fewer keys, a lower rate or a shorter run (or whatif.allow_huge_runs = true)",
                    bytes / GIB,
                    distinct,
                    match run_fidelity {
                        crate::model::Fidelity::Exact => String::new(),
                        crate::model::Fidelity::Sampled { every } => format!(", 1 in {every} of them sampled,"),
                    },
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
    estimate
}

/// Copies of a scripted value a run holds at its peak: one per instance, the op in the
/// replication backlog, and one more while it is merged (measured: a 512 MB `SETRANGE` on two
/// instances peaked at 2.1 GB).
fn scripted_copies(instances: usize) -> u64 {
    instances as u64 + 2
}

/// What a write command can make a key hold, in bytes: its arguments, and for `SETRANGE`
/// the offset it writes at (the string is padded to it).
fn command_bytes(cmd: &crate::redis::Command) -> u64 {
    if !cmd.cmd.is_write() {
        return 0;
    }
    let args: u64 = cmd.args.iter().map(|a| a.len() as u64).sum();
    let offset = match cmd.cmd {
        crate::redis::Cmd::SetRange => cmd
            .args
            .get(1)
            .and_then(|o| o.as_i64())
            .map_or(0, |o| o.max(0) as u64),
        _ => 0,
    };
    args.saturating_add(offset)
}

/// The scripted values' memory: refused over the guard (naming the largest step), else its
/// estimate in bytes.
fn scripted_guard(f: &mut Findings, script: &[Step], instances: usize, allow_huge: bool) -> u64 {
    let mut total = 0u64;
    let mut largest: Option<(usize, u64)> = None;
    for (i, step) in script.iter().enumerate() {
        if let StepAction::Command { cmd, .. } = &step.action {
            let b = command_bytes(cmd);
            total = total.saturating_add(b);
            if largest.is_none_or(|(_, l)| b > l) {
                largest = Some((i, b));
            }
        }
    }
    let bytes = total.saturating_mul(scripted_copies(instances));
    if !allow_huge
        && bytes as f64 > MAX_ESTIMATED_MEMORY
        && let Some((i, b)) = largest
    {
        f.err(
            format!("step[{i}].cmd"),
            None,
            format!(
                "the script's values would take about {} ({} written, held {} times: once per instance, in the backlog and while merged; this step writes {}), over the {} GiB guard; write smaller values (or whatif.allow_huge_runs = true)",
                human(bytes),
                human(total),
                scripted_copies(instances),
                human(b),
                MAX_ESTIMATED_MEMORY / GIB
            ),
        );
    }
    bytes
}

/// Bytes in GiB with one decimal (the guard's figures are tens of GiB).
fn human(b: u64) -> String {
    format!("{:.1} GiB", b as f64 / GIB)
}
