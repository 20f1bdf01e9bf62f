//! The `geosim` command line: parse, call the library, print. Exit codes:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (the run converged; the scenario is valid) |
//! | 1 | a correctness failure: the instances diverged, or a scripted expectation failed |
//! | 2 | bad usage or bad input (unreadable or invalid scenario, bad flag) |
//! | 3 | no convergence by the deadline |
//! | 4 | an output could not be written (standard output, or a report, sweep or hunt file) |
//! | 141 | the reader of the output closed it early |

pub mod bench;
pub mod check;
pub mod diff;
pub mod explain;
pub mod hunt;
pub(crate) mod outdir;
pub mod run;
pub mod sweep;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub(crate) const EXIT_OK: i32 = 0;
pub(crate) const EXIT_DIVERGED: i32 = 1;
pub(crate) const EXIT_BAD_INPUT: i32 = 2;
pub(crate) const EXIT_NOT_CONVERGED: i32 = 3;
/// An output could not be written after the work was done: standard output failed (a full
/// disk, a closed file) or a report, sweep or hunt file could not be written or moved in.
pub(crate) const EXIT_OUTPUT_FAILED: i32 = 4;
/// What a shell reports for a process stopped by SIGPIPE (128 + 13): the reader of geosim's
/// output closed it early (`geosim hunt ... | head`), which is not an error of geosim's.
pub(crate) const EXIT_PIPE_CLOSED: i32 = 141;

/// Writes to standard output; a write that fails because the reader closed the pipe stops
/// the process quietly with [`EXIT_PIPE_CLOSED`], as a shell tool does on SIGPIPE. Any other
/// write error is reported on standard error ([`EXIT_OUTPUT_FAILED`]).
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(EXIT_PIPE_CLOSED);
        }
        eprintln!("geosim: cannot write to standard output: {e}");
        std::process::exit(EXIT_OUTPUT_FAILED);
    }
}

/// `print!` for the CLI, through [`write_stdout`].
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::write_stdout(format_args!($($t)*)) };
}

/// `println!` for the CLI, through [`write_stdout`].
macro_rules! outln {
    () => { $crate::cli::write_stdout(format_args!("\n")) };
    ($($t:tt)*) => {{
        $crate::cli::write_stdout(format_args!($($t)*));
        $crate::cli::write_stdout(format_args!("\n"));
    }};
}
pub(crate) use {out, outln};

