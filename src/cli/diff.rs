//! `geosim diff A B`: what moved between two run reports or two sweep outputs.

use std::path::{Path, PathBuf};

use super::{EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_OK, EXIT_OUTPUT_FAILED, out};
use crate::report::diff::{Diff, diff_runs, diff_sweeps};

/// Compare two runs or two sweeps: the verdict, expectations that flipped, sync counts that
/// changed, differing histories, and every figure that moved (absolute and relative).
/// Exit 0 when nothing differs, 1 when something does, 2 on bad input.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The first (before) run or sweep: a `--report`/`--out` folder, a `summary.json` (or
    /// `geosim run --json` output), a sweep `--out` folder or its `sweep.csv`.
    pub a: PathBuf,
    /// The second (after), of the same kind as the first.
    pub b: PathBuf,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the comparison as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Count a figure's relative move of at most this as unchanged, e.g. 1% or 0.01 (sync
    /// counts, verdicts, expectations and digests always count).
    #[arg(long, default_value = "0")]
    pub tolerance: String,
}

enum Input {
    Run(serde_json::Value),
    Sweep(String),
}

fn read(p: &Path) -> Result<Input, String> {
    let file = if p.is_dir() {
        if p.join("summary.json").is_file() {
            p.join("summary.json")
        } else if p.join("sweep.csv").is_file() {
            p.join("sweep.csv")
        } else {
            return Err(format!(
                "{}: holds neither a summary.json (a run's --report or --out folder) nor a \
                 sweep.csv (a sweep's --out folder)",
                p.display()
            ));
        }
    } else {
        p.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    if file.extension().is_some_and(|x| x == "csv") {
        return Ok(Input::Sweep(text));
    }
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not a run summary (JSON expected, as summary.json or `geosim run --json` \
             writes it): {e}",
            file.display()
        )
    })?;
    if v.get("trace_digest").is_none() || v.get("totals").is_none() {
        return Err(format!(
            "{}: JSON, but not a run summary (no trace_digest and totals)",
            file.display()
        ));
    }
    Ok(Input::Run(v))
}

pub(crate) fn diff(a: &DiffArgs) -> i32 {
    let tolerance = match crate::scenario::axes::parse_share(&a.tolerance) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: --tolerance {:?}: {e}", a.tolerance);
            return EXIT_BAD_INPUT;
        }
    };
    let names = (a.a.display().to_string(), a.b.display().to_string());
    let names = (names.0.as_str(), names.1.as_str());
    let d: Result<Diff, String> = match (read(&a.a), read(&a.b)) {
        (Err(e), _) | (_, Err(e)) => Err(e),
        (Ok(Input::Run(x)), Ok(Input::Run(y))) => Ok(diff_runs(names, &x, &y, tolerance)),
        (Ok(Input::Sweep(x)), Ok(Input::Sweep(y))) => diff_sweeps(names, &x, &y, tolerance),
        _ => Err(format!(
            "{} and {} are not of one kind: compare a run with a run, a sweep with a sweep",
            names.0, names.1
        )),
    };
    let d = match d {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(path) = &a.html
        && let Err(e) = super::outdir::write_atomic(path, d.html().as_bytes())
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return EXIT_OUTPUT_FAILED;
    }
    if a.json {
        out!("{}", d.json());
    } else {
        out!("{}", d.text());
    }
    if d.is_empty() { EXIT_OK } else { EXIT_DIVERGED }
}
