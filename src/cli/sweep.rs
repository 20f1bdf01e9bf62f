//! `geosim sweep`.

use super::{out, outln};

use std::path::{Path, PathBuf};

use super::outdir::OutDir;
use super::{EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_OK, EXIT_OUTPUT_FAILED};
use crate::scenario::{self, LoadOptions};
use crate::sweep::memory_plan::MemoryInput;
use crate::sweep::plan::{PlanInput, plan_text};
use crate::sweep::{
    Axis, CellResult, Manifest, Row, merge_shards, parse_axis, parse_seeds, parse_shard,
    parse_share, run_sweep_shard_with_progress, shard_len, sweep_csv, sweep_md, write_sweep_charts,
};

/// Writes a sweep's (or shard's) files into `dir` (an output directory's staging folder);
/// `sweep.md` only for a whole sweep.
fn write_outputs(dir: &Path, m: &Manifest, rows: &[Row]) -> std::io::Result<Option<String>> {
    let axes = m.axes();
    std::fs::write(dir.join("sweep.csv"), sweep_csv(&axes, rows))?;
    let json = serde_json::to_string_pretty(m).expect("a manifest serialises") + "\n";
    std::fs::write(dir.join("sweep.json"), json)?;
    let mut md = None;
    if m.shard.1 == 1 {
        let text = sweep_md(&m.scenario, &axes, &m.seeds, rows, m.full_sync_target);
        std::fs::write(dir.join("sweep.md"), &text)?;
        write_sweep_charts(dir, &axes, rows).map_err(std::io::Error::other)?;
        // The page shows the charts just drawn (read back: a chart the sweep could not
        // draw, e.g. the heatmap of a one-axis sweep, is simply absent).
        let mut charts = Vec::new();
        for (name, caption) in crate::sweep::page::CHARTS {
            if let Ok(svg) = std::fs::read_to_string(dir.join(format!("{name}.svg"))) {
                charts.push((name, caption, svg));
            }
        }
        let html = crate::sweep::page::sweep_page(m, &text, rows, &charts);
        std::fs::write(dir.join("index.html"), html)?;
        md = Some(text);
    }
    Ok(md)
}

pub(crate) fn merge(dirs: &[std::path::PathBuf], out: &Path, force: bool) -> i32 {
    let dirs: Vec<&Path> = dirs.iter().map(|d| d.as_path()).collect();
    let (m, rows) = match merge_shards(&dirs) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let dir = match OutDir::prepare(out, "--out", force) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    match write_outputs(dir.staging(), &m, &rows).and_then(|md| dir.commit().map(|_| md)) {
        Ok(md) => {
            out!("{}", md.unwrap_or_default());
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot write into {}: {e}", out.display());
            EXIT_OUTPUT_FAILED
        }
    }
}

/// Run a grid of variants of a scenario (axes × seeds) in parallel; write sweep.csv,
/// sweep.json, sweep.md and charts.
#[derive(clap::Args, Debug)]
// These doc comments are the command's help text, printed as written (`cluster[0]` is not a
// rustdoc link).
#[allow(rustdoc::broken_intra_doc_links, rustdoc::private_intra_doc_links)]
pub struct SweepArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// An axis: a field path and its values, e.g. replication.backlog_size=1MB,4MB,16MB
    /// (repeat for more axes; an array of tables is addressed by index, cluster[0].shards,
    /// or by kind or name, fault.partition.duration). Default: the scenario's [sweep] set.
    #[arg(long = "set", value_name = "PATH=V1,V2,...")]
    pub set: Vec<String>,
    /// Seeds: one (7) or an inclusive range (1..20); default: the scenario's [sweep] seeds,
    /// else its own seed.
    #[arg(long)]
    pub seeds: Option<String>,
    /// Also answer "the smallest backlog whose share of runs with a full sync is at most
    /// this", e.g. 5% or 0.05 (default: the scenario's [sweep] full_sync_target).
    #[arg(long, value_name = "SHARE")]
    pub full_sync_target: Option<String>,
    /// Threads (default: all cores). The output is the same for any value.
    #[arg(short = 'j', long, default_value_t = 0)]
    pub jobs: usize,
    /// Run only shard K of N (1-based): the cells whose index is K-1 modulo N. Combine
    /// the shards' output directories with `geosim merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Where to write sweep.csv, sweep.json and (for a whole sweep) sweep.md and charts.
    #[arg(long)]
    pub out: PathBuf,
    /// Write into a non-empty directory that geosim did not write.
    #[arg(long)]
    pub force: bool,
}

