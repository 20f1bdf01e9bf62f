//! `geosim explain`: narrate a run (text or Markdown) and draw its space-time diagram.

use super::out;

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::engine::SimTime;
use crate::report::explain::{ExplainOptions, Format, explain};
use crate::report::spacetime;
use crate::scenario::{self, LoadOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Text,
    Md,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Narrate this key (default: every key of a scripted scenario; the most contended key
    /// of a generated workload).
    #[arg(long)]
    pub key: Option<String>,
    /// Narrate only what happens at this instance (its cluster name).
    #[arg(long)]
    pub instance: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: FormatArg,
    /// Also draw a space-time diagram into this SVG file.
    #[arg(long)]
    pub diagram: Option<PathBuf>,
    /// Leave out what happens before this simulated time (e.g. 30s, 1m).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<SimTime>,
    /// Leave out what happens after this simulated time.
    #[arg(long, value_parser = parse_time)]
    pub until: Option<SimTime>,
    /// Replace the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
}

fn parse_time(s: &str) -> Result<SimTime, String> {
    crate::scenario::units::parse_duration(s)
        .map(|d| SimTime::ZERO + d)
        .ok_or_else(|| format!("{s:?} is not a duration; write e.g. 500ms, 30s, 2m, 1h"))
}

pub fn run(args: &ExplainArgs) -> i32 {
    let s = match scenario::load(&args.scenario, &LoadOptions { seed: args.seed }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let opts = ExplainOptions {
        key: args.key.clone(),
        instance: args.instance.clone(),
        from: args.from,
        until: args.until,
    };
    let x = match explain(&s, &opts) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {}: {e}", args.scenario.display());
            return EXIT_BAD_INPUT;
        }
    };
    let title = title_of(&args.scenario);
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Md => Format::Markdown,
    };
    out!("{}", x.render(&title, format));
    if let Some(path) = &args.diagram {
        let (svg, stats) = spacetime::diagram(&x, &title);
        if let Err(e) = super::outdir::write_atomic(path, svg.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return super::EXIT_OUTPUT_FAILED;
        }
        eprintln!(
            "wrote {}: {} lanes, {} rows, {} delivered ops, {} conflicts marked{}",
            path.display(),
            stats.lanes,
            stats.rows,
            stats.deliveries,
            stats.conflicts_marked,
            if stats.rows_left_out > 0 {
                format!(
                    "; {} rows left out (narrow with --from/--until)",
                    stats.rows_left_out
                )
            } else {
                String::new()
            }
        );
    }
    EXIT_OK
}

/// The scenario's file name without extension, as the narration's title.
pub(crate) fn title_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into())
}
