//! `geosim hunt`: VOPR-style swarm search. Each seed draws a whole scenario (topology within
//! the documented limits, links, backlog, clocks, faults and a workload, or a script over every
//! data type), runs it with its fault phase and the healed phase after it, and checks the
//! invariants: convergence by the deadline, no acknowledged write lost beyond what the
//! persistence model allows, no panic, and (for a sample of seeds) the same digest twice.
//! `shrink` minimises a failing scenario while it keeps failing the same way.
//!
//! A drawn scenario is a `Spec`, written out as ordinary scenario TOML, so any failure can
//! be rerun with `geosim run`.

use rand::RngExt;

use crate::check::Reference;
use crate::engine::{RngStream, stream_for};
use crate::scenario::{LoadOptions, parse};
use crate::sim::Simulation;

mod toml;
pub(crate) use toml::to_toml;

/// One drawn fault.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FaultSpec {
    /// Cluster `isolate` is cut off from `begin_s` for `dur_s`; `stall` holds connections
    /// instead of dropping them.
    Partition {
        isolate: usize,
        begin_s: u64,
        dur_s: u64,
        stall: bool,
    },
    /// Every link of `cluster` gets slower and thinner.
    Degrade {
        cluster: usize,
        begin_s: u64,
        dur_s: u64,
        latency_add_ms: u64,
        bandwidth_kbit: u64,
    },
    /// `cluster`'s clock jumps by `step_ms` at `at_s`.
    ClockStep {
        cluster: usize,
        at_s: u64,
        step_ms: i64,
    },
    /// The primary of `cluster`'s `shard` crashes at `begin_s`; its process restarts after
    /// `dur_s`.
    Crash {
        cluster: usize,
        shard: u64,
        begin_s: u64,
        dur_s: u64,
    },
}

/// One drawn cluster.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ClusterSpec {
    pub shards: u64,
    pub replication: bool,
    pub persistence: &'static str,
    pub drift_ppm: i64,
    pub ntp: bool,
}

/// A drawn scenario.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Spec {
    pub seed: u64,
    pub clusters: Vec<ClusterSpec>,
    pub latency_ms: u64,
    pub bandwidth_mbit: u64,
    pub loss_pct: u64,
    pub backlog_kb: u64,
    pub compression: u64,
    /// Writes per second of the generated workload (0: none).
    pub rate: u64,
    pub keys: u64,
    pub incr_share_pct: u64,
    pub duration_s: u64,
    pub faults: Vec<FaultSpec>,
    /// Scripted steps: (time in ms, instance, command); a sync of all follows every few.
    pub steps: Vec<(u64, usize, String)>,
    /// Bytes per generated value.
    pub value_bytes: u64,
    /// Every cluster's memory limit in KB and eviction policy, when drawn (else 1GB, none):
    /// small enough that writes fill it.
    pub memory: Option<(u64, &'static str)>,
    /// Every cluster syncs through one proxy endpoint (`proxy_policy = "single"`,
    /// `syncer_mode = "centralized"`) instead of distributed sync.
    pub centralized: bool,
    /// `[database] causal_consistency`.
    pub causal: bool,
    /// `[database] xadd_id_mode`.
    pub xadd_mode: &'static str,
    /// A cluster added during the run: (cluster, `join_at` in s).
    pub join: Option<(usize, u64)>,
    /// A cluster removed during the run: (cluster, `leave_at` in s, forced).
    pub leave: Option<(usize, u64, bool)>,
}

impl Spec {
    /// Whether a partition fault is active at `t_s`.
    fn partitioned_at(&self, t_s: u64) -> bool {
        self.faults.iter().any(|f| match f {
            FaultSpec::Partition { begin_s, dur_s, .. } => *begin_s <= t_s && t_s < begin_s + dur_s,
            _ => false,
        })
    }
}