pub(crate) fn sweep(a: &SweepArgs) -> i32 {
    let (path, set, out) = (a.scenario.as_path(), &a.set[..], a.out.as_path());
    let shard = match a.shard.as_deref().map(parse_shard).transpose() {
        Ok(s) => s.unwrap_or((1, 1)),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let loaded = match scenario::load(path, &LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // The command line's --set and --seeds win over the scenario's [sweep] table.
    let axes = if set.is_empty() {
        loaded.sweep.axes.clone()
    } else {
        match set
            .iter()
            .map(|s| parse_axis(s).map_err(|e| format!("--set {s:?}: {e}")))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    };
    // Seeds alone are a sweep too (the same scenario over many seeds).
    if axes.is_empty() && a.seeds.is_none() && loaded.sweep.seeds.is_none() {
        eprintln!(
            "error: {}: nothing to sweep: give --set PATH=V1,V2,..., --seeds A..B, or a [sweep] table with set = [...] or seeds",
            path.display()
        );
        return EXIT_BAD_INPUT;
    }
    let full_sync_target = match a.full_sync_target.as_deref().map(parse_share).transpose() {
        Ok(t) => t.or(loaded.sweep.full_sync_target),
        Err(e) => {
            eprintln!(
                "error: --full-sync-target {:?}: {e}",
                a.full_sync_target.as_deref().unwrap_or_default()
            );
            return EXIT_BAD_INPUT;
        }
    };
    let seeds = match a.seeds.as_deref() {
        Some(spec) => match parse_seeds(spec) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: --seeds {spec:?}: {e}");
                return EXIT_BAD_INPUT;
            }
        },
        None => loaded
            .sweep
            .seeds
            .clone()
            .unwrap_or_else(|| vec![loaded.config.seed]),
    };
    // Everything that can be checked is checked before any cell runs: the output
    // directory, and every value of every axis (reported against the command line).
    if let Err(e) = check_axes(path, &axes, !set.is_empty()) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let dir = match OutDir::prepare(out, "--out", a.force) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let results = run_with_bar(path, &axes, &seeds, a.jobs, shard);
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let rows: Vec<Row> = results.iter().map(Row::from_result).collect();
    let manifest = Manifest::new(path, &axes, &seeds, shard, full_sync_target);
    match write_outputs(dir.staging(), &manifest, &rows).and_then(|md| dir.commit().map(|_| md)) {
        Ok(Some(md)) => out!("{md}"),
        Ok(None) => outln!(
            "shard {}/{}: {} of {} cells written to {}; combine the shards with geosim merge",
            shard.0,
            shard.1,
            rows.len(),
            manifest.cells,
            out.display()
        ),
        Err(e) => {
            eprintln!("error: cannot write into {}: {e}", out.display());
            return EXIT_OUTPUT_FAILED;
        }
    }
    EXIT_OK
}

