//! The run summary: what `geosim run` prints and writes to `summary.json`.
//!
//! JSON keys follow the struct field order (stable); numbers carry their unit in their name
//! (`lag_ms_p99`, `stream_bytes`). No timestamps or host facts go in, so the same scenario and
//! seed give the same bytes.

use serde::Serialize;

mod text;

use crate::check::{
    Convergence, ExpectationResult, RunResult, Verdict, check_expectations, check_outcomes,
};
use crate::engine::SimDuration;
use crate::scenario::Scenario;
use crate::sim::{Simulation, judge};

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClusterSummary {
    pub name: String,
    /// "active", "joining", "removed" or "absent" at the end of the run.
    pub membership: String,
    /// When an added cluster finished its initial syncs and accepted writes, in s.
    pub joined_at_s: Option<f64>,
    pub writes: u64,
    pub rejected_writes: u64,
    pub unavailable_rejections: u64,
    pub writes_lost: u64,
    pub writes_recovered_from_peers: u64,
    /// For a removed cluster: its acknowledged writes that did not reach every member left.
    pub writes_lost_to_removal: u64,
    pub oom_rejections: u64,
    pub evictions: u64,
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
    pub keys: u64,
    pub keyspace_digest: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PeerSummary {
    pub from: String,
    pub to: String,
    pub ops_applied: u64,
    /// Time until a write is visible at `to`, whichever way it arrived (streamed, or merged
    /// by a full sync's snapshot): the headline lag.
    pub visible_ms_p50: Option<f64>,
    pub visible_ms_p99: Option<f64>,
    pub visible_ms_max: Option<f64>,
    /// Writes that reached `to` in a snapshot rather than streamed.
    pub writes_by_snapshot: u64,
    /// The longest any one of this direction's sessions spent not caught up (disconnected,
    /// in a full sync, or replaying a partial sync): `to` may serve stale reads meanwhile.
    pub behind_s: f64,
    /// The longest any one of its sessions spent in full syncs.
    pub in_full_sync_s: f64,
    /// The most memory `to` held while merging a snapshot from `from` (its used memory plus
    /// the snapshot); 0 without full syncs.
    pub snapshot_load_memory_bytes: u64,
    /// Lag of the streamed ops only (apply time minus write time).
    pub lag_ms_p50: Option<f64>,
    pub lag_ms_p99: Option<f64>,
    pub lag_ms_max: Option<f64>,
    pub stream_bytes: u64,
    pub snapshot_bytes: u64,
    pub wire_bytes: u64,
    pub partial_syncs: u64,
    pub full_syncs: u64,
    pub full_sync_failures: u64,
    /// Times replication into `to` stopped because the destination shard was full.
    pub oom_stops: u64,
    /// Two or more full syncs in a row failed because the backlog overflowed while the
    /// snapshot was in transit.
    pub full_sync_loop: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HealSummary {
    pub name: String,
    pub begin_s: f64,
    pub healed_at_s: f64,
    /// Time from the heal until every syncer had applied what was written before it.
    pub caught_up_after_ms: Option<f64>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StepSummary {
    pub step: usize,
    pub time_ms: f64,
    pub on: Option<String>,
    pub cmd: String,
    pub reply: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExpectationSummary {
    /// The scripted step, or null for an `[expect]` outcome.
    pub step: Option<usize>,
    pub on: String,
    pub cmd: String,
    pub expected: String,
    pub actual: String,
    pub pass: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LwwSide {
    pub instance: String,
    pub value: String,
    pub clock_ms: u64,
    pub true_ms: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct InvertedWinSummary {
    pub key: String,
    pub winner: LwwSide,
    pub loser: LwwSide,
}

/// Peaks over the metric samples (one per `run.sample_interval`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PeakSummary {
    pub samples: u64,
    pub backlog_bytes_max: u64,
    /// Bytes held over capacity at the fullest moment of the fullest backlog.
    pub backlog_fill_max: f64,
    pub link_queue_bytes_max: u64,
    /// The largest "how far behind is a syncer" at a sample, in ms.
    pub lag_ms_max_sampled: f64,
    pub tombstones_max: u64,
    /// The most keys whose instances had not applied the same writes, at a sample.
    pub divergent_keys_max: u64,
    pub clock_offset_ms_max: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Totals {
    pub writes: u64,
    pub rejected_writes: u64,
    pub ops_applied: u64,
    pub stream_bytes: u64,
    pub snapshot_bytes: u64,
    pub wire_bytes: u64,
    pub partial_syncs: u64,
    pub full_syncs: u64,
    pub full_sync_failures: u64,
    pub tombstones: u64,
    pub tombstone_bytes: u64,
    pub tombstones_collected: u64,
    pub oom_rejections: u64,
    pub evictions: u64,
    pub replication_oom_stops: u64,
    /// Writes refused because their shard was down (a crash not yet failed over).
    pub unavailable_rejections: u64,
    /// Syncer reconnects refused because one side had been removed from the database.
    pub refused_reconnects: u64,
    /// Acknowledged writes a crash lost for good: neither persisted nor replicated.
    pub writes_lost: u64,
    /// Acknowledged writes a crash lost locally but a peer had: they came back.
    pub writes_recovered_from_peers: u64,
    /// Acknowledged writes of removed clusters that did not reach every member left.
    pub writes_lost_to_removal: u64,
    /// Concurrent string writes that conflicted (each pair once).
    pub lww_conflicts: u64,
    /// Conflicts won by the write that was earlier in true time because its writer's clock
    /// read later (a clock error decided them).
    pub clock_inverted_wins: u64,
    /// Conflicts whose writes carried the same clock reading (ms), settled by instance id.
    pub lww_ties: u64,
    /// Keys whose instances had not applied the same writes when the run stopped.
    pub divergent_keys_end: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    pub seed: u64,
    pub scenario: String,
    pub reproduce: String,
    pub verdict: String,
    pub converged: bool,
    pub time_to_converge_ms: Option<f64>,
    pub duration_s: f64,
    pub simulated_s: f64,
    pub events: u64,
    pub trace_digest: String,
    pub totals: Totals,
    pub peaks: PeakSummary,
    pub clusters: Vec<ClusterSummary>,
    pub peers: Vec<PeerSummary>,
    pub heals: Vec<HealSummary>,
    pub clock_inverted_examples: Vec<InvertedWinSummary>,
    pub steps: Vec<StepSummary>,
    pub expectations: Vec<ExpectationSummary>,
    pub expectations_failed: usize,
    pub warnings: Vec<String>,
    /// Present only for a sampled run (`run.fidelity = "sampled"`): the figures above that
    /// are estimated from the key sample (conflicts, clock-inverted wins, divergent keys,
    /// memory), with their 95 % intervals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingSummary>,
}

/// A figure estimated from the key sample, with its 95 % confidence interval.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EstimateSummary {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

impl EstimateSummary {
    fn of(e: &crate::model::keysample::Estimate) -> Self {
        let r = |x: f64| (x * 10.0).round() / 10.0;
        EstimateSummary {
            estimate: r(e.value),
            low: r(e.low),
            high: r(e.high),
        }
    }
}

/// What a sampled run estimated and from what.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SamplingSummary {
    /// `run.sample`, e.g. "1/64".
    pub sample: String,
    /// Keys always in the sample (the workload's hottest).
    pub certain_keys: u64,
    /// Keys of the sample the run saw.
    pub sampled_keys: u64,
    /// Which figures are estimates: `totals.lww_conflicts`, `totals.clock_inverted_wins`,
    /// `totals.lww_ties`,
    /// `totals.divergent_keys_end`, `peaks.divergent_keys_max`, `clusters[].memory_bytes`
    /// (rounded estimates there; intervals here).
    pub estimated: Vec<String>,
    pub lww_conflicts: EstimateSummary,
    pub clock_inverted_wins: EstimateSummary,
    pub lww_ties: EstimateSummary,
    pub divergent_keys_end: EstimateSummary,
    /// Per cluster, in cluster order.
    pub memory_bytes: Vec<EstimateSummary>,
}

fn sampling_summary(r: &RunResult) -> Option<SamplingSummary> {
    let e = r.estimates.as_ref()?;
    Some(SamplingSummary {
        sample: format!("1/{}", e.every),
        certain_keys: e.certain_keys,
        sampled_keys: e.sampled_keys,
        estimated: [
            "totals.lww_conflicts",
            "totals.clock_inverted_wins",
            "totals.lww_ties",
            "totals.divergent_keys_end",
            "peaks.divergent_keys_max",
            "clusters[].memory_bytes",
        ]
        .map(String::from)
        .to_vec(),
        lww_conflicts: EstimateSummary::of(&e.lww_conflicts),
        clock_inverted_wins: EstimateSummary::of(&e.clock_inverted_wins),
        lww_ties: EstimateSummary::of(&e.lww_ties),
        divergent_keys_end: EstimateSummary::of(&e.divergent_keys_end),
        memory_bytes: e.memory_bytes.iter().map(EstimateSummary::of).collect(),
    })
}

/// Rounds to microsecond precision so that JSON numbers stay short and exact.
fn ms(d: SimDuration) -> f64 {
    (d.0 as f64 / 1_000.0).round() / 1_000.0
}

/// A byte count for people: exact below 1 KiB, else in KiB, MiB, GiB or TiB with three
/// significant digits or more (`summary.json` and the CSV files keep exact integers).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if b < 1024 {
        return format!("{b} B");
    }
    let mut v = b as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {}", UNITS[unit])
}

/// Seconds, rounded to the microsecond.
fn secs(d: SimDuration) -> f64 {
    ms(d) / 1_000.0
}

fn ns_ms(ns: u64) -> f64 {
    ms(SimDuration(ns))
}

/// Runs a scenario and writes its report files into `dir` (created if missing):
/// `summary.json`, `summary.md`, `timeline.csv`, and the charts (`*.svg`, `*.png`).
pub fn write_report(s: &Scenario, dir: &std::path::Path) -> std::io::Result<Judged> {
    std::fs::create_dir_all(dir)?;
    let file = std::rc::Rc::new(std::cell::RefCell::new(std::io::BufWriter::new(
        std::fs::File::create(dir.join("timeline.csv"))?,
    )));
    let error = std::rc::Rc::new(std::cell::RefCell::new(None));
    let csv = super::timeline::csv_sink(file.clone(), error.clone());
    let series = std::rc::Rc::new(std::cell::RefCell::new(super::plot::Series::new()));
    let collected = series.clone();
    let mut csv = csv;
    let sink: crate::model::metrics::SampleSink = Box::new(move |layout, sample| {
        csv(layout, sample);
        collected.borrow_mut().push(layout, sample);
    });
    let judged = run_and_judge_with(s, Some(sink));
    if let Some(e) = error.borrow_mut().take() {
        return Err(e);
    }
    std::io::Write::flush(&mut *file.borrow_mut())?;
    std::fs::write(dir.join("summary.json"), judged.summary.to_json())?;
    std::fs::write(
        dir.join("summary.md"),
        super::markdown::summary_md(&judged.summary),
    )?;
    let windows: Vec<super::plot::Window> = s
        .config
        .faults
        .iter()
        .map(|f| super::plot::Window {
            begin_s: f.begin.as_secs_f64(),
            end_s: f.end.min(judged.result.stopped_at).as_secs_f64(),
            label: f.name.clone(),
        })
        .collect();
    let states = (
        &judged.result.state_changes[..],
        judged.result.stopped_at.as_secs_f64(),
    );
    let charts = super::plot::write_charts(dir, &series.borrow(), &windows, states)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let explained = write_explained(s, dir)?;
    let charts: Vec<(&str, &str, String)> = charts
        .into_iter()
        .map(|(name, svg)| (name, super::plot::caption(name), svg))
        .collect();
    let html = super::html::run_page(&super::html::RunPage {
        summary: &judged.summary,
        charts: &charts,
        explained,
        scenario_text: &s.text,
        sets: &s.sets,
    });
    std::fs::write(dir.join("index.html"), html)?;
    Ok(judged)
}

/// For a small run (a script without a generated workload), the narration (`explain.md`)
/// and the space-time diagram (`spacetime.svg`), from a second, traced run of the scenario;
/// returns the narration as plain text and the diagram, for the HTML page.
fn write_explained(
    s: &Scenario,
    dir: &std::path::Path,
) -> std::io::Result<Option<(String, String)>> {
    if s.config.workload.is_some() || s.config.script.is_empty() {
        return Ok(None);
    }
    let Ok(x) = super::explain::explain(s, &super::explain::ExplainOptions::default()) else {
        return Ok(None);
    };
    let title = std::path::Path::new(&s.file)
        .file_stem()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    let (svg, stats) = super::spacetime::diagram(&x, &title);
    if stats.rows_left_out > 0 {
        return Ok(None);
    }
    std::fs::write(
        dir.join("explain.md"),
        x.render(&title, super::explain::Format::Markdown),
    )?;
    std::fs::write(dir.join("spacetime.svg"), &svg)?;
    Ok(Some((x.render(&title, super::explain::Format::Text), svg)))
}

/// Everything a run produced and every judgement of it.
pub struct Judged {
    pub result: RunResult,
    pub convergence: Convergence,
    pub expectations: Vec<ExpectationResult>,
    pub summary: Summary,
}

/// Runs a scenario, checks convergence and expectations, and summarises.
pub fn run_and_judge(s: &Scenario) -> Judged {
    run_and_judge_with(s, None)
}

/// As [`run_and_judge`], streaming every metric sample to `sink`.
pub fn run_and_judge_with(s: &Scenario, sink: Option<crate::model::metrics::SampleSink>) -> Judged {
    let mut builder = Simulation::builder(s.config.clone());
    if let Some(sink) = sink {
        builder = builder.sink(sink);
    }
    let result = builder.build().run();
    let crate::sim::Judgement {
        convergence,
        expectations,
    } = judge(s, &result);
    let summary = Summary::with_expectations(s, &result, &convergence, &expectations);
    Judged {
        result,
        convergence,
        expectations,
        summary,
    }
}

fn peer_summaries(r: &RunResult, names: &[String]) -> Vec<PeerSummary> {
    r.peers
        .iter()
        .map(|p| PeerSummary {
            from: names[p.src].clone(),
            to: names[p.dst].clone(),
            ops_applied: p.ops_applied,
            visible_ms_p50: p.visible.quantile(0.5).map(ns_ms),
            visible_ms_p99: p.visible.quantile(0.99).map(ns_ms),
            visible_ms_max: (p.visible.count() > 0).then(|| ns_ms(p.visible.max())),
            writes_by_snapshot: p.writes_by_snapshot,
            behind_s: secs(p.behind),
            in_full_sync_s: secs(p.in_full_sync),
            snapshot_load_memory_bytes: p.snapshot_load_memory_max,
            lag_ms_p50: p.lag.quantile(0.5).map(ns_ms),
            lag_ms_p99: p.lag.quantile(0.99).map(ns_ms),
            lag_ms_max: (p.lag.count() > 0).then(|| ns_ms(p.lag.max())),
            stream_bytes: p.stream_bytes,
            snapshot_bytes: p.snapshot_bytes,
            wire_bytes: p.wire_bytes,
            partial_syncs: p.partial_syncs,
            full_syncs: p.full_syncs,
            full_sync_failures: p.full_sync_failures,
            oom_stops: p.oom_stops,
            full_sync_loop: p.max_consecutive_full_sync_failures >= 2,
        })
        .collect()
}

fn totals(r: &RunResult, peers: &[PeerSummary]) -> Totals {
    Totals {
        writes: r.clusters.iter().map(|c| c.writes).sum(),
        rejected_writes: r.clusters.iter().map(|c| c.rejected).sum(),
        ops_applied: peers.iter().map(|p| p.ops_applied).sum(),
        stream_bytes: peers.iter().map(|p| p.stream_bytes).sum(),
        snapshot_bytes: peers.iter().map(|p| p.snapshot_bytes).sum(),
        wire_bytes: peers.iter().map(|p| p.wire_bytes).sum(),
        partial_syncs: peers.iter().map(|p| p.partial_syncs).sum(),
        full_syncs: peers.iter().map(|p| p.full_syncs).sum(),
        full_sync_failures: peers.iter().map(|p| p.full_sync_failures).sum(),
        tombstones: r.tombstones.iter().map(|t| t.0).sum(),
        tombstone_bytes: r.tombstones.iter().map(|t| t.1).sum(),
        tombstones_collected: r.tombstones_collected,
        oom_rejections: r.clusters.iter().map(|c| c.oom_rejections).sum(),
        evictions: r.clusters.iter().map(|c| c.evictions).sum(),
        replication_oom_stops: r.peers.iter().map(|p| p.oom_stops).sum(),
        unavailable_rejections: r.clusters.iter().map(|c| c.unavailable_rejections).sum(),
        refused_reconnects: r.refused_reconnects,
        writes_lost: r.clusters.iter().map(|c| c.writes_lost).sum(),
        writes_recovered_from_peers: r
            .clusters
            .iter()
            .map(|c| c.writes_recovered_from_peers)
            .sum(),
        writes_lost_to_removal: r.clusters.iter().map(|c| c.writes_lost_to_removal).sum(),
        divergent_keys_end: r.divergent_keys(),
        lww_conflicts: r.lww_conflicts(),
        clock_inverted_wins: r.clock_inverted_wins(),
        lww_ties: r.lww_ties(),
    }
}

fn peak_summary(r: &RunResult) -> PeakSummary {
    PeakSummary {
        samples: r.peaks.samples,
        backlog_bytes_max: r.peaks.backlog_bytes_max,
        backlog_fill_max: (r.peaks.backlog_fill_max * 1e4).round() / 1e4,
        link_queue_bytes_max: r.peaks.link_queue_bytes_max,
        lag_ms_max_sampled: ns_ms(r.peaks.lag_ns_max),
        tombstones_max: r.peaks.tombstones_max,
        divergent_keys_max: r.peaks.divergent_keys_max,
        clock_offset_ms_max: ns_ms(r.peaks.clock_offset_ns_max),
    }
}

fn cluster_summaries(r: &RunResult) -> Vec<ClusterSummary> {
    r.clusters
        .iter()
        .zip(&r.instance_digests)
        .enumerate()
        .map(|(i, (c, d))| ClusterSummary {
            name: c.name.clone(),
            membership: match r.members.get(i) {
                Some(crate::model::Membership::Joining) => "joining",
                Some(crate::model::Membership::Removed) => "removed",
                Some(crate::model::Membership::Leaving) => "leaving",
                Some(crate::model::Membership::Absent) => "absent",
                _ => "active",
            }
            .to_string(),
            joined_at_s: r
                .joined_at
                .get(i)
                .copied()
                .flatten()
                .map(|t| t.as_secs_f64()),
            writes: c.writes,
            rejected_writes: c.rejected,
            unavailable_rejections: c.unavailable_rejections,
            writes_lost: c.writes_lost,
            writes_recovered_from_peers: c.writes_recovered_from_peers,
            writes_lost_to_removal: c.writes_lost_to_removal,
            oom_rejections: c.oom_rejections,
            evictions: c.evictions,
            memory_bytes: r
                .estimates
                .as_ref()
                .and_then(|e| e.memory_bytes.get(i))
                .map_or(c.memory_bytes, |m| m.value.round() as u64),
            memory_limit_bytes: c.memory_limit,
            keys: c.keys,
            keyspace_digest: format!("{d:016x}"),
        })
        .collect()
}

fn step_summaries(s: &Scenario, r: &RunResult, names: &[String]) -> Vec<StepSummary> {
    r.steps
        .iter()
        .map(|st| StepSummary {
            step: st.index,
            time_ms: ms(SimDuration(st.time.0)),
            on: st.cluster.map(|c| names[c].clone()),
            cmd: st.line.clone(),
            reply: st.reply.as_ref().map(|r| r.to_string()),
            note: s
                .notes
                .iter()
                .find(|(i, _)| *i == st.index)
                .map(|(_, n)| n.clone()),
        })
        .collect()
}

impl Summary {
    pub fn new(s: &Scenario, r: &RunResult, c: &Convergence) -> Summary {
        let mut ex = check_expectations(s, r);
        ex.extend(check_outcomes(s, r, c));
        Summary::with_expectations(s, r, c, &ex)
    }

    pub(crate) fn with_expectations(
        s: &Scenario,
        r: &RunResult,
        c: &Convergence,
        ex: &[ExpectationResult],
    ) -> Summary {
        let names: Vec<String> = s.config.clusters.iter().map(|c| c.name.clone()).collect();
        let peers = peer_summaries(r, &names);
        let totals = totals(r, &peers);
        let side = |w: &crate::check::LwwWrite| LwwSide {
            instance: names[w.instance].clone(),
            value: w.value.clone(),
            clock_ms: w.clock_ms,
            true_ms: ns_ms(w.true_ns),
        };
        Summary {
            seed: s.config.seed,
            scenario: s.file.clone(),
            reproduce: reproduce(s),
            verdict: c.verdict.name().to_string(),
            converged: c.verdict == Verdict::Converged,
            time_to_converge_ms: c.time_to_converge.map(ms),
            duration_s: s.config.duration.as_secs_f64(),
            simulated_s: r.stopped_at.as_secs_f64(),
            events: r.events,
            trace_digest: format!("{:016x}", r.trace_digest),
            totals,
            peaks: peak_summary(r),
            clusters: cluster_summaries(r),
            peers,
            heals: r
                .heals
                .iter()
                .map(|h| HealSummary {
                    name: h.name.clone(),
                    begin_s: h.begin.as_secs_f64(),
                    healed_at_s: h.healed_at.as_secs_f64(),
                    caught_up_after_ms: h.caught_up_after.map(ms),
                })
                .collect(),
            clock_inverted_examples: r
                .lww
                .examples
                .iter()
                .map(|x| InvertedWinSummary {
                    key: x.key.clone(),
                    winner: side(&x.winner),
                    loser: side(&x.loser),
                })
                .collect(),
            steps: step_summaries(s, r, &names),
            expectations: ex
                .iter()
                .map(|e| ExpectationSummary {
                    step: (e.step != usize::MAX).then_some(e.step),
                    on: e.on.clone(),
                    cmd: e.cmd.clone(),
                    expected: e.expected.clone(),
                    actual: e.actual.clone(),
                    pass: e.pass,
                })
                .collect(),
            expectations_failed: ex.iter().filter(|e| !e.pass).count(),
            warnings: s.warnings.iter().map(|w| w.render(&s.file)).collect(),
            sampling: sampling_summary(r),
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a summary always serialises");
        s.push('\n');
        s
    }
}

/// The command that reruns scenario `s` exactly: its file, seed and command-line settings.
fn reproduce(s: &Scenario) -> String {
    let mut cmd = format!(
        "geosim run {} --seed {}",
        shell_word(&s.file),
        s.config.seed
    );
    for set in &s.sets {
        cmd.push_str(" --set ");
        cmd.push_str(&shell_word(set));
    }
    cmd
}

/// `w` as one shell word: as it is when it holds nothing a shell would read specially,
/// else in single quotes.
fn shell_word(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-/=:,+@%".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::{human_bytes, shell_word};

    #[test]
    fn byte_counts_read_in_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.00 KiB");
        assert_eq!(human_bytes(14_828_907), "14.1 MiB");
        assert_eq!(human_bytes(1_073_741_824), "1.00 GiB");
        assert_eq!(human_bytes(250 * 1024 * 1024), "250 MiB");
        assert_eq!(human_bytes(u64::MAX), "16777216 TiB");
    }

    #[test]
    fn shell_words_are_quoted_only_when_a_shell_would_read_them() {
        assert_eq!(shell_word("run.duration=5s"), "run.duration=5s");
        assert_eq!(shell_word("scenarios/01-a.toml"), "scenarios/01-a.toml");
        assert_eq!(shell_word("cluster[0].shards=4"), "'cluster[0].shards=4'");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