fn pick<'a, T>(rng: &mut RngStream, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// A command on a few shared keys (so instances conflict): three times in four of the seed's
/// `focus` type (strings and counters, hashes, sets, sorted sets, lists, or the rest), else of
/// any type, so that every type's conflicts come up often in some seeds.
fn command(rng: &mut RngStream, focus: usize) -> String {
    let m = rng.random_range(0..2u32);
    let n = rng.random_range(-3i64..4);
    let v = rng.random_range(0..4u32);
    // The string write, one of six kinds chosen from the values already drawn (no draw of
    // its own, so every other command of every seed is drawn as before).
    let string_write = match (i64::from(v) + n).rem_euclid(6) {
        0 => format!("SET k{m} v{v}"),
        1 => format!("SETEX k{m} {} v{v}", 1 + v),
        2 => format!("GETDEL k{m}"),
        3 => format!("GETEX k{m} PX {}", 500 * (1 + v)),
        4 => format!("SETNX k{m} v{v}"),
        _ => format!("MSET k{m} v{v}"),
    };
    // The stream write, likewise from the values already drawn: entries, consumer groups
    // (created, destroyed, read) and a DEL of the stream, so that delete-wins comes up.
    let stream_write = match (i64::from(v) + 2 * n).rem_euclid(7) {
        0..=2 => format!("XADD x * f{m} v{v}"),
        3 => format!("XGROUP CREATE x g{m} 0 MKSTREAM"),
        4 => format!("XGROUP DESTROY x g{m}"),
        5 => format!("XREADGROUP GROUP g{m} c{v} COUNT 2 STREAMS x >"),
        _ => "DEL x".to_string(),
    };
    // The other write of the last group: a HyperLogLog add, or (for an odd `n`) a JSON
    // write, again from the values already drawn.
    let rest_write = if n.rem_euclid(2) == 0 {
        format!("PFADD p e{v}")
    } else {
        match (i64::from(v) + i64::from(m) + n).rem_euclid(8) {
            0 => r#"JSON.SET j $ '{"a":{"n":0},"l":["x"]}'"#.to_string(),
            1 => format!("JSON.SET j $.a.f{m} {v}"),
            2 => format!("JSON.NUMINCRBY j $.a.n {n}"),
            3 => format!("JSON.ARRAPPEND j $.l {v}"),
            4 => format!("JSON.ARRINSERT j $.l 0 {v}"),
            5 => "JSON.ARRPOP j $.l 0".to_string(),
            6 => "JSON.CLEAR j $.a".to_string(),
            _ => "JSON.DEL j".to_string(),
        }
    };
    let groups: [Vec<String>; 6] = [
        vec![
            string_write,
            format!("INCRBY c{m} {n}"),
            format!("APPEND k{m} a{v}"),
            format!("DEL k{m}"),
        ],
        vec![
            format!("HSET h f{m} v{v}"),
            format!("HINCRBY h n{m} {n}"),
            format!("HDEL h f{m}"),
        ],
        vec![
            format!("SADD s m{m}"),
            format!("SREM s m{m}"),
            "DEL s".to_string(),
        ],
        vec![
            format!("ZADD z {n} m{m}"),
            format!("ZINCRBY z {n} m{m}"),
            format!("ZREM z m{m}"),
        ],
        vec![
            format!("RPUSH l e{v}"),
            format!("LPUSH l e{v}"),
            "LPOP l".to_string(),
        ],
        vec![
            stream_write,
            rest_write,
            format!("EXPIRE k{m} {}", 1 + v),
            format!("PERSIST k{m}"),
            "DEL s h z l".to_string(),
        ],
    ];
    let g = if rng.random_bool(0.75) {
        focus
    } else {
        rng.random_range(0..groups.len())
    };
    pick(rng, &groups[g]).clone()
}

const PERSISTENCE: [&str; 4] = ["aof-everysec", "aof-always", "snapshot", "none"];

