//! Validation: turns the raw TOML mirror into a [`WorldConfig`], checking every field and the
//! documented Active-Active rules, and collecting every error (not just the first) and every
//! warning.

use super::diag::Diagnostic;
use super::expect::{CountRange, Expectation, Expected, Outcomes};
use super::raw::*;
use super::spelling;
use super::units::*;
use crate::crdt::stream::XaddIdMode;
use crate::engine::{SimDuration, SimTime};
use crate::model::backlog::BacklogModel;
use crate::model::clock::ClockParams;
use crate::model::fault::{Fault, FaultKind, PartitionMode};
use crate::model::memory::EvictionPolicy;
use crate::model::net::{DEFAULT_LATENCY_INTERVAL, LatencyDist, LinkParams};
use crate::model::persistence::Persistence;
use crate::model::script::{Step, StepAction};
use crate::model::topology::{ProxyPolicy, SyncerMode};
use crate::model::workload::{Arrival, KeyDist, OpMix, WorkloadParams};
use crate::model::{ClusterConfig, Fidelity, ReplicationConfig, WorldConfig};

mod cluster;
mod database;
mod expect;
mod fault;
mod guard;
mod membership;
mod network;
mod process;
mod replication;
mod run;
mod step;
mod sweep;
mod workload;

/// The documented limits (see `docs/semantics.md` and `shared/redis-aa-facts.md`).
pub(crate) const MIN_CLUSTERS: usize = 2;
/// Historical Redis Software limit of participating clusters per database.
pub(crate) const MAX_CLUSTERS: usize = 5;
/// What the `whatif.allow_more_clusters` switch lifts the limit to (a resource guard).
pub(crate) const MAX_CLUSTERS_WHATIF: usize = 32;
pub(crate) const MIN_BACKLOG: u64 = 1024 * 1024;
pub(crate) const MAX_BACKLOG: u64 = 250 * 1024 * 1024;
pub(crate) const MAX_SHARDS: u64 = 256;
pub(crate) const MAX_NODES: u64 = 64;
pub(crate) const MAX_KEYS: u64 = 1_000_000_000_000;
pub(crate) const MAX_RATE: f64 = 10_000_000.0;
/// Memory per key per instance, measured on the reference scenario (5,590 MiB for about 1.66M
/// keys on each of 3 instances, streams and metrics included), rounded up.
pub(crate) const ESTIMATED_BYTES_PER_KEY_COPY: f64 = 1_200.0;
const GIB: f64 = 1_073_741_824.0;
/// Runs estimated to hold more than this are refused (unless `whatif.allow_huge_runs`).
pub(crate) const MAX_ESTIMATED_MEMORY: f64 = 64.0 * GIB;
/// Runs estimated to process more events than this are refused (about 4 days at 250k
/// events per wall second), unless `whatif.allow_huge_runs`.
pub(crate) const MAX_ESTIMATED_EVENTS: f64 = 1e11;
pub(crate) const MAX_VALUE: u64 = 512 * 1024 * 1024;

pub(crate) const DEFAULT_SEED: u64 = 1;