#[derive(Debug, Parser)]
#[command(
    name = "geosim",
    version,
    about = "Deterministic geo-replication simulator for Active-Active (CRDT) databases",
    after_help = "Exit codes: 0 success, 1 correctness failure (divergence or a failed expectation), 2 bad usage or input, 3 no convergence by the deadline."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and print a summary.
    #[command(
        after_help = "Examples:\n  geosim run scenarios/02-partition-and-heal.toml\n  geosim run scenarios/03-backlog-overflow-full-sync.toml --seed 7 --set replication.backlog_size=8MB --report out/"
    )]
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Replace the scenario's seed (0 to 2^63-1, as `run.seed`).
        #[arg(long, value_parser = crate::scenario::axes::parse_seed)]
        seed: Option<u64>,
        /// Set a field of the scenario before it is checked, by the path `sweep --set` takes
        /// (repeatable): `--set replication.backlog_size=32MB --set cluster[1].shards=4`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Print the summary as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Write summary.json into this directory (created if missing).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the report files (summary.json, summary.md, timeline.csv) into this
        /// directory (created if missing).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Write --out/--report into a non-empty directory that geosim did not write.
        #[arg(long)]
        force: bool,
    },
    /// Run a grid of variants of a scenario (axes × seeds) in parallel; write sweep.csv and
    /// sweep.md.
    #[command(
        after_help = "Examples:\n  geosim sweep scenarios/03-backlog-overflow-full-sync.toml --out sweep-out\n  geosim sweep plan.toml --set replication.backlog_size=1MB,4MB,16MB --seeds 1..50 --out sweep-out"
    )]
    Sweep(sweep::SweepArgs),
    /// Combine the output directories of a sharded sweep into the files one run would write.
    #[command(after_help = "Examples:\n  geosim merge shards/* --out sweep-out")]
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the combined sweep.csv, sweep.json and sweep.md.
        #[arg(long)]
        out: PathBuf,
        /// Write into a non-empty directory that geosim did not write.
        #[arg(long)]
        force: bool,
    },
    /// Closed-form capacity figures: the minimal backlog for an outage, how long a backlog
    /// lasts, full-sync transfer time and whether a full sync can finish.
    #[command(
        after_help = "Examples:\n  geosim plan --rate 20k/s --outage 10m --shards 8 --peers 3 --backlog 250MB\n  geosim plan --rate 5k/s --outage 2m --value-bytes 100000 --simulate --out plan-out\n  geosim plan --dataset-keys 10000000 --value-bytes 100 --peers 3 --shards 4 --replication"
    )]
    Plan(sweep::PlanArgs),
    /// Run every scenario with expectations under the given files or folders (default
    /// scenarios/) in parallel: one line each and a closing count; exit 0 only if all pass.
    #[command(
        after_help = "Examples:\n  geosim check\n  geosim check scenarios/teaching scenarios/regressions"
    )]
    Check(check::CheckArgs),
    /// Compare two runs (report folders or summary.json) or two sweeps (out folders or
    /// sweep.csv): the verdict, flipped expectations, sync counts, digests and every figure
    /// that moved. Exit 0 when nothing differs, 1 when something does.
    #[command(
        after_help = "Examples:\n  geosim run scenarios/03-backlog-overflow-full-sync.toml --report before/\n  geosim run scenarios/03-backlog-overflow-full-sync.toml --set replication.backlog_size=8MB --report after/\n  geosim diff before/ after/ --html diff.html\n  geosim diff sweep-a/ sweep-b/ --tolerance 1% --json"
    )]
    Diff(diff::DiffArgs),
    /// Draw a scenario per seed (topology, links, clocks, faults, workload or script), run
    /// each, and report the seeds that break an invariant, with the command to reproduce.
    #[command(
        after_help = "Examples:\n  geosim hunt --seeds 1..400\n  geosim hunt --seeds 1..5000 --shrink"
    )]
    Hunt(hunt::HuntArgs),
    /// Narrate a run step by step (each command, its op, deliveries, conflicts and the rule
    /// that settled each, final values); optionally draw a space-time diagram (SVG).
    #[command(
        after_help = "Examples:\n  geosim explain scenarios/teaching/01-concurrent-sets-lww.toml\n  geosim explain scenarios/04-clock-drift-lww.toml --diagram spacetime.svg --from 1s --until 3s"
    )]
    Explain(explain::ExplainArgs),
    /// Print a JSON Schema of the scenario format (for editor completion and checking).
    #[command(after_help = "Examples:\n  geosim schema > geosim-scenario.schema.json")]
    Schema,
    /// Print shell completions: bash, zsh, fish, elvish or powershell.
    #[command(
        after_help = "Examples:\n  geosim completions bash > ~/.local/share/bash-completion/completions/geosim"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), every subcommand included.
    #[command(after_help = "Examples:\n  geosim man > ~/.local/share/man/man1/geosim.1")]
    Man,
    /// Check a scenario file and print what it describes, or its errors.
    #[command(after_help = "Examples:\n  geosim validate scenarios/02-partition-and-heal.toml")]
    Validate {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Measure the engine and a bundled scenario on this machine.
    #[command(
        after_help = "Examples:\n  geosim bench --quick\n  geosim bench --peer\n  geosim bench --reference --batch-window 10ms"
    )]
    Bench {
        /// Run a tenth of the work (a quick look, noisier).
        #[arg(long)]
        quick: bool,
        /// The scenario to time.
        #[arg(long, default_value = "scenarios/01-two-regions-steady.toml")]
        scenario: PathBuf,
        /// Also run the reference scenario (benches/reference.toml) for 1 h and 4 h of
        /// simulated time, as given and with a keyspace small enough to fill in minutes, each
        /// in its own process; report speed and peak memory, and check that peak memory does
        /// not grow with simulated duration once the keyspace is full (about ten minutes of
        /// wall time in all on a two-core machine).
        #[arg(long)]
        reference: bool,
        /// With --reference: run the reference scenario with its syncer sessions sending in
        /// batches of this window (`replication.batch_window`, e.g. 10ms) instead of per op.
        #[arg(long, value_name = "DURATION")]
        batch_window: Option<String>,
        /// Instead, run geosim side by side with the SimPy model of the same system
        /// (benches/peer.toml vs geo_simpy.py, 300 simulated s, interleaved, CPU time and peak
        /// memory by GNU time); says so and exits 0 when python3 with simpy is not available.
        #[arg(long)]
        peer: bool,
        /// With --peer: the folder holding geo_simpy.py.
        #[arg(long, default_value = "../shared/peers/simpy")]
        simpy: PathBuf,
        /// Instead, measure how the cost per write grows with simulated duration (75–600 s at
        /// 10k writes/s) and with the write rate (2.5k–20k writes/s over 150 s) on
        /// benches/peer.toml; writes scaling.csv and charts into --out.
        #[arg(long, conflicts_with = "peer")]
        scaling: bool,
        /// Instead, run every numbered scenario in scenarios/ and the reference scenario
        /// exact and sampled (1/64) with the same seed and print them side by side as a
        /// Markdown table (the one in docs/performance.md); exits 1 if a figure that sampled
        /// fidelity keeps differs. With --quick, the reference scenario's first 10 minutes.
        #[arg(long, conflicts_with_all = ["peer", "scaling"])]
        fidelity: bool,
        /// Instead, print only the floors under a sampled write: what its random draws cost,
        /// and the reference workload run through the least a sampled run must do, with no
        /// event engine (src/cli/bench/floor.rs), each against one ChaCha8 word.
        #[arg(long, conflicts_with_all = ["peer", "scaling", "fidelity"])]
        floor: bool,
        /// With --scaling: the folder for scaling.csv and the charts.
        #[arg(long, default_value = "bench-scaling")]
        out: PathBuf,
        /// Internal: run the reference scenario once for this many simulated hours and print
        /// one line of figures (used by --reference).
        #[arg(long, hide = true)]
        reference_hours: Option<u64>,
        /// Internal: with --reference-hours, the workload's key count.
        #[arg(long, hide = true)]
        reference_keys: Option<u64>,
    },
}