/// Draws the scenario of `seed`.
pub(crate) fn generate(seed: u64) -> Spec {
    let mut rng = stream_for(seed, "hunt");
    let n = rng.random_range(2..=5usize);
    let clusters = (0..n)
        .map(|_| ClusterSpec {
            shards: rng.random_range(1..=3),
            replication: rng.random_bool(0.5),
            persistence: PERSISTENCE[rng.random_range(0..PERSISTENCE.len())],
            drift_ppm: rng.random_range(-200..=200),
            ntp: rng.random_bool(0.8),
        })
        .collect();
    let duration_s = rng.random_range(10..=40u64);
    let scripted = seed % 2 == 1;
    let mut faults = Vec::new();
    for _ in 0..rng.random_range(0..=3usize) {
        let begin_s = rng.random_range(1..duration_s);
        let dur_s = rng.random_range(1..=duration_s);
        let c = rng.random_range(0..n);
        faults.push(match rng.random_range(0..4u32) {
            0 => FaultSpec::Partition {
                isolate: c,
                begin_s,
                dur_s,
                stall: rng.random_bool(0.3),
            },
            1 => FaultSpec::Degrade {
                cluster: c,
                begin_s,
                dur_s,
                latency_add_ms: rng.random_range(10..500),
                bandwidth_kbit: rng.random_range(200..20_000),
            },
            2 => FaultSpec::ClockStep {
                cluster: c,
                at_s: begin_s,
                step_ms: rng.random_range(-2000..2000),
            },
            _ => FaultSpec::Crash {
                cluster: c,
                shard: 0,
                begin_s,
                dur_s,
            },
        });
    }
    let mut steps = Vec::new();
    if scripted {
        let focus = rng.random_range(0..6usize);
        let mut t = 0;
        for _ in 0..rng.random_range(4..=30usize) {
            t += rng.random_range(1..400u64);
            steps.push((t, rng.random_range(0..n), command(&mut rng, focus)));
        }
    }
    let mut spec = Spec {
        seed,
        clusters,
        latency_ms: rng.random_range(1..=150),
        bandwidth_mbit: *pick(&mut rng, &[10, 100, 1000]),
        loss_pct: *pick(&mut rng, &[0, 0, 1, 3]),
        backlog_kb: *pick(&mut rng, &[1024, 2048, 8192]),
        compression: rng.random_range(0..=6),
        rate: if scripted {
            *pick(&mut rng, &[0, 50])
        } else {
            rng.random_range(50..=600)
        },
        keys: *pick(&mut rng, &[5, 50, 2000]),
        incr_share_pct: rng.random_range(0..=100),
        duration_s,
        faults,
        steps,
        value_bytes: 32,
        memory: None,
        centralized: false,
        causal: false,
        xadd_mode: "strict",
        join: None,
        leave: None,
    };
    // Drawn last, so that every earlier draw of a seed stays what it was: larger values and
    // backlogs below Redis's 1MB minimum (a what-if) so that outages overflow them, and
    // memory limits small enough to fill, so that the hunt reaches full syncs after an
    // overflow, failed full syncs, OOM and eviction (see `sweep::coverage`).
    if rng.random_bool(0.3) {
        spec.value_bytes = *pick(&mut rng, &[1024, 8192]);
        spec.backlog_kb = *pick(&mut rng, &[64, 256, 1024]);
    }
    if rng.random_bool(0.4) && spec.rate > 0 {
        let policy = *pick(&mut rng, &["noeviction", "allkeys-random"]);
        let shards = spec.clusters.iter().map(|c| c.shards).max().unwrap_or(1);
        // Room for every shard's two backlogs (CRDT and database replication, both
        // `backlog_kb` here) and a little data, which kilobyte values fill; a replica holds
        // all of it again.
        let copies = if spec.clusters.iter().any(|c| c.replication) {
            2
        } else {
            1
        };
        spec.memory = Some((shards * copies * (3 * spec.backlog_kb + 64), policy));
        spec.value_bytes = spec.value_bytes.max(4096);
    }
    // Drawn after those, for the same reason: the rest of what a scenario can say, so that
    // every path of the model is reached by some seeds (see `sweep::coverage`).
    draw_reach(&mut rng, &mut spec);
    spec
}