/// Runs a sweep's cells with a progress bar on a terminal (indicatif hides it when stderr
/// is not one).
/// Validates the scenario with each value of each axis put in (the other axes at their
/// first values): a bad value is reported as the `--set` that gave it (or the scenario's
/// `[sweep]` entry), with what validation said.
fn check_axes(path: &Path, axes: &[Axis], from_command_line: bool) -> Result<(), String> {
    let text = crate::scenario::read_text(path).map_err(|e| e.to_string())?;
    let file = path.display().to_string();
    for (i, axis) in axes.iter().enumerate() {
        for v in &axis.values {
            let sets: Vec<(&str, &str)> = axes
                .iter()
                .enumerate()
                .map(|(j, a)| {
                    let value = if i == j { v } else { &a.values[0] };
                    (a.path.as_str(), value.as_str())
                })
                .collect();
            let opts = LoadOptions::default();
            if let Err(e) = crate::sweep::scenario_with(&text, &file, &sets, &opts) {
                let said: Vec<String> = e.diagnostics.iter().map(|d| d.render_bare()).collect();
                let origin = if from_command_line {
                    format!("--set {}={v}", axis.path)
                } else {
                    format!("{file}: [sweep] set: {}={v}", axis.path)
                };
                return Err(format!("{origin}: {}", said.join("; ")));
            }
        }
    }
    Ok(())
}

fn run_with_bar(
    path: &Path,
    axes: &[Axis],
    seeds: &[u64],
    jobs: usize,
    shard: (usize, usize),
) -> Result<Vec<CellResult>, crate::scenario::ScenarioError> {
    let bar = indicatif::ProgressBar::new(shard_len(axes, seeds, shard) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} cells, {elapsed} elapsed, ~{eta} left",
        )
        .expect("a valid template"),
    );
    let done = || bar.inc(1);
    let results = run_sweep_shard_with_progress(path, axes, seeds, jobs, shard, &done);
    bar.finish_and_clear();
    results
}

/// `geosim plan`'s arguments as typed (units still in the strings).
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// Writes per second at one cluster, e.g. 20k/s (with --outage; both may be left out
    /// when --dataset-keys asks for the memory answer alone).
    #[arg(long)]
    pub rate: Option<String>,
    /// How long a peer is cut off, e.g. 10m.
    #[arg(long)]
    pub outage: Option<String>,
    /// Keys in the dataset: adds how much memory they take per region (with --key-bytes,
    /// --value-bytes, --peers, --shards, --replication and --backlog).
    #[arg(long, value_name = "N")]
    pub dataset_keys: Option<u64>,
    /// With --dataset-keys: each primary shard has a replica in its cluster.
    #[arg(long)]
    pub replication: bool,
    /// Replication-stream bytes per write (default: a SET of --key-bytes and --value-bytes).
    #[arg(long)]
    pub op_bytes: Option<u64>,
    /// Key length for the default op size.
    #[arg(long, default_value_t = 16)]
    pub key_bytes: u64,
    /// Value length for the default op size.
    #[arg(long, default_value_t = 100)]
    pub value_bytes: u64,
    /// Shards per cluster.
    #[arg(long, default_value_t = 1)]
    pub shards: u64,
    /// Participating clusters.
    #[arg(long, default_value_t = 2)]
    pub peers: u64,
    /// The syncer's reconnect delay once the link heals (the scenario default is 1s).
    #[arg(long, default_value = "1s")]
    pub reconnect: String,
    /// A backlog size per shard to assess, e.g. 250MB.
    #[arg(long)]
    pub backlog: Option<String>,
    /// The dataset size of the whole database, e.g. 8GB (for full-sync figures).
    #[arg(long)]
    pub dataset: Option<String>,
    /// The WAN link bandwidth, e.g. 1Gbit/s.
    #[arg(long)]
    pub bandwidth: Option<String>,
    /// Print the inputs and figures as JSON (keys carry their unit) instead of text; not
    /// with --simulate.
    #[arg(long)]
    pub json: bool,
    /// Also run the matching sweep (backlog sizes around the analytic minimum × seeds) and
    /// print analytic and simulated figures side by side; needs --out.
    #[arg(long)]
    pub simulate: bool,
    /// Seeds of the simulation: one (7) or an inclusive range (1..20).
    #[arg(long, default_value = "1..3")]
    pub seeds: String,
    /// Keys the simulated workload spreads its SETs over (uniformly).
    #[arg(long, default_value_t = 100_000)]
    pub keys: u64,
    /// A simulated figure disagrees when simulated ÷ analytic is outside [1/F, F].
    #[arg(long, value_name = "F", default_value_t = 1.25)]
    pub factor: f64,
    /// Threads for the simulation (default: all cores).
    #[arg(short = 'j', long, default_value_t = 0)]
    pub jobs: usize,
    /// Where --simulate writes scenario.toml, the sweep's files and plan.md.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// With --out: write into a non-empty directory that geosim did not write.
    #[arg(long)]
    pub force: bool,
}