/// Collects diagnostics while validating.
#[derive(Default)]
pub(crate) struct Findings {
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Findings {
    fn err(&mut self, path: impl Into<String>, value: Option<String>, msg: impl Into<String>) {
        self.errors.push(Diagnostic::new(path, value, msg));
    }
    fn warn(&mut self, path: impl Into<String>, value: Option<String>, msg: impl Into<String>) {
        self.warnings.push(Diagnostic::new(path, value, msg));
    }
}

fn quoted(s: &str) -> Option<String> {
    Some(format!("{s:?}"))
}

fn duration_field(
    f: &mut Findings,
    path: &str,
    raw: Option<&String>,
    default: Option<SimDuration>,
) -> Option<SimDuration> {
    match raw {
        None => {
            if default.is_none() {
                f.err(path, None, format!("missing; expected {DURATION_HELP}"));
            }
            default
        }
        Some(s) => {
            let d = parse_duration(s);
            if d.is_none() {
                f.err(path, quoted(s), format!("expected {DURATION_HELP}"));
            }
            d
        }
    }
}

fn size_field(f: &mut Findings, path: &str, raw: &str) -> Option<u64> {
    let v = parse_size(raw);
    if v.is_none() {
        f.err(path, quoted(raw), format!("expected {SIZE_HELP}"));
    }
    v
}

fn bandwidth_field(f: &mut Findings, path: &str, raw: &str) -> Option<u64> {
    match parse_bandwidth(raw) {
        Some(0) => {
            f.err(path, quoted(raw), "a bandwidth must be above zero");
            None
        }
        Some(b) => Some(b),
        None => {
            f.err(path, quoted(raw), format!("expected {BANDWIDTH_HELP}"));
            None
        }
    }
}

fn loss_field(f: &mut Findings, path: &str, raw: f64) -> Option<f64> {
    if (0.0..1.0).contains(&raw) {
        Some(raw)
    } else {
        f.err(
            path,
            Some(raw.to_string()),
            "expected a probability in [0, 1) (the share of transmissions that wait a retransmission timeout)",
        );
        None
    }
}

fn choice<T: Copy>(
    f: &mut Findings,
    path: &str,
    raw: Option<&String>,
    default: T,
    options: &[(&str, T)],
) -> T {
    match raw {
        None => default,
        Some(s) => match options.iter().find(|(n, _)| n == s) {
            Some((_, v)) => *v,
            None => {
                let valid: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
                f.err(
                    path,
                    quoted(s),
                    format!("expected one of {}", valid.join(", ")),
                );
                default
            }
        },
    }
}

const LATENCY_HELP: &str = "a duration such as \"40ms\" (constant), or a table with dist = \"constant\" (value), \"uniform\" (min, max), \"normal\" (mean, stddev), \"lognormal\" (median, sigma) or \"pareto\" (scale, shape)";

fn latency_field(f: &mut Findings, path: &str, v: &toml::Value) -> Option<LatencyDist> {
    dist_field(f, path, v, true)
}

/// A distribution table at `path`: `v` must be a table whose `dist` names one of `dists`
/// (with the fields each takes besides `dist`); `expected` says what a valid value is when
/// `v` is not a table. Returns the table, its distribution's name and whether every field
/// belongs to it (unknown fields are reported, and the caller may go on).
pub(super) fn dist_table<'a>(
    f: &mut Findings,
    path: &str,
    v: &'a toml::Value,
    expected: &str,
    dists: &[(&'static str, &'static [&'static str])],
) -> Option<(&'a toml::Table, &'static str, bool)> {
    let names: Vec<String> = dists.iter().map(|d| format!("\"{}\"", d.0)).collect();
    let one_of = format!("expected one of {}", names.join(", "));
    let Some(t) = v.as_table() else {
        f.err(path, Some(v.to_string()), format!("expected {expected}"));
        return None;
    };
    let Some(given) = t.get("dist").and_then(|d| d.as_str()) else {
        f.err(
            format!("{path}.dist"),
            t.get("dist").map(|d| d.to_string()),
            format!("missing or not a string; {one_of}"),
        );
        return None;
    };
    let Some(&(dist, fields)) = dists.iter().find(|d| d.0 == given) else {
        f.err(format!("{path}.dist"), quoted(given), one_of);
        return None;
    };
    let mut clean = true;
    for k in t.keys() {
        if k != "dist" && !fields.contains(&k.as_str()) {
            f.err(
                format!("{path}.{k}"),
                None,
                format!(
                    "unknown field for dist = \"{dist}\"; expected {}",
                    fields.join(", ")
                ),
            );
            clean = false;
        }
    }
    Some((t, dist, clean))
}

/// A duration distribution (`LATENCY_HELP`); `link_delay`: refuse one whose largest draw is
/// longer than a link delay may be.
pub(super) fn dist_field(
    f: &mut Findings,
    path: &str,
    v: &toml::Value,
    link_delay: bool,
) -> Option<LatencyDist> {
    if let Some(s) = v.as_str() {
        return match parse_duration(s) {
            Some(d) => Some(LatencyDist::Constant(d)),
            None => {
                f.err(path, quoted(s), format!("expected {LATENCY_HELP}"));
                None
            }
        };
    }
    let (t, dist, _) = dist_table(
        f,
        path,
        v,
        LATENCY_HELP,
        &[
            ("constant", &["value"]),
            ("uniform", &["min", "max"]),
            ("normal", &["mean", "stddev"]),
            ("lognormal", &["median", "sigma"]),
            ("pareto", &["scale", "shape"]),
        ],
    )?;
    let mut dur = |name: &str| -> Option<SimDuration> {
        let p = format!("{path}.{name}");
        match t.get(name) {
            Some(toml::Value::String(s)) => duration_field(f, &p, Some(s), None),
            Some(other) => {
                f.err(
                    p,
                    Some(other.to_string()),
                    format!("expected {DURATION_HELP}"),
                );
                None
            }
            None => duration_field(f, &p, None, None),
        }
    };
    let d = match dist {
        "constant" => LatencyDist::Constant(dur("value")?),
        "uniform" => {
            let (min, max) = (dur("min"), dur("max"));
            let (min, max) = (min?, max?);
            if min > max {
                f.err(
                    format!("{path}.max"),
                    None,
                    format!("max ({max}) must not be below min ({min})"),
                );
                return None;
            }
            LatencyDist::Uniform { min, max }
        }
        "normal" => {
            let (mean, stddev) = (dur("mean"), dur("stddev"));
            LatencyDist::Normal {
                mean: mean?,
                stddev: stddev?,
            }
        }
        "lognormal" => {
            let median = dur("median");
            let sigma = positive_float(f, path, t, "sigma", 0.0, 10.0);
            LatencyDist::LogNormal {
                median: median?,
                sigma: sigma?,
            }
        }
        "pareto" => {
            let scale = dur("scale");
            let shape = positive_float(f, path, t, "shape", 0.0, 1000.0);
            let scale = scale?;
            if scale.is_zero() {
                f.err(
                    format!("{path}.scale"),
                    None,
                    "a Pareto scale must be above zero",
                );
                return None;
            }
            LatencyDist::Pareto {
                scale,
                shape: shape?,
            }
        }
        _ => unreachable!("dist names were checked above"),
    };
    // A draw longer than a day is no network delay: it would hold a link's stream (and the
    // run) for years of simulated time. Refuse the parameters that allow one.
    let largest = d.largest_draw_secs();
    if link_delay && largest > MAX_LINK_DELAY_SECS {
        let field = match dist {
            "normal" => "stddev",
            "lognormal" => "sigma",
            "pareto" => "shape",
            "constant" => "value",
            _ => "max",
        };
        f.err(
            format!("{path}.{field}"),
            t.get(field).map(|v| v.to_string()),
            format!(
                "this distribution's largest draw is {largest:.3e} s; a link delay of more \
                 than a day ({MAX_LINK_DELAY_SECS} s) would stall the run: choose a {}",
                match field {
                    "shape" => "larger shape (heavier tails need a larger one)",
                    "sigma" | "stddev" => "smaller spread",
                    _ => "smaller maximum",
                }
            ),
        );
        return None;
    }
    Some(d)
}

/// The longest one-way link delay any latency draw may give (one day).
const MAX_LINK_DELAY_SECS: f64 = 86_400.0;

fn positive_float(
    f: &mut Findings,
    path: &str,
    t: &toml::Table,
    name: &str,
    above: f64,
    max: f64,
) -> Option<f64> {
    let p = format!("{path}.{name}");
    let x = match t.get(name) {
        Some(toml::Value::Float(x)) => *x,
        Some(toml::Value::Integer(i)) => *i as f64,
        Some(other) => {
            f.err(
                p,
                Some(other.to_string()),
                format!("expected a number in ({above}, {max}]"),
            );
            return None;
        }
        None => {
            f.err(
                p,
                None,
                format!("missing; expected a number in ({above}, {max}]"),
            );
            return None;
        }
    };
    if x > above && x <= max {
        Some(x)
    } else {
        f.err(
            p,
            Some(x.to_string()),
            format!("expected a number in ({above}, {max}]"),
        );
        None
    }
}

/// The end of fault `i`, from `end` or `begin + duration` (exactly one must be given).
fn fault_end(
    f: &mut Findings,
    fl: &RawFault,
    i: usize,
    begin: Option<SimDuration>,
) -> Option<SimDuration> {
    let p = |field: &str| format!("fault[{i}].{field}");
    match (&fl.end, &fl.duration) {
        (Some(e), None) => duration_field(f, &p("end"), Some(e), None),
        (None, Some(d)) => duration_field(f, &p("duration"), Some(d), None)
            .zip(begin)
            .map(|(d, b)| b + d),
        (Some(_), Some(_)) => {
            f.err(
                format!("fault[{i}]"),
                None,
                "give either end or duration, not both",
            );
            None
        }
        (None, None) => {
            f.err(
                format!("fault[{i}]"),
                None,
                "missing end or duration (e.g. duration = \"5m\")",
            );
            None
        }
    }
}

/// What a sampled run cannot model: scripts (they always run exact), a scenario with no
/// generated workload (nothing to sample), a mix beyond `SET` and `INCR`, eviction (it picks
/// victims among every key) and a keyspace too large for the per-key shadow.
fn sampled_fidelity_rules(
    raw: &RawScenario,
    f: &mut Findings,
    fidelity: Fidelity,
    clusters: &[ClusterConfig],
    workload: Option<&WorkloadParams>,
) {
    let Fidelity::Sampled { .. } = fidelity else {
        return;
    };
    let given = || quoted("sampled");
    if !raw.step.is_empty() {
        f.err(
            "run.fidelity",
            given(),
            "a scenario with [[step]]s always runs exact: remove run.fidelity (or the steps)",
        );
    }
    match workload {
        None => f.err(
            "run.fidelity",
            given(),
            "sampled fidelity samples a generated workload's keys: add a [workload] or run exact",
        ),
        Some(w) if w.keys > MAX_SAMPLED_KEYS => f.err(
            "workload.keys",
            Some(w.keys.to_string()),
            format!("with sampled fidelity at most {MAX_SAMPLED_KEYS} keys (each key's slot and holders are kept)"),
        ),
        Some(w) if !w.mix.is_set_incr() => {
            let others: Vec<&str> = crate::model::workload::OpKind::ALL[2..]
                .iter()
                .filter(|&&k| w.mix.weight(k) > 0.0)
                .map(|k| k.name())
                .collect();
            f.err(
                "run.fidelity",
                given(),
                format!(
                    "sampled fidelity models SET and INCR keys only (a shadow key of another type has no memory model yet), and workload.mix gives weight to {}: run.fidelity = \"exact\"",
                    others.join(", ")
                ),
            )
        }
        Some(_) => {}
    }
    for (i, c) in clusters.iter().enumerate() {
        if c.eviction != EvictionPolicy::NoEviction {
            f.err(
                format!("cluster[{i}].eviction"),
                quoted(c.eviction.name()),
                "eviction picks victims among every key, which a sampled run does not hold: use \"noeviction\" or run.fidelity = \"exact\"",
            );
        }
    }
}

/// The largest keyspace (keys per kind) a sampled run accepts.
pub(crate) const MAX_SAMPLED_KEYS: u64 = 1 << 28;

/// The cluster a fault names in `cluster`; `what` says what it is for.
fn fault_cluster(
    f: &mut Findings,
    fl: &RawFault,
    i: usize,
    index_of: &dyn Fn(&str) -> Option<usize>,
    what: &str,
) -> Option<usize> {
    let path = format!("fault[{i}].cluster");
    match &fl.cluster {
        Some(name) => {
            let c = index_of(name);
            if c.is_none() {
                f.err(path, quoted(name), "no such cluster");
            }
            c
        }
        None => {
            f.err(path, None, format!("missing: {what}"));
            None
        }
    }
}

/// What validation found: the world to build, the warnings, the resolved seed.
pub(crate) struct Validated {
    pub config: WorldConfig,
    /// The resource guard's estimate of the run's peak memory, bytes.
    pub estimated_memory: u64,
    pub expectations: Vec<Expectation>,
    pub outcomes: Outcomes,
    pub notes: Vec<(usize, String)>,
    pub sweep: super::SweepSpec,
}

/// Reports each field in `given` that is set but does not belong to this kind of table.
fn not_valid_here(
    f: &mut Findings,
    path: impl Fn(&str) -> String,
    given: &[(&str, bool)],
    why: &str,
) {
    for (field, set) in given {
        if *set {
            f.err(path(field), None, why);
        }
    }
}

/// The index of cluster `name`, or an error at `path` listing the clusters there are.
fn cluster_named(f: &mut Findings, path: String, name: &str, names: &[String]) -> Option<usize> {
    let r = names.iter().position(|n| n == name);
    if r.is_none() {
        let valid: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        f.err(
            path,
            quoted(name),
            format!("no such cluster; expected one of {}", valid.join(", ")),
        );
    }
    r
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Validates `raw`; `seed_override` replaces `run.seed`.
/// Validates `raw`, one table after another; `seed_override` replaces `run.seed`. Every
/// error and warning is collected in `f`, in the order of the tables.
pub(crate) fn validate(
    raw: &RawScenario,
    seed_override: Option<u64>,
    f: &mut Findings,
    base: &std::path::Path,
) -> Option<Validated> {
    let run = run::run_table(raw, seed_override, f);
    let (names, mut clusters) = cluster::cluster_tables(raw, f);
    let links = network::network_table(raw, f, &names);
    let repl = replication::replication_table(raw, f);
    let workload = workload::workload_table(raw, f, &names, base);
    let (mut faults, clock_steps) = fault::fault_tables(raw, f, &names, &clusters, run.duration);
    faults.extend(process::fault_processes(
        raw,
        f,
        &names,
        run.seed,
        run.duration,
    ));
    let (causal_consistency, xadd_mode) = database::database_table(raw, f);
    let (script, expectations, notes) = step::step_tables(raw, f, &names);
    let estimated_memory =
        guard::resource_guard(raw, f, (&workload, &script), &run, clusters.len());
    membership::membership_rules(f, &clusters, &faults);
    let outcomes = expect::expect_table(raw, f);
    let sweep = sweep::sweep_table(raw, f);

    sampled_fidelity_rules(raw, f, run.fidelity, &clusters, workload.as_ref());

    for (c, at, step) in clock_steps {
        if let Some(cl) = clusters.get_mut(c) {
            cl.clock.steps.push((at, step));
            cl.clock.steps.sort();
        }
    }

    if !f.errors.is_empty() {
        return None;
    }
    Some(Validated {
        estimated_memory,
        sweep,
        outcomes,
        expectations,
        notes,
        config: WorldConfig {
            seed: run.seed,
            duration: run.duration?,
            converge_deadline: run.converge_deadline?,
            clusters,
            links,
            replication: ReplicationConfig {
                syncer_ops_per_sec: repl.syncer_ops_per_sec,
                timeout: repl.timeout?,
                compression: repl.compression.min(6) as u8,
                backlog_model: repl.backlog_model,
                reconnect_delay: repl.reconnect_delay?,
                batch_window: repl.batch_window?,
            },
            workload,
            faults,
            script,
            step_advance: SimDuration::from_millis(1),
            causal_consistency,
            xadd_mode,
            max_events: run.max_events,
            sample_interval: run.sample_interval?,
            compact_keys: true,
            fidelity: run.fidelity,
        },
    })
}