/// Centralized sync, causal consistency, the stream ID modes, and membership changes: a
/// cluster added while no partition is active (Redis requires every cluster online), one
/// removed, forced when a partition is active then (else forced one time in four).
fn draw_reach(rng: &mut RngStream, spec: &mut Spec) {
    let n = spec.clusters.len();
    // A thin link under a small backlog, and a partition that heals while writes go on: a
    // snapshot that takes longer to send than the backlog lasts, so full syncs fail (and
    // loop until the writes stop).
    if spec.backlog_kb < 1024 && spec.rate > 0 && rng.random_bool(0.5) {
        spec.bandwidth_mbit = 10;
        spec.keys = 2000;
        // 16 MB of keyspace: a snapshot of 13 s at 10 Mbit/s, outlasting the backlog (not
        // under a memory limit, which such values would fill with what cannot be evicted).
        if spec.memory.is_none() {
            spec.value_bytes = 8192;
        }
        let d = spec.duration_s;
        spec.faults.push(FaultSpec::Partition {
            isolate: rng.random_range(0..n),
            begin_s: rng.random_range(1..=d / 3),
            dur_s: (d / 4).max(2),
            stall: false,
        });
    }
    spec.centralized = rng.random_bool(0.3);
    spec.causal = rng.random_bool(0.2);
    spec.xadd_mode = *pick(rng, &["strict", "semi-strict", "liberal"]);
    let d = spec.duration_s;
    if n >= 3 && rng.random_bool(0.25) {
        let at = rng.random_range(1..d);
        if !spec.partitioned_at(at) {
            spec.join = Some((n - 1, at));
        }
    }
    if n >= 3 && rng.random_bool(0.3) {
        let c = rng.random_range(0..n - 1);
        let at = rng.random_range(1..d);
        let force = spec.partitioned_at(at) || rng.random_bool(0.25);
        spec.leave = Some((c, at, force));
    }
}

/// How a drawn scenario broke an invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Broken {
    /// The scenario generator drew something the loader refuses (a hunter bug).
    Invalid(String),
    Diverged,
    NotConverged,
    /// Writes lost although every crashed shard had a replica or fsynced every write.
    LostWrites(u64),
    /// The instances agree, but a key's final state is not what the acknowledged writes
    /// make it by the documented rules (the reference oracle, `check::reference`).
    WrongValue(String),
    Panicked(String),
    /// The same seed gave two different digests.
    Nondeterministic,
}

impl Broken {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Broken::Invalid(_) => "invalid",
            Broken::Diverged => "diverged",
            Broken::NotConverged => "not converged",
            Broken::LostWrites(_) => "lost writes",
            Broken::WrongValue(_) => "wrong value",
            Broken::Panicked(_) => "panic",
            Broken::Nondeterministic => "nondeterministic",
        }
    }

    pub(crate) fn detail(&self) -> String {
        match self {
            Broken::Invalid(e) | Broken::Panicked(e) | Broken::WrongValue(e) => e.clone(),
            Broken::LostWrites(n) => format!("{n} acknowledged writes lost"),
            _ => String::new(),
        }
    }
}

/// Runs `spec` and checks the invariants; `twice` also reruns it and compares digests.
pub(crate) fn check(spec: &Spec, twice: bool) -> Option<Broken> {
    check_covering(spec, twice).0
}