/// Runs the command line `args` (program name first), writing to stdout/stderr; returns the
/// exit code.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Run {
            scenario,
            seed,
            set,
            json,
            out,
            report,
            force,
        } => run::run(
            &scenario,
            (seed, &set),
            json,
            (out.as_deref(), report.as_deref(), force),
        ),
        Command::Validate { scenario } => run::validate(&scenario),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge { dirs, out, force } => sweep::merge(&dirs, &out, force),
        Command::Plan(args) => sweep::plan(&args),
        Command::Check(args) => check::check(&args),
        Command::Diff(args) => diff::diff(&args),
        Command::Hunt(args) => hunt::hunt(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Schema => {
            outln!("{}", crate::scenario::schema::schema_json());
            EXIT_OK
        }
        Command::Man => match man_page() {
            Ok(text) => {
                out!("{text}");
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: cannot render the manual page: {e}");
                EXIT_BAD_INPUT
            }
        },
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "geosim", &mut text);
            out!("{}", String::from_utf8_lossy(&text));
            EXIT_OK
        }
        Command::Bench {
            quick,
            scenario,
            reference,
            peer,
            simpy,
            scaling,
            fidelity,
            floor,
            out,
            reference_hours,
            reference_keys,
            batch_window,
        } => match (
            reference_hours,
            bench::batch_window(batch_window.as_deref()),
        ) {
            (_, Err(code)) => code,
            (Some(h), Ok(w)) => bench::reference_once(h, reference_keys, w),
            (None, Ok(_)) if peer => bench::peer(&simpy, if quick { 1 } else { 3 }),
            (None, Ok(_)) if scaling => bench::scaling(&out, quick),
            (None, Ok(_)) if fidelity => bench::fidelity(std::path::Path::new("scenarios"), quick),
            (None, Ok(_)) if floor => bench::floors(quick),
            (None, Ok(w)) => bench::bench(quick, &scenario, reference.then_some(w)),
        },
    }
}

/// The manual page: the command, then each subcommand as a section of its own, from the
/// same definitions as `--help`.
fn man_page() -> std::io::Result<String> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    for sub in cmd.get_subcommands() {
        let name = format!("geosim {}", sub.get_name());
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let man = clap_mangen::Man::new(sub.clone().bin_name(name));
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_description_section(&mut part)?;
        man.render_options_section(&mut part)?;
        man.render_extra_section(&mut part)?;
        // A subcommand's sections are subsections of its own.
        let part = String::from_utf8_lossy(&part).replace("\n.SH ", "\n.SS ");
        let part = part
            .strip_prefix(".SH ")
            .map_or(part.clone(), |p| format!(".SS {p}"));
        out.extend_from_slice(part.as_bytes());
    }
    man.render_version_section(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::{CommandFactory, Parser};

    /// Every subcommand's `--help` ends with examples, and every example is a command line
    /// clap accepts whose bundled files exist.
    #[test]
    fn every_subcommand_shows_real_examples() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let cmd = Cli::command();
        let mut checked = 0;
        for sub in cmd.get_subcommands() {
            let help = sub
                .get_after_help()
                .unwrap_or_else(|| panic!("{} has no examples", sub.get_name()))
                .to_string();
            let lines: Vec<&str> = help.lines().skip(1).map(str::trim).collect();
            assert!(help.starts_with("Examples:") && !lines.is_empty(), "{help}");
            for line in lines {
                let line = line.split(" > ").next().expect("a command");
                let words: Vec<&str> = line.split_whitespace().collect();
                assert_eq!(words[0], "geosim", "{line}");
                Cli::try_parse_from(&words).unwrap_or_else(|e| panic!("{line}: {e}"));
                for w in &words {
                    if w.starts_with("scenarios/") && !w.contains('*') {
                        assert!(root.join(w).exists(), "{line}: no {w}");
                    }
                }
                checked += 1;
            }
        }
        assert!(checked >= 15, "{checked}");
    }

    /// The manual page names every subcommand, with its options and its examples.
    #[test]
    fn the_manual_page_covers_every_subcommand() {
        let page = super::man_page().unwrap();
        assert!(page.contains("\n.TH geosim 1"), "{}", &page[..80]);
        for sub in Cli::command().get_subcommands() {
            let section = format!(".SH \"GEOSIM {}\"", sub.get_name().to_uppercase());
            assert!(page.contains(&section), "no {section}");
        }
        assert!(page.contains("\\-\\-batch\\-window") || page.contains("batch-window"));
        assert!(
            page.contains("geosim run scenarios/02\\-partition\\-and\\-heal.toml")
                || page.contains("geosim run scenarios/02-partition-and-heal.toml")
        );
    }
}