/// The highest write rate `plan` accepts (a billion writes per second: past every database
/// geosim models, and low enough that no figure overflows).
const MAX_PLAN_RATE: f64 = 1e9;

/// The longest outage `plan` accepts, in seconds (a year).
const MAX_PLAN_OUTAGE_S: f64 = 365.0 * 86_400.0;

/// The memory question of `--dataset-keys`, checked.
fn memory_input(a: &PlanArgs, keys: u64) -> Result<MemoryInput, String> {
    use crate::scenario::units::parse_size;
    use crate::scenario::validate::{MAX_BACKLOG, MAX_SHARDS, MIN_BACKLOG};
    let bad = |flag: &str, v: &str, valid: &str| format!("--{flag} {v:?}: expected {valid}");
    if !(1..=1_000_000_000_000).contains(&keys) {
        return Err(bad(
            "dataset-keys",
            &keys.to_string(),
            "1 to 10^12 keys (the scenario limit)",
        ));
    }
    if !(1..=512 * 1024 * 1024).contains(&a.value_bytes) || !(1..=65_536).contains(&a.key_bytes) {
        return Err(bad(
            "value-bytes",
            &format!("{} (key {})", a.value_bytes, a.key_bytes),
            "values of 1 B to 512MB and key names of 1 B to 64KB",
        ));
    }
    if !(1..=MAX_SHARDS).contains(&a.shards) || !(2..=5).contains(&a.peers) {
        return Err(bad(
            "shards",
            &format!("{} shards, {} peers", a.shards, a.peers),
            &format!("1 to {MAX_SHARDS} shards and 2 to 5 participating clusters"),
        ));
    }
    let backlog = match &a.backlog {
        None => None,
        Some(v) => match parse_size(v) {
            Some(b) if (MIN_BACKLOG..=MAX_BACKLOG).contains(&b) => Some(b),
            _ => {
                return Err(bad(
                    "backlog",
                    v,
                    "a size from 1MB to 250MB per shard (Redis's documented range)",
                ));
            }
        },
    };
    Ok(MemoryInput {
        keys,
        key_bytes: a.key_bytes,
        value_bytes: a.value_bytes,
        peers: a.peers,
        shards: a.shards,
        replication: a.replication,
        backlog,
    })
}