/// [`check`], with the paths the run went through (`sweep::coverage`; none when it could not
/// run).
pub(crate) fn check_covering(spec: &Spec, twice: bool) -> (Option<Broken>, u64) {
    let text = to_toml(spec);
    let s = match parse(&text, "hunt.toml", &LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => return (Some(Broken::Invalid(e.to_string())), 0),
    };
    let run = || {
        std::panic::catch_unwind(|| {
            let (result, mut observers) = Simulation::builder(s.config.clone())
                .observer(Box::new(Reference::default()))
                .build()
                .run_observed();
            let any: Box<dyn std::any::Any> = observers.pop().expect("the reference");
            let reference = any.downcast::<Reference>().expect("the reference");
            let convergence = crate::check::check_convergence(&result);
            (result, convergence, reference)
        })
    };
    let (result, convergence, reference) = match run() {
        Ok(j) => j,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            return (Some(Broken::Panicked(msg)), 0);
        }
    };
    let bits = super::coverage::paths(spec, &result);
    // A shard that fills with nothing to free stops replication into it for good: the
    // instances stay apart, as documented (docs/semantics.md, "Memory, eviction and OOM").
    // Nothing to free: no eviction, or every key evicted and the memory held by the backlog
    // and tombstones (which cannot be collected while the instances differ).
    let nothing_to_free =
        |policy: &str| policy == "noeviction" || result.clusters.iter().any(|c| c.keys == 0);
    let stuck_by_oom = spec
        .memory
        .is_some_and(|(_, policy)| nothing_to_free(policy))
        && result.peers.iter().any(|p| p.oom_stops > 0);
    if stuck_by_oom {
        return (None, bits);
    }
    use crate::check::Verdict;
    // A forced removal's lost writes may have reached some of the members left and not
    // others; nothing relays a removed instance's ops, so those members stay apart on the
    // keys it wrote (docs/semantics.md, "Membership"): a documented loss, not a bug. (Their
    // tombstones then never become collectable, so garbage collection keeps the run busy
    // until its deadline: "not converged" rather than "diverged".)
    let removal_lost: u64 = result
        .clusters
        .iter()
        .map(|c| c.writes_lost_to_removal)
        .sum();
    if convergence.verdict != Verdict::Converged && removal_lost > 0 {
        return (None, bits);
    }
    match convergence.verdict {
        Verdict::Diverged => return (Some(Broken::Diverged), bits),
        Verdict::NotConverged => return (Some(Broken::NotConverged), bits),
        Verdict::Converged => {}
    }
    let crashed: Vec<usize> = spec
        .faults
        .iter()
        .filter_map(|f| match f {
            FaultSpec::Crash { cluster, .. } => Some(*cluster),
            _ => None,
        })
        .collect();
    let durable = crashed.iter().all(|c| {
        let c = &spec.clusters[*c];
        c.replication || c.persistence == "aof-always"
    });
    let lost: u64 = result.clusters.iter().map(|c| c.writes_lost).sum();
    if durable && lost > 0 {
        return (Some(Broken::LostWrites(lost)), bits);
    }
    // With no acknowledged write lost, every instance must hold what the writes make.
    if lost == 0
        && let Some(m) = reference.mismatches.first()
    {
        let wrong = Broken::WrongValue(format!(
            "key {} at instance {}: the acknowledged writes make it {}, found {} ({} key-instance pairs wrong, {} keys checked)",
            String::from_utf8_lossy(&m.key),
            m.instance,
            m.expected,
            m.found,
            reference.mismatches.len(),
            reference.checked
        ));
        return (Some(wrong), bits);
    }
    if twice {
        match run() {
            Ok((again, _, _)) if again.trace_digest == result.trace_digest => {}
            _ => return (Some(Broken::Nondeterministic), bits),
        }
    }
    (None, bits)
}

/// Whether seed `seed` is one of the sample rerun for determinism (one in eight).
pub(crate) fn rerun_for_determinism(seed: u64) -> bool {
    seed.is_multiple_of(8)
}

