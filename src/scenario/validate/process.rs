//! `[[fault_process]]`: outages at random times. Each process is an alternating renewal
//! process: from its `begin`, an exponential gap with mean `every`, an outage whose length is
//! drawn from `duration`, another gap, and so on until `end`. Its draws come from a random
//! stream of its own, named after the process, so the outages of a seed stay the same when
//! anything else in the scenario changes (common random numbers across a sweep). The outages
//! become ordinary faults named `<name>#1`, `<name>#2`, … before the run starts.

use super::*;
use crate::engine::dist;
use crate::engine::rng::stream_for;

/// At most this many outages per process: beyond it the scenario is an error (a process that
/// fires every second over a month is a mistake, and each outage is an event list entry).
const MAX_OUTAGES: usize = 10_000;

/// The faults every process makes, for `seed`.
pub(super) fn fault_processes(
    raw: &RawScenario,
    f: &mut Findings,
    names: &[String],
    seed: u64,
    duration: Option<SimDuration>,
) -> Vec<Fault> {
    let mut faults = Vec::new();
    for (i, fp) in raw.fault_process.iter().enumerate() {
        faults.extend(process(f, fp, i, names, seed, duration));
    }
    faults
}

fn process(
    f: &mut Findings,
    fp: &RawFaultProcess,
    i: usize,
    names: &[String],
    seed: u64,
    run_duration: Option<SimDuration>,
) -> Vec<Fault> {
    let at = format!("fault_process[{i}]");
    let p = |field: &str| format!("{at}.{field}");
    // The link fault's own fields, checked as a `[[fault]]`'s are.
    let as_fault = RawFault {
        kind: Some(fp.kind.clone().unwrap_or_else(|| "partition".to_string())),
        isolate: fp.isolate.clone(),
        links: fp.links.clone(),
        mode: fp.mode.clone(),
        latency_add: fp.latency_add.clone(),
        bandwidth: fp.bandwidth.clone(),
        ..RawFault::default()
    };
    let kind = match fp.kind.as_deref() {
        Some("partition" | "degrade") | None => fault::link_fault_kind(f, &as_fault, &at),
        Some(other) => {
            f.err(
                p("kind"),
                quoted(other),
                "expected \"partition\" or \"degrade\" (a fault process cuts or degrades links)",
            );
            None
        }
    };
    let pairs = fault::fault_pairs(f, &as_fault, &at, names);
    let every = duration_field(f, &p("every"), fp.every.as_ref(), None);
    if every.is_some_and(|e| e.is_zero()) {
        f.err(
            p("every"),
            fp.every.as_deref().and_then(quoted),
            "must be above zero",
        );
    }
    let length = match &fp.duration {
        None => {
            f.err(
                p("duration"),
                None,
                "missing: how long each outage lasts, e.g. \"5m\" or { dist = \"lognormal\", median = \"5m\", sigma = 1.0 }",
            );
            None
        }
        Some(v) => dist_field(f, &p("duration"), v, false),
    };
    let begin = duration_field(f, &p("begin"), fp.begin.as_ref(), Some(SimDuration::ZERO));
    let end = match (&fp.end, run_duration) {
        (Some(_), _) => duration_field(f, &p("end"), fp.end.as_ref(), None),
        (None, d) => d,
    };
    if let (Some(b), Some(e)) = (begin, end)
        && e <= b
    {
        f.err(p("end"), None, "the process must end after it begins");
    }
    let (Some(kind), Some(every), Some(length), Some(begin), Some(end), Some(run_end)) =
        (kind, every, length, begin, end, run_duration)
    else {
        return Vec::new();
    };
    if every.is_zero() || end <= begin {
        return Vec::new();
    }
    let name = fp.name.clone().unwrap_or_else(|| at.clone());
    let mut rng = stream_for(seed, &format!("fault_process/{name}"));
    let mut faults = Vec::new();
    let end = end.min(run_end);
    let mut t = begin.as_secs_f64();
    loop {
        let onset = t + dist::exponential(&mut rng, every.as_secs_f64());
        let lasts = length.sample(&mut rng).max(SimDuration::from_millis(1));
        if onset >= end.as_secs_f64() {
            break;
        }
        if faults.len() == MAX_OUTAGES {
            f.err(
                p("every"),
                fp.every.as_deref().and_then(quoted),
                format!(
                    "more than {MAX_OUTAGES} outages in the run: choose a longer mean time between them"
                ),
            );
            return Vec::new();
        }
        // A partition cannot start at 0 (the database is created first); at most the run's
        // end.
        let onset =
            SimTime::ZERO + SimDuration::from_secs_f64(onset).max(SimDuration::from_millis(1));
        let stop = (onset + lasts).min(SimTime::ZERO + run_end);
        if stop <= onset {
            break;
        }
        faults.push(Fault {
            name: format!("{name}#{}", faults.len() + 1),
            begin: onset,
            end: stop,
            pairs: pairs.clone(),
            kind: kind.clone(),
        });
        t = stop.as_secs_f64();
    }
    faults
}