fn plan_input(a: &PlanArgs) -> Result<PlanInput, String> {
    use crate::scenario::units::{parse_bandwidth, parse_duration, parse_rate, parse_size};
    let bad = |flag: &str, v: &str, valid: &str| format!("--{flag} {v:?}: expected {valid}");
    let (Some(rate_text), Some(outage_text)) = (&a.rate, &a.outage) else {
        return Err(
            "--rate and --outage are required (leave both out, with --dataset-keys, for the memory answer alone)"
                .to_string(),
        );
    };
    let rate = parse_rate(rate_text)
        .filter(|r| *r > 0.0)
        .ok_or_else(|| bad("rate", rate_text, "a positive rate such as 20k/s"))?;
    let secs = |flag: &str, v: &str| {
        parse_duration(v)
            .map(|d| d.0 as f64 / 1e9)
            .ok_or_else(|| bad(flag, v, "a duration such as 10m, 90s or 500ms"))
    };
    let size = |flag: &str, v: &Option<String>| {
        v.as_ref()
            .map(|v| {
                parse_size(v)
                    .filter(|b| *b > 0)
                    .ok_or_else(|| bad(flag, v, "a positive size such as 250MB or 8GB"))
            })
            .transpose()
    };
    use crate::scenario::validate::{MAX_BACKLOG, MAX_SHARDS, MIN_BACKLOG};
    if !(1..=MAX_SHARDS).contains(&a.shards) {
        return Err(bad(
            "shards",
            &a.shards.to_string(),
            &format!("1 to {MAX_SHARDS} shards per cluster (the scenario limit)"),
        ));
    }
    if rate > MAX_PLAN_RATE {
        return Err(bad(
            "rate",
            rate_text,
            &format!("at most {MAX_PLAN_RATE:.0} writes/s (beyond any database geosim models)"),
        ));
    }
    if !(2..=5).contains(&a.peers) {
        return Err(bad(
            "peers",
            &a.peers.to_string(),
            "2 to 5 participating clusters",
        ));
    }
    let bandwidth_bps = a
        .bandwidth
        .as_ref()
        .map(|v| {
            parse_bandwidth(v)
                .filter(|b| *b > 0)
                .ok_or_else(|| bad("bandwidth", v, "a bandwidth such as 1Gbit/s or 50MB/s"))
        })
        .transpose()?;
    let backlog = size("backlog", &a.backlog)?;
    if let Some(b) = backlog
        && !(MIN_BACKLOG..=MAX_BACKLOG).contains(&b)
    {
        return Err(bad(
            "backlog",
            a.backlog.as_deref().unwrap_or_default(),
            "a size from 1MB to 250MB per shard (Redis's documented range, as scenarios check)",
        ));
    }
    let outage_s = secs("outage", outage_text)?;
    let reconnect_s = secs("reconnect", &a.reconnect)?;
    if outage_s + reconnect_s > MAX_PLAN_OUTAGE_S {
        return Err(bad(
            "outage",
            outage_text,
            "an outage of at most 365 days (with the reconnect delay)",
        ));
    }
    Ok(PlanInput {
        rate,
        op_bytes: a
            .op_bytes
            .unwrap_or_else(|| PlanInput::set_op_bytes(a.key_bytes, a.value_bytes)),
        // With --op-bytes alone, no argument is longer than the whole write.
        largest_piece: match a.op_bytes {
            Some(b) => b,
            None => a.key_bytes.max(a.value_bytes),
        },
        shards: a.shards,
        peers: a.peers,
        outage_s,
        reconnect_s,
        backlog,
        dataset: size("dataset", &a.dataset)?,
        bandwidth_bps,
    })
}