/// Smaller variants of `s`, most aggressive first.
fn candidates(s: &Spec) -> Vec<Spec> {
    let mut out = Vec::new();
    for i in 0..s.faults.len() {
        let mut c = s.clone();
        c.faults.remove(i);
        out.push(c);
    }
    // Steps: drop halves, then quarters, then single steps.
    let n = s.steps.len();
    let mut chunk = n.div_ceil(2);
    while chunk >= 1 && n > 0 {
        for start in (0..n).step_by(chunk) {
            let mut c = s.clone();
            c.steps.drain(start..(start + chunk).min(n));
            out.push(c);
        }
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2);
    }
    if s.clusters.len() > 2 {
        for drop in 0..s.clusters.len() {
            let mut c = s.clone();
            c.clusters.remove(drop);
            let keep = |x: usize| x != drop;
            let shift = |x: usize| if x > drop { x - 1 } else { x };
            c.steps.retain(|(_, on, _)| keep(*on));
            for st in &mut c.steps {
                st.1 = shift(st.1);
            }
            c.faults.retain_mut(|f| {
                let cl = match f {
                    FaultSpec::Partition { isolate, .. } => isolate,
                    FaultSpec::Degrade { cluster, .. }
                    | FaultSpec::ClockStep { cluster, .. }
                    | FaultSpec::Crash { cluster, .. } => cluster,
                };
                let k = keep(*cl);
                *cl = shift(*cl);
                k
            });
            c.join = c
                .join
                .filter(|(j, _)| keep(*j))
                .map(|(j, at)| (shift(j), at));
            c.leave = c
                .leave
                .filter(|(l, ..)| keep(*l))
                .map(|(l, at, force)| (shift(l), at, force));
            // A membership change needs a third cluster (two members from start to end).
            if c.clusters.len() < 3 {
                (c.join, c.leave) = (None, None);
            }
            out.push(c);
        }
    }
    for drop in 0..4 {
        let mut c = s.clone();
        match drop {
            0 => c.join = None,
            1 => c.leave = None,
            2 => (c.causal, c.xadd_mode) = (false, "strict"),
            _ => c.centralized = false,
        }
        out.push(c);
    }
    let mut simpler = s.clone();
    for c in &mut simpler.clusters {
        *c = ClusterSpec {
            shards: 1,
            replication: false,
            persistence: "aof-everysec",
            drift_ppm: 0,
            ntp: true,
        };
    }
    out.push(simpler);
    let mut net = s.clone();
    (net.loss_pct, net.compression, net.latency_ms) = (0, 0, net.latency_ms.min(10));
    out.push(net);
    if s.rate > 10 {
        let mut c = s.clone();
        c.rate /= 2;
        out.push(c);
    }
    if s.rate > 0 && !s.steps.is_empty() {
        let mut c = s.clone();
        c.rate = 0;
        out.push(c);
    }
    if s.keys > 1 {
        let mut c = s.clone();
        c.keys = (c.keys / 4).max(1);
        out.push(c);
    }
    if s.duration_s > 2 {
        let mut c = s.clone();
        c.duration_s = (s.duration_s / 2).max(2);
        let d = c.duration_s;
        c.faults.retain(|f| match f {
            FaultSpec::Partition { begin_s, .. }
            | FaultSpec::Degrade { begin_s, .. }
            | FaultSpec::Crash { begin_s, .. } => *begin_s < d,
            FaultSpec::ClockStep { at_s, .. } => *at_s < d,
        });
        c.join = c.join.filter(|(_, at)| *at < d);
        c.leave = c.leave.filter(|(_, at, _)| *at < d);
        out.push(c);
    }
    out.retain(|c| c != s);
    out
}

/// Minimises `spec` while it still breaks the same way; at most `budget` runs. Returns the
/// smallest failing spec found and how many runs it took.
pub(crate) fn shrink(spec: &Spec, broken: &Broken, budget: usize) -> (Spec, usize) {
    let mut best = spec.clone();
    let mut runs = 0;
    'outer: loop {
        for c in candidates(&best) {
            if runs >= budget {
                break 'outer;
            }
            runs += 1;
            if check(&c, false).is_some_and(|b| b.kind() == broken.kind()) {
                best = c;
                continue 'outer;
            }
        }
        break;
    }
    (best, runs)
}

/// A size measure for reports: clusters, faults, steps, and seconds.
pub(crate) fn size(s: &Spec) -> String {
    format!(
        "{} clusters, {} fault(s), {} step(s), {} writes/s for {} s",
        s.clusters.len(),
        s.faults.len(),
        s.steps.len(),
        s.rate,
        s.duration_s
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_drawn_scenario_loads() {
        for seed in 0..300 {
            let text = to_toml(&generate(seed));
            if let Err(e) = parse(&text, "hunt.toml", &LoadOptions::default()) {
                panic!("seed {seed}: {e}\n{text}");
            }
        }
    }

    #[test]
    fn drawing_is_a_function_of_the_seed() {
        // Pinned: the scenario seed 7 draws, as text. A change here changes what every
        // `hunt --seeds` range covers; update the value on purpose only (last: 2026-12-01,
        // the reach draws added: centralized sync, causal, ID modes, joins, removals, thin links).
        let mut d = crate::engine::Digest::new();
        d.bytes(to_toml(&generate(7)).as_bytes());
        assert_eq!(d.value(), 16776710436569354139);
        assert_eq!(generate(7), generate(7));
        assert_ne!(generate(7), generate(8));
    }

    #[test]
    fn shrinking_candidates_are_smaller_and_still_load() {
        let s = (0..50)
            .map(generate)
            .find(|s| s.clusters.len() > 2 && !s.faults.is_empty() && !s.steps.is_empty())
            .expect("some seed draws all three");
        for c in candidates(&s) {
            assert_ne!(c, s);
            let text = to_toml(&c);
            parse(&text, "c.toml", &LoadOptions::default())
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
        }
    }
}