pub(crate) fn plan(a: &PlanArgs) -> i32 {
    use crate::sweep::memory_plan::{memory_json, memory_plan, memory_text};
    let memory = match a.dataset_keys.map(|n| memory_input(a, n)).transpose() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // The memory answer alone.
    if let Some(m) = &memory
        && a.rate.is_none()
        && a.outage.is_none()
    {
        if a.simulate {
            eprintln!("error: --simulate needs --rate and --outage (it sweeps backlog sizes)");
            return EXIT_BAD_INPUT;
        }
        let p = memory_plan(m);
        if a.json {
            let v = serde_json::json!({ "memory": memory_json(m, &p) });
            out!(
                "{}",
                serde_json::to_string_pretty(&v).expect("figures serialise")
            );
        } else {
            out!("{}", memory_text(m, &p));
        }
        return EXIT_OK;
    }
    let i = match plan_input(a) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if a.json {
        if a.simulate {
            eprintln!(
                "error: --json prints the closed form only; drop --simulate (its sweep writes sweep.json and plan.md into --out)"
            );
            return EXIT_BAD_INPUT;
        }
        let text = crate::sweep::plan::plan_json(&i, &crate::sweep::plan::plan(&i));
        match &memory {
            None => out!("{text}"),
            Some(m) => {
                let mut v: serde_json::Value = serde_json::from_str(&text).expect("our JSON");
                v["memory"] = memory_json(m, &memory_plan(m));
                out!(
                    "{}",
                    serde_json::to_string_pretty(&v).expect("figures serialise")
                );
            }
        }
        return EXIT_OK;
    }
    let mut text = plan_text(&i, &crate::sweep::plan::plan(&i));
    if let Some(m) = &memory {
        text.push_str(&memory_text(m, &memory_plan(m)));
    }
    out!("{text}");
    if !a.simulate {
        return EXIT_OK;
    }
    match simulate(a, &i, &text) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

/// `plan --simulate`: writes the matching scenario, sweeps it, and compares.
fn simulate(a: &PlanArgs, i: &PlanInput, plan_md: &str) -> Result<i32, String> {
    use crate::sweep::crosscheck::{
        KEY_BYTES, backlog_grid, busiest_shard_share, crosscheck, crosscheck_text, scenario_text,
        value_bytes_for,
    };
    let out = a
        .out
        .as_deref()
        .ok_or("--simulate writes its scenario and results into a directory: give --out DIR")?;
    let value_bytes = match a.op_bytes {
        Some(b) => value_bytes_for(b).ok_or_else(|| {
            format!(
                "--op-bytes {b}: no SET with a {KEY_BYTES}-byte key takes exactly {b} stream \
                 bytes, so --simulate cannot match it; give --value-bytes instead"
            )
        })?,
        None if a.key_bytes != KEY_BYTES => {
            return Err(format!(
                "--key-bytes {}: the simulated workload's keys are {KEY_BYTES} bytes \
                 (key:000000000000); --simulate needs --key-bytes {KEY_BYTES}",
                a.key_bytes
            ));
        }
        None => a.value_bytes,
    };
    if !(a.factor.is_finite() && a.factor >= 1.0) {
        return Err(format!(
            "--factor {}: expected a number of at least 1",
            a.factor
        ));
    }
    if a.keys == 0 {
        return Err("--keys 0: expected at least 1".into());
    }
    let seeds = parse_seeds(&a.seeds).map_err(|e| format!("--seeds {:?}: {e}", a.seeds))?;
    let span = (seeds[0], *seeds.last().expect("at least one seed"));
    let p = crate::sweep::plan::plan(i);
    let sizes = backlog_grid(&p, i.backlog);
    let dir = OutDir::prepare(out, "--out", a.force)?;
    // The scenario is run from the staging folder and named by where it ends up.
    let path = dir.staging().join("scenario.toml");
    std::fs::write(&path, scenario_text(i, value_bytes, a.keys, &sizes, span))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let loaded = scenario::load(&path, &LoadOptions::default()).map_err(|e| e.to_string())?;
    let axes = loaded.sweep.axes.clone();
    let results = run_with_bar(&path, &axes, &seeds, a.jobs, (1, 1)).map_err(|e| e.to_string())?;
    let rows: Vec<Row> = results.iter().map(Row::from_result).collect();
    let manifest = Manifest::new(&out.join("scenario.toml"), &axes, &seeds, (1, 1), None);
    write_outputs(dir.staging(), &manifest, &rows)
        .map_err(|e| format!("cannot write into {}: {e}", out.display()))?;
    let c = crosscheck(i, &rows, busiest_shard_share(a.keys, i.shards), a.factor);
    let text = crosscheck_text(i, &c, span);
    outln!();
    out!("{text}");
    let md = format!("# geosim plan\n\n```\n{plan_md}```\n\n{text}");
    std::fs::write(dir.staging().join("plan.md"), md)
        .and_then(|_| dir.commit())
        .map_err(|e| format!("cannot write into {}: {e}", out.display()))?;
    Ok(if c.disagreements() + c.contradictions() > 0 {
        EXIT_DIVERGED
    } else {
        EXIT_OK
    })
}
